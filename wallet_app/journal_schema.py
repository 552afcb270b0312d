"""The journal's SQLite schema: ordered migrations, applied by
:class:`wallet_app.journal.Journal` on open (kept out of ``wallet_app/journal.py``).

Append a migration, never edit one: a journal on disk records which versions it has, and
an app refuses a journal newer than its :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

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

#: v3: the event cache holds more than the index's log (an address's own events, read to
#: rebuild its history on a new computer), and the same log can be in two sources: the
#: key includes the source, so one source's copy never hides the other's.
_V3 = """
CREATE TABLE index_events_v3 (
    chain_id     INTEGER NOT NULL,
    source       TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    tx_hash      TEXT NOT NULL,
    log_index    INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    timestamp    TEXT,
    PRIMARY KEY (chain_id, source, tx_hash, log_index)
);
INSERT INTO index_events_v3 SELECT chain_id, source, block_number, tx_hash, log_index, kind,
    payload, timestamp FROM index_events;
DROP TABLE index_events;
ALTER TABLE index_events_v3 RENAME TO index_events;
CREATE INDEX index_events_block ON index_events (chain_id, source, block_number, log_index);
"""

MIGRATIONS: list[tuple[int, str, str | Callable[[sqlite3.Connection], None]]] = [
    (1, "initial schema: transactions, activity, index events, scan state", _V1),
    (2, "activity.verified: unverified trades never count in cost basis or P&L", _V2),
    (3, "index_events keyed by source too: an address's events beside the index's", _V3),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
