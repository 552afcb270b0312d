"""Wallet metadata in ``<data_dir>/wallets.json``: names, addresses, paths; never a secret.

The file lets the app list wallets and show addresses without touching the keyring or
asking for a password. It also records, per wallet, where the encrypted keystore lives
(``storage``: "keyring" or "file") and under which entry id, which is what makes a
password change atomic: the new keystore is written under a new entry id, verified, and
only then does an atomic rewrite of this file switch to it (see
``WalletManager.change_password``).

Format (version 1)::

    {"format": "global100-wallets", "version": 1, "wallets": [
      {"name": "Main", "kind": "mnemonic", "storage": "keyring", "entry": "Main#1",
       "created_at": "2026-11-25T18:00:00+00:00", "word_count": 24, "backup_checked": false,
       "accounts": [{"index": 0, "address": "0x...", "path": "m/44'/60'/0'/0/0"}]}]}
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import InvalidWalletName, StorageError
from .fileio import atomic_write_text, locked

FORMAT = "global100-wallets"
VERSION = 1
KIND_MNEMONIC = "mnemonic"
KIND_PRIVATE_KEY = "private_key"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")


def validate_name(name: str) -> str:
    """Check a wallet name; it becomes part of a keyring entry and a file name."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name != name.strip():
        raise InvalidWalletName(
            "A wallet name is 1 to 64 characters: letters, digits, spaces, '.', '_' or '-', "
            "starting with a letter or digit and not ending with a space."
        )
    return name


@dataclass(frozen=True)
class AccountInfo:
    """One account of a wallet: its index, address and BIP-44 path (None for a raw key)."""

    index: int
    address: str
    path: str | None


@dataclass(frozen=True)
class WalletInfo:
    """What the GUI and CLI may know about a wallet without its password."""

    name: str
    kind: str  # "mnemonic" | "private_key"
    accounts: tuple[AccountInfo, ...]
    created_at: datetime
    storage: str  # "keyring" | "file"
    word_count: int | None = None  # 12..24 for mnemonic wallets
    #: The person proved they hold the phrase: the backup check passed, or they imported the
    #: wallet by typing it. A created wallet starts False; a key wallet has no phrase.
    backup_checked: bool = False

    @property
    def addresses(self) -> list[str]:
        return [a.address for a in self.accounts]

    @property
    def needs_backup_check(self) -> bool:
        """A phrase wallet whose backup check has not passed: every screen says so."""
        return self.kind == KIND_MNEMONIC and not self.backup_checked

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used by the CLI's --json)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "storage": self.storage,
            "created_at": self.created_at.isoformat(),
            "word_count": self.word_count,
            "backup_checked": self.backup_checked,
            "needs_backup_check": self.needs_backup_check,
            "accounts": [
                {"index": a.index, "address": a.address, "path": a.path} for a in self.accounts
            ],
        }


@dataclass(frozen=True)
class WalletRecord:
    """A registry row: the public info plus the id of its keystore entry."""

    info: WalletInfo
    entry: str

    @property
    def name(self) -> str:
        return self.info.name

    def with_entry(self, entry: str) -> WalletRecord:
        return replace(self, entry=entry)

    def with_accounts(self, accounts: tuple[AccountInfo, ...]) -> WalletRecord:
        return replace(self, info=replace(self.info, accounts=accounts))


def entry_id(name: str, generation: int) -> str:
    """The keyring user name / file stem of a wallet's keystore: ``"<name>#<gen>"``."""
    return f"{name}#{generation}"


def next_entry(record: WalletRecord) -> str:
    _, _, gen = record.entry.rpartition("#")
    return entry_id(record.name, (int(gen) if gen.isdigit() else 0) + 1)


def _to_json(records: list[WalletRecord]) -> str:
    rows = []
    for r in records:
        row = r.info.to_dict()
        row.pop("needs_backup_check")  # derived, not stored
        row["entry"] = r.entry
        rows.append(row)
    return json.dumps({"format": FORMAT, "version": VERSION, "wallets": rows}, indent=2) + "\n"


def _from_row(row: dict[str, Any]) -> WalletRecord:
    accounts = tuple(
        AccountInfo(int(a["index"]), str(a["address"]), a.get("path")) for a in row["accounts"]
    )
    info = WalletInfo(
        name=str(row["name"]),
        kind=str(row["kind"]),
        accounts=accounts,
        created_at=datetime.fromisoformat(row["created_at"]),
        storage=str(row["storage"]),
        word_count=row.get("word_count"),
        # Files from before the check was recorded: a phrase wallet is not known checked.
        backup_checked=bool(row.get("backup_checked", row["kind"] != KIND_MNEMONIC)),
    )
    if info.kind not in (KIND_MNEMONIC, KIND_PRIVATE_KEY) or not accounts:
        raise ValueError(f"bad wallet row {info.name!r}")
    return WalletRecord(info, str(row["entry"]))


class WalletRegistry:
    """Reads and atomically rewrites wallets.json under an exclusive lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(".wallets.lock")

    def load(self) -> list[WalletRecord]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StorageError(
                f"Cannot read {self.path} ({exc.strerror}). Check its permissions.") from None
        try:
            doc = json.loads(text)
            if doc.get("format") != FORMAT or doc.get("version") != VERSION:
                raise ValueError("unknown format or version")
            return [_from_row(row) for row in doc["wallets"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise StorageError(
                f"{self.path} is damaged or from a newer app version. Move it aside and "
                "re-import your wallets from their recovery phrases (the encrypted keys in "
                "the OS keyring are untouched)."
            ) from None

    def save(self, records: list[WalletRecord]) -> None:
        try:
            atomic_write_text(self.path, _to_json(records))
        except OSError as exc:
            raise StorageError(
                f"Cannot write {self.path} ({exc.strerror}); nothing was changed. Check "
                "free disk space and permissions."
            ) from None

    @contextlib.contextmanager
    def editing(self) -> Iterator[list[WalletRecord]]:
        """Lock, load, let the caller edit the list in place, save if no exception."""
        with locked(self.lock_path):
            records = self.load()
            yield records
            self.save(records)

    @contextlib.contextmanager
    def reading(self) -> Iterator[list[WalletRecord]]:
        """Lock and load without saving (a consistent view during a multi-step change)."""
        with locked(self.lock_path):
            yield self.load()

    def find(self, name: str) -> WalletRecord | None:
        return next((r for r in self.load() if r.name == name), None)
