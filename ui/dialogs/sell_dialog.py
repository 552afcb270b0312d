"""The sell dialog: TM Global 100 shares back to USDC, paid to the user's own address.

The person says how much either as shares or as a percentage of their holding (most
people think "sell half", not "sell 973.906 shares"); a percentage becomes an exact share
count rounded *down* to 18 decimals, and 100% is exactly the whole balance, so no dust is
left behind. The sell is a request: the shares are escrowed in the vault and the next
price strike pays the USDC at that strike's NAV, or gives the shares back if the payout
would be below the user's minimum. The preview shows the estimate at today's NAV, the
minimum the strike enforces and when the strike is expected.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui import worker
from ui.dialogs.common import (
    SHARE_DECIMALS,
    AmountError,
    parse_amount,
    parse_percent,
    shares_for_percent,
)
from ui.dialogs.request_text import outcome_text, request_state_text, strike_text
from ui.dialogs.trade_base import (
    TradeDialog,
    balance_changes_text,
    gas_text,
    short,
    usdc_text,
)
from ui.pages.common import Card, KeyValueGrid, button, label, short_hex
from wallet_app.models import IndexState, Position, SellQuote

PATH_TEXT = {
    "strike": "The vault's cash, at the next price strike",
    "waits_for_cash": ("The operator first raises cash (sells a slice of the holdings); "
                       "your request waits for it, priced at the strike that pays it"),
}


class SellDialog(TradeDialog):
    """Shares or % -> payout preview -> confirm -> progress -> payout confirmed."""

    def __init__(self, service: Any, *, position: Position | None = None,
                 state: IndexState | None = None, wallet_name: str = "",
                 slippage_bps: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(service, wallet_name=wallet_name, slippage_bps=slippage_bps,
                         parent=parent)
        self.setWindowTitle("Sell TM Global 100")
        self.position = position
        self.state = state
        self.mode = "shares"
        self.fetch_position_after = True

        lay = QVBoxLayout(self.form_page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(12)
        title = label("Sell TM Global 100", "heading")
        self.subtitle = label("The USDC is paid to your own address.", "muted", wrap=True)

        card = Card("You sell")
        mode_row = QHBoxLayout()
        mode_row.setSpacing(4)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QPushButton] = {}
        for key, text in (("shares", "Shares"), ("percent", "Percentage")):
            b = self._segment(text, f"mode_{key}")
            self.mode_group.addButton(b)
            self.mode_buttons[key] = b
            b.clicked.connect(lambda _c=False, k=key: self.set_mode(k))
            mode_row.addWidget(b)
        self.mode_buttons["shares"].setChecked(True)
        mode_row.addSpacing(16)
        self.quick_buttons: dict[int, QPushButton] = {}
        for pct in (25, 50, 75, 100):
            b = button(f"{pct}%", name=f"quick_{pct}")
            b.clicked.connect(lambda _c=False, p=pct: self.quick(p))
            self.quick_buttons[pct] = b
            mode_row.addWidget(b)
        mode_row.addStretch(1)
        card.body.addLayout(mode_row)

        row = QHBoxLayout()
        self.amount_edit = QLineEdit()
        self.amount_edit.setObjectName("amountEdit")
        self.amount_edit.setMinimumHeight(38)
        self.amount_edit.setPlaceholderText("0.0")
        self.amount_edit.textChanged.connect(self.inputs_changed)
        self.unit_label = label("G100", "subheading")
        row.addWidget(self.amount_edit, 1)
        row.addWidget(self.unit_label)
        card.body.addLayout(row)
        self.amount_error = label("", "field-error", wrap=True, name="amountError")
        self.amount_error.hide()
        self.holding_label = label("", "hint", name="holdingLabel")
        card.body.addWidget(self.amount_error)
        card.body.addWidget(self.holding_label)
        card.body.addSpacing(4)
        card.body.addWidget(self.build_trade_settings())

        preview_card = self.preview_card = Card("Payout preview")
        pv = self.preview = KeyValueGrid()
        pv.add_row("shares", "Shares sold")
        pv.add_row("gross", "Value at today's NAV")
        pv.add_row("fee", "Platform fee")
        pv.add_row("expected", "You receive (estimate)", emphasis=True)
        pv.add_row("slippage", "Maximum slippage")
        pv.add_row("min_out", "Minimum at the strike",
                   "Less than this at the strike and your shares come back")
        pv.add_row("path", "Paid from", wrap=True)
        pv.add_row("strike", "Next price strike", wrap=True)
        pv.add_separator()
        pv.add_row("gas_expected", "Network fee (expected)")
        pv.add_row("gas_max", "Network fee (at most)")
        pv.add_row("changes", "Balance changes (simulated)")
        pv.add_row("to", "Paid to")
        preview_card.body.addWidget(pv)

        lay.addWidget(title)
        lay.addWidget(self.subtitle)
        lay.addWidget(card)
        lay.addWidget(preview_card)
        lay.addWidget(self.make_banner())
        lay.addStretch(1)
        self.add_buttons(lay, "Request sell")
        self.build_progress_page("Requesting a sell of the TM Global 100")
        self._build_done_page()
        self._update_holding()
        self.clear_preview()
        self.resize(680, 780)
        if position is None:
            worker.submit(self.service.position, on_done=self._position_loaded,
                          on_error=lambda _e: None, context=self)

    # -- inputs ------------------------------------------------------------------------

    def _position_loaded(self, position: Position | None) -> None:
        self.position = position
        self._update_holding()
        if self.amount_edit.text():
            self.inputs_changed()

    def _update_holding(self) -> None:
        p = self.position
        if p is None:
            self.holding_label.setText("Holding: loading\u2026")
            return
        self.holding_label.setText(
            f"You hold {fmt.format_token_amount(p.shares, 'G100', 6)} worth "
            f"{fmt.format_usdc(p.value_usdc)}")
        for b in self.quick_buttons.values():
            b.setEnabled(p.shares > 0)

    def set_mode(self, mode: str) -> None:
        """Switch between typing shares and typing a percentage of the holding."""
        self.mode = mode
        self.mode_buttons[mode].setChecked(True)
        self.unit_label.setText("%" if mode == "percent" else "G100")
        self.amount_edit.setPlaceholderText("e.g. 50" if mode == "percent" else "0.0")
        self.amount_edit.clear()

    def quick(self, pct: int) -> None:
        self.set_mode("percent")
        self.amount_edit.setText(str(pct))

    def shares_to_sell(self) -> Decimal | None:
        return self.validate_amount()

    # -- TradeDialog hooks -------------------------------------------------------------

    def validate_amount(self) -> Decimal | None:
        text = self.amount_edit.text()
        held = self.position.shares if self.position is not None else None
        try:
            if self.mode == "percent":
                pct = parse_percent(text, maximum=Decimal(100), places=2)
                if held is None:
                    raise AmountError("Your holding is still loading.")
                shares = shares_for_percent(held, pct)
                if shares == 0:
                    raise AmountError("That percentage of your holding rounds to zero shares.")
            else:
                shares = parse_amount(text, SHARE_DECIMALS, "G100", maximum=held,
                                      maximum_label="the shares you hold")
        except AmountError as exc:
            self.amount_error.setText(str(exc) if text.strip() else "")
            self.amount_error.setVisible(bool(text.strip()))
            return None
        self.amount_error.hide()
        return shares

    def quote_fn(self) -> Any:
        return self.service.quote_sell

    def send_fn(self) -> Any:
        return self.service.sell

    def show_preview(self, q: SellQuote) -> None:
        pv = self.preview
        pv.set("shares", fmt.format_token_amount(q.shares_in, "G100", 6))
        pv.set("gross", usdc_text(q.gross_usdc))
        pv.set_caption("fee", f"Platform fee ({fmt.format_bps(q.fee_bps)})")
        pv.set("fee", usdc_text(q.fee_usdc))
        pv.set("expected", usdc_text(q.expected_usdc))
        pv.set("slippage", fmt.format_bps(q.slippage_bps))
        pv.set("min_out", usdc_text(q.min_usdc_out))
        pv.set("path", PATH_TEXT.get(q.path, q.path))
        pv.set("strike", strike_text(q))
        pv.set("gas_expected", gas_text(q.gas, "expected"))
        pv.set("gas_max", gas_text(q.gas, "max"))
        pv.set("changes", balance_changes_text(q.balance_changes))
        pv.set("to", short_hex(self.position.address if self.position else None, 8, 6))
        self.confirm_button.setText(
            f"Request sell \u00b7 {fmt.format_token_amount(q.shares_in, 'G100', 4)}")

    def clear_preview(self) -> None:
        self.preview.clear()
        self.confirm_button.setText("Request sell")

    # -- done page -----------------------------------------------------------------------

    def _build_done_page(self) -> None:
        card = self.done_card = Card("Settled")
        self.done_grid = KeyValueGrid()
        self.done_grid.add_row("state", "Request")
        self.done_grid.add_row("usdc", "USDC received", emphasis=True)
        self.done_grid.add_row("shares", "Shares sold")
        self.done_grid.add_row("to", "Paid to")
        self.done_grid.add_row("tx", "Transaction")
        self.done_grid.add_row("block", "Block")
        card.body.addWidget(self.done_grid)
        self.build_done_frame([card, self.build_position_card("USDC balance")])

    def show_done(self, result: Any) -> None:
        usdc = getattr(result, "usdc", None)
        title, note, caption = outcome_text(result, "sell")
        self.done_title.setText(title)
        self.done_note.setText(note)
        if self.done_card.title_label is not None:
            self.done_card.title_label.setText(caption.upper())
        self.done_grid.set("state", request_state_text(result))
        self.done_grid.set("usdc", usdc_text(usdc)
                           if getattr(result, "state", "settled") == "settled" else "\u2014")
        self.done_grid.set("shares", fmt.format_token_amount(getattr(result, "shares", None),
                                                             "G100", 6))
        receiver = getattr(result, "receiver", None) or (
            self.position.address if self.position else None)
        self.done_grid.set("to", short_hex(receiver, 8, 6))
        self.done_grid.set("tx", short(getattr(result, "tx_hash", "")))
        block = getattr(result, "block_number", None)
        self.done_grid.set("block", f"{block:,}" if block else "\u2014")
        self.position_grid.clear()
        if self.fetch_position_after:
            worker.submit(self.service.position, on_done=self.show_new_position,
                          on_error=lambda _e: None, context=self)

    def show_new_position(self, position: Position | None) -> None:
        """The holding after the sale (fetched here, or handed over by the controller)."""
        if position is not None:
            self.show_position_grid(position)
