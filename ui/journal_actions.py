"""The controller's actions on the Transactions screen (kept out of ``ui/controller.py``).

Speed up or cancel a pending transaction (a replacement, signed after unlocking), decide
on an unresolved one (send the same bytes now, or leave it), export the journal, the
index log and the tax history as CSV, and read the legs of one log entry.

A mixin of :class:`~ui.controller.Controller` (it uses the controller's ``svc``,
``window``, ``_call``, ``ensure_unlocked`` and refreshes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui.dialogs.common import describe_error, is_locked_error
from wallet_app.text import counted


class JournalActions:
    """Replacements, unresolved-transaction decisions, CSV exports and log legs."""

    def replace_tx(self, action: str, tx_hash: str) -> None:
        """Speed up or cancel a pending transaction (needs the key: unlock first)."""
        fn = self.svc.speed_up if action == "speed_up" else self.svc.cancel
        verb = "sped up" if action == "speed_up" else "cancelled"

        def run() -> None:
            self._call(None, fn, lambda rec: self._replaced(verb, rec),
                       lambda exc: self._replace_failed(action, tx_hash, exc), tx_hash)

        self.ensure_unlocked(run, "Enter the password to sign the replacement transaction.")

    def resolve_tx(self, action: str, tx_hash: str) -> None:
        """The user's decision on an unresolved transaction: send now or leave it."""
        fn = self.svc.pending_send if action == "send" else self.svc.pending_leave

        def done(rec: Any) -> None:
            title = "Sent again" if action == "send" else "Left as it is"
            self.window.tx_page.show_message(
                "ok", title, f"{rec.tx_hash}: {rec.status_text}."
                + ("" if action == "send" else " Nothing was sent."))
            self.refresh_journal()
            self.refresh_position()

        self._call(None, fn, done, lambda exc: self._replace_failed(action, tx_hash, exc),
                   tx_hash)

    def _replaced(self, verb: str, record: Any) -> None:
        self.window.tx_page.show_message(
            "ok", f"Transaction {verb}",
            f"Replacement {record.tx_hash} sent with nonce {record.nonce}. The status "
            "updates when a block includes one of the two.")
        self.refresh_journal()

    def _replace_failed(self, action: str, tx_hash: str, exc: Exception) -> None:
        if is_locked_error(exc):
            self.ensure_unlocked(lambda: self.replace_tx(action, tx_hash))
            return
        advice = describe_error(exc)
        self.window.tx_page.show_message("error", advice.title, advice.message)
        self.refresh_journal()

    def export_csv(self, path: Path) -> None:
        self._call("export", self.svc.export_csv, lambda n: self._exported(path, n),
                   lambda exc: self.window.tx_page.show_message(
                       "error", "Export failed", describe_error(exc).message), path)

    def _exported(self, path: Path, n: int) -> None:
        """Your transactions are written; the index log with every leg goes beside them
        (``NAME-index-log.csv``, one line per leg)."""
        self.window.tx_page.show_message("ok", f"Exported {counted(n, 'transaction')}",
                                         str(path))
        if not callable(getattr(self.svc, "export_log_csv", None)):
            return
        log_path = path.with_name(path.stem + "-index-log.csv")
        self._call("export-log", self.svc.export_log_csv,
                   lambda lines: self.window.tx_page.show_message(
                       "ok", f"Exported {counted(n, 'transaction')} and the index log "
                             f"({counted(lines, 'line')}, one per leg)",
                       f"{path}\n{log_path}"),
                   lambda exc: self.window.tx_page.show_message(
                       "error", "The index log could not be exported",
                       describe_error(exc).message), log_path)

    def export_tax_csv(self, path: Path, method: str) -> None:
        """The tax history (verified trades, USD values, lots) to ``path``."""
        self._call("tax-export", self.svc.export_tax_csv,
                   lambda n: self.window.tx_page.show_message(
                       "ok", f"Exported the tax history: {counted(n, 'trade')} "
                             f"({method.upper()})", str(path)),
                   lambda exc: self.window.tx_page.show_message(
                       "error", "Tax export failed", describe_error(exc).message),
                   path, method)

    def load_legs(self, event: Any) -> None:
        """The legs of the selected log entry, read on a worker."""
        if not callable(getattr(self.svc, "event_legs", None)):
            return
        self._call(None, self.svc.event_legs,
                   lambda legs: self.window.tx_page.show_legs(event, legs),
                   lambda exc: self.window.tx_page.show_message(
                       "error", "The legs could not be read", describe_error(exc).message),
                   event)
