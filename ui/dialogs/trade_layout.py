"""The widgets the buy, sell and send dialogs build from: the slippage and fee-preset
controls, the progress page, the Cancel/Confirm row, the error banner, the done page's
frame and the position card (kept out of ``ui/dialogs/trade_base.py``).

A mixin of :class:`~ui.dialogs.trade_base.TradeDialog`: the controls are wired to its
input, confirm and banner handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui.dialogs.common import StepList
from ui.pages.common import (
    Banner,
    Card,
    KeyValueGrid,
    button,
    copy_to_clipboard,
    label,
)

SLIPPAGE_CHOICES = ((10, "0.1%"), (50, "0.5%"), (100, "1.0%"))
FEE_PRESETS = (("low", "Low"), ("market", "Market"), ("aggressive", "Aggressive"))


class TradeDialogLayout:
    """Builders of the trade dialogs' shared widgets."""

    def build_trade_settings(self) -> QWidget:
        """Slippage (0.1 / 0.5 / 1.0 / custom) and fee preset, as segmented buttons."""
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)

        srow = QHBoxLayout()
        srow.setSpacing(4)
        srow.addWidget(label("Max slippage", "muted"))
        srow.addSpacing(8)
        self.slippage_group = QButtonGroup(self)
        self.slippage_buttons: dict[str, QPushButton] = {}
        matched = False
        for bps, text in SLIPPAGE_CHOICES:
            b = self._segment(text, f"slippage_{bps}")
            self.slippage_group.addButton(b)
            self.slippage_buttons[str(bps)] = b
            b.clicked.connect(lambda _c=False, v=bps: self._set_slippage(v))
            srow.addWidget(b)
            if bps == self._slippage_bps:
                b.setChecked(True)
                matched = True
        custom = self._segment("Custom", "slippage_custom")
        self.slippage_group.addButton(custom)
        self.slippage_buttons["custom"] = custom
        custom.clicked.connect(self._custom_slippage)
        srow.addWidget(custom)
        self.slippage_edit = QLineEdit()
        self.slippage_edit.setObjectName("slippageEdit")
        self.slippage_edit.setPlaceholderText("e.g. 2")
        self.slippage_edit.setMaximumWidth(80)
        self.slippage_edit.textEdited.connect(self._slippage_typed)
        self.slippage_edit.hide()
        self.slippage_pct = label("%", "muted")
        self.slippage_pct.hide()
        srow.addWidget(self.slippage_edit)
        srow.addWidget(self.slippage_pct)
        srow.addStretch(1)
        if not matched:
            custom.setChecked(True)
            self.slippage_edit.setText(fmt.format_number(Decimal(self._slippage_bps or 50)
                                                         / 100, 2))
            self.slippage_edit.show()
            self.slippage_pct.show()

        frow = QHBoxLayout()
        frow.setSpacing(4)
        frow.addWidget(label("Network fee", "muted"))
        frow.addSpacing(8)
        self.add_fee_buttons(frow)
        frow.addStretch(1)
        self.slippage_error = label("", "field-error", wrap=True, name="slippageError")
        self.slippage_error.hide()
        lay.addLayout(srow)
        lay.addWidget(self.slippage_error)
        lay.addLayout(frow)
        return box

    def add_fee_buttons(self, row: QHBoxLayout) -> None:
        """The fee presets (Low / Market / Aggressive) as segments in ``row``; Market is
        chosen, and a click asks for a new quote."""
        self.fee_group = QButtonGroup(self)
        self.fee_buttons: dict[str, QPushButton] = {}
        for key, text in FEE_PRESETS:
            b = self._segment(text, f"fee_{key}")
            self.fee_group.addButton(b)
            self.fee_buttons[key] = b
            b.clicked.connect(self.inputs_changed)
            row.addWidget(b)
        self.fee_buttons["market"].setChecked(True)

    def build_done_frame(self, cards: Sequence[QWidget],
                         extra_buttons: Sequence[QPushButton] = ()) -> None:
        """The done page: ``done_title`` and ``done_note`` (set by ``show_done``), the
        ``cards``, and at the bottom right ``extra_buttons`` then Done (closes)."""
        lay = QVBoxLayout(self.done_page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(14)
        self.done_title = label("", "heading", wrap=True, name="doneTitle")
        self.done_note = label("", "muted", wrap=True)
        self.done_button = button("Done", primary=True, name="doneButton")
        self.done_button.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        for b in (*extra_buttons, self.done_button):
            row.addWidget(b)
        lay.addWidget(self.done_title)
        lay.addWidget(self.done_note)
        for card in cards:
            lay.addWidget(card)
        lay.addStretch(1)
        lay.addLayout(row)

    def build_position_card(self, usdc_caption: str) -> Card:
        """"Your position now" after a trade: shares, value and the USDC (``usdc_caption``),
        filled by :meth:`show_position_grid`."""
        card = Card("Your position now")
        self.position_grid = KeyValueGrid()
        self.position_grid.add_row("shares", "Shares", emphasis=True)
        self.position_grid.add_row("value", "Value")
        self.position_grid.add_row("usdc", usdc_caption)
        card.body.addWidget(self.position_grid)
        return card

    def show_position_grid(self, position: Any) -> None:
        """The position after the trade (a :class:`~wallet_app.models.Position`)."""
        self.position_grid.set("shares", fmt.format_token_amount(position.shares, "G100", 6))
        self.position_grid.set("value", fmt.format_usdc(position.value_usdc))
        self.position_grid.set("usdc", fmt.format_usdc(position.usdc_balance))

    def build_progress_page(self, title: str) -> None:
        lay = QVBoxLayout(self.progress_page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(14)
        self.progress_title = label(title, "heading", wrap=True)
        self.progress_note = label("Keep this window open until the network confirms.",
                                   "muted", wrap=True)
        self.steps = StepList(list(self.STEPS))
        card = Card()
        card.body.setContentsMargins(22, 20, 22, 20)
        card.body.addWidget(self.steps)
        self.progress_message = label("", "hint", wrap=True, name="progressMessage")
        card.body.addSpacing(6)
        card.body.addWidget(self.progress_message)
        hash_row = QHBoxLayout()
        self.hash_label = label("", "mono", selectable=True, name="txHash")
        self.copy_hash = button("Copy", name="copyHash")
        self.copy_hash.clicked.connect(lambda: copy_to_clipboard(self.tx_hash))
        self.copy_hash.hide()
        hash_row.addWidget(self.hash_label, 1)
        hash_row.addWidget(self.copy_hash)
        card.body.addLayout(hash_row)
        self.progress_banner = Banner()
        self.progress_banner.primary.clicked.connect(self._progress_primary)
        self.progress_banner.secondary.clicked.connect(self.back_to_form)
        lay.addWidget(self.progress_title)
        lay.addWidget(self.progress_note)
        lay.addWidget(card)
        self.background_button = button("Close and keep waiting", name="backgroundButton",
                                        tooltip="The transaction is sent; its outcome will "
                                        "show as a notice. Speed it up or cancel it from "
                                        "the Transactions screen.")
        self.background_button.hide()
        self.background_button.clicked.connect(self.go_background)
        brow = QHBoxLayout()
        brow.addStretch(1)
        brow.addWidget(self.background_button)
        self._bg_timer = QTimer(self)
        self._bg_timer.setSingleShot(True)
        self._bg_timer.timeout.connect(self._offer_background)
        lay.addWidget(self.progress_banner)
        lay.addLayout(brow)
        lay.addStretch(1)

    def add_buttons(self, layout: QVBoxLayout, confirm_text: str) -> None:
        self.cancel_button = button("Cancel", name="cancelButton")
        self.confirm_button = button(confirm_text, primary=True, name="confirmButton")
        self.confirm_button.setMinimumWidth(180)
        self.confirm_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button.clicked.connect(self.confirm)
        row = QHBoxLayout()
        self.quote_status = label("", "hint", wrap=True, name="quoteStatus")
        row.addWidget(self.quote_status, 1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.confirm_button)
        layout.addLayout(row)

    def make_banner(self) -> Banner:
        self.banner = Banner()
        self.banner.primary.clicked.connect(self._banner_primary)
        return self.banner

    def _segment(self, text: str, name: str) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.setCheckable(True)
        b.setProperty("segment", "true")
        b.setCursor(Qt.CursorShape.PointingHandCursor)
        return b
