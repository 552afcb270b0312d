"""Names beside addresses: every screen that shows an address shows its label too.

The mapping (lower-case address -> label) comes from the core
(``WalletService.address_labels``: contacts, own accounts, watched wallets); these helpers
only format, so they can run on the GUI thread.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}(?![0-9a-fA-F])")


def short(address: str, head: int = 6, tail: int = 4) -> str:
    return f"{address[:head]}\u2026{address[-tail:]}" if len(address) > head + tail else address


def labelled(address: str | None, labels: Mapping[str, str], full: bool = False) -> str:
    """``Alice (0x1234…abcd)`` for a known address, the address itself otherwise."""
    if not address:
        return "\u2014"
    name = labels.get(address.lower())
    if name is None:
        return address
    return f"{name} ({address if full else short(address)})"


def label_text(text: str, labels: Mapping[str, str]) -> str:
    """``text`` with every known address in it written as ``Label (0x1234…abcd)``."""
    if not labels or not text:
        return text
    return _ADDRESS.sub(lambda m: labelled(m.group(0), labels), text)
