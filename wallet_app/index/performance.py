"""Performance as investment products report it: trailing returns, drawdown, volatility.

From a daily NAV history (NAV per share, or any value series) this computes, for the index
and for benchmarks over the *same* dates (BTC, the same top-100 without the regime switch):

* returns over 1M, 3M, YTD, 1Y and since inception (cumulative; annualised too when the
  span is over a year);
* the maximum drawdown and the annualised volatility over the whole history shown.

**Live and backtest.** The vault's own NAV starts on its first day; before that, a holder
can only be shown a simulation. :func:`splice` joins a backtest NAV (from
:mod:`.backtest`) to the live NAV, rescaled so the two meet on the vault's first day, and
every figure says whether its window reaches into the backtest: a period that starts before
the vault's first day is labelled ``includes_backtest`` and the GUI marks it as simulated.
"Since inception" is since the vault's first day (live only) when there is a live history,
else since the backtest's first day (and then labelled as backtest).

Choices:

* Values are daily closes: several points on one UTC day keep the last (NavUpdated events
  arrive many times a day on a busy chain).
* A period's start value is the close on the last day *on or before* the period's start
  (end - 1 calendar month, 3 months, 1 year, or 31 December of the previous year for YTD),
  the usual "trailing" convention; a period longer than the history gives no figure (None),
  never a figure over a shorter window. A close more than 7 days older than the day asked
  for does not count: across a gap (the backtest's data ends months before the vault's
  first day) or past a benchmark's last day there is no figure rather than a stale one.
* Months back are calendar months, clamped to the month's last day (31 March - 1M = 28/29
  February).
* Returns and drawdowns are ``Decimal`` (ratios of money at 28 digits); volatility (sample
  standard deviation of daily returns x sqrt(365): crypto trades every day) and annualised
  returns (a fractional power) are floats, as statistics.
"""

from __future__ import annotations

import bisect
import calendar
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Context, Decimal, localcontext

_CTX = Context(prec=28)

PERIODS = ("1M", "3M", "YTD", "1Y", "Since inception")

Series = Sequence[tuple[date, Decimal]]


@dataclass(frozen=True)
class PeriodReturn:
    """Return of one series over one period."""

    period: str  # one of PERIODS
    start: date | None  # the day whose close the return starts from
    value: Decimal | None  # fraction: 0.1234 = +12.34%; None when history is too short
    annualised: float | None  # for spans over a year
    includes_backtest: bool


@dataclass(frozen=True)
class SeriesPerformance:
    """One row of the performance table."""

    name: str
    returns: tuple[PeriodReturn, ...]
    max_drawdown: Decimal | None  # fraction, >= 0
    volatility: float | None  # annualised
    stats_start: date | None  # first day of the window of drawdown and volatility
    stats_include_backtest: bool

    def period(self, name: str) -> PeriodReturn:
        return next(r for r in self.returns if r.period == name)


@dataclass(frozen=True)
class PerformanceReport:
    """The performance table: the index first, then its benchmarks."""

    as_of: date
    inception: date  # the vault's first day, or the backtest's when there is no live NAV
    live_start: date | None  # None: everything shown is backtest
    backtest_start: date | None  # None: no backtest before the live history
    rows: tuple[SeriesPerformance, ...]
    source: str = ""  # what the backtest part is (the NAV chart's backtest label)
    backtest_end: date | None = None  # last backtest day before the vault's first day

    @property
    def gap_days(self) -> int:
        """Days without data between the backtest's end and the vault's first day."""
        if self.backtest_end is None or self.live_start is None:
            return 0
        return max(0, (self.live_start - self.backtest_end).days - 1)

    @property
    def index(self) -> SeriesPerformance:
        return self.rows[0]


def daily_closes(points: Iterable[tuple[date | datetime, Decimal]]) -> list[tuple[date, Decimal]]:
    """One value per UTC day (the last one of the day), sorted by day.

    ``points`` are all dates or all (aware) datetimes; equal times keep the later row.
    """
    by_day: dict[date, Decimal] = {}
    for t, v in sorted(points, key=lambda p: p[0]):
        by_day[t.date() if isinstance(t, datetime) else t] = v
    return sorted(by_day.items())


def splice(backtest: Series, live: Series) -> tuple[list[tuple[date, Decimal]], date | None]:
    """The backtest before the live history's first day, rescaled to meet it, then the live
    history. Returns the joined series and the first live day (None without live data)."""
    if not live:
        return list(backtest), None
    first_day, first_value = live[0]
    before = [(d, v) for d, v in backtest if d <= first_day]
    if not before or before[-1][1] <= 0:
        return list(live), first_day
    with localcontext(_CTX):
        scale = first_value / before[-1][1]
        scaled = [(d, v * scale) for d, v in before if d < first_day]
    return scaled + list(live), first_day


def months_back(d: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, clamped to the month's end."""
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


#: A close older than this before the date asked for does not stand for it: the series has
#: a gap there (the backtest ends, the vault starts later) or has ended (a benchmark whose
#: data stops before the vault's first day), and the period gets no figure.
MAX_STALE_DAYS = 7


class _Lookup:
    """Close on the last day on or before a date, by bisection."""

    def __init__(self, series: Series) -> None:
        self.days = [d for d, _ in series]
        self.values = [v for _, v in series]

    def at(self, d: date) -> tuple[date, Decimal] | None:
        i = bisect.bisect_right(self.days, d) - 1
        if i < 0 or (d - self.days[i]).days > MAX_STALE_DAYS:
            return None
        return self.days[i], self.values[i]


def _period_starts(as_of: date, inception: date) -> dict[str, date]:
    return {"1M": months_back(as_of, 1), "3M": months_back(as_of, 3),
            "YTD": date(as_of.year - 1, 12, 31), "1Y": months_back(as_of, 12),
            "Since inception": inception}


def _annualised(ret: Decimal, days: int) -> float | None:
    if days <= 365 or ret <= -1:
        return None
    return float(1 + ret) ** (365 / days) - 1


def max_drawdown(values: Iterable[Decimal]) -> Decimal | None:
    """Largest fall from a running peak, as a fraction (0 when the series only rises)."""
    peak: Decimal | None = None
    worst = Decimal(0)
    seen = False
    with localcontext(_CTX):
        for v in values:
            seen = True
            if peak is None or v > peak:
                peak = v
            elif peak > 0:
                dd = 1 - v / peak
                if dd > worst:
                    worst = dd
    return worst if seen else None


def volatility(values: Sequence[Decimal]) -> float | None:
    """Annualised volatility of daily returns (sample stdev x sqrt(365)); floats."""
    f = [float(v) for v in values]
    rets = [b / a - 1 for a, b in zip(f, f[1:], strict=False) if a > 0]
    return statistics.stdev(rets) * math.sqrt(365) if len(rets) > 1 else None


def _row(name: str, series: Series, as_of: date, starts: Mapping[str, date],
         stats_start: date, live_start: date | None) -> SeriesPerformance:
    look = _Lookup(series)
    end = look.at(as_of)
    returns = []
    for period in PERIODS:
        start = look.at(starts[period]) if end is not None else None
        if start is None and period == "Since inception" and series:
            # The inception day itself may precede this benchmark's first close by a day.
            first = series[0]
            start = first if first[0] <= as_of and (first[0] - starts[period]).days <= 3 \
                else None
        if end is None or start is None or start[0] >= end[0] or start[1] <= 0:
            returns.append(PeriodReturn(period, None, None, None, False))
            continue
        with localcontext(_CTX):
            ret = end[1] / start[1] - 1
        backtest = live_start is None or start[0] < live_start
        returns.append(PeriodReturn(period, start[0], ret,
                                    _annualised(ret, (end[0] - start[0]).days), backtest))
    window = [v for d, v in series if stats_start <= d <= as_of]
    return SeriesPerformance(
        name, tuple(returns), max_drawdown(window), volatility(window),
        next((d for d, _ in series if d >= stats_start), None),
        live_start is None or stats_start < live_start)


def performance_report(index: Series, *, live_start: date | None = None,
                       benchmarks: Mapping[str, Series] | None = None,
                       name: str = "TM Global 100", source: str = ""
                       ) -> PerformanceReport | None:
    """The table for ``index`` (daily closes, sorted; backtest already spliced in) and its
    benchmarks over the same dates. None when the index has fewer than two closes."""
    if len(index) < 2:
        return None
    as_of = index[-1][0]
    first = index[0][0]
    inception = live_start if live_start is not None else first
    starts = _period_starts(as_of, inception)
    rows = [_row(name, index, as_of, starts, first, live_start)]
    for bname, series in (benchmarks or {}).items():
        rows.append(_row(bname, series, as_of, starts, first, live_start))
    return PerformanceReport(as_of, inception, live_start,
                             first if live_start is None or first < live_start else None,
                             tuple(rows), source,
                             max((d for d, _ in index if live_start and d < live_start),
                                 default=None))
