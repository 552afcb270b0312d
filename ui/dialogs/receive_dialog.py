"""Receive: the active address as a QR code, with Copy, and the EIP-681 USDC payment link.

:class:`ReceivePanel` is the view (the onboarding's "wallet ready" page embeds it too);
:class:`ReceiveDialog` loads :class:`wallet_app.services.receive.ReceiveInfo` on the
worker (the pinned record gives the USDC address and chain id) and hands it to the panel.
The QR code shows either the plain address (any wallet scans it) or the payment link (a
wallet that reads EIP-681 fills in token, chain and recipient); an optional amount goes
into the link in USDC base units, parsed as Decimal.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui import worker
from ui.dialogs.common import close_row, dialog_column, show_error
from ui.pages.common import Banner, Card, button, copy_to_clipboard, label
from ui.widgets.qr_code import QrCodeWidget


class ReceivePanel(QWidget):
    """QR code + address + Copy + payment link (+ optional amount)."""

    def __init__(self, parent: QWidget | None = None, compact: bool = False,
                 with_amount: bool = True) -> None:
        super().__init__(parent)
        self.info: Any = None
        self.on_amount: Any = None  # callable(Decimal | None) set by the owner
        self.qr = QrCodeWidget(side=200 if compact else 240)
        self.qr.setObjectName("receiveQr")
        self.show_address = QPushButton("Address")
        self.show_link = QPushButton("USDC payment link")
        group = QButtonGroup(self)
        for b, name in ((self.show_address, "qrAddress"), (self.show_link, "qrLink")):
            b.setCheckable(True)
            b.setObjectName(name)
            b.setProperty("segment", "true")
            group.addButton(b)
        self.show_address.setChecked(True)
        self.show_address.toggled.connect(self._redraw)
        self.show_link.toggled.connect(self._redraw)
        toggles = QHBoxLayout()
        toggles.setSpacing(4)
        toggles.addWidget(self.show_address)
        toggles.addWidget(self.show_link)
        toggles.addStretch(1)
        self.qr_caption = label("", "caption", wrap=True, name="qrCaption")

        self.who = label("", "subheading", wrap=True, name="receiveWho")
        self.address = label("", "mono", selectable=True, name="receiveAddress")
        self.address.setWordWrap(True)
        self.copy_address = button("Copy address", primary=True, name="copyReceiveAddress")
        self.copy_address.clicked.connect(lambda: self._copy("address"))
        # A link has no spaces to wrap at: a read-only text box that wraps anywhere.
        self.link = QPlainTextEdit()
        self.link.setObjectName("receiveLink")
        self.link.setReadOnly(True)
        self.link.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)
        self.link.setFixedHeight(76)
        self.link.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.link.setProperty("mono", "true")
        self.link.setStyleSheet('font-family: "DejaVu Sans Mono", monospace; font-size: 12px;')
        self.link_note = label("", "caption", wrap=True, name="receiveLinkNote")
        self.copy_link = button("Copy link", name="copyReceiveLink")
        self.copy_link.clicked.connect(lambda: self._copy("link"))
        self.copied = label("", "caption", name="receiveCopied")
        self._copied_timer = QTimer(self)
        self._copied_timer.setSingleShot(True)
        self._copied_timer.timeout.connect(lambda: self.copied.setText(""))
        self.amount = QLineEdit()
        self.amount.setObjectName("receiveAmount")
        self.amount.setPlaceholderText("Amount, USDC (optional)")
        self.amount.setMinimumWidth(200)
        self.amount.editingFinished.connect(self._amount_changed)
        self.amount_error = label("", "field-error", wrap=True, name="receiveAmountError")
        self.amount_error.hide()

        right = QVBoxLayout()
        right.setSpacing(6)
        right.addWidget(self.who)
        right.addWidget(label("Address", "muted"))
        right.addWidget(self.address)
        row = QHBoxLayout()
        row.addWidget(self.copy_address)
        row.addWidget(self.copied)
        row.addStretch(1)
        right.addLayout(row)
        right.addSpacing(8)
        right.addWidget(label("Payment link (EIP-681)", "muted"))
        right.addWidget(self.link)
        right.addWidget(self.link_note)
        row2 = QHBoxLayout()
        row2.addWidget(self.copy_link)
        if with_amount:
            row2.addWidget(self.amount)
        row2.addStretch(1)
        right.addLayout(row2)
        right.addWidget(self.amount_error)
        right.addWidget(label("Send only on this network. Keep a little ETH here too: "
                              "it pays the network fees.", "hint", wrap=True))
        right.addStretch(1)
        self.amount.setVisible(with_amount)

        left = QVBoxLayout()
        left.setSpacing(8)
        left.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignHCenter)
        left.addLayout(toggles)
        left.addWidget(self.qr_caption)
        left.addStretch(1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(20)
        lay.addLayout(left)
        lay.addLayout(right, 1)

    def show_info(self, info: Any) -> None:
        self.info = info
        self.who.setText(info.label or "")
        self.address.setText(info.address)
        self.link.setPlainText(info.link or "\u2014")
        self.link_note.setText(info.link_note)
        self.copy_link.setEnabled(bool(info.link))
        self.show_link.setEnabled(info.qr_link is not None)
        if info.qr_link is None:
            self.show_address.setChecked(True)
        self._redraw()

    def current_qr_text(self) -> str:
        return getattr(self.qr.matrix, "text", "")

    def _redraw(self) -> None:
        info = self.info
        if info is None:
            return
        if self.show_link.isChecked() and info.qr_link is not None:
            self.qr.set_matrix(info.qr_link)
            self.qr_caption.setText("Scan with a wallet that reads payment links: it fills "
                                    "in USDC, the network and this address.")
        else:
            self.qr.set_matrix(info.qr_address)
            self.qr_caption.setText("Scan to get this address.")

    def _copy(self, what: str) -> None:
        if self.info is None:
            return
        text = self.info.address if what == "address" else self.info.link
        if text:
            copy_to_clipboard(text)
            self.copied.setText("Address copied" if what == "address" else "Link copied")
            self._copied_timer.start(4_000)

    def _amount_changed(self) -> None:
        text = self.amount.text().strip().replace(",", "")
        amount = None
        if text:
            try:
                amount = Decimal(text)
            except InvalidOperation:
                amount = None
            if amount is None or not amount.is_finite() or amount <= 0 or \
                    amount.as_tuple().exponent < -6:  # type: ignore[operator]
                self.amount_error.setText("Enter a positive amount of USDC with at most 6 "
                                          "decimal places.")
                self.amount_error.show()
                return
        self.amount_error.hide()
        if self.on_amount is not None:
            self.on_amount(amount)


class ReceiveDialog(QDialog):
    """Shows :class:`ReceivePanel` for the active address (loaded on the worker)."""

    def __init__(self, service: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.setWindowTitle("Receive")
        self.setModal(True)
        self.setMinimumWidth(720)
        self.banner = Banner()
        card = Card("Receive USDC, ETH or G100")
        self.panel = ReceivePanel()
        self.panel.on_amount = self.load
        card.body.addWidget(self.panel)
        row = close_row(self, "receiveClose")
        lay = dialog_column(self, "Receive", self.banner)
        lay.addWidget(card)
        lay.addLayout(row)
        self.load(None)

    def load(self, amount: Decimal | None) -> None:
        worker.submit(self.service.receive_info, amount, on_done=self._loaded,
                      on_error=self._failed, context=self)

    def _loaded(self, info: Any) -> None:
        self.banner.clear()
        self.panel.show_info(info)

    def _failed(self, exc: Exception) -> None:
        show_error(self.banner, exc)
