"""Where the operator service gets its market data: snapshots and the regime's history.

Three sources, one interface (:class:`MarketSource`):

* ``coingecko``: a live CoinGecko-compatible API (any base URL: the real API, a mirror, a
  local test server), through :class:`~wallet_app.market.coingecko.CoinGeckoClient`
  (backoff on 429/5xx). The snapshot is ``/coins/markets``. The regime needs the market
  series M_t over at least 200 daily closes (METHODOLOGY section 5): the service keeps a
  per-asset daily table ``date,symbol,id,market_cap`` (``market_caps.csv``) of the
  eligible universe's largest assets, one day per daily close from that close's snapshot,
  and fills what it has not seen (its first start, or days it was down) from
  ``/coins/{id}/market_chart``. ``history`` (``--history FILE``) can seed it with a
  per-asset table or a total series ``date,market_cap``.
* ``snapshot``: a fixed ``/coins/markets``-shaped JSON file (or the app's dated snapshot);
  the regime from the history file alone.
* ``devnet``: the devnet's price replay (:class:`~wallet_app.devnet.market_clock.MarketClock`):
  caps moved by the replay's prices, the replay's own bench of non-members included, so that
  assets enter and leave the top 100.

One engine: every source's regime is :func:`wallet_app.index.regime.compute_regime` over a
series built by the index package (``series_from_table``: the methodology's chain-linking;
``series_from_totals``), the same code the wallet's gauge, its regime chart, the backtest
and the rule verifier run. Nothing here computes a signal of its own.

Choices (METHODOLOGY leaves them open):

* The history's universe is the snapshot's eligible assets (section 2, the full screen),
  largest ``history_assets`` (default 100) first: they hold nearly all of the eligible
  universe's market cap, and one chart request each is what the API's rate limits allow.
  Chain-linking makes the universe's changes (an asset entering the top, a chart that is
  missing) no jump in M.
* A ``market_chart`` point stamped at 00:00 UTC is the close of the day that just ended
  (:func:`chart_close_day`); the last point of a day wins. The day being closed always
  comes from the close's own ``/coins/markets`` snapshot, never from a chart.
* A total-series seed and the per-asset table are spliced: the seed up to the last day
  both have, then the chain-linked series scaled to meet it; with no common day the
  linked series continues from the seed's last value (M carried unchanged across the gap,
  as ``series_from_table`` does when it cannot link).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from .index.inputs import MarketAsset
from .index.regime import RegimeResult, compute_regime
from .market import cap_history
from .market.cap_history import (  # noqa: F401 - re-exported: the operator's names
    FREE_CHART_DAYS,
    HISTORY_ASSETS,
    HISTORY_DAYS,
    CapRow,
    HistoryFile,
    chart_close_day,
    splice,
)
from .operator_plan import MarketView

log = logging.getLogger(__name__)


class MarketSource(Protocol):
    def snapshot(self) -> MarketView: ...

    def regime(self, day: date) -> RegimeResult | None: ...


def history_universe(view: MarketView, n: int = HISTORY_ASSETS) -> list[MarketAsset]:
    """The eligible assets of a snapshot, largest first (ties by id), the first ``n``."""
    return cap_history.history_universe(view.assets, n)


class CoinGeckoSource:
    """Live ``/coins/markets`` and ``/coins/{id}/market_chart`` from a compatible server."""

    def __init__(self, base_url: str | None, history: HistoryFile, *, api_key: str = "",
                 plan: str = "demo", pages: int = 2, per_page: int = 250,
                 cache_dir: Path | None = None, history_assets: int = HISTORY_ASSETS,
                 history_days: int = HISTORY_DAYS) -> None:
        from .market.cache import ResponseCache
        from .market.coingecko import CoinGeckoClient

        cache = ResponseCache(cache_dir) if cache_dir else None
        self.client = CoinGeckoClient(api_key, plan, base_url=base_url, cache=cache)
        self.history = history
        self.pages, self.per_page = pages, per_page
        self.history_assets, self.history_days = history_assets, history_days

    def snapshot(self) -> MarketView:
        snap = self.client.coins_markets(pages=self.pages, per_page=self.per_page,
                                         min_assets=100, use_cache=False)
        return MarketView(tuple(snap.assets), snap.as_of.astimezone(UTC).isoformat(),
                          f"coingecko {self.client.base_url}")

    def regime(self, day: date) -> RegimeResult | None:
        """The signal at the close of ``day``: that close's caps from a fresh snapshot,
        the days before from the history file, any day it lacks from the charts."""
        universe = history_universe(self.snapshot(), self.history_assets)
        self.history.record(CapRow(day, a.symbol, a.id, a.market_cap) for a in universe)
        self.backfill(day, universe)
        points = [p for p in self.history.points() if p.day <= day]
        return compute_regime(points) if points else None

    def backfill(self, day: date, universe: list[MarketAsset]) -> int:
        """Fill the days before ``day`` the table does not have from each asset's chart
        (:func:`wallet_app.market.cap_history.backfill`): on the first start (or while
        fewer than 200 of those days are stored) the last ``history_days``; later only the
        gap since the last stored day (the days the service was down). Returns the rows
        added."""
        return cap_history.backfill(self.client, self.history, day, universe,
                                    history_days=self.history_days).added


class SnapshotSource:
    """A fixed snapshot file (or the app's own snapshot); the regime from a history file."""

    def __init__(self, file: Path | None, history: HistoryFile) -> None:
        from .market.snapshot import load_app_snapshot, load_snapshot_file

        snap = load_snapshot_file(file, "file") if file else load_app_snapshot()
        self.view = MarketView(tuple(snap.assets), snap.as_of.isoformat(), snap.source)
        self.history = history

    def snapshot(self) -> MarketView:
        return self.view

    def regime(self, day: date) -> RegimeResult | None:
        points = [p for p in self.history.points() if p.day <= day]
        return compute_regime(points) if points else None


@dataclass
class DevnetSource:
    """The devnet's replay: members and bench at caps moved by the replay's prices."""

    clock_file: Path

    def _clock(self):  # -> MarketClock
        from .devnet.market_clock import MarketClock

        clock = MarketClock.load(self.clock_file)
        if clock is None:
            raise RuntimeError("the devnet has no market clock; run `index-wallet devnet up`")
        return clock

    def snapshot(self) -> MarketView:
        from .devnet.reconstitution import devnet_market_assets

        clock = self._clock()
        assets = devnet_market_assets(clock)
        stamp = datetime.combine(clock.today, datetime.min.time(), UTC).isoformat()
        return MarketView(tuple(assets), stamp, f"devnet replay (seed {clock.seed})")

    def regime(self, day: date) -> RegimeResult | None:
        return self._clock().regime()

    def market_day(self) -> tuple[int, date]:
        """(replay day index, its date): the service's calendar on the devnet."""
        clock = self._clock()
        return clock.day_index, clock.today
