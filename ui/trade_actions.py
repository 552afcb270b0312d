"""The controller's trade flows (kept out of ``ui/controller.py``).

Buy and Sell open their dialog over the window; a slow confirmation can continue in the
background (the dialog is kept until its outcome arrives); on completion the position,
the journal and the index are refreshed. Also the vault's request flows from My Indices:
cancel a pending request, claim what the vault holds for the user, and the devnet faucet.

A mixin of :class:`~ui.controller.Controller` (it uses the controller's ``svc``,
``window``, ``_call`` and refreshes), so every method stays reachable as before.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog

from ui.dialogs.buy_dialog import BuyDialog
from ui.dialogs.common import describe_error
from ui.dialogs.sell_dialog import SellDialog


class TradeActions:
    """Buy, Sell, background trades, request cancel, claims and the faucet."""

    def open_buy(self) -> BuyDialog | None:
        if self.wallet is None:
            self.open_onboarding()
            return None
        if self.book.signing_reason():
            self.window.show_notice("warning", "Buying needs a key", self.book.signing_reason())
            return None
        dlg = BuyDialog(self.svc, position=self.position, state=self.state,
                        wallet_name=self._wallet_name(),
                        slippage_bps=self.svc.settings.slippage_bps, parent=self.window)
        dlg.fetch_position_after = False  # _trade_done refreshes it and hands it over
        self._open_trade(dlg)
        return dlg

    def open_sell(self) -> SellDialog | None:
        if self.wallet is None or self.book.signing_reason():
            return None
        dlg = SellDialog(self.svc, position=self.position, state=self.state,
                         wallet_name=self._wallet_name(),
                         slippage_bps=self.svc.settings.slippage_bps, parent=self.window)
        dlg.fetch_position_after = False
        self._open_trade(dlg)
        return dlg

    def _open_trade(self, dlg: BuyDialog | SellDialog) -> None:
        dlg.completed.connect(self._trade_done)
        dlg.backgrounded.connect(lambda: self._trade_backgrounded(dlg))
        dlg.failedInBackground.connect(
            lambda title, msg: self._background_failed(dlg, title, msg))
        dlg.settingsRequested.connect(lambda: self.window.navigate("settings"))
        dlg.finished.connect(lambda _r: self._trade_closed(dlg))
        self.dialog = dlg
        dlg.open()

    def _trade_backgrounded(self, dlg: QDialog) -> None:
        """The window was closed while the transaction waits: keep the dialog (it owns
        the worker callbacks) until the outcome arrives, and free the screen."""
        self._background.add(dlg)
        if self.dialog is dlg:
            self.dialog = None
        self.window.show_notice("info", "Your transaction is waiting for a block",
                                "You will see the outcome here. To speed it up or cancel "
                                "it, open Transactions.")
        self.refresh_journal()

    def _background_failed(self, dlg: QDialog, title: str, message: str) -> None:
        self.window.show_notice("error", title, message, sticky=True)
        self._drop_background(dlg)
        self.refresh_journal()
        self.refresh_position()

    def _drop_background(self, dlg: QDialog) -> None:
        if dlg in self._background:
            self._background.discard(dlg)
            dlg.deleteLater()

    def _trade_done(self, result: Any) -> None:
        sender = self.sender()
        if sender in self._background:
            kind = getattr(result, "kind", "") or "trade"
            if getattr(result, "verified", True) is False:
                self.window.show_notice(
                    "warning", f"{str(kind).capitalize()} unverified",
                    f"Transaction {getattr(result, 'tx_hash', '')} was reported mined, but "
                    f"{getattr(result, 'note', '')}. It is not counted in your position.")
            else:
                self.window.show_notice(
                    "ok", f"{str(kind).capitalize()} confirmed",
                    f"Transaction {getattr(result, 'tx_hash', '')} is in block "
                    f"{getattr(result, 'block_number', '?')}.")
            self._drop_background(sender)  # type: ignore[arg-type]
        # These refreshes cover the trade's block; the status timer must not start the
        # same ones again when it sees that block.
        block = getattr(result, "block_number", None)
        if block is not None:
            self.last_block = max(self.last_block or 0, int(block))
        self._show_wallet()
        self.refresh_position()
        self.refresh_journal()
        self.refresh_index()

    def _trade_closed(self, dlg: QDialog) -> None:
        if getattr(dlg, "wants_position_view", False):
            self.window.navigate("my")
        if self.dialog is dlg:
            self.dialog = None
        self._show_wallet()
    # -- vault requests, claims and test funds ------------------------------------------

    def faucet(self) -> None:
        self.window.show_notice("info", "Requesting test funds\u2026")
        self._call("faucet", self.svc.faucet, self._fauceted,
                   lambda exc: self.window.show_notice("error", "Test funds failed",
                                                       describe_error(exc).message))

    def cancel_request(self, request_id: int) -> None:
        """Cancel a pending request (one signed transaction), then refresh the position."""
        self.window.show_notice("info", f"Cancelling request #{request_id}\u2026")
        self._call(None, self.svc.cancel_request, self._request_cancelled,
                   lambda exc: (self.window.show_notice("error", "The cancel did not go through",
                                                        describe_error(exc).message),
                                self.refresh_position()), request_id)

    def claim(self, kind: str, token: str) -> None:
        """Claim what the vault keeps for the user (one signed transaction)."""
        self.window.show_notice("info", "Claiming\u2026")
        call, args = ((self.svc.claim_usdc, ()) if kind == "usdc"
                      else (self.svc.claim_in_kind, (token,)))
        self._call(None, call, self._claimed,
                   lambda exc: (self.window.show_notice("error", "The claim did not go through",
                                                        describe_error(exc).message),
                                self.refresh_position()), *args)

    def _claimed(self, result: Any) -> None:
        if getattr(result, "verified", False):
            self.window.show_notice("ok", f"Claimed {result.amount} {result.symbol}",
                                    "It is at your address now.")
        else:
            self.window.show_notice("info", "Claim sent, not verified",
                                    "The vault's event does not match the amount listed; "
                                    "refresh to see what is still claimable.")
        self.refresh_position()
        self.refresh_journal()

    def _request_cancelled(self, result: Any) -> None:
        rid = getattr(result, "request_id", None)
        if getattr(result, "state", "") == "cancelled":
            self.window.show_notice("ok", f"Request #{rid} cancelled",
                                    "Its USDC or shares are back at your address.")
        else:
            self.window.show_notice("info", f"Request #{rid}: {getattr(result, 'state', '')}",
                                    getattr(result, "note", None) or "")
        self.refresh_position()
        self.refresh_journal()

    def _fauceted(self, _r: object) -> None:
        self.window.show_notice("ok", "Test funds sent",
                                "Test ETH and USDC arrived at your address (devnet only).")
        self.refresh_position()
