"""The NAV chart's backtest part: the methodology run on history before the vault's first day.

A vault's own NAV history starts the day it was deployed. Before that, the chart shows what
the same rules (:func:`~.backtest.run_backtest`: regime switch, weekly reconstitution, fees)
would have done on market data, *labelled as a backtest* and scaled so that its last point
equals the vault's first NAV (a chart reads as one line; the join is a scale, not a claim
that the vault existed).

Sources, best first:

* real daily market caps and closes from the research data in ``../shared/data/market``
  (found beside the checkout, or at ``$G100_MARKET_DATA``); read in place, never copied;
* on the devnet, the market replay's own days before its anchor (real closes when the
  devnet replays a history file, else the seeded synthetic market, and the label says so).

Results are cached per source for the life of the process: reading the real tables and
running five years of the rules takes about two seconds, on the worker thread.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from .backtest import BacktestConfig, run_backtest
from .history import AssetDay, PriceDay, read_asset_table, read_price_table

CAPS_FILE = "daily_market_caps_2020-2025.csv"
PRICES_FILE = "daily_ohlcv_2020-2025.csv"
_lock = threading.Lock()
_cache: dict[tuple[Any, ...], tuple[tuple[date, Decimal], ...]] = {}


@dataclass(frozen=True)
class NavBacktest:
    """Backtest NAV points (scaled to join the vault's first NAV) and what they are."""

    points: list[tuple[datetime, Decimal]]
    label: str  # e.g. "Backtest: the rules on real market data, Jul 2020 - Oct 2025"
    #: Every point is scaled by one factor so that the last equals the vault's first NAV.
    source: str  # "real data" | "devnet replay (real closes)" | "devnet replay (simulated)"
    joins_at: datetime  # the vault's first NAV point, where the backtest is scaled to meet


def shared_market_dir() -> Path | None:
    """The research data folder when present (``$G100_MARKET_DATA`` or ``../shared``)."""
    env = os.environ.get("G100_MARKET_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "data" / "market")
    for d in candidates:
        if (d / CAPS_FILE).is_file() and (d / PRICES_FILE).is_file():
            return d
    return None


def _run_cached(key: tuple[Any, ...], caps: Any, prices: Any, end: date | None
                ) -> tuple[tuple[date, Decimal], ...]:
    with _lock:
        if key in _cache:
            return _cache[key]
    table_caps, table_prices = caps(), prices()
    # The default 10,000 USDC start: the rules' 10 USDC minimum trade must not bind (the
    # series is rescaled to the vault's NAV anyway).
    result = run_backtest(table_caps, table_prices, BacktestConfig(end=end))
    pts = tuple((p.day, p.nav) for p in result.points)
    with _lock:
        _cache[key] = pts
    return pts


def real_data_backtest(folder: Path, before: date) -> tuple[tuple[date, Decimal], ...]:
    """The rules on the real tables, up to the day before ``before``."""
    caps_file, px_file = folder / CAPS_FILE, folder / PRICES_FILE
    key = ("real", str(folder), caps_file.stat().st_mtime_ns, px_file.stat().st_mtime_ns,
           before)
    end = date.fromordinal(before.toordinal() - 1)
    return _run_cached(key, lambda: read_asset_table(caps_file),
                       lambda: read_price_table(px_file), end)


def replay_backtest(clock: Any) -> tuple[tuple[date, Decimal], ...]:
    """The rules on the devnet replay's days up to its anchor (supply held constant)."""
    paths = clock.paths()
    k = paths.anchor_index
    key = ("replay", clock.seed, clock.anchor_day, clock.history_csv,
           tuple(sorted(clock.caps.items())))

    def tables() -> tuple[list[AssetDay], list[PriceDay]]:
        caps_rows, px_rows = [], []
        for sym, series in paths.prices.items():
            cap0 = Decimal(clock.caps.get(sym, "0"))
            if not cap0 or not series[k]:
                continue
            for i in range(k + 1):
                d, px = paths.days[i], series[i]
                caps_rows.append(AssetDay(d, sym, cap0 * px / series[k]))
                px_rows.append(PriceDay(d, sym, px, None))
        return caps_rows, px_rows

    built: dict[str, Any] = {}

    def once() -> tuple[list[AssetDay], list[PriceDay]]:
        if "t" not in built:
            built["t"] = tables()
        return built["t"]

    return _run_cached(key, lambda: once()[0], lambda: once()[1], None)


def scale_to_join(points: tuple[tuple[date, Decimal], ...], first_nav: Decimal,
                  first_at: datetime) -> list[tuple[datetime, Decimal]]:
    """Backtest points as (00:00 UTC, NAV) scaled so the last equals ``first_nav``; only
    the days before the vault's first point."""
    kept = [(datetime.combine(d, time(0), tzinfo=UTC), v) for d, v in points
            if datetime.combine(d, time(0), tzinfo=UTC) < first_at and v > 0]
    if not kept:
        return []
    factor = first_nav / kept[-1][1]
    return [(t, (v * factor).quantize(Decimal("0.000001"))) for t, v in kept]


def nav_backtest(first_at: datetime, first_nav: Decimal, clock: Any = None
                 ) -> NavBacktest | None:
    """The chart's backtest before the vault's first NAV point, or None without data."""
    folder = shared_market_dir()
    if folder is not None:
        raw = real_data_backtest(folder, first_at.date())
        source, what = "real data", "real market data"
    elif clock is not None:
        raw = replay_backtest(clock)
        real = bool(clock.history_csv)
        source = "devnet replay (real closes)" if real else "devnet replay (simulated)"
        what = "the devnet's replay of real closes" if real else \
            "the devnet's simulated market"
    else:
        return None
    pts = scale_to_join(raw, first_nav, first_at)
    if len(pts) < 2:
        return None
    span = f"{pts[0][0]:%b %Y} \u2013 {pts[-1][0]:%b %Y}"
    return NavBacktest(pts, f"Backtest: the rules on {what}, {span}", source, first_at)
