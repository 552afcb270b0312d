"""Address parsing for everything a person types or imports: contacts, watched wallets,
CSV rows.

The rule the issue gives for recipients applies here too: an address is accepted when its
mixed case is a valid EIP-55 checksum, or when it is all lowercase (or all uppercase hex)
and so carries no checksum to check. Mixed case that fails the checksum is refused: it is
the one sign of a mistyped address that the address itself carries.
"""

from __future__ import annotations

import re

from eth_utils import keccak

from .errors import InvalidAddress

_HEX40 = re.compile(r"^(0[xX])?[0-9a-fA-F]{40}$")


def checksum(address_hex: str) -> str:
    """EIP-55: the hex digit at i is upper case when nibble i of keccak(lower hex) >= 8."""
    lower = address_hex.lower()
    digest = keccak(text=lower).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c
                          for i, c in enumerate(lower))


def parse_address(text: str, what: str = "The address") -> str:
    """``text`` as a checksummed address, or :class:`InvalidAddress` saying why."""
    raw = (text or "").strip()
    if not _HEX40.match(raw):
        shown = raw if len(raw) <= 50 else raw[:47] + "\u2026"
        raise InvalidAddress(
            f"{what} \u201c{shown}\u201d is not an Ethereum address (0x followed by 40 hex "
            "digits).")
    body = raw[2:] if raw[:2] in ("0x", "0X") else raw
    good = checksum(body)
    mixed = body != body.lower() and body != body.upper()
    if mixed and "0x" + body != good:
        raise InvalidAddress(
            f"{what} {raw} fails its EIP-55 checksum (upper and lower case letters do not "
            "match): one character is probably mistyped. Copy it again from its source.")
    return good


def same_address(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.lower() == b.lower()  # type: ignore[union-attr]
