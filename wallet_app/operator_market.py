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

import csv
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Protocol

from .index.eligibility import screen
from .index.history import AssetDay, detect_kind, read_asset_table, read_total_series
from .index.inputs import MarketAsset
from .index.regime import (
    RATIO_CONTEXT,
    MarketPoint,
    RegimeResult,
    compute_regime,
    series_from_table,
    series_from_totals,
)
from .index.rules import DEFAULT_RULES
from .operator_plan import MarketView

log = logging.getLogger(__name__)

#: Days the first backfill asks for: the 200-day average, and the state's hysteresis run
#: from well before the close (a state depends on the path since the first defined day).
HISTORY_DAYS = 360
#: The keyless and demo plans serve ``market_chart`` for the past 365 days only.
FREE_CHART_DAYS = 365
#: The eligible assets (largest first) whose caps make up the history.
HISTORY_ASSETS = 100


class MarketSource(Protocol):
    def snapshot(self) -> MarketView: ...

    def regime(self, day: date) -> RegimeResult | None: ...


def chart_close_day(t: datetime) -> date:
    """The UTC day whose close a chart point is: a point stamped exactly at 00:00 UTC is
    the next day's opening, i.e. the close of the day that just ended."""
    return (t - timedelta(milliseconds=1)).astimezone(UTC).date()


@dataclass(frozen=True)
class CapRow:
    """One asset's market cap at one daily close, as the history file stores it."""

    day: date
    symbol: str
    id: str
    market_cap: Decimal


class HistoryFile:
    """The service's per-asset daily table ``date,symbol,id,market_cap`` (plus a seed)."""

    HEADER = ("date", "symbol", "id", "market_cap")

    def __init__(self, path: Path, seed: Path | None = None) -> None:
        self.path = path
        self.seed = seed

    def _read(self) -> tuple[dict[tuple[date, str], Decimal], dict[date, Decimal]]:
        per_asset: dict[tuple[date, str], Decimal] = {}
        totals: dict[date, Decimal] = {}
        for p in (self.seed, self.path):  # the service's own rows win over the seed's
            if p is None or not p.is_file():
                continue
            if detect_kind(p) == "per-asset":
                per_asset.update({(r.day, r.symbol): r.market_cap for r in read_asset_table(p)})
            else:
                totals.update(dict(read_total_series(p)))
        return per_asset, totals

    def days(self) -> set[date]:
        """The days the per-asset table (seed included) has at least one cap for."""
        return {d for d, _s in self._read()[0]}

    def points(self) -> list[MarketPoint]:
        """The market series M_t, built by the index engine from what is stored."""
        per_asset, totals = self._read()
        linked = series_from_table(AssetDay(d, s, v) for (d, s), v in per_asset.items()) \
            if per_asset else []
        if not totals:
            return linked
        seed = series_from_totals(totals.items())
        return splice(seed, linked) if linked else seed

    def record(self, rows: Iterable[CapRow]) -> int:
        """Append the rows whose (day, symbol) is not stored yet; returns how many."""
        have = set(self._read()[0])  # the seed's days included: a seed is not copied
        new = sorted({(r.day, r.symbol.upper()): r for r in rows
                      if (r.day, r.symbol.upper()) not in have and r.market_cap > 0}.values(),
                     key=lambda r: (r.day, r.symbol.upper()))
        if not new:
            return 0
        fresh = not self.path.is_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            if fresh:
                w.writerow(self.HEADER)
            for r in new:
                w.writerow([r.day.isoformat(), r.symbol.upper(), r.id, str(r.market_cap)])
        return len(new)


def splice(seed: list[MarketPoint], linked: list[MarketPoint]) -> list[MarketPoint]:
    """A total-series seed, then the chain-linked series scaled to continue it."""
    if not seed:
        return linked
    at = {p.day: p.value for p in seed}
    common = [p for p in linked if p.day in at]
    if common:
        anchor_day, anchor, own = common[-1].day, at[common[-1].day], common[-1].value
    else:
        after = [p for p in linked if p.day > seed[-1].day]
        if not after:
            return seed
        anchor_day, anchor, own = seed[-1].day, seed[-1].value, after[0].value
    with localcontext(RATIO_CONTEXT):
        scale = anchor / own
        tail = [MarketPoint(p.day, p.value * scale) for p in linked if p.day > anchor_day]
    return [p for p in seed if p.day <= anchor_day] + tail


def history_universe(view: MarketView, n: int = HISTORY_ASSETS) -> list[MarketAsset]:
    """The eligible assets of a snapshot, largest first (ties by id), the first ``n``."""
    return list(screen(list(view.assets)).eligible[:n])


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
        """Fill the days before ``day`` the table does not have from each asset's chart:
        on the first start (or while fewer than 200 of those days are stored) the last
        ``history_days``; later only the gap since the last stored day (the days the
        service was down). Returns the rows added."""
        from .market.errors import MarketDataError, RateLimitedError

        window = day - timedelta(days=self.history_days)
        before = [d for d in self.history.days() if window <= d < day]
        # Too short for the 200-day average (the first start, or an API that failed
        # then): the whole window again; else only the days since the last stored one.
        start = max(before) + timedelta(days=1) if len(before) >= DEFAULT_RULES.sma_days \
            else window
        if start >= day:
            return 0
        span = (day - start).days + 2  # `days` counts back from now (the close's next day)
        if self.client.plan != "pro":
            span = min(span, FREE_CHART_DAYS)
        rows: list[CapRow] = []
        for a in universe:
            try:
                chart = self.client.market_chart(a.id, days=span, interval="daily",
                                                 use_cache=False)
            except RateLimitedError as exc:  # the API's budget is spent: the rest next close
                log.warning("market history: rate-limited after %s (%s); the history is "
                            "built from the charts read so far", a.id, exc)
                break
            except MarketDataError as exc:  # one asset short: chain-linking absorbs it
                log.warning("market history of %s not available (%s)", a.id, exc)
                continue
            last: dict[date, tuple[datetime, Decimal]] = {}
            for t, v in chart.market_caps:
                d = chart_close_day(t)
                if v is not None and v > 0 and start <= d < day and \
                        (d not in last or last[d][0] <= t):
                    last[d] = (t, v)
            rows += [CapRow(d, a.symbol, a.id, v) for d, (_t, v) in last.items()]
        added = self.history.record(rows)
        log.info("market history: %d caps added for %s..%s from %d charts", added, start,
                 day - timedelta(days=1), len(universe))
        return added


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
