"""The journal's read side: transactions, trades, the index-log cache and CSV exports
(kept out of ``wallet_app/journal.py``, which holds the storage and the writes).

A mixin of :class:`wallet_app.journal.Journal`: every query goes through its locked
``_query``, so reads from worker threads and the GUI thread never interleave with a write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from .journal_records import (
    GWEI,
    USDC_QUANTUM,
    WEI_PER_ETH,
    CachedEvent,
    CostBasis,
    JournalEntry,
    Trade,
    _csv_text,
    _dt,
    _hash,
    _iso,
    _write_csv,
    position_from_trades,
)
from .models import TxRecord, TxStatus


class JournalQueries:
    """Read-only queries and exports over the journal's tables."""

    _query: Any  # Journal._query: one locked read

    # ------------------------------------------------------------------ transactions

    @staticmethod
    def _entry(row: sqlite3.Row) -> JournalEntry:
        egp = row["effective_gas_price_wei"]
        return JournalEntry(
            tx_hash=row["tx_hash"],
            chain_id=row["chain_id"],
            sender=row["sender"],
            nonce=row["nonce"],
            kind=row["kind"],
            status=TxStatus(row["status"]),
            to=row["to_address"],
            value_wei=int(row["value_wei"]),
            data_summary=row["data_summary"],
            gas_limit=row["gas_limit"],
            max_fee_per_gas_wei=int(row["max_fee_per_gas_wei"]),
            max_priority_fee_wei=int(row["max_priority_fee_wei"]),
            raw_tx=bytes.fromhex(row["raw_tx"][2:]),
            summary=row["summary"],
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            broadcast_at=_dt(row["broadcast_at"]),
            broadcast_attempts=row["broadcast_attempts"],
            block_number=row["block_number"],
            gas_used=row["gas_used"],
            effective_gas_price_wei=int(egp) if egp is not None else None,
            replaces=row["replaces"],
            replaced_by=row["replaced_by"],
            error=row["error"],
            meta=json.loads(row["meta"] or "{}"),
        )

    def entry(self, tx_hash: str) -> JournalEntry | None:
        rows = self._query("SELECT * FROM transactions WHERE tx_hash = ?", (_hash(tx_hash),))
        return self._entry(rows[0]) if rows else None

    def get(self, tx_hash: str) -> TxRecord | None:
        e = self.entry(tx_hash)
        return e.record() if e else None

    def entries(
        self,
        *,
        chain_id: int | None = None,
        sender: str | None = None,
        status: TxStatus | str | Sequence[TxStatus | str] | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Rows, newest first, filtered by chain, sender (case-insensitive) and status."""
        where: list[str] = []
        params: list[Any] = []
        if chain_id is not None:
            where.append("chain_id = ?")
            params.append(chain_id)
        if sender is not None:
            where.append("lower(sender) = lower(?)")
            params.append(sender)
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(str(s) for s in statuses)
        sql = "SELECT * FROM transactions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, nonce DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._entry(r) for r in self._query(sql, params)]

    def transactions(self, **filters: Any) -> list[TxRecord]:
        """Like :meth:`entries`, as the UI's :class:`TxRecord` objects."""
        return [e.record() for e in self.entries(**filters)]

    def pending(self, chain_id: int | None = None, sender: str | None = None
                ) -> list[JournalEntry]:
        """Pending rows, oldest nonce first (the order reconcile must walk them in)."""
        rows = self.entries(chain_id=chain_id, sender=sender, status=TxStatus.PENDING)
        return sorted(rows, key=lambda e: (e.chain_id, e.sender.lower(), e.nonce,
                                           e.created_at))

    def highest_mined_nonce(self, chain_id: int, sender: str) -> int | None:
        """The highest nonce of a confirmed or failed (i.e. mined) row, or None."""
        rows = self._query("SELECT MAX(nonce) FROM transactions WHERE chain_id = ? AND"
                           " lower(sender) = lower(?) AND status IN ('confirmed','failed')",
                           (chain_id, sender))
        return None if rows[0][0] is None else int(rows[0][0])

    def pending_nonces(self, chain_id: int, sender: str) -> set[int]:
        return {e.nonce for e in self.pending(chain_id, sender)}

    def same_nonce(self, chain_id: int, sender: str, nonce: int) -> list[JournalEntry]:
        """Every row for this (chain, sender, nonce): an original and its replacements."""
        rows = self._query(
            "SELECT * FROM transactions WHERE chain_id = ? AND lower(sender) = lower(?)"
            " AND nonce = ? ORDER BY created_at", (chain_id, sender, nonce))
        return [self._entry(r) for r in rows]

    # ------------------------------------------------------------------ activity

    @staticmethod
    def _trade(row: sqlite3.Row) -> Trade:
        return Trade(
            id=row["id"], chain_id=row["chain_id"], account=row["account"], kind=row["kind"],
            usdc=Decimal(row["usdc"]), shares=Decimal(row["shares"]),
            fee_usdc=Decimal(row["fee_usdc"]), gas_fee_eth=Decimal(row["gas_fee_eth"]),
            tx_hash=row["tx_hash"], block_number=row["block_number"],
            created_at=datetime.fromisoformat(row["created_at"]), note=row["note"],
            verified=bool(row["verified"]),
        )

    def trades(self, account: str | None = None, chain_id: int | None = None) -> list[Trade]:
        """Trades in time order (oldest first: the order position math needs)."""
        where: list[str] = []
        params: list[Any] = []
        if account is not None:
            where.append("lower(account) = lower(?)")
            params.append(account)
        if chain_id is not None:
            where.append("chain_id = ?")
            params.append(chain_id)
        sql = "SELECT * FROM activity"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, id"
        return [self._trade(r) for r in self._query(sql, params)]

    def position(self, account: str, chain_id: int) -> CostBasis:
        """Cost basis, realized P&L and fees of ``account`` on ``chain_id``."""
        return position_from_trades(self.trades(account, chain_id))

    # ------------------------------------------------------------------ index events

    def last_scanned_block(self, chain_id: int, source: str) -> int | None:
        rows = self._query("SELECT last_block FROM scan_state WHERE chain_id = ? AND"
                           " source = ?", (chain_id, source))
        return int(rows[0][0]) if rows else None

    def index_events(
        self,
        chain_id: int,
        source: str,
        *,
        since_block: int | None = None,
        kinds: Sequence[str] | None = None,
        limit: int | None = None,
        newest_first: bool = True,
    ) -> list[CachedEvent]:
        sql = "SELECT * FROM index_events WHERE chain_id = ? AND source = ?"
        params: list[Any] = [chain_id, source]
        if since_block is not None:
            sql += " AND block_number >= ?"
            params.append(since_block)
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            params.extend(kinds)
        order = "DESC" if newest_first else "ASC"
        sql += f" ORDER BY block_number {order}, log_index {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [CachedEvent(r["block_number"], r["tx_hash"], r["log_index"], r["kind"],
                            json.loads(r["payload"]), _dt(r["timestamp"]))
                for r in self._query(sql, params)]

    # ------------------------------------------------------------------ CSV export

    TX_CSV_COLUMNS = (
        "created_at", "tx_hash", "kind", "status", "chain_id", "sender", "to", "value_eth",
        "nonce", "block_number", "gas_limit", "gas_used", "fee_paid_eth",
        "max_fee_per_gas_gwei", "max_priority_fee_gwei", "summary", "replaces",
        "replaced_by", "error",
    )
    ACTIVITY_CSV_COLUMNS = (
        "created_at", "kind", "account", "chain_id", "usdc", "shares", "price_usdc",
        "fee_usdc", "gas_fee_eth", "tx_hash", "block_number", "note", "verified",
    )

    def export_transactions_csv(self, dest: Path | TextIO, **filters: Any) -> int:
        """Write the transactions (filters as :meth:`entries`) as CSV; returns rows."""
        rows = self.entries(**filters)

        def line(e: JournalEntry) -> list[Any]:
            fee = e.fee_paid_wei
            return [
                _iso(e.created_at), e.tx_hash, _csv_text(e.kind), e.status.value, e.chain_id,
                e.sender, e.to or "", Decimal(e.value_wei) / WEI_PER_ETH, e.nonce,
                e.block_number if e.block_number is not None else "", e.gas_limit,
                e.gas_used if e.gas_used is not None else "",
                Decimal(fee) / WEI_PER_ETH if fee is not None else "",
                Decimal(e.max_fee_per_gas_wei) / GWEI, Decimal(e.max_priority_fee_wei) / GWEI,
                _csv_text(e.summary), e.replaces or "", e.replaced_by or "",
                _csv_text(e.error or ""),
            ]

        return _write_csv(dest, self.TX_CSV_COLUMNS, [line(e) for e in rows])

    def export_activity_csv(self, dest: Path | TextIO, account: str | None = None,
                            chain_id: int | None = None) -> int:
        """Write the buys and sells as CSV (price = USDC per share); returns rows."""
        def line(t: Trade) -> list[Any]:
            price = (t.usdc / t.shares).quantize(USDC_QUANTUM) if t.shares else ""
            return [_iso(t.created_at), t.kind, t.account, t.chain_id, t.usdc, t.shares,
                    price, t.fee_usdc, t.gas_fee_eth, t.tx_hash or "",
                    t.block_number if t.block_number is not None else "", _csv_text(t.note),
                    "yes" if t.verified else "no"]

        trades = self.trades(account, chain_id)
        return _write_csv(dest, self.ACTIVITY_CSV_COLUMNS, [line(t) for t in trades])
