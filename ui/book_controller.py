"""The controller's part for receiving, contacts, accounts and watch-only wallets.

Kept apart from :mod:`ui.controller` so that file stays about refreshes, trades and the
lock. It opens the Receive, Contacts and Accounts dialogs from the header (and My
Indices), shows who the app acts for in the header on every screen, hands the address
labels to every screen that shows addresses, and, for a watch-only wallet, turns off every
button that would sign with the reason as its tooltip and text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject

from ui import worker
from ui.dialogs.accounts_dialog import AccountsDialog
from ui.dialogs.contacts_dialog import ContactsDialog
from ui.dialogs.receive_dialog import ReceiveDialog


class BookController(QObject):
    def __init__(self, ctl: Any) -> None:
        super().__init__(ctl)
        self.ctl = ctl
        self.labels: dict[str, str] = {}
        self._labels_shown = False
        self.dialog: Any = None
        w = ctl.window
        w.account_header.receiveRequested.connect(self.open_receive)
        w.account_header.contactsRequested.connect(self.open_contacts)
        w.account_header.accountsRequested.connect(self.open_accounts)
        w.my_page.receiveRequested.connect(self.open_receive)

    @property
    def svc(self) -> Any:
        return self.ctl.svc

    def read_identity(self) -> Any:
        fn = getattr(self.svc, "identity", None)
        return fn() if callable(fn) else None

    def signing_reason(self) -> str:
        """Why nothing can be signed now ("" when an own account is active)."""
        ident = self.ctl.identity
        return ident.reason if ident is not None and not ident.can_sign else ""

    def show_identity(self) -> None:
        """Header, sidebar and the pages' signing buttons for the active identity."""
        w = self.ctl.window
        ident = self.ctl.identity
        if ident is None and self.ctl.wallet is not None:  # a service without accounts
            w.account_header.show_plain(self.ctl.wallet.name, self.ctl.address)
        else:
            w.account_header.show_identity(ident)
        reason = self.signing_reason()
        if ident is not None and ident.kind == "watch":
            w.wallet_name.setText(ident.label)
            w.wallet_state.setText("\u25cc Watch-only (no key)")
            w.wallet_state.setToolTip(reason)
            w.lock_button.hide()
        elif ident is not None:
            w.wallet_name.setText(f"{ident.wallet} \u00b7 {ident.label}")
        w.my_page.set_can_sign(not reason, reason)
        w.tx_page.set_can_sign(not reason, reason)
        self.refresh_labels()

    def refresh_labels(self) -> None:
        fn = getattr(self.svc, "address_labels", None)
        if callable(fn):
            worker.submit(fn, on_done=self._labels_loaded, on_error=lambda _e: None,
                          context=self)

    def _labels_loaded(self, labels: dict[str, str]) -> None:
        if labels == self.labels and self._labels_shown:
            return  # the status tick asks again every few seconds: redraw only a change
        self._labels_shown = True
        self.labels = dict(labels)
        w = self.ctl.window
        w.tx_page.set_labels(self.labels)
        w.my_page.set_labels(self.labels)

    # -- dialogs -------------------------------------------------------------------------

    def open_receive(self) -> ReceiveDialog | None:
        if self.ctl.identity is None:
            self.ctl.open_onboarding()
            return None
        dlg = ReceiveDialog(self.svc, self.ctl.window)
        self.dialog = dlg
        dlg.open()
        return dlg

    def open_contacts(self) -> ContactsDialog:
        dlg = ContactsDialog(self.svc, self.ctl.window)
        dlg.changed.connect(self.refresh_labels)
        self.dialog = dlg
        dlg.open()
        return dlg

    def open_accounts(self) -> AccountsDialog:
        dlg = AccountsDialog(self.svc, self.ctl.window)
        dlg.changed.connect(self._names_changed)
        dlg.switched.connect(self._switched)
        self.dialog = dlg
        dlg.open()
        return dlg

    def _names_changed(self) -> None:
        self.ctl.identity = self.read_identity()
        self.show_identity()

    def _switched(self) -> None:
        """Another account or a watched wallet: every screen shows it from now on."""
        self.ctl._wallet_selected(None)
