"""The operator's market history: backfilled from a CoinGecko-compatible API, one day per
daily close, and the regime computed by the same engine as the wallet's gauge.

The API is a local server speaking CoinGecko's format (:mod:`tests.market_server`); the
expected results come from the index engine's own CSV path (``index regime --history``,
:func:`wallet_app.index.regime.regime_from_csv`), so a second implementation in the
operator (a plain daily sum, say) could not pass.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from wallet_app.index.inputs import MarketAsset
from wallet_app.index.regime import regime_from_csv
from wallet_app.models import Regime
from wallet_app.operator_market import (
    CoinGeckoSource,
    HistoryFile,
    SnapshotSource,
    chart_close_day,
)

from .market_server import CoinGeckoServer

D = date(2026, 6, 30)  # the first close the service makes
START = D - timedelta(days=260)
ENTRY = D - timedelta(days=40)  # CCC's chart starts here (it entered the data then)


def _cap(coin: str, d: date) -> Decimal:
    """Scripted caps: AAA flat then down 12% over the last 3 days, BBB rising slowly, CCC
    (large, so a plain sum would jump when it appears) flat from its entry."""
    k = (d - START).days
    if coin == "aaa":
        return Decimal(900_000_000_000) * (Decimal("0.88") if d >= D - timedelta(days=2)
                                           else 1)
    if coin == "bbb":
        return Decimal(100_000_000_000) + Decimal(50_000_000) * k
    return Decimal(500_000_000_000)


def _snapshot(d: date) -> list[MarketAsset]:
    pads = [MarketAsset(f"pad-{i}", f"PAD{i}", f"Pad {i}", Decimal(1), Decimal(10 + i),
                        Decimal(0)) for i in range(100)]  # no volume: ineligible
    return pads + [MarketAsset(c, c.upper(), c, Decimal(1), _cap(c, d), Decimal(10**9))
                   for c in ("aaa", "bbb", "ccc")]


@pytest.fixture
def server() -> Iterator[CoinGeckoServer]:
    s = CoinGeckoServer()
    days = [START + timedelta(days=i) for i in range((D - START).days + 10)]
    s.set_charts({c: [(d, _cap(c, d)) for d in days if c != "ccc" or d >= ENTRY]
                  for c in ("aaa", "bbb", "ccc")})
    yield s
    s.server.shutdown()


def _close(s: CoinGeckoServer, day: date) -> None:
    """The service's clock at the close of ``day`` (just after the next 00:00 UTC)."""
    s.now = datetime.combine(day + timedelta(days=1), time(0, 0, 30), UTC)
    s.set_assets(_snapshot(day))


def _expected(tmp: Path, through: date) -> object:
    """The same caps as a per-asset CSV, through the index engine's own reader."""
    path = tmp / "expected.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "symbol", "market_cap"])
        d = START
        while d <= through:
            for c in ("aaa", "bbb", "ccc"):
                if c != "ccc" or d >= ENTRY:
                    w.writerow([d.isoformat(), c.upper(), str(_cap(c, d))])
            d += timedelta(days=1)
    return regime_from_csv(path)


def test_chart_points_at_midnight_close_the_day_before() -> None:
    assert chart_close_day(datetime(2026, 7, 1, tzinfo=UTC)) == date(2026, 6, 30)
    assert chart_close_day(datetime(2026, 7, 1, 0, 0, 1, tzinfo=UTC)) == date(2026, 7, 1)


def test_first_close_backfills_from_charts_and_matches_the_gauges_engine(
        server: CoinGeckoServer, tmp_path: Path) -> None:
    source = CoinGeckoSource(server.url, HistoryFile(tmp_path / "market_caps.csv"),
                             history_days=300)
    _close(server, D)
    result = source.regime(D)
    # One chart per eligible asset (the pads have no volume: not fetched), 300 days back.
    assert sorted(c for c, _ in server.chart_hits) == ["aaa", "bbb", "ccc"]
    assert {n for _, n in server.chart_hits} == {302}
    assert result is not None and result.latest is not None
    assert result.to_dict() == _expected(tmp_path, D).to_dict()  # type: ignore[attr-defined]
    # Chain-linked: CCC's appearance is no jump in M (a plain sum would add 5e11).
    m = {p.day: p.value for p in result.series}
    before = m[ENTRY - timedelta(days=1)]
    assert m[ENTRY] / before == (_cap("aaa", ENTRY) + _cap("bbb", ENTRY)) / (
        _cap("aaa", ENTRY - timedelta(days=1)) + _cap("bbb", ENTRY - timedelta(days=1)))
    # The last three closes are 10% below the 200-day average: Bear at D, flipped at D.
    assert result.latest.day == D and result.latest.state is Regime.BEAR
    assert result.latest.rho <= Decimal("-0.05")
    assert [(f.day, f.to_state) for f in result.flips] == [(D, Regime.BEAR)]


def test_later_closes_take_the_snapshot_and_fill_only_a_gap(
        server: CoinGeckoServer, tmp_path: Path) -> None:
    history = HistoryFile(tmp_path / "market_caps.csv")
    source = CoinGeckoSource(server.url, history, history_days=300)
    _close(server, D)
    source.regime(D)
    server.chart_hits.clear()
    _close(server, D + timedelta(days=1))
    result = source.regime(D + timedelta(days=1))
    assert server.chart_hits == []  # the close's snapshot is the only request
    assert result is not None and result.latest is not None
    assert result.latest.day == D + timedelta(days=1)
    # The service was down two days: the next close fills them from the charts.
    far = D + timedelta(days=4)
    _close(server, far)
    result = source.regime(far)
    assert sorted(server.chart_hits) == [("aaa", 4), ("bbb", 4), ("ccc", 4)]
    assert result is not None
    assert result.to_dict() == _expected(tmp_path, far).to_dict()  # type: ignore[attr-defined]
    assert {D + timedelta(days=k) for k in (2, 3)} <= history.days()


def test_a_total_series_seed_is_continued_by_the_linked_table(tmp_path: Path) -> None:
    seed = tmp_path / "seed.csv"
    seed.write_text("date,market_cap\n2026-01-01,100\n2026-01-02,110\n")
    table = HistoryFile(tmp_path / "caps.csv", seed)
    from wallet_app.operator_market import CapRow

    table.record([CapRow(date(2026, 1, 2), "X", "x", Decimal(50)),
                  CapRow(date(2026, 1, 3), "X", "x", Decimal(55))])
    pts = [(p.day.day, p.value) for p in table.points()]
    assert pts == [(1, Decimal(100)), (2, Decimal(110)), (3, Decimal(121))]
    # The snapshot source reads the same history (3 days: no signal defined yet).
    snap = tmp_path / "snap.json"
    snap.write_text("[]")
    result = SnapshotSource(snap, table).regime(date(2026, 1, 3))
    assert result is not None and result.points == () and len(result.series) == 3
