"""The wallet's own market data source off the devnet: an opt-in feed from a CoinGecko API.

On the devnet the regime gauge, its history and the performance benchmarks come from the
market replay (``devnet.market_clock``). On any other chain they need real daily market
caps; this feed keeps them, with the operator service's client and table format
(:mod:`.cap_history`), so the gauge is the same engine run on the same kind of data:
``series_from_table`` (chain-linking) then ``compute_regime``.

Privacy: contacting a third-party API tells it the user's IP address and when the app
runs, so the feed does nothing, not one request, until ``market_history`` is turned on in
the settings. Then:

* the table lives under ``<data>/market_feed/<host-hash>/`` (one folder per API base URL:
  a test server's or a mirror's data never answers for another source);
* a refresh reads one ``/coins/markets`` snapshot (the top-100 universe) and each of those
  assets' ``/coins/{id}/market_chart``: the last 360 days the first time, the days since
  the last stored close after that. Every close comes from the charts (a point stamped
  00:00 UTC is the close of the day before), never from an intraday snapshot;
* it runs at most once per daily close (00:00 UTC), on a background thread started by
  :meth:`MarketFeed.kick`: nothing on the caller's thread waits for the network;
* a failure (offline, rate limit, a server error) keeps everything already stored, is said
  in :attr:`FeedStatus.error`, and is retried no sooner than :data:`RETRY_AFTER`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..config import Settings
from ..index.errors import IndexDataError
from ..index.regime import RegimeResult, compute_regime
from ..paths import AppPaths
from .cap_history import (
    HISTORY_ASSETS,
    HISTORY_DAYS,
    CloseFile,
    HistoryFile,
    backfill,
    history_universe,
)
from .errors import MarketDataError

log = logging.getLogger(__name__)

#: After a failed refresh, the next try waits this long (a rate limit, a network down).
RETRY_AFTER = timedelta(minutes=15)
#: What the GUI and CLI say while the feed is off.
OFF_NOTE = ("Market data is off. The gauge, its history and the benchmarks need daily "
            "market caps from a CoinGecko-compatible API, which sees your IP address: turn "
            "on Market history in Settings (market_history = true).")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FeedStatus:
    """Where the feed stands, in words the GUI can show as they are."""

    enabled: bool
    #: The last daily close the table holds completely (None: nothing read yet).
    last_close: date | None
    refreshing: bool
    #: Why the last refresh fell short ("" when it did not); the stored data still shows.
    error: str
    source: str  # "coingecko https://api.coingecko.com/api/v3"

    @property
    def note(self) -> str:
        """One line for the gauge and the Strategy dialog ("" when all is well)."""
        if not self.enabled:
            return OFF_NOTE
        if self.error:
            kept = (f" Showing the data up to the close of {self.last_close:%d %b %Y}."
                    if self.last_close else "")
            return f"Market data could not be refreshed: {self.error}.{kept} " \
                   "The app tries again later."
        if self.last_close is None:
            return ("Reading the market history from the API (the first time takes a "
                    "minute or more: one request per asset)\u2026")
        return ""


class MarketFeed:
    """Daily market caps (and closes) of the top 100, read from the API when enabled."""

    def __init__(self, settings: Settings, paths: AppPaths, *, client: Any = None,
                 clock: Callable[[], datetime] = utcnow,
                 history_assets: int = HISTORY_ASSETS,
                 history_days: int = HISTORY_DAYS) -> None:
        self.settings, self.paths = settings, paths
        self.clock = clock
        self.history_assets, self.history_days = history_assets, history_days
        self._client = client
        self._lock = threading.Lock()  # one refresh at a time
        self._start = threading.Lock()  # one background thread at a time
        self._thread: threading.Thread | None = None
        self._cache: dict[str, tuple[Any, Any]] = {}
        self.base_url = self._base_url()
        tag = hashlib.sha256(self.base_url.encode()).hexdigest()[:12]
        self.folder = paths.data_dir / "market_feed" / tag
        self.history = HistoryFile(self.folder / "market_caps.csv")
        self.closes = CloseFile(self.folder / "closes.csv")
        self._io = threading.Lock()  # appends (refresh thread) vs reads (caller's thread)
        self.history.lock = self.closes.lock = self._io
        self.state_file = self.folder / "state.json"

    @property
    def enabled(self) -> bool:
        return bool(self.settings.market_history)

    def _base_url(self) -> str:
        from .coingecko import PRO_BASE_URL, PUBLIC_BASE_URL

        default = PRO_BASE_URL if self.settings.coingecko_plan == "pro" else PUBLIC_BASE_URL
        return (os.environ.get("COINGECKO_BASE_URL", "") or self.settings.coingecko_base_url
                or default).rstrip("/")

    @property
    def client(self) -> Any:
        if self._client is None:
            from .coingecko import CoinGeckoClient

            # No response cache: the feed's own table is its cache.
            self._client = CoinGeckoClient.from_settings(self.settings, self.paths,
                                                         cache=None)
        return self._client

    # ------------------------------------------------------------------ state

    def _state(self) -> dict[str, str]:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_state(self, **values: str) -> None:
        state = {**self._state(), **values, "base_url": self.base_url}
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.state_file)

    def status(self) -> FeedStatus:
        st = self._state()
        last = st.get("last_close")
        return FeedStatus(self.enabled, date.fromisoformat(last) if last else None,
                          self.refreshing, st.get("error", "") if self.enabled else "",
                          f"coingecko {self.base_url}")

    @property
    def refreshing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def due(self) -> bool:
        """Whether a refresh would read anything: on, the newest daily close not stored
        yet, and no failed try within :data:`RETRY_AFTER`."""
        if not self.enabled:
            return False
        now = self.clock()
        st = self._state()
        newest = now.date() - timedelta(days=1)
        if st.get("last_close") and date.fromisoformat(st["last_close"]) >= newest:
            return False
        failed = st.get("failed_at")
        return not (failed and now - datetime.fromisoformat(failed) < RETRY_AFTER)

    # ------------------------------------------------------------------ refresh

    def kick(self) -> bool:
        """Start a refresh on a background thread when one is due; never waits. True when
        one was started."""
        with self._start:
            if not self.due() or self.refreshing:
                return False
            self._thread = threading.Thread(target=self._refresh_if_due, name="market-feed",
                                            daemon=True)
            self._thread.start()
            return True

    def _refresh_if_due(self) -> None:
        try:
            if self.due():  # a forced refresh may have run meanwhile
                self.refresh()
        except Exception:  # noqa: BLE001 - a background thread must not die silently
            log.exception("market feed: refresh failed")

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a running background refresh (tests, the CLI)."""
        t = self._thread
        if t is not None:
            t.join(timeout)

    def refresh(self) -> FeedStatus:
        """Read the closes the table lacks, up to the last daily close (blocking: call it
        off the GUI thread, or through :meth:`kick`). Never raises for a market-data
        problem: it is recorded in the status and the stored data stays."""
        if not self.enabled:
            return self.status()
        with self._lock:
            now = self.clock()
            today = now.date()
            try:
                snap = self.client.coins_markets(min_assets=100, use_cache=False)
                universe = history_universe(snap.assets, self.history_assets)
                res = backfill(self.client, self.history, today, universe,
                               history_days=self.history_days, closes=self.closes,
                               keep_partial=False)
            except MarketDataError as exc:
                log.warning("market feed: refresh failed (%s)", type(exc).__name__)
                self._save_state(error=str(exc).rstrip("."), failed_at=now.isoformat())
                return self.status()
            if res.rate_limited:
                error = (f"the API rate-limited the app after {res.charts} of "
                         f"{len(universe)} charts")
            elif universe and not res.charts:
                error = "no asset's chart could be read"
            else:
                error = ""
            if error:
                self._save_state(error=error, failed_at=now.isoformat())
            else:
                self._save_state(error="", failed_at="",
                                 last_close=(today - timedelta(days=1)).isoformat())
            return self.status()

    # ------------------------------------------------------------------ reads (no network)

    def _cached(self, name: str, files: tuple[Path, ...], build: Callable[[], Any]) -> Any:
        """``build()`` once per version of ``files`` (size and mtime): the GUI asks on
        every refresh and the table changes once a day."""
        key = tuple((p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else None
                    for p in files)
        hit = self._cache.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        try:
            with self._io:
                value = build()
        except (IndexDataError, OSError, ValueError) as exc:  # a damaged file: say so, once
            log.warning("market feed: %s unreadable (%s)", name, exc)
            return hit[1] if hit is not None else None
        self._cache[name] = (key, value)
        return value

    def regime(self) -> RegimeResult | None:
        """The engine's signal over the stored closes; None while nothing is stored (or
        the feed is off: then nothing is read, not even the disk)."""
        if not self.enabled:
            return None

        def build() -> RegimeResult | None:
            points = self.history.points()
            return compute_regime(points) if points else None

        return self._cached("regime", (self.history.path,), build)

    def benchmarks(self) -> dict[str, list[tuple[date, Decimal]]]:
        """The performance table's benchmarks over the stored days: BTC's daily closes and
        the same top 100 always invested (the rules without the regime switch)."""
        if not self.enabled:
            return {}

        def build() -> tuple[list[Any], list[Any]]:
            return self.history.asset_days(), self.closes.rows()

        files = (self.history.path, self.closes.path)
        tables = self._cached("tables", files, build)
        if not tables or not tables[0] or not tables[1]:
            return {}
        return self._cached("bench", files, lambda: _benchmarks(*tables)) or {}


def _benchmarks(caps: list[Any], prices: list[Any]) -> dict[str, list[tuple[date, Decimal]]]:
    """BTC's closes and the rules without the regime switch, over the stored days."""
    from ..index.backtest import BacktestConfig, run_backtest

    out = {"BTC": sorted((p.day, p.close) for p in prices if p.symbol == "BTC")}
    try:
        result = run_backtest(caps, prices, BacktestConfig(use_regime=False))
    except (IndexDataError, ValueError, ArithmeticError) as exc:
        log.warning("market feed: benchmark backtest failed (%s)", exc)
    else:
        out["Top 100, always invested"] = [(p.day, p.nav) for p in result.points]
    return {k: v for k, v in out.items() if v}
