"""The controller's part for Send and Approvals (kept out of ``ui/controller.py``).

Wires the My Indices screen's **Send** to the send dialog (opened like a trade dialog:
the controller refreshes the position and the journal when it completes, and a slow
confirmation can continue in the background), and the Approvals screen to the core:
its list is read when the screen is shown or refreshed, and Revoke asks for the password
if needed, then signs one ``approve(spender, 0)`` on a worker.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject

from ui.dialogs.common import describe_error, is_locked_error
from ui.dialogs.send_dialog import SendDialog


class TransferActions(QObject):
    """Send and Approvals for one :class:`~ui.controller.Controller`."""

    def __init__(self, controller: Any) -> None:
        super().__init__(controller)
        self.ctl = controller
        w = controller.window
        self.page = w.approvals_page
        w.my_page.sendRequested.connect(self.open_send)
        self.page.refreshRequested.connect(self.refresh_approvals)
        self.page.revokeRequested.connect(self.revoke)
        w.navigated.connect(self._navigated)

    def _navigated(self, key: str) -> None:
        if key == "approvals" and self.ctl._started:
            self.refresh_approvals()

    # -- send ----------------------------------------------------------------------------

    def open_send(self, asset: str = "usdc") -> SendDialog | None:
        ctl = self.ctl
        if ctl.wallet is None:
            ctl.open_onboarding()
            return None
        dlg = SendDialog(ctl.svc, position=ctl.position, wallet_name=ctl._wallet_name(),
                         asset=asset, parent=ctl.window)
        ctl._open_trade(dlg)
        return dlg

    # -- approvals -----------------------------------------------------------------------

    def refresh_approvals(self) -> None:
        if not callable(getattr(self.ctl.svc, "approvals_list", None)):
            return  # a stand-in service without approvals
        self.ctl._call("approvals", self.ctl.svc.approvals_list, self.page.show_approvals,
                       lambda exc: self.page.show_message(
                           "error", describe_error(exc).title, describe_error(exc).message))

    def revoke(self, token: str, spender: str) -> None:
        def run() -> None:
            self.page.show_message("info", f"Revoking the {token} allowance of {spender}\u2026",
                                   "One transaction: approve(spender, 0).")
            self.ctl._call(None, self.ctl.svc.revoke_approval, self._revoked,
                           lambda exc: self._revoke_failed(token, spender, exc),
                           token, spender)

        self.ctl.ensure_unlocked(run, "Enter the password to sign the revoke.")

    def _revoked(self, result: Any) -> None:
        if result.verified:
            self.page.show_message(
                "ok", "Allowance revoked",
                f"{result.recipient} can no longer move your {result.asset.upper()}: the "
                f"token's Approval event sets it to 0 (transaction {result.tx_hash}, block "
                f"{result.block_number}).")
        else:
            self.page.show_message("warning", "Revoke mined, but unverified",
                                   f"{result.note}. Transaction {result.tx_hash}.")
        self.refresh_approvals()
        self.ctl.refresh_journal()

    def _revoke_failed(self, token: str, spender: str, exc: Exception) -> None:
        if is_locked_error(exc):
            self.ctl.ensure_unlocked(lambda: self.revoke(token, spender))
            return
        advice = describe_error(exc)
        self.page.show_message("error", advice.title, advice.message)
        self.refresh_approvals()
