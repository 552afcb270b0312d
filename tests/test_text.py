"""Counts in summaries read as English: "1 trade", "4 trades" (the demo showed "1 trades")."""

from __future__ import annotations

from wallet_app.text import counted
from wallet_app.vault import describe_event


def test_counted() -> None:
    assert counted(0, "trade") == "0 trades"
    assert counted(1, "trade") == "1 trade"
    assert counted(4, "trade") == "4 trades"
    assert counted(1_000, "transaction") == "1,000 transactions"
    assert counted(2, "entry", "entries") == "2 entries"


def test_rebalance_summary_singular_and_plural() -> None:
    log = {"blockNumber": 7, "transactionHash": b"\x01" * 32, "logIndex": 0}
    for legs, text in ((1, "Rebalance: 1 trade, "), (4, "Rebalance: 4 trades, ")):
        ev = describe_event("Rebalanced", {"operator": "0x" + "11" * 20, "legs": legs,
                                           "valueIn": 6_956_730_000}, log)
        assert ev is not None and ev.summary.startswith(text), ev
        assert ev.summary.endswith("6,956.73 USDC traded")
