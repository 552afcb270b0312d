"""Receiving: the EIP-681 payment link and the QR code, for the GUI and the terminal.

EIP-681 (ERC-681, "URL Format for Transaction Requests") writes a token payment as
``ethereum:<token>@<chain id>/transfer?address=<recipient>[&uint256=<amount>]``: the
target is the token contract, the function is ERC-20 ``transfer``, its ``address``
argument the recipient and its ``uint256`` argument the amount in the token's base units
(integers here: a float never enters the link). The USDC address and the chain id come from
the pinned deployment record, never from a node's answer.

The QR code is made by ``segno`` (a maintained pure-Python QR encoder); this module only
turns its module matrix into rows of booleans (the GUI paints them) or terminal text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .addresses import parse_address

#: Quiet zone around the code, in modules (the QR standard asks for 4).
QUIET_ZONE = 4


def usdc_payment_link(usdc: str, chain_id: int, recipient: str,
                      amount_base_units: int | None = None) -> str:
    """The EIP-681 link asking for a USDC ``transfer`` to ``recipient`` on ``chain_id``."""
    token = parse_address(usdc, "The USDC contract address")
    to = parse_address(recipient, "The receiving address")
    if not isinstance(chain_id, int) or chain_id <= 0:
        raise ValueError("chain id must be a positive integer")
    link = f"ethereum:{token}@{chain_id}/transfer?address={to}"
    if amount_base_units is not None:
        if isinstance(amount_base_units, bool) or not isinstance(amount_base_units, int) \
                or amount_base_units <= 0:
            raise ValueError("the amount is a positive integer of base units")
        link += f"&uint256={amount_base_units}"
    return link


def to_base_units(amount: Decimal, decimals: int) -> int:
    """``amount`` (a Decimal) in base units; refuses more precision than the token has."""
    if not isinstance(amount, Decimal):
        raise TypeError("amounts are Decimal, never float")
    scaled = amount.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"at most {decimals} decimal places")
    return int(scaled)


@dataclass(frozen=True)
class QrMatrix:
    """A QR code as rows of booleans (True = dark module), quiet zone included."""

    text: str
    rows: tuple[tuple[bool, ...], ...]

    @property
    def size(self) -> int:
        return len(self.rows)


def qr_matrix(text: str, border: int = QUIET_ZONE) -> QrMatrix:
    """Encode ``text`` (error correction M, the smallest version that fits)."""
    import segno

    code = segno.make_qr(text, error="m")
    rows = tuple(tuple(bool(v) for v in row) for row in code.matrix_iter(scale=1,
                                                                          border=border))
    return QrMatrix(text, rows)


def terminal_qr(matrix: QrMatrix, ansi: bool = True) -> str:
    """The code for a terminal, two rows per text line (half blocks).

    With ``ansi`` the light modules are drawn white on black by escape codes, which
    scans on any terminal theme; without, plain characters are used and the code is
    drawn as light blocks on the terminal's background (for dark terminals) --
    ``index-wallet receive --qr text`` writes it for files and pipes."""
    upper, lower, full = "\u2580", "\u2584", "\u2588"
    rows = list(matrix.rows)
    if len(rows) % 2:
        rows.append(tuple(False for _ in rows[0]))
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=True):
        out = []
        for t, b in zip(top, bottom, strict=True):
            # Draw the LIGHT modules: foreground = light, background = dark.
            lt, lb = not t, not b
            out.append(full if lt and lb else upper if lt else lower if lb else " ")
        line = "".join(out)
        lines.append(f"\x1b[97;40m{line}\x1b[0m" if ansi else line)
    return "\n".join(lines)
