"""Every trade in the log: the legs of rebalances, strikes, regime switches and
constituent changes, read from the pinned vault's events and receipts.

One entry's legs cost one receipt per transaction plus one read of the vault's book at
its block (see :mod:`wallet_app.index.legs` for what is emitted and what is derived);
they never change once mined, so each is fetched once per process. A regime switch or a
constituent change is carried out by the operator's rebalance transactions right after
it (before it, for a removal): its legs are those of the *run* of ``Rebalanced`` entries
that follow it (precede it), each within ``RUN_GAP_S`` (120 s) of chain time of the
previous one and before the next switch, target change or constituent change
(:func:`wallet_app.index.legs.operator_run`).
"""

from __future__ import annotations

import csv
import io
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..index.legs import (
    RUN_BOUNDARY,
    BookEntry,
    Leg,
    LegSet,
    TxCost,
    operator_run,
    strike_legs,
    swap_legs,
)
from ..keys.fileio import atomic_write_text
from ..models import IndexEvent
from .session import Session
from .types import EVENT_SOURCE

#: Kinds whose entries open to legs.
LEG_KINDS = ("rebalance", "strike", "regime", "constituent")

LOG_CSV_COLUMNS = (
    "time_utc", "block", "event", "summary", "tx_hash", "leg", "asset", "side",
    "amount_in", "asset_in", "amount_out", "asset_out", "min_out", "oracle_price_usd",
    "oracle_value_in_usd", "oracle_value_out_usd", "slippage_bps", "fee_usdc",
    "leg_gas_eth", "leg_tx", "event_gas_used", "event_gas_eth", "oracle_checked",
)


def _int(v: Any) -> int:
    return int(v, 16) if isinstance(v, str) else int(v)


class IndexLegsService:
    """Legs of the index's log entries (read-only: nothing is signed)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._lock = threading.Lock()
        self._tx: dict[str, tuple[list[tuple[str, dict]], TxCost, int]] = {}
        self._books: dict[int, dict[str, BookEntry]] = {}
        self._symbols: dict[str, str] = {}

    # ------------------------------------------------------------------ reads

    def _receipt(self, tx_hash: str) -> tuple[list[tuple[str, dict]], TxCost, int]:
        """(the vault's decoded events, the gas paid, the block) of one transaction."""
        with self._lock:
            hit = self._tx.get(tx_hash)
        if hit is not None:
            return hit
        client, vault, _ = self.s.need()
        r = client.get_receipt(tx_hash) or {}
        cost = TxCost(tx_hash, _int(r.get("gasUsed", 0)),
                      _int(r.get("gasUsed", 0)) * _int(r.get("effectiveGasPrice", 0)))
        out = (vault.decode_receipt(r), cost, _int(r.get("blockNumber", 0)))
        with self._lock:
            self._tx[tx_hash] = out
        return out

    def _book(self, block: int) -> dict[str, BookEntry]:
        """The vault's constituents and cached prices at ``block`` (one eth_call)."""
        with self._lock:
            hit = self._books.get(block)
        if hit is not None:
            return hit
        _, vault, _ = self.s.need()
        if not self._symbols:
            snap = self.s.last_snapshot or self.s.snapshot(self.s.active_address())
            self._symbols = {c.token.lower(): c.symbol for c in snap.constituents}
        rows = vault.vault.functions.getConstituents().call(block_identifier=block)
        book = {}
        for c in rows:  # (token, targetWeightBps, decimals, feedDecimals, ..., cachedPrice, ..)
            token = str(c[0]).lower()
            book[token] = BookEntry(token, self._symbols.get(token, str(c[0])[:10]),
                                    int(c[2]), int(c[7]))
        with self._lock:
            self._books[block] = book
        return book

    def _rebalance_tx(self, tx_hash: str) -> tuple[list[Leg], bool | None, TxCost]:
        events, cost, block = self._receipt(tx_hash)
        swaps = [a for n, a in events if n == "SwapExecuted"]
        reb = next((a for n, a in events if n == "Rebalanced"), None)
        legs, v_in, v_out = swap_legs(swaps, self._book(block), self.s.require_record().usdc,
                                      cost)
        checked = None if reb is None else (v_in, v_out) == (int(reb["valueIn"]),
                                                             int(reb["valueOut"]))
        return legs, checked, cost

    def _run(self, event: IndexEvent, after: bool) -> list[str]:
        """The rebalance transactions of the operator's run after (before) ``event``."""
        client = self.s.need()[0]
        rows = self.s.journal.index_events(
            client.chain_id, EVENT_SOURCE, kinds=["rebalance", *RUN_BOUNDARY],
            since_block=event.block_number if after else None, newest_first=not after)
        return operator_run(rows, (event.block_number, event.log_index), event.timestamp,
                            after)

    # ------------------------------------------------------------------ legs

    def legs(self, event: IndexEvent) -> LegSet:
        """The legs of one log entry (an empty set for kinds that have none)."""
        if event.kind not in LEG_KINDS:
            return LegSet(event.kind, event.tx_hash, note="This entry has no trades.")
        if event.kind == "rebalance":
            legs, checked, cost = self._rebalance_tx(event.tx_hash)
            return LegSet("rebalance", event.tx_hash, tuple(legs), (cost,), checked)
        if event.kind == "strike":
            events, cost, _ = self._receipt(event.tx_hash)
            legs = strike_legs(events, cost)
            return LegSet("strike", event.tx_hash, tuple(legs), (cost,),
                          note="" if legs else "No request was settled at this strike.")
        own = self._receipt(event.tx_hash)[1]
        removed = event.kind == "constituent" and "removed" in event.summary.lower()
        txs = self._run(event, after=not removed)
        legs, costs, checks = [], [own], []
        for h in txs:
            tx_legs, checked, cost = self._rebalance_tx(h)
            legs += tx_legs
            costs.append(cost)
            checks.append(checked)
        if event.kind == "constituent":
            token = event.summary.rsplit(" ", 1)[-1].lower()
            legs = [leg for leg in legs if self._token_of(leg, token)]
        note = "" if txs else "No rebalance transaction followed it yet."
        return LegSet(event.kind, event.tx_hash, tuple(legs), tuple(costs),
                      all(c is True for c in checks) if checks else None, note)

    def _token_of(self, leg: Leg, token: str) -> bool:
        symbol = self._symbols.get(token)
        return leg.asset == symbol or leg.asset_in == token or leg.asset_out == token

    # ------------------------------------------------------------------ CSV

    def export_log_csv(self, dest: Path | io.StringIO, events: list[IndexEvent]) -> int:
        """The log, one line per leg (an entry without legs: one line), as CSV."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(LOG_CSV_COLUMNS)
        n = 0
        for e in events:
            ls = self.legs(e)
            head = [e.timestamp.strftime("%Y-%m-%d %H:%M:%S") if e.timestamp else "",
                    e.block_number, e.kind, e.summary, e.tx_hash]
            tail = [ls.gas_used or "", _d(ls.gas_eth) if ls.transactions else "",
                    "" if ls.oracle_checked is None else ("yes" if ls.oracle_checked else "no")]
            if not ls.legs:
                w.writerow(head + [""] * 15 + tail)
                n += 1
            for i, leg in enumerate(ls.legs, 1):
                w.writerow(head + [i, leg.asset, leg.side, _d(leg.amount_in), leg.asset_in,
                                   _d(leg.amount_out), leg.asset_out, _d(leg.min_out),
                                   _d(leg.oracle_price_usd), _d(leg.oracle_value_in_usd),
                                   _d(leg.oracle_value_out_usd), _d(leg.slippage_bps),
                                   _d(leg.fee_usdc), _d(leg.gas_eth), leg.tx_hash] + tail)
                n += 1
        if isinstance(dest, io.StringIO):
            dest.write(buf.getvalue())
        else:
            atomic_write_text(Path(dest), buf.getvalue())  # whole or not at all
        return n


def _d(v: Decimal | None) -> str:
    if v is None:
        return ""
    return f"{v.normalize():f}"

