"""``<data dir>/addressbook.json``: contacts, account labels, the active account of each
wallet, and watch-only wallets.

Why one file apart from wallets.json: wallets.json is the key custody's commit point and
stays exactly as the key manager writes it; what a person names things, and which account
they look at, is not custody and must never put a key at risk. Every change is a locked
read-modify-write with an atomic replace (temp file, fsync, rename), so two processes (the
app and the CLI) never lose each other's edits and a crash leaves the old or the new file.

Format (version 1)::

    {"format": "g100-addressbook", "version": 1,
     "contacts": [{"label": "Alice", "address": "0x...", "note": "", "added_at": "..."}],
     "account_labels": {"Main": {"1": "Savings"}},
     "active_account": {"Main": 1},
     "watch": [{"label": "Cold storage", "address": "0x...", "added_at": "..."}],
     "active_watch": null}
"""

from __future__ import annotations

import contextlib
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..keys.fileio import atomic_write_text, locked
from .addresses import parse_address
from .errors import BookStorageError, ContactExists, ContactNotFound, InvalidLabel

FORMAT = "g100-addressbook"
VERSION = 1
MAX_LABEL = 64


def clean_label(text: str, what: str = "A label") -> str:
    """A label: 1-64 printable characters, outer spaces dropped, NFC-normalised."""
    label = unicodedata.normalize("NFC", (text or "").strip())
    if not label:
        raise InvalidLabel(f"{what} cannot be empty.")
    if len(label) > MAX_LABEL:
        raise InvalidLabel(f"{what} is at most {MAX_LABEL} characters (this one has "
                           f"{len(label)}).")
    if any(unicodedata.category(c).startswith("C") for c in label):
        raise InvalidLabel(f"{what} cannot contain control characters (tabs, line breaks).")
    return label


@dataclass(frozen=True)
class Contact:
    """A labelled address the person keeps."""

    label: str
    address: str  # checksummed
    note: str = ""
    added_at: str = ""


@dataclass(frozen=True)
class WatchWallet:
    """An address watched without a key: holdings, P&L and history, never a signature."""

    label: str
    address: str  # checksummed
    added_at: str = ""

    #: Same attribute names as a keyed WalletInfo where the GUI reads them.
    @property
    def name(self) -> str:
        return self.label


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _empty() -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "contacts": [], "account_labels": {},
            "active_account": {}, "watch": [], "active_watch": None}


class BookStore:
    """Reads and atomically rewrites addressbook.json under an exclusive lock."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "addressbook.json"
        self.lock_path = data_dir / ".addressbook.lock"

    # ------------------------------------------------------------------ file

    def load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _empty()
        except OSError as exc:
            raise BookStorageError(f"Cannot read {self.path} ({exc.strerror}).") from None
        try:
            doc = json.loads(text)
            if doc.get("format") != FORMAT or doc.get("version") != VERSION:
                raise ValueError("format")
            base = _empty()
            base.update(doc)
            return base
        except (ValueError, AttributeError):
            raise BookStorageError(
                f"{self.path} is damaged or from a newer app version. Move it aside (your "
                "keys are not in it; only contacts, account names and watched addresses "
                "are) and start the app again.") from None

    def _save(self, doc: dict[str, Any]) -> None:
        try:
            atomic_write_text(self.path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise BookStorageError(f"Cannot write {self.path} ({exc.strerror}); nothing was "
                                   "changed. Check free disk space and permissions.") from None

    @contextlib.contextmanager
    def editing(self) -> Iterator[dict[str, Any]]:
        """Lock, load, let the caller edit the document, save when no exception."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with locked(self.lock_path):
            doc = self.load()
            yield doc
            self._save(doc)

    # ------------------------------------------------------------------ contacts

    def contacts(self) -> list[Contact]:
        return [Contact(str(c["label"]), str(c["address"]), str(c.get("note", "")),
                        str(c.get("added_at", ""))) for c in self.load()["contacts"]]

    @staticmethod
    def _check_free(doc: dict[str, Any], label: str, address: str,
                    ignore: str | None = None) -> None:
        for c in doc["contacts"]:
            if ignore is not None and c["address"].lower() == ignore.lower():
                continue
            if c["address"].lower() == address.lower():
                raise ContactExists(
                    f"{address} is already in your contacts as \u201c{c['label']}\u201d. "
                    "Rename that contact instead.")
            if c["label"].casefold() == label.casefold():
                raise ContactExists(
                    f"A contact named \u201c{c['label']}\u201d already exists "
                    f"({c['address']}). Choose another name.")

    def add_contact(self, label: str, address: str, note: str = "") -> Contact:
        label = clean_label(label, "A contact's name")
        address = parse_address(address)
        with self.editing() as doc:
            self._check_free(doc, label, address)
            row = {"label": label, "address": address, "note": note.strip(),
                   "added_at": _now()}
            doc["contacts"].append(row)
        return Contact(**row)

    def add_contacts(self, rows: list[tuple[str, str, str]]) -> list[Contact]:
        """Add many at once (an import): all or nothing, checked against each other too."""
        with self.editing() as doc:
            added = []
            for label, address, note in rows:
                self._check_free(doc, label, address)
                row = {"label": label, "address": address, "note": note, "added_at": _now()}
                doc["contacts"].append(row)
                added.append(Contact(**row))
        return added

    def _find(self, doc: dict[str, Any], key: str, section: str = "contacts"
              ) -> dict[str, Any]:
        key = key.strip()
        for c in doc[section]:
            if c["address"].lower() == key.lower() or c["label"].casefold() == key.casefold():
                return c
        what = "contact" if section == "contacts" else "watched wallet"
        raise ContactNotFound(f"There is no {what} named or at \u201c{key}\u201d.")

    def rename_contact(self, key: str, new_label: str) -> Contact:
        new_label = clean_label(new_label, "A contact's name")
        with self.editing() as doc:
            row = self._find(doc, key)
            self._check_free(doc, new_label, row["address"], ignore=row["address"])
            row["label"] = new_label
        return Contact(row["label"], row["address"], row.get("note", ""),
                       row.get("added_at", ""))

    def remove_contact(self, key: str) -> Contact:
        with self.editing() as doc:
            row = self._find(doc, key)
            doc["contacts"].remove(row)
        return Contact(row["label"], row["address"], row.get("note", ""),
                       row.get("added_at", ""))

    # ------------------------------------------------------------------ accounts

    def account_labels(self, wallet: str) -> dict[int, str]:
        return {int(k): str(v) for k, v in self.load()["account_labels"].get(wallet, {}).items()}

    def set_account_label(self, wallet: str, index: int, label: str) -> str:
        label = clean_label(label, "An account's name")
        with self.editing() as doc:
            labels = doc["account_labels"].setdefault(wallet, {})
            for k, v in labels.items():
                if int(k) != index and v.casefold() == label.casefold():
                    raise InvalidLabel(f"Account {int(k) + 1} of \u201c{wallet}\u201d is "
                                       f"already named \u201c{v}\u201d.")
            labels[str(index)] = label
        return label

    def active_account(self, wallet: str) -> int:
        return int(self.load()["active_account"].get(wallet, 0))

    def set_active_account(self, wallet: str, index: int) -> None:
        with self.editing() as doc:
            doc["active_account"][wallet] = int(index)
            doc["active_watch"] = None

    def forget_wallet(self, wallet: str) -> None:
        """Drop a deleted wallet's account names and active account.

        Without this a new wallet created later under the same name would show the old
        wallet's account names on its own (different) addresses.
        """
        with self.editing() as doc:
            doc["account_labels"].pop(wallet, None)
            doc["active_account"].pop(wallet, None)

    # ------------------------------------------------------------------ watch-only

    def watched(self) -> list[WatchWallet]:
        return [WatchWallet(str(w["label"]), str(w["address"]), str(w.get("added_at", "")))
                for w in self.load()["watch"]]

    def add_watch(self, label: str, address: str) -> WatchWallet:
        label = clean_label(label, "A watched wallet's name")
        address = parse_address(address)
        with self.editing() as doc:
            for w in doc["watch"]:
                if w["address"].lower() == address.lower():
                    raise ContactExists(f"{address} is already watched as "
                                        f"\u201c{w['label']}\u201d.")
                if w["label"].casefold() == label.casefold():
                    raise ContactExists(f"A watched wallet named \u201c{w['label']}\u201d "
                                        "already exists. Choose another name.")
            row = {"label": label, "address": address, "added_at": _now()}
            doc["watch"].append(row)
        return WatchWallet(**row)

    def remove_watch(self, key: str) -> WatchWallet:
        with self.editing() as doc:
            row = self._find(doc, key, "watch")
            doc["watch"].remove(row)
            if doc.get("active_watch") and doc["active_watch"].lower() == row["address"].lower():
                doc["active_watch"] = None
        return WatchWallet(row["label"], row["address"], row.get("added_at", ""))

    def active_watch(self) -> WatchWallet | None:
        doc = self.load()
        addr = doc.get("active_watch")
        if not addr:
            return None
        for w in doc["watch"]:
            if w["address"].lower() == str(addr).lower():
                return WatchWallet(str(w["label"]), str(w["address"]), str(w.get("added_at", "")))
        return None

    def set_active_watch(self, key: str | None) -> WatchWallet | None:
        with self.editing() as doc:
            if key is None:
                doc["active_watch"] = None
                return None
            row = self._find(doc, key, "watch")
            doc["active_watch"] = row["address"]
        return WatchWallet(row["label"], row["address"], row.get("added_at", ""))
