"""The strip above every screen: who the app acts for (wallet, account name, address),
a watch-only badge when nothing can be signed, and the Receive / Contacts / Accounts
buttons."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from ui.labels import short
from ui.pages.common import button, copy_to_clipboard, label, set_prop


class AccountHeader(QFrame):
    """Signals: receiveRequested(), contactsRequested(), accountsRequested()."""

    receiveRequested = Signal()
    contactsRequested = Signal()
    accountsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountHeader")
        self.setProperty("card", "true")
        self.identity: Any = None
        self._plain: str | None = None
        self.title = label("No wallet", "subheading", name="headerIdentity")
        self.address = label("", "mono", selectable=True, name="headerAddress")
        self.badge = label("", "caption", name="headerBadge", wrap=True)
        self.badge.setProperty("trend", "down")
        self.badge.hide()
        self.copy = button("Copy", name="headerCopy", tooltip="Copy the full address")
        self.copy.clicked.connect(self._copy)
        self.receive = button("Receive", name="headerReceive",
                              tooltip="Your address as a QR code and a USDC payment link")
        self.contacts = button("Contacts", name="headerContacts")
        self.accounts = button("Accounts", name="headerAccounts",
                               tooltip="Switch, add or rename accounts; watch-only wallets")
        self.receive.clicked.connect(self.receiveRequested)
        self.contacts.clicked.connect(self.contactsRequested)
        self.accounts.clicked.connect(self.accountsRequested)
        who = QVBoxLayout()
        who.setSpacing(0)
        who.addWidget(self.title)
        line = QHBoxLayout()
        line.setSpacing(8)
        line.addWidget(self.address)
        line.addWidget(self.badge, 1)
        who.addLayout(line)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 8, 12, 8)
        lay.setSpacing(8)
        lay.addLayout(who, 1)
        for b in (self.copy, self.receive, self.contacts, self.accounts):
            lay.addWidget(b, 0, Qt.AlignmentFlag.AlignVCenter)
        self.show_identity(None)

    def show_identity(self, identity: Any) -> None:
        """An :class:`wallet_app.services.accounts.Identity`, or None (no wallet)."""
        self.identity = identity
        if identity is None:
            self.title.setText("No wallet yet")
            self.address.setText("Create or import one, or watch an address")
            self.address.setToolTip("")
            self.badge.hide()
            self.copy.hide()
            self.receive.setEnabled(False)
            return
        self.title.setText(identity.title)
        self.address.setText(short(identity.address, 10, 8))
        self.address.setToolTip(identity.address)
        self.copy.show()
        self.receive.setEnabled(True)
        watch = identity.kind == "watch"
        self.badge.setText("\u25cc Watch-only: no key here, nothing can be signed"
                           if watch else "")
        self.badge.setToolTip(identity.reason if watch else "")
        set_prop(self.badge, "trend", "down" if watch else "none")
        self.badge.setVisible(watch)

    def show_plain(self, name: str, address: str | None) -> None:
        """A wallet known only by name and address (a service without accounts)."""
        self.show_identity(None)
        self.title.setText(name)
        self.address.setText(short(address, 10, 8) if address else "")
        self.address.setToolTip(address or "")
        self._plain = address
        self.copy.setVisible(bool(address))
        self.receive.setEnabled(bool(address))

    def _copy(self) -> None:
        address = self.identity.address if self.identity is not None else self._plain
        if address:
            copy_to_clipboard(address)
