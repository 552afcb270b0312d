"""The buy dialog: USDC in, TM Global 100 shares out, after a preview of every cost.

The heart of the app. A first-time buyer should get from "Buy index" to a settled
position in about a minute and a half, and at no point wonder what they are paying:
the preview shows the platform fee, the network fee (expected and the most it can be,
in ETH and dollars), the *estimate* at today's NAV, the *minimum* shares the next price
strike must give (below it the USDC is refunded), when that strike is expected, and the
balance changes the simulation found. One transaction is signed (the request); the
done page follows it from "requested" to "settled" (or "refunded" / "cancelled").

The amount is parsed as a ``Decimal`` with USDC's 6 decimals (see
``ui.dialogs.common.parse_amount``); a bad entry shows why under the field and keeps the
text so it can be corrected.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from ui import formatting as fmt
from ui import worker
from ui.dialogs.common import USDC_DECIMALS, AmountError, parse_amount
from ui.dialogs.request_text import outcome_text, request_state_text, strike_text
from ui.dialogs.trade_base import (
    TradeDialog,
    balance_changes_text,
    gas_text,
    short,
    usdc_text,
)
from ui.pages.common import Card, KeyValueGrid, button, label
from ui.widgets.governance_notice import GovernanceBanner, load_into
from wallet_app.models import BuyQuote, IndexState, Position


class BuyDialog(TradeDialog):
    """Amount, slippage, fee preset -> preview -> confirm -> progress -> new position."""

    def __init__(self, service: Any, *, position: Position | None = None,
                 state: IndexState | None = None, wallet_name: str = "",
                 slippage_bps: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(service, wallet_name=wallet_name, slippage_bps=slippage_bps,
                         parent=parent)
        self.setWindowTitle("Buy TM Global 100")
        self.position = position
        self.state = state
        self._quote_nav: Decimal | None = None
        self.balance: Decimal | None = position.usdc_balance if position else None
        self.new_position: Position | None = None
        self.fetch_position_after = True

        lay = QVBoxLayout(self.form_page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(12)
        title = label("Buy TM Global 100", "heading")
        self.subtitle = label("", "muted", wrap=True)

        amount_card = Card("You pay")
        row = QHBoxLayout()
        row.setSpacing(8)
        self.amount_edit = QLineEdit()
        self.amount_edit.setObjectName("amountEdit")
        self.amount_edit.setPlaceholderText("0.00")
        self.amount_edit.setMinimumHeight(38)
        self.amount_edit.setAccessibleName("Amount in USDC")
        self.amount_edit.textChanged.connect(self.inputs_changed)
        unit = label("USDC", "subheading")
        self.max_button = button("Max", name="maxButton",
                                 tooltip="Use the whole USDC balance")
        self.max_button.clicked.connect(self.use_max)
        row.addWidget(self.amount_edit, 1)
        row.addWidget(unit)
        row.addWidget(self.max_button)
        amount_card.body.addLayout(row)
        self.balance_label = label("Balance: loading\u2026", "hint", name="balanceLabel")
        self.amount_error = label("", "field-error", wrap=True, name="amountError")
        self.amount_error.hide()
        amount_card.body.addWidget(self.amount_error)
        amount_card.body.addWidget(self.balance_label)
        amount_card.body.addSpacing(4)
        amount_card.body.addWidget(self.build_trade_settings())

        preview_card = self.preview_card = Card("Preview")
        self.preview = KeyValueGrid()
        pv = self.preview
        pv.add_row("pay", "You pay")
        pv.add_row("fee", "Platform fee")
        pv.add_row("shares", "Estimated shares",
                   "At today's NAV, after the fee; the next price strike sets the real price",
                   emphasis=True)
        pv.add_row("slippage", "Maximum slippage")
        pv.add_row("min_shares", "Minimum at the strike",
                   "Fewer shares than this at the strike and your USDC is refunded")
        pv.add_row("min_value", "Minimum value", "Minimum shares \u00d7 NAV per share")
        pv.add_row("strike", "Next price strike",
                   "Your request settles at the first strike after its cut-off")
        pv.add_separator()
        pv.add_row("gas_expected", "Network fee (expected)",
                   "Gas the simulation used \u00d7 current base fee + tip")
        pv.add_row("gas_max", "Network fee (at most)", "Gas limit \u00d7 maximum fee per gas")
        pv.add_row("changes", "Balance changes (simulated)")
        pv.add_row("approval", "Approval")
        preview_card.body.addWidget(pv)
        # A pending timelock change: what changes, when, and that the in-kind exit stays.
        self.governance_banner = GovernanceBanner(buying=True, with_exit=False)
        preview_card.body.addWidget(self.governance_banner)
        load_into(self.governance_banner, service, self)

        lay.addWidget(title)
        lay.addWidget(self.subtitle)
        lay.addWidget(amount_card)
        lay.addWidget(preview_card)
        lay.addWidget(self.make_banner())
        lay.addStretch(1)
        self.add_buttons(lay, "Request buy")

        self.build_progress_page("Requesting a buy of the TM Global 100")
        self._build_done_page()
        self._update_subtitle()
        self._update_balance()
        self.clear_preview()
        self.resize(680, 760)
        if position is None:
            self.load_position()

    # -- data --------------------------------------------------------------------------

    def load_position(self) -> None:
        """Fresh balances for the Max button and the balance check."""
        worker.submit(self.service.position, on_done=self._position_loaded,
                      on_error=lambda _e: self.balance_label.setText(
                          "Balance unavailable (offline?)"), context=self)

    def _position_loaded(self, position: Position | None) -> None:
        self.position = position
        self.balance = position.usdc_balance if position else None
        self._update_balance()
        if self.amount_edit.text():
            self.inputs_changed()

    def set_state(self, state: IndexState | None) -> None:
        self.state = state
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        st = self.state
        if st is None:
            self.subtitle.setText("A buy is a request priced at the next NAV strike, not at "
                                  "today's NAV; the shares arrive at your address then.")
            return
        # The preview's NAV (read with the quote, every 15 s) once there is one: the index
        # state's is from when the dialog opened and would disagree with the shares shown.
        nav = self._quote_nav if self._quote_nav is not None else st.nav_per_share
        self.subtitle.setText(
            f"NAV per share {fmt.format_nav(nav)} \u00b7 buy fee "
            f"{fmt.format_bps(st.buy_fee_bps)} \u00b7 priced at the next strike's NAV; "
            "the minimum below protects you from a move before it.")

    def _update_balance(self) -> None:
        if self.balance is None:
            self.max_button.setEnabled(False)
            return
        self.max_button.setEnabled(self.balance > 0)
        eth = self.position.eth_balance if self.position else None
        eth_text = f" \u00b7 {fmt.format_token_amount(eth, 'ETH', 6)} for network fees" \
            if eth is not None else ""
        self.balance_label.setText(
            f"Balance: {usdc_text(self.balance)}"
            f"{eth_text}")

    def use_max(self) -> None:
        if self.balance is not None:
            self.amount_edit.setText(f"{self.balance:f}")

    # -- TradeDialog hooks -------------------------------------------------------------

    def validate_amount(self) -> Decimal | None:
        try:
            amount = parse_amount(self.amount_edit.text(), USDC_DECIMALS, "USDC",
                                  maximum=self.balance, maximum_label="your USDC balance")
        except AmountError as exc:
            text = self.amount_edit.text().strip()
            self.amount_error.setText(str(exc) if text else "")
            self.amount_error.setVisible(bool(text))
            return None
        self.amount_error.hide()
        return amount

    def quote_fn(self) -> Any:
        return self.service.quote_buy

    def send_fn(self) -> Any:
        return self.service.buy

    def show_preview(self, q: BuyQuote) -> None:
        self._quote_nav = q.nav_per_share
        self._update_subtitle()
        pv = self.preview
        pv.set("pay", usdc_text(q.usdc_in))
        pv.set_caption("fee", f"Platform fee ({fmt.format_bps(q.fee_bps)})")
        pv.set("fee", usdc_text(q.fee_usdc))
        pv.set("shares", fmt.format_token_amount(q.expected_shares, "G100", 6))
        pv.set("slippage", fmt.format_bps(q.slippage_bps))
        pv.set("min_shares", fmt.format_token_amount(q.min_shares_out, "G100", 6))
        pv.set("min_value", fmt.format_usdc(q.min_value_usdc))
        pv.set("strike", strike_text(q))
        pv.set("gas_expected", gas_text(q.gas, "expected"))
        pv.set("gas_max", gas_text(q.gas, "max"))
        pv.set("changes", balance_changes_text(q.balance_changes))
        if q.uses_permit:
            approval = "Included (signed permit + request, one transaction)"
        elif q.needs_approval:
            approval = "USDC approval first (two transactions)"
        else:
            approval = "Not needed"
        pv.set("approval", approval)
        if not getattr(q, "simulated", True):
            # Locked and no allowance yet: the core priced the buy without the signed
            # permit; it simulates the exact transaction after the password is given.
            pv.set("changes", balance_changes_text(q.balance_changes) + "\n(estimate)")
        balance = getattr(q, "usdc_balance", None)
        if balance:
            self.balance = balance
            self._update_balance()
        self.confirm_button.setText(f"Request buy \u00b7 {fmt.format_usdc(q.usdc_in)}")

    def clear_preview(self) -> None:
        self.preview.clear()
        self.confirm_button.setText("Request buy")

    # -- done page -----------------------------------------------------------------------

    def _build_done_page(self) -> None:
        card = self.done_card = Card("Settled")
        self.done_grid = KeyValueGrid()
        self.done_grid.add_row("state", "Request")
        self.done_grid.add_row("paid", "Paid")
        self.done_grid.add_row("shares", "Shares received", emphasis=True)
        self.done_grid.add_row("tx", "Transaction")
        self.done_grid.add_row("block", "Block")
        card.body.addWidget(self.done_grid)
        pos_card = self.build_position_card("USDC left")
        self.view_button = button("View My Indices", name="viewPosition")
        self.view_button.clicked.connect(self._view_position)
        self.build_done_frame([card, pos_card], [self.view_button])
        self.wants_position_view = False

    def show_done(self, result: Any) -> None:
        shares = getattr(result, "shares", None)
        title, note, card = outcome_text(result, "buy")
        self.done_title.setText(title)
        self.done_note.setText(note)
        if self.done_card.title_label is not None:
            self.done_card.title_label.setText(card.upper())
        self.done_grid.set("state", request_state_text(result))
        self.done_grid.set("paid", usdc_text(getattr(result, "usdc", None))
                           if getattr(result, "state", "settled") == "settled" else "\u2014")
        self.done_grid.set("shares", fmt.format_token_amount(shares, "G100", 6))
        self.done_grid.set("tx", short(getattr(result, "tx_hash", "")))
        block = getattr(result, "block_number", None)
        self.done_grid.set("block", f"{block:,}" if block else "\u2014")
        self.position_grid.clear()
        if self.fetch_position_after:
            worker.submit(self.service.position, on_done=self.show_new_position,
                          on_error=lambda _e: None, context=self)

    def show_new_position(self, position: Position | None) -> None:
        """The position after the buy (fetched here, or handed over by the controller,
        which refreshes it anyway: one lens call instead of two right after a trade)."""
        self.new_position = position
        if position is not None:
            self.show_position_grid(position)

    def _view_position(self) -> None:
        self.wants_position_view = True
        self.accept()


def open_focus(dialog: BuyDialog) -> None:
    """Put the cursor in the amount field (after show, when focus can be taken)."""
    dialog.amount_edit.setFocus(Qt.FocusReason.OtherFocusReason)
