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
import csv
import io
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from .errors import WalletError
from .models import TxRecord, TxStatus
from .paths import AppPaths, app_paths

WEI_PER_ETH = Decimal(10) ** 18
GWEI = Decimal(10) ** 9
USDC_QUANTUM = Decimal("0.000001")

TRADE_KINDS = ("buy", "sell", "redeem_in_kind")


class JournalError(WalletError):
    """The journal file cannot be opened, is from a newer app, or is damaged."""

    exit_code = 20


# --------------------------------------------------------------------------- schema

_V1 = """
CREATE TABLE transactions (
    tx_hash                 TEXT PRIMARY KEY,
    chain_id                INTEGER NOT NULL,
    sender                  TEXT NOT NULL,
    nonce                   INTEGER NOT NULL,
    kind                    TEXT NOT NULL,
    status                  TEXT NOT NULL
        CHECK (status IN ('pending','confirmed','failed','replaced','dropped')),
    to_address              TEXT,
    value_wei               TEXT NOT NULL DEFAULT '0',
    data_summary            TEXT NOT NULL DEFAULT '',
    gas_limit               INTEGER NOT NULL,
    max_fee_per_gas_wei     TEXT NOT NULL,
    max_priority_fee_wei    TEXT NOT NULL,
    raw_tx                  TEXT NOT NULL,
    summary                 TEXT NOT NULL DEFAULT '',
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    broadcast_at            TEXT,
    broadcast_attempts      INTEGER NOT NULL DEFAULT 0,
    block_number            INTEGER,
    gas_used                INTEGER,
    effective_gas_price_wei TEXT,
    replaces                TEXT,
    replaced_by             TEXT,
    error                   TEXT,
    meta                    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX transactions_nonce ON transactions (chain_id, sender, nonce);
CREATE INDEX transactions_status ON transactions (status);

CREATE TABLE activity (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    chain_id     INTEGER NOT NULL,
    account      TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('buy','sell','redeem_in_kind')),
    usdc         TEXT NOT NULL,
    shares       TEXT NOT NULL,
    fee_usdc     TEXT NOT NULL DEFAULT '0',
    gas_fee_eth  TEXT NOT NULL DEFAULT '0',
    tx_hash      TEXT UNIQUE,
    block_number INTEGER,
    created_at   TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX activity_account ON activity (chain_id, account, id);

CREATE TABLE index_events (
    chain_id     INTEGER NOT NULL,
    source       TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    tx_hash      TEXT NOT NULL,
    log_index    INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    timestamp    TEXT,
    PRIMARY KEY (chain_id, tx_hash, log_index)
);
CREATE INDEX index_events_block ON index_events (chain_id, source, block_number, log_index);

CREATE TABLE scan_state (
    chain_id   INTEGER NOT NULL,
    source     TEXT NOT NULL,
    last_block INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (chain_id, source)
);
"""

#: Ordered migrations: (version, name, SQL script or callable). Append, never edit.
_V2 = """
ALTER TABLE activity ADD COLUMN verified INTEGER NOT NULL DEFAULT 1;
"""

MIGRATIONS: list[tuple[int, str, str | Callable[[sqlite3.Connection], None]]] = [
    (1, "initial schema: transactions, activity, index events, scan state", _V1),
    (2, "activity.verified: unverified trades never count in cost basis or P&L", _V2),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


# --------------------------------------------------------------------------- data objects


@dataclass(frozen=True)
class JournalEntry:
    """A full ``transactions`` row (the chain client's view; the UI gets TxRecord)."""

    tx_hash: str
    chain_id: int
    sender: str
    nonce: int
    kind: str
    status: TxStatus
    to: str | None
    value_wei: int
    data_summary: str
    gas_limit: int
    max_fee_per_gas_wei: int
    max_priority_fee_wei: int
    raw_tx: bytes
    summary: str
    created_at: datetime
    updated_at: datetime
    broadcast_at: datetime | None
    broadcast_attempts: int
    block_number: int | None
    gas_used: int | None
    effective_gas_price_wei: int | None
    replaces: str | None
    replaced_by: str | None
    error: str | None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def fee_paid_wei(self) -> int | None:
        """Gas actually paid (mined transactions only)."""
        if self.gas_used is None or self.effective_gas_price_wei is None:
            return None
        return self.gas_used * self.effective_gas_price_wei

    def record(self) -> TxRecord:
        return TxRecord(
            tx_hash=self.tx_hash,
            kind=self.kind,
            status=self.status,
            nonce=self.nonce,
            chain_id=self.chain_id,
            sender=self.sender,
            created_at=self.created_at,
            block_number=self.block_number,
            summary=self.summary,
            replaced_by=self.replaced_by,
            outcome=self.meta.get("outcome"),
            outcome_note=self.meta.get("outcome_note"),
        )


@dataclass(frozen=True)
class Trade:
    """One buy or sell of index shares by the user."""

    id: int
    chain_id: int
    account: str
    kind: str  # "buy" | "sell" | "redeem_in_kind"
    usdc: Decimal  # buy: USDC paid in, fee included; sell: USDC received, net of fee
    shares: Decimal
    fee_usdc: Decimal  # platform fee inside ``usdc``
    gas_fee_eth: Decimal
    tx_hash: str | None
    block_number: int | None
    created_at: datetime
    note: str = ""
    #: False when the outcome could not be verified from the pinned vault's events and the
    #: balances: shown, but never counted in cost basis or P&L.
    verified: bool = True


@dataclass(frozen=True)
class CostBasis:
    """Position math by average cost (see :func:`position_from_trades`)."""

    shares: Decimal
    cost_basis_usdc: Decimal  # what the shares still held cost, fees included
    realized_pnl_usdc: Decimal
    fees_paid_usdc: Decimal  # platform fees, buys and sells
    gas_paid_eth: Decimal
    invested_usdc: Decimal  # total USDC paid in
    proceeds_usdc: Decimal  # total USDC received

    @property
    def average_cost_usdc(self) -> Decimal | None:
        return (self.cost_basis_usdc / self.shares).quantize(USDC_QUANTUM) \
            if self.shares > 0 else None

    def unrealized_pnl(self, nav_per_share: Decimal) -> Decimal:
        """Value at NAV minus cost basis of the shares held."""
        return (self.shares * nav_per_share - self.cost_basis_usdc).quantize(USDC_QUANTUM)

    def value_at(self, nav_per_share: Decimal) -> Decimal:
        return (self.shares * nav_per_share).quantize(USDC_QUANTUM)


def position_from_trades(trades: Iterable[Trade]) -> CostBasis:
    """Average-cost position math over trades in time order.

    * A buy adds its shares and its USDC (fee included: fees are part of what the
      position cost) to the cost basis.
    * A sell removes the sold fraction of the cost basis (``cost x sold / held``, exact,
      no rounded average in between) and realizes ``proceeds - removed cost``; proceeds are
      net of the sell fee. An in-kind redemption counts like a sell at the USDC value the
      integrator records for it.
    * Shares sold beyond what the journal knows (e.g. received by transfer) carry zero
      cost: their whole proceeds are gain, and the position never goes negative.
    """
    shares = cost = realized = fees = gas = invested = proceeds = Decimal(0)
    for t in trades:
        if not t.verified:
            continue  # an unverified outcome is never money the position math believes
        fees += t.fee_usdc
        gas += t.gas_fee_eth
        if t.kind == "buy":
            shares += t.shares
            cost += t.usdc
            invested += t.usdc
        else:
            proceeds += t.usdc
            sold_known = min(t.shares, shares)
            removed = cost * sold_known / shares if shares > 0 else Decimal(0)
            realized += t.usdc - removed
            cost -= removed
            shares -= sold_known
            if shares == 0:
                cost = Decimal(0)  # no rounding residue left on an empty position
    q = USDC_QUANTUM
    return CostBasis(shares, cost.quantize(q), realized.quantize(q), fees.quantize(q),
                     gas, invested.quantize(q), proceeds.quantize(q))


@dataclass(frozen=True)
class CachedEvent:
    """One vault event in the index-log cache (``payload`` is the decoded JSON args)."""

    block_number: int
    tx_hash: str
    log_index: int
    kind: str
    payload: dict[str, Any]
    timestamp: datetime | None = None


# --------------------------------------------------------------------------- helpers


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _hash(tx_hash: str) -> str:
    h = tx_hash.lower()
    return h if h.startswith("0x") else "0x" + h


def _dec(value: Decimal | int | str) -> str:
    if isinstance(value, float):
        raise TypeError("money is never float: pass Decimal, int or str")
    return str(Decimal(value))


def data_summary(data: bytes) -> str:
    """What the log shows about calldata: the 4-byte selector and the size, not the body."""
    if not data:
        return ""
    if len(data) < 4:
        return f"0x{data.hex()} ({len(data)} bytes)"
    return f"0x{data[:4].hex()} ({len(data)} bytes)"


_CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: Any) -> str:
    """A text cell that a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_CSV_RISKY) else text


# --------------------------------------------------------------------------- the journal


class Journal:
    """The SQLite journal of one app installation (thread-safe, one connection).

    Open it once and share it: a lock serialises access, so worker threads (network,
    signing) and the GUI thread can all use the same object.
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

    def last_scanned_block(self, chain_id: int, source: str) -> int | None:
        rows = self._query("SELECT last_block FROM scan_state WHERE chain_id = ? AND"
                           " source = ?", (chain_id, source))
        return int(rows[0][0]) if rows else None

    def rewind_index(self, chain_id: int, source: str, from_block: int) -> None:
        """Forget events at/after ``from_block`` (a reorg) and move the cursor back."""
        with self._tx() as db:
            db.execute("DELETE FROM index_events WHERE chain_id = ? AND source = ? AND"
                       " block_number >= ?", (chain_id, source, from_block))
            db.execute("UPDATE scan_state SET last_block = MIN(last_block, ?), updated_at = ?"
                       " WHERE chain_id = ? AND source = ?",
                       (from_block - 1, _iso(_now()), chain_id, source))

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


def _write_csv(dest: Path | TextIO, header: Sequence[str], rows: list[list[Any]]) -> int:
    def fmt(v: Any) -> Any:
        return f"{v.normalize():f}" if isinstance(v, Decimal) else v

    def write(fh: TextIO) -> None:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([fmt(v) for v in r])

    if isinstance(dest, str | Path):
        buf = io.StringIO()
        write(buf)
        Path(dest).write_text(buf.getvalue(), encoding="utf-8", newline="")
    else:
        write(dest)
    return len(rows)


__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "TRADE_KINDS",
    "CachedEvent",
    "CostBasis",
    "Journal",
    "JournalEntry",
    "JournalError",
    "Trade",
    "data_summary",
    "position_from_trades",
]
