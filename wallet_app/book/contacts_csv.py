"""Contacts as CSV: ``label,address,note`` with a header row.

Import is all or nothing: every row is checked first (address and checksum, label, a
duplicate inside the file or of a contact already kept), and when any row is bad nothing
is imported and the error names each bad row by its line number in the file, so the
person fixes the file and imports again without losing or half-importing anything. Rows
that are exactly a contact already kept (same address and label) are skipped, so the
export of this app imports back into it unchanged.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from ..keys.fileio import atomic_write_text
from .addresses import parse_address
from .errors import BookStorageError, CsvImportError
from .store import BookStore, Contact, clean_label

COLUMNS = ("label", "address", "note")
#: At most this many bad rows are listed in the error (the count says how many in all).
MAX_LISTED = 10


@dataclass(frozen=True)
class ImportResult:
    added: list[Contact]
    unchanged: int  # rows that were already contacts, exactly


def export_csv(contacts: list[Contact], path: Path) -> int:
    """Write the contacts to ``path`` (atomic; a spreadsheet-safe quote for ``=+-@``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for c in contacts:
        w.writerow([_safe(c.label), c.address, _safe(c.note)])
    try:
        atomic_write_text(path, buf.getvalue())
    except OSError as exc:
        raise BookStorageError(f"Cannot write {path} ({exc.strerror}).") from None
    return len(contacts)


def _safe(text: str) -> str:
    """A leading ``= + - @`` would be a formula in a spreadsheet: quote it with ``'``."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _unsafe(text: str) -> str:
    return text[1:] if text[:2] in ("'=", "'+", "'-", "'@") else text


def read_rows(text: str) -> list[tuple[str, str, str]]:
    """Parse and check every row; :class:`CsvImportError` names each bad one."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = list(reader)
    if not rows:
        raise CsvImportError("The file is empty: a contacts CSV has a header row "
                             "label,address,note and one contact per row.")
    header = [h.strip().lower() for h in rows[0]]
    if "label" not in header or "address" not in header:
        raise CsvImportError(
            "The first row must name the columns: label,address (and optionally note). "
            f"It says: {','.join(rows[0])[:80]}")
    i_label, i_addr = header.index("label"), header.index("address")
    i_note = header.index("note") if "note" in header else None
    good: list[tuple[str, str, str]] = []
    bad: list[str] = []
    seen_addr: dict[str, int] = {}
    seen_label: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        try:
            if len(row) <= max(i_label, i_addr):
                raise CsvImportError("it has too few columns")
            label = clean_label(_unsafe(row[i_label]), "The label")
            address = parse_address(row[i_addr])
            note = _unsafe(row[i_note]).strip() if i_note is not None and \
                i_note < len(row) else ""
            if address.lower() in seen_addr:
                raise CsvImportError(f"its address is also on line {seen_addr[address.lower()]}")
            if label.casefold() in seen_label:
                raise CsvImportError(f"its label is also on line {seen_label[label.casefold()]}")
        except Exception as exc:  # noqa: BLE001 - every row's reason is collected
            from ..errors import WalletError

            if not isinstance(exc, WalletError):
                raise
            bad.append(f"line {line}: {exc}")
            continue
        seen_addr[address.lower()] = line
        seen_label[label.casefold()] = line
        good.append((label, address, note))
    if bad:
        listed = "\n".join(bad[:MAX_LISTED])
        more = f"\n(and {len(bad) - MAX_LISTED} more)" if len(bad) > MAX_LISTED else ""
        raise CsvImportError(
            f"{len(bad)} row{'s' if len(bad) != 1 else ''} of the file cannot be imported, so "
            f"nothing was imported (your contacts are unchanged):\n{listed}{more}")
    return good


def import_csv(store: BookStore, path: Path) -> ImportResult:
    """Import ``path`` into ``store`` (see the module docstring)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CsvImportError(f"{path} is not a UTF-8 text file.") from None
    except OSError as exc:
        raise CsvImportError(f"Cannot read {path} ({exc.strerror}).") from None
    rows = read_rows(text)
    existing = {c.address.lower(): c for c in store.contacts()}
    new, unchanged, clashes = [], 0, []
    for label, address, note in rows:
        have = existing.get(address.lower())
        if have is not None and have.label == label:
            unchanged += 1
            continue
        new.append((label, address, note))
    by_label = {c.label.casefold(): c for c in existing.values()}
    for label, address, _ in new:
        have = existing.get(address.lower())
        if have is not None:
            clashes.append(f"{address} is already a contact named \u201c{have.label}\u201d "
                           f"(the file calls it \u201c{label}\u201d)")
        elif label.casefold() in by_label:
            clashes.append(f"\u201c{label}\u201d is already the name of "
                           f"{by_label[label.casefold()].address}")
    if clashes:
        raise CsvImportError(
            "The file disagrees with contacts you already have, so nothing was imported:\n"
            + "\n".join(clashes[:MAX_LISTED]) + "\nRename or remove those first, or fix the "
            "file.")
    return ImportResult(store.add_contacts(new) if new else [], unchanged)
