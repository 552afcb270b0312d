"""Contacts: labelled addresses, their CSV import and export (see :mod:`wallet_app.book`).

Thin over the address book; the rules (checksums, duplicates, all-or-nothing imports that
name every bad row) live in :mod:`wallet_app.book.store` and
:mod:`wallet_app.book.contacts_csv` so the CLI and the GUI share them exactly.
"""

from __future__ import annotations

from pathlib import Path

from ..book.contacts_csv import ImportResult, export_csv, import_csv
from ..book.store import Contact
from .session import Session


class ContactsService:
    def __init__(self, session: Session) -> None:
        self.s = session

    def contacts(self) -> list[Contact]:
        return sorted(self.s.book.contacts(), key=lambda c: c.label.casefold())

    def add_contact(self, label: str, address: str, note: str = "") -> Contact:
        return self.s.book.add_contact(label, address, note)

    def rename_contact(self, key: str, label: str) -> Contact:
        return self.s.book.rename_contact(key, label)

    def remove_contact(self, key: str) -> Contact:
        return self.s.book.remove_contact(key)

    def import_contacts(self, path: Path) -> ImportResult:
        return import_csv(self.s.book, Path(path))

    def export_contacts(self, path: Path) -> int:
        return export_csv(self.contacts(), Path(path))
