"""Where the operator service gets its market data: snapshots and the regime's history.

Three sources, one interface (:class:`MarketSource`):

* ``coingecko``: a live CoinGecko-compatible ``/coins/markets`` API (any base URL: the real
  API, a mirror, a local test server), through :class:`~wallet_app.market.coingecko.CoinGeckoClient`
  (cache, backoff on 429/5xx). The regime needs a daily total market cap: the service
  appends one point per daily close (the eligible universe's total from that day's
  snapshot) to its own ``market_history.csv``, which ``--history FILE`` can seed with a
  ``date,market_cap`` series (200 days are needed before the signal is defined).
* ``snapshot``: a fixed ``/coins/markets``-shaped JSON file (or the app's dated snapshot).
* ``devnet``: the devnet's price replay (:class:`~wallet_app.devnet.market_clock.MarketClock`):
  caps moved by the replay's prices, the replay's own bench of non-members included, so that
  assets enter and leave the top 100.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from .index.eligibility import screen
from .index.inputs import MarketAsset
from .index.regime import MarketPoint, RegimeResult, compute_regime
from .operator_plan import MarketView


class MarketSource(Protocol):
    def snapshot(self) -> MarketView: ...

    def regime(self, day: date) -> RegimeResult | None: ...


def eligible_total(assets: tuple[MarketAsset, ...] | list[MarketAsset]) -> Decimal:
    """Total market cap of the eligible universe (METHODOLOGY section 2)."""
    return sum((a.market_cap for a in screen(list(assets)).eligible  # type: ignore[misc]
                if a.market_cap), Decimal(0))


class HistoryFile:
    """The service's own daily series ``date,market_cap`` (one row per UTC day)."""

    def __init__(self, path: Path, seed: Path | None = None) -> None:
        self.path = path
        self.seed = seed

    def points(self) -> list[MarketPoint]:
        rows: dict[date, Decimal] = {}
        for p in (self.seed, self.path):
            if p is None or not p.is_file():
                continue
            with p.open(newline="", encoding="utf-8") as fh:
                for r in csv.DictReader(fh):
                    try:
                        rows[date.fromisoformat(r["date"])] = Decimal(r["market_cap"])
                    except (KeyError, ValueError, ArithmeticError):
                        continue
        return [MarketPoint(d, rows[d]) for d in sorted(rows)]

    def append(self, day: date, total: Decimal) -> None:
        known = {p.day for p in self.points()}
        if day in known:
            return
        new = not self.path.is_file()
        with self.path.open("a", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            if new:
                w.writerow(["date", "market_cap"])
            w.writerow([day.isoformat(), str(total)])


class CoinGeckoSource:
    """Live ``/coins/markets`` from a CoinGecko-compatible server."""

    def __init__(self, base_url: str | None, history: HistoryFile, *, api_key: str = "",
                 plan: str = "demo", pages: int = 2, per_page: int = 250,
                 cache_dir: Path | None = None) -> None:
        from .market.cache import ResponseCache
        from .market.coingecko import CoinGeckoClient

        cache = ResponseCache(cache_dir) if cache_dir else None
        self.client = CoinGeckoClient(api_key, plan, base_url=base_url, cache=cache)
        self.history = history
        self.pages, self.per_page = pages, per_page
        self._last: MarketView | None = None

    def snapshot(self) -> MarketView:
        snap = self.client.coins_markets(pages=self.pages, per_page=self.per_page,
                                         min_assets=100, use_cache=False)
        view = MarketView(tuple(snap.assets), snap.as_of.astimezone(UTC).isoformat(),
                          f"coingecko {self.client.base_url}")
        self._last = view
        return view

    def regime(self, day: date) -> RegimeResult | None:
        view = self._last or self.snapshot()
        self.history.append(day, eligible_total(view.assets))
        points = self.history.points()
        return compute_regime(points) if points else None


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
        points = self.history.points()
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
