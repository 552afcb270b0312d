"""The send dialog: USDC, ETH or G100 shares to an address, after the recipient checks.

Sending is the one thing whose counterparty the wallet cannot pin, so the dialog puts the
recipient first: a mixed-case address with a wrong checksum is refused as it is typed; the
core's checks (pinned contracts refused, a contract or a look-alike of an address from the
history or the contacts) come back with the preview and are shown above it. A look-alike
is shown side by side with the address it resembles, its differing middle marked, and
Send stays disabled until the person ticks that they compared them (a contract the same).
The preview is a simulation: amount, network fee expected and at most, balance changes;
Max sends the whole token balance, or for ETH the balance less the most the fee can be.

The progress and done pages are the trade dialogs' (:class:`TradeDialog`): sign, send,
confirm, with the hash, and a slow confirmation can continue in the background (the
Transactions screen can speed it up or cancel it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui.dialogs.common import AmountError, ErrorAdvice, describe_error, parse_amount
from ui.dialogs.trade_base import TradeDialog, balance_changes_text, gas_text, short
from ui.pages.common import Banner, Card, KeyValueGrid, button, label
from wallet_app.models import Position
from wallet_app.services.recipients import parse_recipient
from wallet_app.services.transfer_types import InvalidRecipient, TransferQuote

ASSET_CHOICES = (("usdc", "USDC", 6), ("eth", "ETH", 18), ("g100", "G100", 18))


def marked_address(address: str, other: str) -> str:
    """Rich text of ``address`` with the characters that differ from ``other`` in bold
    colour: the look-alike's middle stands out at a glance."""
    out = []
    for i, ch in enumerate(address):
        same = i < len(other) and other[i].lower() == ch.lower()
        out.append(ch if same else f"<b><span style='color:#d9480f'>{ch}</span></b>")
    return "<span style='font-family:monospace'>" + "".join(out) + "</span>"


class SendDialog(TradeDialog):
    """Asset, recipient, amount -> checks and preview -> confirm -> progress -> done."""

    def __init__(self, service: Any, *, position: Position | None = None,
                 wallet_name: str = "", asset: str = "usdc",
                 parent: QWidget | None = None) -> None:
        super().__init__(service, wallet_name=wallet_name, parent=parent)
        self.setWindowTitle("Send")
        self.position = position
        self.asset = asset
        self.quote: TransferQuote | None = None
        outer = QVBoxLayout(self.form_page)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)
        # The warnings make the form taller than a laptop screen: the form scrolls, the
        # error banner and the buttons stay in view.
        scroll = QScrollArea()
        scroll.setObjectName("sendScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget "
                             "{ background: transparent; }")
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 8, 0)
        lay.setSpacing(12)
        scroll.setWidget(body)
        self.scroll = scroll
        title = label("Send", "heading")
        self.subtitle = label("Send USDC, ETH or G100 shares from this wallet to another "
                              "address. Check the address: a transfer cannot be undone.",
                              "muted", wrap=True)

        what = Card("What")
        arow = QHBoxLayout()
        arow.setSpacing(4)
        self.asset_group = QButtonGroup(self)
        self.asset_buttons = {}
        for key, text, _ in ASSET_CHOICES:
            b = self._segment(text, f"asset_{key}")
            self.asset_group.addButton(b)
            self.asset_buttons[key] = b
            b.clicked.connect(lambda _c=False, k=key: self.set_asset(k))
            arow.addWidget(b)
        arow.addStretch(1)
        self.asset_buttons[asset].setChecked(True)
        what.body.addLayout(arow)
        self.balance_label = label("", "hint", name="balanceLabel")
        what.body.addWidget(self.balance_label)

        to_card = Card("To")
        self.recipient_edit = QLineEdit()
        self.recipient_edit.setObjectName("recipientEdit")
        self.recipient_edit.setPlaceholderText("0x\u2026 (the recipient's address)")
        self.recipient_edit.setMinimumHeight(38)
        self.recipient_edit.textChanged.connect(self.inputs_changed)
        self.recipient_error = label("", "field-error", wrap=True, name="recipientError")
        self.recipient_error.hide()
        to_card.body.addWidget(self.recipient_edit)
        to_card.body.addWidget(self.recipient_error)

        amount_card = Card("Amount")
        row = QHBoxLayout()
        self.amount_edit = QLineEdit()
        self.amount_edit.setObjectName("amountEdit")
        self.amount_edit.setPlaceholderText("0.00")
        self.amount_edit.setMinimumHeight(38)
        self.amount_edit.textChanged.connect(self.inputs_changed)
        self.unit_label = label("USDC", "subheading")
        self.max_button = button("Max", name="maxButton",
                                 tooltip="The whole balance (ETH: less the network fee)")
        self.max_button.clicked.connect(self.use_max)
        row.addWidget(self.amount_edit, 1)
        row.addWidget(self.unit_label)
        row.addWidget(self.max_button)
        amount_card.body.addLayout(row)
        self.amount_error = label("", "field-error", wrap=True, name="amountError")
        self.amount_error.hide()
        amount_card.body.addWidget(self.amount_error)
        frow = QHBoxLayout()
        frow.addWidget(label("Network fee", "muted"))
        self.add_fee_buttons(frow)
        frow.addStretch(1)
        amount_card.body.addLayout(frow)

        self.warnings_box = QWidget()
        self.warnings_layout = QVBoxLayout(self.warnings_box)
        self.warnings_layout.setContentsMargins(0, 0, 0, 0)
        self.warnings_layout.setSpacing(8)
        self.warning_banners: dict[str, Banner] = {}
        self.confirm_checks: dict[str, QCheckBox] = {}
        self.lookalike_frame: QFrame | None = None
        self._warned_for = ""
        self._ticked_before: set[str] = set()

        self.preview_card = Card("Preview")
        self.preview = pv = KeyValueGrid()
        pv.add_row("to", "To", wrap=True)
        pv.add_row("amount", "Amount", emphasis=True)
        pv.add_separator()
        pv.add_row("gas_expected", "Network fee (expected)",
                   "Gas the simulation used \u00d7 current base fee + tip")
        pv.add_row("gas_max", "Network fee (at most)", "Gas limit \u00d7 maximum fee per gas")
        pv.add_row("changes", "Balance changes (simulated)")
        self.preview_card.body.addWidget(pv)

        for w in (title, self.subtitle, what, to_card, amount_card, self.warnings_box,
                  self.preview_card):
            lay.addWidget(w)
        lay.addStretch(1)
        outer.addWidget(scroll, 1)
        outer.addWidget(self.make_banner())
        self.add_buttons(outer, "Send")
        self.build_progress_page("Sending")
        self._build_done_page()
        self.set_asset(asset)
        self.clear_preview()
        self.resize(700, 780)

    # -- inputs ------------------------------------------------------------------------

    def _asset_info(self) -> tuple[str, int]:
        for key, sym, dec in ASSET_CHOICES:
            if key == self.asset:
                return sym, dec
        return "USDC", 6

    def _balance(self) -> Decimal | None:
        p = self.position
        if p is None:
            return None
        return {"usdc": p.usdc_balance, "eth": p.eth_balance, "g100": p.shares}[self.asset]

    def set_asset(self, asset: str) -> None:
        self.asset = asset
        self.asset_buttons[asset].setChecked(True)
        sym, dec = self._asset_info()
        self.unit_label.setText(sym)
        bal = self._balance()
        self.balance_label.setText(
            f"Balance: {fmt.format_token_amount(bal, sym, 6 if dec > 6 else dec)}"
            if bal is not None else "")
        self.inputs_changed()

    def use_max(self) -> None:
        self.amount_edit.setText("Max")

    def validate_amount(self) -> Decimal | str | None:  # type: ignore[override]
        """The amount (or "max") when the recipient and the amount both parse."""
        text = self.recipient_edit.text().strip()
        ok = True
        try:
            parse_recipient(text)
            self.recipient_error.hide()
        except InvalidRecipient as exc:
            ok = False
            self.recipient_error.setText(str(exc) if text else "")
            self.recipient_error.setVisible(bool(text))
        raw = self.amount_edit.text().strip()
        if raw.lower() == "max":
            self.amount_error.hide()
            return "max" if ok else None
        sym, dec = self._asset_info()
        try:
            amount = parse_amount(raw, dec, sym, maximum=self._balance(),
                                  maximum_label=f"your {sym} balance")
        except AmountError as exc:
            self.amount_error.setText(str(exc) if raw else "")
            self.amount_error.setVisible(bool(raw))
            return None
        self.amount_error.hide()
        return amount if ok else None

    def inputs_changed(self, *_: object) -> None:
        if not hasattr(self, "warnings_layout"):
            return  # still building
        if self.recipient_edit.text().strip().lower() != self._warned_for.lower():
            self._warned_for = ""  # another recipient: its warnings start unconfirmed
        self._clear_warnings_keep_ticks()
        super().inputs_changed()

    def _clear_warnings_keep_ticks(self) -> None:
        """Hide the old warnings while the new preview is simulated; ticks for the same
        recipient come back with it (see :meth:`_show_warnings`)."""
        ticked = {k for k, c in self.confirm_checks.items() if c.isChecked()}
        self._clear_warnings()
        self._ticked_before = ticked

    # -- TradeDialog hooks -------------------------------------------------------------

    def quote_fn(self) -> Any:
        asset, to = self.asset, self.recipient_edit.text().strip()
        return lambda amount, _slippage, preset: self.service.quote_transfer(
            asset, to, amount, preset)

    def send_fn(self) -> Any:
        confirmed = [k for k, c in self.confirm_checks.items() if c.isChecked()]
        return lambda quote, progress=None: self.service.send_transfer(quote, confirmed,
                                                                       progress)

    def _quoted(self, seq: int, quote: Any) -> None:
        super()._quoted(seq, quote)
        if seq != self._seq:
            return
        self.quote_status.setText("Preview from a simulation just now")
        self._show_warnings(quote)
        self._update_confirm()

    def show_preview(self, q: TransferQuote) -> None:
        pv = self.preview
        pv.set("to", q.recipient + (f"\n{q.check.label}" if q.check.label else ""))
        pv.set("amount", fmt.format_token_amount(q.amount, q.symbol, min(q.decimals, 8))
               + ("  (max)" if q.is_max else ""))
        pv.set("gas_expected", gas_text(q.gas, "expected"))
        pv.set("gas_max", gas_text(q.gas, "max"))
        pv.set("changes", balance_changes_text(q.balance_changes))
        self.confirm_button.setText(
            f"Send {fmt.format_token_amount(q.amount, q.symbol, min(q.decimals, 6))}")

    def clear_preview(self) -> None:
        self.preview.clear()
        self.confirm_button.setText("Send")

    def advise(self, exc: Exception) -> ErrorAdvice:
        """A refused recipient sends the person back to the address field."""
        advice = describe_error(exc)
        title = {"InvalidRecipient": "Check the address",
                 "RecipientRefused": "This address cannot receive it",
                 "ConfirmationRequired": "Confirm the recipient first"}.get(type(exc).__name__)
        if title:
            advice = ErrorAdvice("recipient", title, advice.message, "edit", "Change address")
        return advice

    def focus_amount(self) -> None:
        if self.last_error is not None and self.last_error.kind == "recipient":
            self.recipient_edit.setFocus()
            self.recipient_edit.selectAll()
            return
        super().focus_amount()

    # -- warnings ---------------------------------------------------------------------

    def _clear_warnings(self) -> None:
        while self.warnings_layout.count():
            item = self.warnings_layout.takeAt(0)
            w = item.widget()
            if w is not None:
                w.deleteLater()
        self.warning_banners = {}
        self.confirm_checks = {}
        self.lookalike_frame = None

    def _show_warnings(self, q: TransferQuote) -> None:
        # A refreshed preview of the same recipient keeps what the person ticked.
        kept = ({k for k, c in self.confirm_checks.items() if c.isChecked()}
                | self._ticked_before) if q.recipient == self._warned_for else set()
        self._ticked_before = set()
        self._warned_for = q.recipient
        self._clear_warnings()
        for w in q.check.warnings:
            b = Banner()
            b.setObjectName(f"warning_{w.code}")
            self.warnings_layout.addWidget(b)  # reparent first: show() after it sticks
            b.show_message("warning" if w.blocking else "info", w.title, w.message)
            self.warning_banners[w.code] = b
            if w.code == "lookalike":
                self.lookalike_frame = self._side_by_side(q.recipient, w.similar)
                self.warnings_layout.addWidget(self.lookalike_frame)
                self.lookalike_frame.show()
            if w.blocking:
                text = (f"I compared both: I mean {short(q.recipient)}"
                        if w.code == "lookalike" else
                        f"I know this is a contract that accepts {q.symbol}")
                c = QCheckBox(text)
                c.setObjectName(f"confirm_{w.code}")
                c.setStyleSheet("QCheckBox { font-weight: 600; }")
                c.setChecked(w.code in kept)
                c.toggled.connect(self._update_confirm)
                self.warnings_layout.addWidget(c)
                c.show()
                self.confirm_checks[w.code] = c
        if self.confirm_checks:
            # The boxes to tick are below the warnings: bring them into view.
            last = list(self.confirm_checks.values())[-1]
            QTimer.singleShot(0, lambda: self.scroll.ensureWidgetVisible(last, 0, 40))

    def _side_by_side(self, typed: str, similar: tuple[tuple[str, str], ...]) -> QFrame:
        frame = QFrame()
        frame.setObjectName("lookalikeCompare")
        frame.setProperty("card", "true")
        grid = QGridLayout(frame)
        grid.setContentsMargins(12, 8, 12, 8)
        grid.addWidget(label("You are sending to", "muted"), 0, 0)
        mine = QLabel(marked_address(typed, similar[0][1]))
        mine.setObjectName("lookalikeTyped")
        mine.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(mine, 0, 1)
        for i, (name, addr) in enumerate(similar, start=1):
            grid.addWidget(label(f"Known: {name}", "muted"), i, 0)
            known = QLabel(marked_address(addr, typed))
            known.setObjectName(f"lookalikeKnown{i}")
            known.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(known, i, 1)
        grid.setColumnStretch(1, 1)
        return frame

    def _update_confirm(self, *_: object) -> None:
        ready = self.quote is not None and all(c.isChecked()
                                               for c in self.confirm_checks.values())
        self.confirm_button.setEnabled(ready)

    def confirm(self) -> None:
        if not all(c.isChecked() for c in self.confirm_checks.values()):
            return  # blocked until the person confirmed each blocking warning
        super().confirm()

    # -- done page -----------------------------------------------------------------------

    def _build_done_page(self) -> None:
        card = Card("Sent")
        self.done_grid = KeyValueGrid()
        for key, cap in (("amount", "Amount"), ("to", "To"), ("fee", "Network fee paid"),
                         ("tx", "Transaction"), ("block", "Block")):
            self.done_grid.add_row(key, cap, emphasis=key == "amount", wrap=key == "to")
        card.body.addWidget(self.done_grid)
        self.build_done_frame([card])

    def show_done(self, result: Any) -> None:
        q = self.quote
        sym = q.symbol if q is not None else result.asset.upper()
        self.done_title.setText(f"\u2713 Sent {fmt.format_token_amount(result.amount, sym, 6)}")
        self.done_note.setText("Verified from the token's Transfer event and the balances "
                               "afterwards." if result.asset != "eth" else
                               "Verified from the balances before and after the block.")
        self.done_grid.set("amount", fmt.format_token_amount(result.amount, sym, 8))
        self.done_grid.set("to", result.recipient)
        self.done_grid.set("fee", fmt.format_token_amount(result.fee_eth, "ETH", 8))
        self.done_grid.set("tx", short(result.tx_hash))
        self.done_grid.set("block", f"{result.block_number:,}" if result.block_number
                           else "\u2014")
