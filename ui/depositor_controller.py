"""The depositor's checks in the window: pending governance, the in-kind exit, the rule
verifier. A small companion of :class:`ui.controller.Controller`, kept apart so that the
main controller only calls it at three points (after an index refresh, when the Strategy
dialog opens, at start for the wiring).

Every core call runs on the worker through the main controller's ``_call`` (never on the
GUI thread); the views only display what they are given.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject

from ui import worker
from ui.dialogs.common import describe_error
from ui.dialogs.inkind_dialog import InKindDialog

log = logging.getLogger(__name__)


class DepositorChecks(QObject):
    """Wires the governance notice, the Exit in kind button and the Rule check tab."""

    def __init__(self, controller: Any) -> None:
        super().__init__(controller)
        self.c = controller
        self.changes: list[Any] = []
        self.exit_dialog: InKindDialog | None = None
        self._block: int | None = None
        w = controller.window
        w.index_page.governance_banner.primary.clicked.connect(self.open_exit)
        w.my_page.exitInKindRequested.connect(self.open_exit)

    # -- governance ----------------------------------------------------------------------

    def refresh(self, block: int | None = None) -> None:
        """Read the timelock's pending changes (once per block at most)."""
        fetch = getattr(self.c.svc, "pending_governance", None)
        if not callable(fetch) or (block is not None and block == self._block):
            return
        self._block = block
        self.c._call("governance", fetch, self._loaded, self._failed)

    def _loaded(self, changes: list[Any]) -> None:
        self.changes = list(changes)
        self.c.window.index_page.governance_banner.show_changes(self.changes)

    def _failed(self, exc: Exception) -> None:
        # Unknown is not "none": say it rather than hide a pending change silently.
        log.info("pending governance unavailable: %s", type(exc).__name__)
        self.c.window.index_page.governance_banner.show_message(
            "warning", "Pending governance changes could not be read",
            describe_error(exc).message)

    # -- the in-kind exit ----------------------------------------------------------------

    def open_exit(self) -> InKindDialog | None:
        if self.c.wallet is None:
            return None
        reason = self.c.book.signing_reason()
        if reason:  # a watched wallet (the governance notice's button leads here too)
            self.c.window.show_notice("warning", "The in-kind exit needs a key", reason)
            return None
        dlg = InKindDialog(self.c.svc, self.c.window)
        dlg.unlockNeeded.connect(lambda: self.c.ensure_unlocked(
            dlg.confirm, "Enter the password to sign the in-kind exit."))
        dlg.completed.connect(self.c._trade_done)
        dlg.finished.connect(lambda _r: self._exit_closed(dlg))
        self.exit_dialog = dlg
        self.c.dialog = dlg
        dlg.open()
        dlg.load_quote()
        return dlg

    def _exit_closed(self, dlg: InKindDialog) -> None:
        if self.c.dialog is dlg:
            self.c.dialog = None
        self.c.refresh_position()

    # -- the rule verifier ---------------------------------------------------------------

    def attach_strategy(self, dlg: Any) -> None:
        """Fill the Strategy dialog's Rule check tab now and on "Check again"."""
        panel = getattr(dlg, "rule_check", None)
        verify = getattr(self.c.svc, "verify_rules", None)
        if panel is None:
            return
        if not callable(verify):
            panel.show_error("No rule check here", "This service cannot verify the rules.")
            return

        def run() -> None:
            worker.submit(verify, on_done=panel.show_report,
                          on_error=lambda exc: panel.show_error(describe_error(exc).title,
                                                                describe_error(exc).message),
                          context=panel)

        panel.checkRequested.connect(run)
        panel.request_check()
