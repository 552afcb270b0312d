"""Contacts: labelled addresses, add / rename / remove, CSV import and export.

A view over ``WalletService.contacts`` and friends; every call runs on the worker. The
core's messages are shown as they are: a bad address names the checksum problem, a bad
CSV names each bad row and imports nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QWidget,
)

from ui import worker
from ui.dialogs.book_dialog import BookDialog
from ui.dialogs.common import dialog_column
from ui.pages.common import Card, button, fill_table, label, make_table, selected_row

HEADERS = ("Name", "Address", "Note")


class ContactsDialog(BookDialog):
    """The address book. Emits :attr:`changed` after every successful edit."""

    def __init__(self, service: Any, parent: QWidget | None = None) -> None:
        super().__init__(service, "Contacts", (900, 640), parent)
        self.contacts: list[Any] = []
        self.table = make_table(HEADERS, (), stretch=2)
        self.table.setObjectName("contactsTable")
        self.table.setMinimumHeight(220)
        self.table.itemSelectionChanged.connect(self._selection)
        self.caption = label("", "caption", name="contactsCaption")

        add = Card("Add a contact")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("contactName")
        self.name_edit.setPlaceholderText("Name, e.g. Alice")
        self.address_edit = QLineEdit()
        self.address_edit.setObjectName("contactAddress")
        self.address_edit.setPlaceholderText("0x\u2026 (checksummed or all lowercase)")
        self.note_edit = QLineEdit()
        self.note_edit.setObjectName("contactNote")
        self.note_edit.setPlaceholderText("Note (optional)")
        self.add_button = button("Add", primary=True, name="addContact")
        self.add_button.clicked.connect(self._add)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.addWidget(self.name_edit, 0, 0)
        grid.addWidget(self.address_edit, 0, 1)
        grid.addWidget(self.note_edit, 0, 2)
        grid.addWidget(self.add_button, 0, 3)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(2, 1)
        add.body.addLayout(grid)

        self.rename_button = button("Rename\u2026", name="renameContact")
        self.remove_button = button("Remove", name="removeContact")
        self.import_button = button("Import CSV\u2026", name="importContacts",
                                    tooltip="label,address,note; all rows or none")
        self.export_button = button("Export CSV\u2026", name="exportContacts")
        self.close_button = button("Close", name="contactsClose")
        self.rename_button.clicked.connect(self._rename)
        self.remove_button.clicked.connect(self._remove)
        self.import_button.clicked.connect(self._ask_import)
        self.export_button.clicked.connect(self._ask_export)
        self.close_button.clicked.connect(self.accept)
        actions = QHBoxLayout()
        for b in (self.rename_button, self.remove_button):
            actions.addWidget(b)
        actions.addStretch(1)
        for b in (self.import_button, self.export_button, self.close_button):
            actions.addWidget(b)

        lay = dialog_column(self, "Contacts", label(
            "Names for addresses you send to or receive from. The name is shown beside the "
            "address on every screen.", "muted", wrap=True), self.banner)
        lay.addWidget(add)
        lay.addWidget(self.caption)
        lay.addWidget(self.table, 1)
        lay.addLayout(actions)
        self._selection()
        self.reload()

    # -- data ----------------------------------------------------------------------------

    def reload(self) -> None:
        worker.submit(self.service.contacts, on_done=self.show_contacts, on_error=self._error,
                      context=self)

    def show_contacts(self, contacts: list[Any]) -> None:
        self.contacts = list(contacts)
        fill_table(self.table, [[c.label, (c.address, c.address, c.address), c.note]
                                for c in self.contacts])
        self.caption.setText(f"{len(self.contacts)} contact"
                             f"{'s' if len(self.contacts) != 1 else ''}" if self.contacts
                             else "No contacts yet: add one above or import a CSV file.")
        self.export_button.setEnabled(bool(self.contacts))
        self._selection()

    def selected(self) -> Any:
        return selected_row(self.table, self.contacts)

    def select_label(self, text: str) -> bool:
        for i, c in enumerate(self.contacts):
            if c.label == text:
                self.table.selectRow(i)
                return True
        return False

    # -- actions ---------------------------------------------------------------------------

    def _add(self) -> None:
        self._call(self.service.add_contact, self.name_edit.text(), self.address_edit.text(),
                   self.note_edit.text(), ok=lambda c: f"Added {c.label}",
                   then=lambda _c: (self.name_edit.clear(), self.address_edit.clear(),
                                    self.note_edit.clear()))

    def rename_selected(self, new_label: str) -> None:
        c = self.selected()
        if c is not None:
            self._call(self.service.rename_contact, c.address, new_label,
                       ok=lambda r: f"Renamed to {r.label}")

    def _rename(self) -> None:
        c = self.selected()
        if c is None:
            return
        text, ok = QInputDialog.getText(self, "Rename contact", "New name:", text=c.label)
        if ok:
            self.rename_selected(text)

    def _remove(self) -> None:
        c = self.selected()
        if c is not None:
            self._call(self.service.remove_contact, c.address,
                       ok=lambda r: f"Removed {r.label} ({r.address})")

    def import_file(self, path: Path) -> None:
        self._call(self.service.import_contacts, path,
                   ok=lambda r: f"Imported {len(r.added)} contact"
                                f"{'s' if len(r.added) != 1 else ''}"
                                + (f" ({r.unchanged} already there)" if r.unchanged else ""))

    def export_file(self, path: Path) -> None:
        self._call(self.service.export_contacts, path,
                   ok=lambda n: f"Exported {n} contact{'s' if n != 1 else ''} to {path}")

    def _ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import contacts", str(Path.home()),
                                              "CSV files (*.csv)")
        if path:
            self.import_file(Path(path))

    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export contacts",
                                              str(Path.home() / "g100-contacts.csv"),
                                              "CSV files (*.csv)")
        if path:
            self.export_file(Path(path if path.lower().endswith(".csv") else path + ".csv"))

    def _selection(self) -> None:
        one = self.selected() is not None
        self.rename_button.setEnabled(one)
        self.remove_button.setEnabled(one)
