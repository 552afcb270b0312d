"""The SQLite journal: durability settings, migrations, transactions, trades, events, CSV."""

from __future__ import annotations

import csv
import io
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from wallet_app.journal import (
    SCHEMA_VERSION,
    CachedEvent,
    Journal,
    JournalError,
    Trade,
    data_summary,
    position_from_trades,
)
from wallet_app.models import TxRecord, TxStatus
from wallet_app.paths import AppPaths

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
VAULT = "0x5FbDB2315678afecb367f032d93f642f64180aa3"


def _h(n: int) -> str:
    return "0x" + f"{n:064x}"


def _sign(j: Journal, n: int, nonce: int, **kw: object) -> TxRecord:
    args: dict[str, object] = dict(
        tx_hash=_h(n), raw_tx=bytes([2, n % 256, 0xAB]), chain_id=31337, sender=ALICE,
        nonce=nonce, kind="buy", to=VAULT, value_wei=10**30, data=bytes.fromhex("a9059cbb")
        + b"\x00" * 64, gas_limit=120_000, max_fee_per_gas_wei=3 * 10**9,
        max_priority_fee_wei=10**8, summary="Buy 100 USDC of G100")
    args.update(kw)
    return j.record_signed(**args)  # type: ignore[arg-type]


@pytest.fixture
def journal(app_home: AppPaths) -> Journal:
    return Journal.for_paths(app_home)


def test_durability_settings_and_permissions(journal: Journal, app_home: AppPaths) -> None:
    assert journal.path == app_home.journal_file
    mode = journal._db.execute("PRAGMA journal_mode").fetchone()[0]
    sync = journal._db.execute("PRAGMA synchronous").fetchone()[0]
    assert mode == "wal" and sync == 2  # 2 = FULL: each commit fsyncs the WAL
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600


def test_schema_version_and_migrations_table(journal: Journal, app_home: AppPaths) -> None:
    assert journal.schema_version() == SCHEMA_VERSION == 3
    (v, name, applied) = journal.migrations()[0]
    assert v == 1 and "initial" in name and applied.tzinfo is not None
    assert journal._db.execute("PRAGMA user_version").fetchone()[0] == 3
    journal.close()
    again = Journal.for_paths(app_home)  # reopening applies nothing twice
    assert len(again.migrations()) == 3
    again.close()
    # A journal from a newer app is refused with a clear message.
    with sqlite3.connect(app_home.journal_file) as db:
        db.execute("INSERT INTO schema_migrations VALUES (99, 'future', '2030-01-01')")
    with pytest.raises(JournalError, match="newer version"):
        Journal.for_paths(app_home)


def test_damaged_file_is_a_named_error(tmp_path: Path) -> None:
    bad = tmp_path / "journal.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="cannot be opened"):
        Journal(bad)


def test_signed_row_is_visible_to_another_connection_at_once(journal: Journal) -> None:
    rec = _sign(journal, 1, 0)
    assert isinstance(rec, TxRecord) and rec.status == TxStatus.PENDING
    with sqlite3.connect(journal.path) as other:
        row = other.execute("SELECT status, raw_tx, value_wei FROM transactions").fetchone()
    assert row == ("pending", "0x0201ab", str(10**30))  # wei beyond 64 bits kept exact


def test_lifecycle_and_sibling_replacement(journal: Journal) -> None:
    _sign(journal, 1, 0)
    _sign(journal, 2, 0, replaces=_h(1), kind="buy", max_fee_per_gas_wei=4 * 10**9)
    _sign(journal, 3, 1)
    assert journal.pending_nonces(31337, ALICE) == {0, 1}
    assert journal.pending_nonces(31337, ALICE.lower()) == {0, 1}  # case-insensitive
    assert [e.tx_hash for e in journal.same_nonce(31337, ALICE, 0)] == [_h(1), _h(2)]
    journal.mark_broadcast(_h(2))
    journal.mark_broadcast(_h(2))
    e2 = journal.entry(_h(2))
    assert e2 is not None and e2.broadcast_attempts == 2 and e2.replaces == _h(1)
    replaced = journal.mark_mined(_h(2), success=True, block_number=7, gas_used=100_000,
                                  effective_gas_price_wei=2 * 10**9)
    assert replaced == [_h(1)]
    r1, r2 = journal.get(_h(1)), journal.get(_h(2))
    assert r1 is not None and r1.status == TxStatus.REPLACED and r1.replaced_by == _h(2)
    assert r2 is not None and r2.status == TxStatus.CONFIRMED and r2.block_number == 7
    assert journal.entry(_h(2)).fee_paid_wei == 2 * 10**14  # type: ignore[union-attr]
    journal.mark_mined(_h(3), success=False, block_number=8, gas_used=120_000,
                       effective_gas_price_wei=10**9, error="The transaction failed.")
    assert journal.get(_h(3)).status == TxStatus.FAILED  # type: ignore[union-attr]
    assert journal.pending() == []
    assert [r.tx_hash for r in journal.transactions(status="replaced")] == [_h(1)]


def test_dropped_row_reused_when_same_bytes_are_signed_again(journal: Journal) -> None:
    _sign(journal, 5, 3)
    journal.mark_dropped(_h(5), "Not sent: the network could not be reached.")
    assert journal.get(_h(5)).status == TxStatus.DROPPED  # type: ignore[union-attr]
    _sign(journal, 5, 3)  # identical signed tx (deterministic signature)
    e = journal.entry(_h(5))
    assert e is not None and e.status == TxStatus.PENDING and e.error is None


def test_meta_and_data_summary(journal: Journal) -> None:
    _sign(journal, 9, 0, meta={"quote": {"usdc": "100"}})
    journal.update_meta(_h(9), shares="99.5")
    e = journal.entry(_h(9))
    assert e is not None and e.meta == {"quote": {"usdc": "100"}, "shares": "99.5"}
    assert e.data_summary == "0xa9059cbb (68 bytes)" and data_summary(b"") == ""


def _trade(kind: str, usdc: str, shares: str, fee: str = "0") -> Trade:
    return Trade(0, 31337, ALICE, kind, Decimal(usdc), Decimal(shares), Decimal(fee),
                 Decimal("0.0001"), None, None, datetime.now(UTC))


def test_average_cost_position_math() -> None:
    trades = [
        _trade("buy", "1000", "10", fee="5"),  # 100.00 / share incl. fee
        _trade("buy", "1200", "10", fee="6"),  # 120.00 / share -> avg 110
        _trade("sell", "594", "5", fee="6"),  # proceeds net of fee; cost 550 -> +44
    ]
    p = position_from_trades(trades)
    assert p.shares == Decimal("15")
    assert p.cost_basis_usdc == Decimal("1650.000000")
    assert p.realized_pnl_usdc == Decimal("44.000000")
    assert p.fees_paid_usdc == Decimal("17.000000")
    assert p.invested_usdc == Decimal("2200.000000") and p.proceeds_usdc == Decimal("594.0")
    assert p.average_cost_usdc == Decimal("110.000000")
    assert p.unrealized_pnl(Decimal("120")) == Decimal("150.000000")
    assert p.value_at(Decimal("120")) == Decimal("1800.000000")
    assert p.gas_paid_eth == Decimal("0.0003")
    # Sell everything: basis back to exactly zero, all P&L realized.
    done = position_from_trades([*trades, _trade("sell", "1500", "15")])
    assert done.shares == 0 and done.cost_basis_usdc == 0
    assert done.realized_pnl_usdc == Decimal("44") + Decimal("1500") - Decimal("1650")
    assert done.average_cost_usdc is None


def test_selling_more_than_known_never_goes_negative() -> None:
    p = position_from_trades([_trade("buy", "100", "1"), _trade("sell", "300", "3")])
    assert p.shares == 0 and p.cost_basis_usdc == 0
    assert p.realized_pnl_usdc == Decimal("200.000000")  # the unknown 2 shares cost 0


def test_add_trade_is_idempotent_per_tx_and_rejects_float(journal: Journal) -> None:
    t1 = journal.add_trade(chain_id=31337, account=ALICE, kind="buy", usdc=Decimal("1000"),
                           shares=Decimal("9.95"), fee_usdc=Decimal("5"), tx_hash=_h(1),
                           block_number=10, gas_fee_eth=Decimal("0.00021"))
    again = journal.add_trade(chain_id=31337, account=ALICE, kind="buy", usdc=Decimal("1000"),
                              shares=Decimal("9.95"), tx_hash=_h(1))
    assert again.id == t1.id and len(journal.trades(ALICE)) == 1
    journal.add_trade(chain_id=31337, account=ALICE, kind="sell", usdc=Decimal("520.5"),
                      shares=Decimal("4.975"), fee_usdc=Decimal("2.6"), tx_hash=_h(2),
                      at=datetime.now(UTC) + timedelta(seconds=1))
    pos = journal.position(ALICE, 31337)
    assert pos.shares == Decimal("4.975") and pos.cost_basis_usdc == Decimal("500.000000")
    assert pos.realized_pnl_usdc == Decimal("20.500000")
    assert pos.fees_paid_usdc == Decimal("7.600000")
    assert journal.position(ALICE, 1).shares == 0  # other chain: separate books
    with pytest.raises(TypeError, match="never float"):
        journal.add_trade(chain_id=1, account=ALICE, kind="buy", usdc=1.5,  # type: ignore[arg-type]
                          shares=Decimal(1))
    with pytest.raises(ValueError, match="kind"):
        journal.add_trade(chain_id=1, account=ALICE, kind="gift", usdc=Decimal(1),
                          shares=Decimal(1))


def test_index_event_cache_and_scan_cursor(journal: Journal) -> None:
    assert journal.last_scanned_block(31337, VAULT) is None
    evs = [CachedEvent(5, _h(1), 0, "buy", {"usdc": "100", "shares": "1"}),
           CachedEvent(5, _h(1), 1, "fee", {"bps": 10}),
           CachedEvent(9, _h(2), 3, "rebalance", {"legs": 100},
                       datetime(2026, 1, 1, tzinfo=UTC))]
    assert journal.add_index_events(31337, VAULT, evs, last_block=10) == 3
    assert journal.add_index_events(31337, VAULT, evs[:2], last_block=8) == 0  # overlap
    assert journal.last_scanned_block(31337, VAULT) == 10  # never moves backwards
    got = journal.index_events(31337, VAULT)
    assert [(e.block_number, e.log_index) for e in got] == [(9, 3), (5, 1), (5, 0)]
    assert got[0].payload == {"legs": 100} and got[0].timestamp is not None
    assert [e.kind for e in journal.index_events(31337, VAULT, kinds=["buy"])] == ["buy"]
    assert len(journal.index_events(31337, VAULT, since_block=6)) == 1
    journal.rewind_index(31337, VAULT, 9)  # reorg at block 9
    assert journal.last_scanned_block(31337, VAULT) == 8
    assert [e.block_number for e in journal.index_events(31337, VAULT)] == [5, 5]


def test_the_same_log_is_cached_in_two_sources(journal: Journal, app_home: AppPaths) -> None:
    """An address's own event scan and the index's log both hold a request's event: one
    source's copy must never hide the other's (the key includes the source), and a journal
    written before the key had it keeps its rows when migrated."""
    ev = CachedEvent(5, _h(1), 0, "BuyRequested", {"id": 2})
    assert journal.add_index_events(31337, "owner:0xabc", [ev], last_block=5) == 1
    assert journal.add_index_events(31337, VAULT, [ev], last_block=5) == 1
    assert len(journal.index_events(31337, VAULT)) == 1
    assert len(journal.index_events(31337, "owner:0xabc")) == 1
    journal.close()
    with sqlite3.connect(app_home.journal_file) as db:  # back to the v2 table
        db.execute("DELETE FROM schema_migrations WHERE version = 3")
        db.execute("DROP TABLE index_events")
        db.execute("CREATE TABLE index_events (chain_id INTEGER NOT NULL, source TEXT NOT"
                   " NULL, block_number INTEGER NOT NULL, tx_hash TEXT NOT NULL, log_index"
                   " INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, timestamp"
                   " TEXT, PRIMARY KEY (chain_id, tx_hash, log_index))")
        db.execute("INSERT INTO index_events VALUES (31337, ?, 5, ?, 0, 'buy', '{}', NULL)",
                   (VAULT, _h(1)))
    again = Journal.for_paths(app_home)
    try:
        assert again.schema_version() == 3
        assert [e.kind for e in again.index_events(31337, VAULT)] == ["buy"]
        assert again.add_index_events(31337, "owner:0xabc", [ev], last_block=5) == 1
    finally:
        again.close()


def test_csv_exports(journal: Journal, tmp_path: Path) -> None:
    _sign(journal, 1, 0, summary="=HYPERLINK(\"http://evil\")")
    journal.mark_mined(_h(1), success=True, block_number=3, gas_used=100_000,
                       effective_gas_price_wei=10**9)
    path = tmp_path / "tx.csv"
    assert journal.export_transactions_csv(path) == 1
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows[0]["tx_hash"] == _h(1) and rows[0]["status"] == "confirmed"
    assert rows[0]["value_eth"] == "1000000000000"  # 10**30 wei, exact
    assert rows[0]["fee_paid_eth"] == "0.0001" and rows[0]["max_fee_per_gas_gwei"] == "3"
    assert rows[0]["summary"].startswith("'=")  # no formula injection
    assert "raw_tx" not in rows[0]
    journal.add_trade(chain_id=31337, account=ALICE, kind="buy", usdc=Decimal("100.5"),
                      shares=Decimal("2"), fee_usdc=Decimal("0.5"), tx_hash=_h(1))
    buf = io.StringIO()
    assert journal.export_activity_csv(buf, account=ALICE) == 1
    act = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert act[0]["usdc"] == "100.5" and act[0]["price_usdc"] == "50.25"
    assert act[0]["fee_usdc"] == "0.5" and act[0]["kind"] == "buy"


def test_thread_safety_under_concurrent_writes(journal: Journal) -> None:
    import threading

    def worker(base: int) -> None:
        for i in range(20):
            _sign(journal, base + i, base + i)

    threads = [threading.Thread(target=worker, args=(k * 100,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(journal.entries()) == 80


def test_unverified_trades_never_count(journal: Journal) -> None:
    """A trade the pinned vault's events did not confirm is kept, shown, never counted."""
    journal.add_trade(chain_id=1, account="0xabc", kind="buy", usdc=Decimal("100"),
                      shares=Decimal("10"), tx_hash="0x01")
    journal.add_trade(chain_id=1, account="0xabc", kind="buy", usdc=Decimal("900"),
                      shares=Decimal("90"), tx_hash="0x02", verified=False,
                      note="unverified: no Deposit event")
    trades = journal.trades("0xabc", 1)
    assert [t.verified for t in trades] == [True, False]
    basis = journal.position("0xabc", 1)
    assert basis.shares == Decimal("10") and basis.cost_basis_usdc == Decimal("100")
    assert basis.invested_usdc == Decimal("100")
