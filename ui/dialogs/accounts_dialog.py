"""Accounts and watch-only wallets: the accounts of the active recovery phrase (BIP-44
m/44'/60'/0'/0/i) with add, rename and switch, and addresses watched without a key.

A view over the facade (``list_accounts``, ``add_account``, ``rename_account``,
``switch_account``, ``watched_wallets``, ``add_watch``, ``remove_watch``,
``switch_watch``); every call runs on the worker. Adding an account needs the wallet
password (the phrase in the OS keyring derives the new key); the field is cleared once
used and the password is never kept.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QInputDialog, QLineEdit, QWidget

from ui import worker
from ui.dialogs.book_dialog import BookDialog
from ui.dialogs.common import close_row, dialog_column
from ui.pages.common import Card, button, fill_table, label, make_table, selected_row

ACCOUNT_HEADERS = ("No.", "Name", "Address", "Path", "")
WATCH_HEADERS = ("Name", "Address", "")


class AccountsDialog(BookDialog):
    """Emits :attr:`switched` when the active account or watched wallet changed, and
    :attr:`changed` after any edit (names are shown on every screen)."""

    switched = Signal()

    def __init__(self, service: Any, parent: QWidget | None = None) -> None:
        super().__init__(service, "Accounts", (940, 700), parent)
        self.accounts: list[Any] = []
        self.watched: list[Any] = []
        self.active_watch = ""

        acc = Card("Accounts of this recovery phrase")
        self.wallet_caption = label("", "caption", wrap=True, name="accountsCaption")
        self.account_table = make_table(ACCOUNT_HEADERS, (0,), stretch=2)
        self.account_table.setObjectName("accountsTable")
        self.account_table.setMinimumHeight(150)
        self.account_table.itemSelectionChanged.connect(self._selection)
        self.switch_button = button("Use this account", primary=True, name="switchAccount")
        self.rename_button = button("Rename\u2026", name="renameAccount")
        self.switch_button.clicked.connect(self._switch)
        self.rename_button.clicked.connect(self._rename)
        self.new_label = QLineEdit()
        self.new_label.setObjectName("newAccountLabel")
        self.new_label.setPlaceholderText("Name (optional)")
        self.password = QLineEdit()
        self.password.setObjectName("newAccountPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Wallet password")
        self.password.returnPressed.connect(self._add)
        self.add_button = button("Add account", name="addAccount",
                                 tooltip="Derives the next account of your recovery phrase")
        self.add_button.clicked.connect(self._add)
        row = QHBoxLayout()
        row.addWidget(self.switch_button)
        row.addWidget(self.rename_button)
        row.addStretch(1)
        add_row = QHBoxLayout()
        add_row.addWidget(label("New account:", "muted"))
        add_row.addWidget(self.new_label, 1)
        add_row.addWidget(self.password, 1)
        add_row.addWidget(self.add_button)
        acc.body.addWidget(self.wallet_caption)
        acc.body.addWidget(self.account_table, 1)
        acc.body.addLayout(row)
        acc.body.addLayout(add_row)

        watch = Card("Watch-only wallets")
        watch.body.addWidget(label(
            "An address you hold elsewhere: its holdings, profit and loss and trades are "
            "shown, read from the index vault's events. This app has no key for it, so "
            "nothing can be signed while you look at it.", "muted", wrap=True))
        self.watch_table = make_table(WATCH_HEADERS, (), stretch=1)
        self.watch_table.setObjectName("watchTable")
        self.watch_table.setMinimumHeight(100)
        self.watch_table.itemSelectionChanged.connect(self._selection)
        self.watch_name = QLineEdit()
        self.watch_name.setObjectName("watchName")
        self.watch_name.setPlaceholderText("Name, e.g. Cold storage")
        self.watch_address = QLineEdit()
        self.watch_address.setObjectName("watchAddress")
        self.watch_address.setPlaceholderText("0x\u2026")
        self.watch_add = button("Watch", name="addWatch")
        self.watch_add.clicked.connect(self._add_watch)
        self.watch_switch = button("Look at it", primary=True, name="switchWatch")
        self.watch_remove = button("Stop watching", name="removeWatch")
        self.watch_switch.clicked.connect(self._switch_watch)
        self.watch_remove.clicked.connect(self._remove_watch)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.addWidget(self.watch_name, 0, 0)
        grid.addWidget(self.watch_address, 0, 1)
        grid.addWidget(self.watch_add, 0, 2)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(0, 1)
        wrow = QHBoxLayout()
        wrow.addWidget(self.watch_switch)
        wrow.addWidget(self.watch_remove)
        wrow.addStretch(1)
        watch.body.addWidget(self.watch_table, 1)
        watch.body.addLayout(wrow)
        watch.body.addLayout(grid)

        bottom = close_row(self, "accountsClose")
        lay = dialog_column(self, "Accounts", self.banner)
        lay.addWidget(acc, 3)
        lay.addWidget(watch, 2)
        lay.addLayout(bottom)
        self._selection()
        self.reload()

    # -- data ------------------------------------------------------------------------------

    def reload(self) -> None:
        def load() -> tuple[list[Any], list[Any], Any]:
            try:
                accounts = self.service.list_accounts()
            except Exception:  # noqa: BLE001 - no keyed wallet: only watched ones
                accounts = []
            return accounts, self.service.watched_wallets(), self.service.identity()

        worker.submit(load, on_done=self._loaded, on_error=self._error, context=self)

    def _loaded(self, result: tuple[list[Any], list[Any], Any]) -> None:
        accounts, watched, ident = result
        self.accounts, self.watched = list(accounts), list(watched)
        self.active_watch = ident.address.lower() if ident and ident.kind == "watch" else ""
        fill_table(self.account_table, [
            [(str(a.index + 1), a.index), a.label, (a.address, a.address, a.address),
             a.path or "\u2014", "\u25cf active" if a.active else ""] for a in self.accounts])
        fill_table(self.watch_table, [
            [w.label, (w.address, w.address, w.address),
             "\u25cf looking at it" if w.address.lower() == self.active_watch else ""]
            for w in self.watched])
        if self.accounts:
            self.wallet_caption.setText(
                f"Wallet \u201c{self.accounts[0].wallet}\u201d: every account comes from the "
                "same recovery phrase (m/44'/60'/0'/0/i), so the phrase backs up all of them.")
        else:
            self.wallet_caption.setText("No wallet with keys yet.")
        self._selection()

    def selected_account(self) -> Any:
        return selected_row(self.account_table, self.accounts)

    def selected_watch(self) -> Any:
        return selected_row(self.watch_table, self.watched)

    # -- actions ---------------------------------------------------------------------------

    def _switched(self, _result: Any) -> None:
        self.switched.emit()

    def _switch(self) -> None:
        a = self.selected_account()
        if a is not None:
            self._call(self.service.switch_account, str(a.index + 1), a.wallet,
                       ok=lambda r: f"Now using {r.label} ({r.address})", then=self._switched)

    def rename_selected(self, text: str) -> None:
        a = self.selected_account()
        if a is not None:
            self._call(self.service.rename_account, a.address, text,
                       ok=lambda r: f"Account {r.index + 1} is now \u201c{r.label}\u201d")

    def _rename(self) -> None:
        a = self.selected_account()
        if a is None:
            return
        text, ok = QInputDialog.getText(self, "Rename account", "New name:", text=a.label)
        if ok:
            self.rename_selected(text)

    def _add(self) -> None:
        pw = self.password.text()
        if not pw:
            self.banner.show_message("error", "Enter the wallet password",
                                     "A new account is derived from your recovery phrase, "
                                     "which the password unlocks.")
            return
        self.password.clear()
        self.add_button.setEnabled(False)
        self.add_button.setText("Adding\u2026")

        def reset() -> None:
            self.add_button.setEnabled(True)
            self.add_button.setText("Add account")

        def done(row: Any) -> None:
            reset()
            self.new_label.clear()
            self.banner.show_message("ok", f"Added account {row.index + 1} "
                                           f"\u201c{row.label}\u201d", f"{row.address} "
                                                                      f"({row.path})")
            self.changed.emit()
            self.reload()

        worker.submit(self.service.add_account, pw, self.new_label.text(), on_done=done,
                      on_error=lambda exc: (reset(), self._error(exc)), context=self)

    def _add_watch(self) -> None:
        self._call(self.service.add_watch, self.watch_name.text(), self.watch_address.text(),
                   ok=lambda w: f"Watching {w.label}")

    def _switch_watch(self) -> None:
        w = self.selected_watch()
        if w is not None:
            self._call(self.service.switch_watch, w.address,
                       ok=lambda r: f"Looking at {r.label} (watch-only)", then=self._switched)

    def _remove_watch(self) -> None:
        w = self.selected_watch()
        if w is not None:
            self._call(self.service.remove_watch, w.address,
                       ok=lambda r: f"No longer watching {r.label}",
                       then=self._switched if w.address.lower() == self.active_watch
                       else None)

    def _selection(self) -> None:
        a = self.selected_account()
        self.switch_button.setEnabled(a is not None and not a.active)
        self.rename_button.setEnabled(a is not None)
        w = self.selected_watch()
        self.watch_switch.setEnabled(w is not None and w.address.lower() != self.active_watch)
        self.watch_remove.setEnabled(w is not None)
