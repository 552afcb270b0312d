"""The journal: a local SQLite write-ahead log of everything this wallet signs and trades.

Why it exists (DESIGN, safety rules): every signed transaction is written here, durably,
*before* it is broadcast, so that a crash, a kill or a lost connection can never leave a
transaction on the network that the wallet does not know about. On start the chain
client reconciles the pending rows with the chain (confirmed, failed, replaced, dropped).

What is stored, and what is not:

* ``transactions``: the raw signed bytes (a signed transaction holds a signature, no
  secret; keeping it lets the wallet re-broadcast the *same* transaction instead of signing
  a new one), the fields shown in the log, fees, block, status and links between a
  transaction and its speed-up/cancel replacement. The ``error`` column only ever holds our
  own sentences, never node text.
* ``activity``: the user's buys and sells (USDC, shares, fees) for cost basis and P&L.
* ``index_events`` + ``scan_state``: a cache of the vault's events (the index's
  transactions log) and the last block scanned, so a refresh only reads new blocks.

Durability: WAL mode with ``synchronous=FULL``; every write is its own committed
transaction, and in WAL mode a FULL commit fsyncs the log before returning. The file is
created user-only (0600): it reveals addresses and amounts.

Money: wei as decimal text (it exceeds SQLite's 64-bit integers), USDC/shares/ETH as
``Decimal`` text; never float.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import WalletError
from .journal_queries import JournalQueries
from .journal_records import (
    GWEI,
    TRADE_KINDS,
    USDC_QUANTUM,
    WEI_PER_ETH,
    CachedEvent,
    CostBasis,
    JournalEntry,
    Trade,
    _dec,
    _hash,
    _iso,
    _now,
    data_summary,
    position_from_trades,
)
from .journal_schema import MIGRATIONS, SCHEMA_VERSION
from .models import TxRecord
from .paths import AppPaths, app_paths


class JournalError(WalletError):
    """The journal file cannot be opened, is from a newer app, or is damaged."""

    exit_code = 28


# --------------------------------------------------------------------------- the journal


class Journal(JournalQueries):
    """The SQLite journal of one app installation (thread-safe, one connection).

    Open it once and share it: a lock serialises access, so worker threads (network,
    signing) and the GUI thread can all use the same object. This class holds the storage
    and the writes; the reads and exports are :class:`~wallet_app.journal_queries.JournalQueries`.
    """

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            path = app_paths().ensure().journal_file
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise JournalError(
                f"The journal {self.path} cannot be opened ({type(exc).__name__}). If the "
                "file is damaged, move it aside: the wallet rebuilds its log from the chain, "
                "but pending transactions in it would no longer be tracked."
            ) from None

    @classmethod
    def for_paths(cls, paths: AppPaths) -> Journal:
        return cls(paths.ensure().journal_file)

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One durable write transaction (BEGIN IMMEDIATE ... COMMIT, fsynced)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, params))

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {r[0] for r in self._db.execute("SELECT version FROM schema_migrations")}
            newest = max(done, default=0)
            if newest > SCHEMA_VERSION:
                raise JournalError(
                    f"The journal {self.path} was written by a newer version of the app "
                    f"(schema {newest}, this app knows {SCHEMA_VERSION}). Update the app."
                )
            for version, name, step in MIGRATIONS:
                if version in done:
                    continue
                with self._tx() as db:
                    if callable(step):
                        step(db)
                    else:
                        for statement in step.split(";"):
                            if statement.strip():
                                db.execute(statement)
                    db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                               (version, name, _iso(_now())))
                    db.execute(f"PRAGMA user_version = {int(version)}")

    def schema_version(self) -> int:
        rows = self._query("SELECT MAX(version) FROM schema_migrations")
        return int(rows[0][0] or 0)

    def migrations(self) -> list[tuple[int, str, datetime]]:
        """Applied migrations (version, name, applied at)."""
        return [(r[0], r[1], datetime.fromisoformat(r[2]))
                for r in self._query("SELECT * FROM schema_migrations ORDER BY version")]

    # ------------------------------------------------------------------ transactions

    def record_signed(
        self,
        *,
        tx_hash: str,
        raw_tx: bytes,
        chain_id: int,
        sender: str,
        nonce: int,
        kind: str,
        to: str | None,
        value_wei: int,
        data: bytes,
        gas_limit: int,
        max_fee_per_gas_wei: int,
        max_priority_fee_wei: int,
        summary: str = "",
        replaces: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> TxRecord:
        """Write a signed, not yet broadcast transaction; durable when this returns.

        The hash covers the whole signed transaction, so a second write of the same hash
        is the *same* transaction (signatures are deterministic): a row that was marked
        dropped because it was never delivered becomes pending again instead of failing.
        """
        now = _iso(_now())
        with self._tx() as db:
            db.execute(
                "INSERT INTO transactions (tx_hash, chain_id, sender, nonce, kind, status,"
                " to_address, value_wei, data_summary, gas_limit, max_fee_per_gas_wei,"
                " max_priority_fee_wei, raw_tx, summary, created_at, updated_at, replaces,"
                " meta) VALUES (?,?,?,?,?,'pending',?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (tx_hash) DO UPDATE SET status = 'pending', error = NULL,"
                " kind = excluded.kind, summary = excluded.summary, meta = excluded.meta,"
                " updated_at = excluded.updated_at WHERE status = 'dropped'",
                (_hash(tx_hash), chain_id, sender, nonce, kind, to, str(value_wei),
                 data_summary(data), gas_limit, str(max_fee_per_gas_wei),
                 str(max_priority_fee_wei), "0x" + raw_tx.hex(), summary, now, now,
                 _hash(replaces) if replaces else None, json.dumps(meta or {})),
            )
        rec = self.get(tx_hash)
        assert rec is not None
        return rec

    def mark_broadcast(self, tx_hash: str) -> None:
        """The node accepted the bytes (first time sets ``broadcast_at``)."""
        now = _iso(_now())
        with self._tx() as db:
            db.execute(
                "UPDATE transactions SET broadcast_at = COALESCE(broadcast_at, ?),"
                " broadcast_attempts = broadcast_attempts + 1, updated_at = ?"
                " WHERE tx_hash = ?", (now, now, _hash(tx_hash)))

    def note_broadcast_attempt(self, tx_hash: str) -> None:
        """A broadcast was tried but its outcome is unknown (timeout)."""
        with self._tx() as db:
            db.execute("UPDATE transactions SET broadcast_attempts = broadcast_attempts + 1,"
                       " updated_at = ? WHERE tx_hash = ?", (_iso(_now()), _hash(tx_hash)))

    def mark_mined(
        self,
        tx_hash: str,
        *,
        success: bool,
        block_number: int,
        gas_used: int | None = None,
        effective_gas_price_wei: int | None = None,
        error: str | None = None,
    ) -> list[str]:
        """Confirmed (status 1) or failed (status 0); same-nonce siblings become replaced.

        Returns the hashes of the siblings marked replaced.
        """
        h = _hash(tx_hash)
        now = _iso(_now())
        with self._tx() as db:
            row = db.execute("SELECT chain_id, sender, nonce FROM transactions"
                             " WHERE tx_hash = ?", (h,)).fetchone()
            if row is None:
                return []
            db.execute(
                "UPDATE transactions SET status = ?, block_number = ?, gas_used = ?,"
                " effective_gas_price_wei = ?, error = ?, replaced_by = NULL, updated_at = ?"
                " WHERE tx_hash = ?",
                ("confirmed" if success else "failed", block_number, gas_used,
                 None if effective_gas_price_wei is None else str(effective_gas_price_wei),
                 error, now, h))
            siblings = [r[0] for r in db.execute(
                "SELECT tx_hash FROM transactions WHERE chain_id = ? AND sender = ? AND"
                " nonce = ? AND tx_hash != ? AND status IN ('pending','dropped')",
                (row["chain_id"], row["sender"], row["nonce"], h))]
            for s in siblings:
                db.execute("UPDATE transactions SET status = 'replaced', replaced_by = ?,"
                           " updated_at = ? WHERE tx_hash = ?", (h, now, s))
        return siblings

    def mark_replaced(self, tx_hash: str, by: str | None) -> None:
        with self._tx() as db:
            db.execute("UPDATE transactions SET status = 'replaced', replaced_by = ?,"
                       " updated_at = ? WHERE tx_hash = ?",
                       (_hash(by) if by else None, _iso(_now()), _hash(tx_hash)))

    def mark_dropped(self, tx_hash: str, error: str) -> None:
        """Will never be mined (nonce used by another transaction, or never delivered)."""
        with self._tx() as db:
            db.execute("UPDATE transactions SET status = 'dropped', error = ?, updated_at = ?"
                       " WHERE tx_hash = ?", (error, _iso(_now()), _hash(tx_hash)))

    def set_error(self, tx_hash: str, error: str | None) -> None:
        """Attach our own explanation (never node text) without changing the status."""
        with self._tx() as db:
            db.execute("UPDATE transactions SET error = ?, updated_at = ? WHERE tx_hash = ?",
                       (error, _iso(_now()), _hash(tx_hash)))

    def update_meta(self, tx_hash: str, **values: Any) -> None:
        """Merge JSON-serialisable values into a transaction's ``meta`` (integrator data)."""
        with self._tx() as db:
            row = db.execute("SELECT meta FROM transactions WHERE tx_hash = ?",
                             (_hash(tx_hash),)).fetchone()
            if row is None:
                return
            meta = json.loads(row[0] or "{}")
            meta.update(values)
            db.execute("UPDATE transactions SET meta = ?, updated_at = ? WHERE tx_hash = ?",
                       (json.dumps(meta), _iso(_now()), _hash(tx_hash)))


    # ------------------------------------------------------------------ activity

    def add_trade(
        self,
        *,
        chain_id: int,
        account: str,
        kind: str,
        usdc: Decimal,
        shares: Decimal,
        fee_usdc: Decimal = Decimal(0),
        gas_fee_eth: Decimal = Decimal(0),
        tx_hash: str | None = None,
        block_number: int | None = None,
        at: datetime | None = None,
        note: str = "",
        verified: bool = True,
    ) -> Trade:
        """Record a buy or sell. Idempotent per ``tx_hash`` (a re-scan adds nothing).

        ``verified=False`` keeps an unverified outcome visible without counting it."""
        if kind not in TRADE_KINDS:
            raise ValueError(f"trade kind must be one of {TRADE_KINDS}, not {kind!r}")
        for name, v in (("usdc", usdc), ("shares", shares), ("fee_usdc", fee_usdc),
                        ("gas_fee_eth", gas_fee_eth)):
            if not isinstance(v, Decimal | int):
                raise TypeError(f"{name} must be Decimal (money is never float)")
            if Decimal(v) < 0:
                raise ValueError(f"{name} must not be negative")
        h = _hash(tx_hash) if tx_hash else None
        with self._tx() as db:
            existing = None
            if h is not None:
                existing = db.execute("SELECT id FROM activity WHERE tx_hash = ?",
                                      (h,)).fetchone()
            if existing is not None:
                trade_id = int(existing[0])
            else:
                cur = db.execute(
                    "INSERT INTO activity (chain_id, account, kind, usdc, shares, fee_usdc,"
                    " gas_fee_eth, tx_hash, block_number, created_at, note, verified)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (chain_id, account, kind, _dec(usdc), _dec(shares), _dec(fee_usdc),
                     _dec(gas_fee_eth), h, block_number, _iso(at or _now()), note,
                     1 if verified else 0))
                trade_id = int(cur.lastrowid or 0)
        rows = self._query("SELECT * FROM activity WHERE id = ?", (trade_id,))
        return self._trade(rows[0])


    # ------------------------------------------------------------------ index events

    def add_index_events(
        self,
        chain_id: int,
        source: str,
        events: Iterable[CachedEvent],
        last_block: int,
    ) -> int:
        """Cache events and advance the scan cursor in one transaction; returns new rows.

        Duplicates (same tx hash and log index) are ignored, so overlapping scans are safe.
        """
        added = 0
        with self._tx() as db:
            for ev in events:
                cur = db.execute(
                    "INSERT OR IGNORE INTO index_events VALUES (?,?,?,?,?,?,?,?)",
                    (chain_id, source, ev.block_number, _hash(ev.tx_hash), ev.log_index,
                     ev.kind, json.dumps(ev.payload, default=str), _iso(ev.timestamp)))
                added += cur.rowcount
            db.execute(
                "INSERT INTO scan_state VALUES (?,?,?,?) ON CONFLICT (chain_id, source)"
                " DO UPDATE SET last_block = MAX(last_block, excluded.last_block),"
                " updated_at = excluded.updated_at",
                (chain_id, source, last_block, _iso(_now())))
        return added


    def rewind_index(self, chain_id: int, source: str, from_block: int) -> None:
        """Forget events at/after ``from_block`` (a reorg) and move the cursor back."""
        with self._tx() as db:
            db.execute("DELETE FROM index_events WHERE chain_id = ? AND source = ? AND"
                       " block_number >= ?", (chain_id, source, from_block))
            db.execute("UPDATE scan_state SET last_block = MIN(last_block, ?), updated_at = ?"
                       " WHERE chain_id = ? AND source = ?",
                       (from_block - 1, _iso(_now()), chain_id, source))


__all__ = [
    "GWEI",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "TRADE_KINDS",
    "USDC_QUANTUM",
    "WEI_PER_ETH",
    "CachedEvent",
    "CostBasis",
    "Journal",
    "JournalEntry",
    "JournalError",
    "Trade",
    "data_summary",
    "position_from_trades",
]
