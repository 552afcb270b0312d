"""A per-asset daily market-cap history kept on disk, filled from a CoinGecko-compatible API.

The regime signal needs the market series M_t over at least 200 daily closes (METHODOLOGY
section 5). Two programs keep one: the operator service (``operator_market``: one close per
day from that close's snapshot, the gaps from charts) and the wallet's opt-in market feed
(``market.feed``: every close from the charts). Both use this module, so there is one
table format, one way of reading a chart's daily points and one backfill rule, and one
client (:class:`~wallet_app.market.coingecko.CoinGeckoClient`).

The table is ``date,symbol,id,market_cap`` (:class:`HistoryFile`); a total series
``date,market_cap`` may seed it. The series M_t is built by the index engine
(``series_from_table``: the methodology's chain-linking; ``series_from_totals``): nothing
here computes a signal of its own. :class:`CloseFile` keeps the same charts' daily closes
(``date,symbol,id,close``), which the wallet's performance benchmarks need.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from ..index.eligibility import screen
from ..index.history import AssetDay, PriceDay, detect_kind, read_asset_table, read_total_series
from ..index.inputs import MarketAsset
from ..index.regime import RATIO_CONTEXT, MarketPoint, series_from_table, series_from_totals
from ..index.rules import DEFAULT_RULES

log = logging.getLogger(__name__)

#: Days the first backfill asks for: the 200-day average, and the state's hysteresis run
#: from well before the close (a state depends on the path since the first defined day).
HISTORY_DAYS = 360
#: The keyless and demo plans serve ``market_chart`` for the past 365 days only.
FREE_CHART_DAYS = 365
#: The eligible assets (largest first) whose caps make up the history.
HISTORY_ASSETS = 100


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


class _DayTable:
    """An append-only CSV of one value per (day, symbol): what was written is never
    rewritten, so a crash mid-append loses at most the rows being added."""

    HEADER: tuple[str, ...] = ()

    def __init__(self, path: Path) -> None:
        self.path = path
        #: Held while appending: a reader on another thread that takes it too never
        #: reads a half-written row (the wallet's feed appends on its own thread).
        self.lock: AbstractContextManager[Any] = nullcontext()

    def _have(self) -> set[tuple[date, str]]:
        raise NotImplementedError

    def _append(self, rows: Sequence[Sequence[str]]) -> None:
        fresh = not self.path.is_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock, self.path.open("a", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            if fresh:
                w.writerow(self.HEADER)
            w.writerows(rows)


class HistoryFile(_DayTable):
    """The per-asset daily table ``date,symbol,id,market_cap`` (plus an optional seed)."""

    HEADER = ("date", "symbol", "id", "market_cap")

    def __init__(self, path: Path, seed: Path | None = None) -> None:
        super().__init__(path)
        self.seed = seed

    def _read(self) -> tuple[dict[tuple[date, str], Decimal], dict[date, Decimal]]:
        per_asset: dict[tuple[date, str], Decimal] = {}
        totals: dict[date, Decimal] = {}
        for p in (self.seed, self.path):  # the table's own rows win over the seed's
            if p is None or not p.is_file():
                continue
            if detect_kind(p) == "per-asset":
                per_asset.update({(r.day, r.symbol): r.market_cap for r in read_asset_table(p)})
            else:
                totals.update(dict(read_total_series(p)))
        return per_asset, totals

    def _have(self) -> set[tuple[date, str]]:
        return set(self._read()[0])

    def asset_days(self) -> list[AssetDay]:
        """The per-asset rows (seed included), as the index engine reads them."""
        return [AssetDay(d, s, v) for (d, s), v in self._read()[0].items()]

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
        have = self._have()  # the seed's days included: a seed is not copied
        new = sorted({(r.day, r.symbol.upper()): r for r in rows
                      if (r.day, r.symbol.upper()) not in have and r.market_cap > 0}.values(),
                     key=lambda r: (r.day, r.symbol.upper()))
        if new:
            self._append([[r.day.isoformat(), r.symbol.upper(), r.id, str(r.market_cap)]
                          for r in new])
        return len(new)


class CloseFile(_DayTable):
    """The same charts' daily closes, ``date,symbol,id,close`` (USD)."""

    HEADER = ("date", "symbol", "id", "close")

    def rows(self) -> list[PriceDay]:
        if not self.path.is_file():
            return []
        with self.path.open(newline="", encoding="utf-8") as fh:
            return [PriceDay(date.fromisoformat(r["date"]), r["symbol"], Decimal(r["close"]),
                             None) for r in csv.DictReader(fh)]

    def _have(self) -> set[tuple[date, str]]:
        return {(p.day, p.symbol) for p in self.rows()}

    def record(self, rows: Iterable[tuple[date, str, str, Decimal]]) -> int:
        """Append (day, symbol, id, close) rows not stored yet; returns how many."""
        have = self._have()
        new = sorted({(d, s.upper()): (d, s.upper(), i, v) for d, s, i, v in rows
                      if (d, s.upper()) not in have and v > 0}.values())
        if new:
            self._append([[d.isoformat(), s, i, str(v)] for d, s, i, v in new])
        return len(new)


def splice(seed: list[MarketPoint], linked: list[MarketPoint]) -> list[MarketPoint]:
    """A total-series seed, then the chain-linked series scaled to continue it.

    With a common day the seed runs up to the last one and the linked series is scaled to
    meet it there; with none the linked series continues from the seed's last value (M
    carried unchanged across the gap, as ``series_from_table`` does when it cannot link)."""
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


def history_universe(assets: Sequence[MarketAsset], n: int = HISTORY_ASSETS
                     ) -> list[MarketAsset]:
    """The eligible assets of a snapshot (section 2, the full screen), largest first (ties
    by id), the first ``n``: they hold nearly all of the eligible universe's market cap,
    and one chart request each is what the API's rate limits allow."""
    return list(screen(list(assets)).eligible[:n])


@dataclass
class BackfillResult:
    """What one backfill did: rows added, charts read, and what stopped it short."""

    added: int = 0
    charts: int = 0
    #: The API's message when it rate-limited the backfill (the rest waits), else "".
    rate_limited: str = ""
    #: Coins whose chart could not be read (chain-linking absorbs a missing asset).
    missing: list[str] = field(default_factory=list)


def backfill(client: Any, history: HistoryFile, day: date, universe: Sequence[MarketAsset],
             *, history_days: int = HISTORY_DAYS, closes: CloseFile | None = None,
             keep_partial: bool = True) -> BackfillResult:
    """Fill the days before ``day`` the table does not have from each asset's chart: while
    fewer than 200 of the window's days are stored (the first start, or an API that failed
    then) the whole last ``history_days``; later only the days since the last stored one.
    ``closes`` also keeps the charts' daily prices over the same days.

    ``keep_partial=False``: a gap fill that the API's rate limit cut short stores nothing,
    so that the next try starts from the same day and no asset misses it (a stored day is
    never asked for again). A first fill always keeps what it read: the next one re-reads
    the whole window and adds the assets it lacks."""
    from .errors import MarketDataError, RateLimitedError

    out = BackfillResult()
    window = day - timedelta(days=history_days)
    before = [d for d in history.days() if window <= d < day]
    start = max(before) + timedelta(days=1) if len(before) >= DEFAULT_RULES.sma_days \
        else window
    if start >= day:
        return out
    span = (day - start).days + 2  # `days` counts back from now (the close's next day)
    if client.plan != "pro":
        span = min(span, FREE_CHART_DAYS)
    rows: list[CapRow] = []
    prices: list[tuple[date, str, str, Decimal]] = []
    for a in universe:
        try:
            chart = client.market_chart(a.id, days=span, interval="daily", use_cache=False)
        except RateLimitedError as exc:  # the API's budget is spent: the rest next time
            log.warning("market history: rate-limited after %s (%s); the history is "
                        "built from the charts read so far", a.id, exc)
            out.rate_limited = str(exc) or "rate-limited"
            break
        except MarketDataError as exc:  # one asset short: chain-linking absorbs it
            log.warning("market history of %s not available (%s)", a.id, exc)
            out.missing.append(a.id)
            continue
        out.charts += 1
        rows += [CapRow(d, a.symbol, a.id, v) for d, v in _daily(chart.market_caps, start, day)]
        if closes is not None:
            prices += [(d, a.symbol, a.id, v) for d, v in _daily(chart.prices, start, day)]
    if out.rate_limited and not keep_partial and start != window:
        log.info("market history: gap fill cut short; nothing stored, retried later")
        return out
    out.added = history.record(rows)
    if closes is not None:
        closes.record(prices)
    log.info("market history: %d caps added for %s..%s from %d charts", out.added, start,
             day - timedelta(days=1), out.charts)
    return out


def _daily(points: Iterable[tuple[datetime, Decimal | None]], start: date, end: date
           ) -> list[tuple[date, Decimal]]:
    """The last positive value of each close day in ``start <= d < end``."""
    last: dict[date, tuple[datetime, Decimal]] = {}
    for t, v in points:
        d = chart_close_day(t)
        if v is not None and v > 0 and start <= d < end and (d not in last or last[d][0] <= t):
            last[d] = (t, v)
    return [(d, v) for d, (_t, v) in sorted(last.items())]
