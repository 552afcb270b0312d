"""The in-kind exit dialog: redeem every share for your slice of each holding and the cash.

One button in My Indices opens it. It first shows, from a simulation of the exact
``redeemInKind`` call, what arrives at your address (each token and its amount, the USDC,
their value at the oracle when a price exists) and the network fee; only "Redeem in kind"
signs. Unlike a sell it reads no price and charges no fee, so it works with the vault
paused and while a governance change is pending. The outcome shown is the core's, checked
against the vault's ``RedeemedInKind`` event and the balances.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QVBoxLayout, QWidget

from ui import formatting as fmt
from ui import worker
from ui.dialogs.common import describe_error, is_locked_error
from ui.pages.common import Banner, Card, KeyValueGrid, button, fill_table, label, make_table

HEADERS = ("Token", "Amount", "Value at the oracle")


class InKindDialog(QDialog):
    """Preview -> confirm -> done, for the whole position.

    Signals:
        completed(object): the exit's TradeResult (verified or not).
        unlockNeeded(): signing needs the password; the owner asks and calls
            :meth:`confirm` again.
    """

    completed = Signal(object)
    unlockNeeded = Signal()

    def __init__(self, service: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inKindDialog")
        self.setWindowTitle("Exit in kind \u2014 TM Global 100")
        self.service = service
        self.quote: Any = None
        self.result: Any = None
        self.sending = False

        self.title = label("Exit in kind", "heading")
        self.intro = label(
            "Redeem all your shares for your share of every holding and of the vault's "
            "cash, sent to your address in one transaction. No price and no fee are "
            "involved, so this works even when the vault is paused or a governance change "
            "is pending. You receive tokens, not USDC: selling them is up to you.",
            "muted", wrap=True)
        self.summary = KeyValueGrid()
        self.summary.add_row("shares", "Shares redeemed")
        self.summary.add_row("usdc", "USDC you receive")
        self.summary.add_row("tokens", "Tokens you receive")
        self.summary.add_row("value", "Value at the oracle", "USDC plus every priced token")
        self.summary.add_row("gas", "Network fee (at most)")
        card = Card("You receive (simulated)")
        card.body.addWidget(self.summary)
        self.table = make_table(HEADERS, (1, 2), stretch=0)
        self.table.setObjectName("inKindTable")
        self.table.setMinimumHeight(220)
        card.body.addWidget(self.table, 1)
        self.banner = Banner()
        self.status = label("Simulating the exit\u2026", "muted", wrap=True, name="inKindStatus")

        self.cancel_button = button("Cancel", name="inKindCancel")
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button = button("Redeem in kind", primary=True, name="inKindConfirm")
        self.confirm_button.setEnabled(False)
        self.confirm_button.clicked.connect(self.confirm)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.confirm_button)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 22, 24, 20)
        lay.setSpacing(12)
        lay.addWidget(self.title)
        lay.addWidget(self.intro)
        lay.addWidget(card, 1)
        lay.addWidget(self.banner)
        lay.addWidget(self.status)
        lay.addLayout(row)
        self.resize(640, 700)

    # -- preview -----------------------------------------------------------------------

    def load_quote(self) -> None:
        self.confirm_button.setEnabled(False)
        self.status.setText("Simulating the exit\u2026")
        worker.submit(self.service.quote_exit_in_kind, "100%", on_done=self.show_quote,
                      on_error=self._failed, context=self)

    def show_quote(self, quote: Any) -> None:
        self.quote = quote
        self.banner.clear()
        self.summary.set("shares", fmt.format_token_amount(quote.shares, "G100", 6))
        self.summary.set("usdc", fmt.format_usdc(quote.usdc_out))
        self.summary.set("tokens", f"{len(quote.lines)} constituents")
        self.summary.set("value", fmt.format_usd(quote.value_usdc))
        self.summary.set("gas", f"{quote.gas.max_fee_eth:.6f} ETH")
        rows = []
        for ln in sorted(quote.lines, key=lambda x: -(x.value_usdc or Decimal(0))):
            rows.append([ln.symbol, (fmt.format_number(ln.amount, 8), ln.amount),
                         (fmt.format_usd(ln.value_usdc) if ln.value_usdc is not None
                          else "no price", ln.value_usdc or Decimal(0))])
        fill_table(self.table, rows, (1, 2))
        paused = " The vault is paused: this exit is the one that still works." \
            if quote.paused else ""
        self.status.setText("Nothing is signed until you click Redeem in kind." + paused)
        self.confirm_button.setEnabled(quote.shares > 0)

    # -- the exit ----------------------------------------------------------------------

    def confirm(self) -> None:
        if self.quote is None or self.sending:
            return
        is_unlocked = getattr(self.service, "is_unlocked", None)
        if callable(is_unlocked) and not is_unlocked():
            self.unlockNeeded.emit()
            return
        self.sending = True
        self.confirm_button.setEnabled(False)
        self.cancel_button.setEnabled(False)
        self.status.setText("Signing and sending the redemption\u2026")
        worker.submit(self.service.exit_in_kind, self.quote, on_done=self._done,
                      on_error=self._failed, context=self,
                      on_progress=self.status.setText)

    def _done(self, result: Any) -> None:
        self.sending = False
        self.result = result
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Close")
        if getattr(result, "verified", False):
            n = len(self.quote.lines) if self.quote else 0
            self.banner.show_message(
                "ok", "Redeemed in kind",
                f"{fmt.format_token_amount(result.shares, 'G100', 6)} burned; {n} tokens and "
                f"the USDC arrived at your address (checked against the vault's "
                f"RedeemedInKind event and your balances). Transaction {result.tx_hash}.")
        else:
            self.banner.show_message(
                "warning", "Mined, but not verified",
                f"Transaction {getattr(result, 'tx_hash', '')}: "
                f"{getattr(result, 'note', '') or 'the outcome could not be checked'}. It "
                "is not counted in your position.")
        self.status.setText("")
        self.completed.emit(result)

    def _failed(self, exc: Exception) -> None:
        self.sending = False
        self.cancel_button.setEnabled(True)
        if is_locked_error(exc):
            self.unlockNeeded.emit()
            return
        advice = describe_error(exc)
        self.banner.show_message("error", advice.title, advice.message)
        self.status.setText("")
        self.confirm_button.setEnabled(self.quote is not None and self.result is None)

    def reject(self) -> None:
        if self.sending:
            return  # never close in the middle of a signature
        super().reject()
