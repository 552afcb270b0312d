"""Small text helpers shared by the core's summaries and the CLI (no Qt, no web3)."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 trade``, ``0 trades``, ``4 trades``: a count with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
