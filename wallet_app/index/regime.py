"""Regime and gauge (METHODOLOGY section 5).

**Market series.** From a total series, ``M_t`` is the total. From a per-asset table the
ineligible tickers are dropped (deny list, by symbol) and the series is chain-linked::

    M_0 = sum of the caps on the first day
    M_t = M_{t-1} * sum_i m_{i,t} / sum_i m_{i,t-1}   (i present on both t-1 and t)

so an asset entering or leaving the table is not a jump (the table in ``../shared`` grows
from 13 to 64 assets; a plain daily sum would read that as a bull market).

**Signal.** ``S_t`` = mean of the last 200 values of ``M``, defined from the 200th value on;
``rho_t = M_t / S_t - 1``. The first defined day is Bull if ``rho >= 0``. Then the state
flips to Bull only after 3 consecutive closes with ``rho >= +0.05`` and to Bear only after 3
consecutive closes with ``rho <= -0.05``. Gauge score ``clamp(50 + 250 rho, 0, 100)`` with
bands 0-20 Strong bear, 20-40 Bear, 40-60 Neutral, 60-80 Bull, 80-100 Strong bull, a score
on a boundary belonging to the higher band.

Arithmetic is ``Decimal`` in an explicit local context (never the caller's), so results are
identical on every machine: sums at 60 significant digits (exact for any realistic caps),
ratios and ``rho`` at 40. Floats are not used.

Choices:

* "The last 200 days" means the last 200 *rows* of the series: the series is one value per
  UTC day present in the input, and missing calendar days are not filled in (the data in
  ``../shared`` has none).
* A run of closes beyond the threshold counts whatever the state was during the run: if
  the state is Bear and the 3rd consecutive close with ``rho >= 0.05`` arrives, the flip
  happens on that close. A close that flips resets nothing else; the opposite run starts
  from zero because the two conditions cannot hold on the same close.
* In a per-asset table, when no asset is present on two consecutive days the chain cannot
  link; ``M`` is then carried unchanged (no information is better than a jump). Days with
  no eligible asset at all are left out of the series.
* Only defined days (from the 200th on) have a gauge; :attr:`RegimeResult.series` keeps
  every ``M_t`` for charts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import Any

from ..models import Gauge, Regime
from .eligibility import DenyList, default_deny_list
from .errors import IndexDataError
from .history import AssetDay, detect_kind, read_asset_table, read_total_series
from .rules import DEFAULT_RULES, IndexRules

#: Exact-enough context for sums of market caps (exact for values up to ~1e20 with 40
#: significant digits each) and for ratios.
SUM_CONTEXT = Context(prec=60)
RATIO_CONTEXT = Context(prec=40)

BANDS = ((Decimal(80), "Strong bull"), (Decimal(60), "Bull"), (Decimal(40), "Neutral"),
         (Decimal(20), "Bear"), (Decimal(0), "Strong bear"))


@dataclass(frozen=True)
class MarketPoint:
    """One value of the market series."""

    day: date
    value: Decimal


@dataclass(frozen=True)
class RegimePoint:
    """The signal at one daily close (only from the 200th day on)."""

    day: date
    market: Decimal  # M_t
    sma: Decimal  # S_t
    gauge: Gauge

    @property
    def rho(self) -> Decimal:
        return self.gauge.rho

    @property
    def score(self) -> Decimal:
        return self.gauge.score

    @property
    def band(self) -> str:
        return self.gauge.band

    @property
    def state(self) -> Regime:
        return self.gauge.state


@dataclass(frozen=True)
class Flip:
    """A change of regime, effective at the close of ``day``."""

    day: date
    from_state: Regime
    to_state: Regime
    rho: Decimal
    score: Decimal


@dataclass(frozen=True)
class RegimeResult:
    """Signal over a whole series."""

    points: tuple[RegimePoint, ...]
    flips: tuple[Flip, ...]
    series: tuple[MarketPoint, ...] = field(repr=False, default=())

    @property
    def latest(self) -> RegimePoint | None:
        return self.points[-1] if self.points else None

    def state_on(self, day: date) -> Regime | None:
        """The state at the close of ``day`` (``None`` before the signal is defined)."""
        idx = self._index.get(day)
        return None if idx is None else self.points[idx].state

    def point_on(self, day: date) -> RegimePoint | None:
        idx = self._index.get(day)
        return None if idx is None else self.points[idx]

    @property
    def _index(self) -> dict[date, int]:
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {p.day: i for i, p in enumerate(self.points)}
            object.__setattr__(self, "_index_cache", cached)
        return cached

    def to_dict(self, *, rho_places: int = 8, score_places: int = 4) -> dict[str, Any]:
        """JSON-ready, with rho and score rounded for display (state and band are exact)."""
        rq, sq = Decimal(1).scaleb(-rho_places), Decimal(1).scaleb(-score_places)
        return {
            "days": len(self.points),
            "first_day": self.points[0].day.isoformat() if self.points else None,
            "last_day": self.points[-1].day.isoformat() if self.points else None,
            "state": self.points[-1].state.value if self.points else None,
            "flips": [{"date": f.day.isoformat(), "from": f.from_state.value,
                       "to": f.to_state.value, "rho": str(f.rho.quantize(rq)),
                       "score": str(f.score.quantize(sq))} for f in self.flips],
            "points": [{"date": p.day.isoformat(), "market": str(p.market.quantize(Decimal(1))),
                        "sma": str(p.sma.quantize(Decimal(1))), "rho": str(p.rho.quantize(rq)),
                        "score": str(p.score.quantize(sq)), "band": p.band,
                        "state": p.state.value} for p in self.points],
        }


@dataclass(frozen=True)
class RegimeHistory:
    """What the regime history chart draws: the gauge score at every close, the state, the
    flips and the five bands, all taken from one :class:`RegimeResult` of the engine (the
    same computation as the gauge), so the chart cannot disagree with it."""

    days: tuple[date, ...]
    scores: tuple[Decimal, ...]
    states: tuple[Regime, ...]
    flips: tuple[Flip, ...]
    #: (lower, upper, name) from Strong bear to Strong bull.
    bands: tuple[tuple[Decimal, Decimal, str], ...]
    source: str = ""

    @classmethod
    def from_result(cls, result: RegimeResult, source: str = "") -> RegimeHistory:
        pts = result.points
        return cls(tuple(p.day for p in pts), tuple(p.score for p in pts),
                   tuple(p.state for p in pts), result.flips, band_ranges(), source)


def band_ranges() -> tuple[tuple[Decimal, Decimal, str], ...]:
    """The five bands as (lower, upper, name), lowest first (a boundary belongs to the higher)."""
    lowers = sorted(BANDS)
    uppers = [lo for lo, _ in lowers[1:]] + [Decimal(100)]
    return tuple((lo, up, name) for (lo, name), up in zip(lowers, uppers, strict=True))


def gauge_score(rho: Decimal) -> Decimal:
    """``clamp(50 + 250 * rho, 0, 100)``."""
    with localcontext(RATIO_CONTEXT):
        score = Decimal(50) + Decimal(250) * rho
    return min(max(score, Decimal(0)), Decimal(100))


def gauge_band(score: Decimal) -> str:
    """Band of a score; a boundary (20, 40, 60, 80) belongs to the higher band."""
    for lower, name in BANDS:
        if score >= lower:
            return name
    return "Strong bear"


def make_gauge(rho: Decimal, state: Regime) -> Gauge:
    score = gauge_score(rho)
    return Gauge(rho=rho, score=score, band=gauge_band(score), state=state)


def series_from_totals(rows: Iterable[tuple[date, Decimal]]) -> list[MarketPoint]:
    """A total series as it is, sorted by date (dates must be unique)."""
    out = sorted(rows, key=lambda r: r[0])
    for a, b in zip(out, out[1:], strict=False):
        if a[0] == b[0]:
            raise IndexDataError(f"the date {a[0]} appears twice in the total series.")
    return [MarketPoint(d, v) for d, v in out]


def series_from_table(rows: Iterable[AssetDay], deny: DenyList | None = None) -> list[MarketPoint]:
    """Chain-link a per-asset table into the market series (section 5)."""
    deny = deny if deny is not None else default_deny_list()
    days: dict[date, dict[str, Decimal]] = {}
    for r in rows:
        if r.market_cap is None or r.market_cap <= 0 or deny.denies_symbol(r.symbol, r.day):
            continue
        day = days.setdefault(r.day, {})
        day[r.symbol] = day[r.symbol] + r.market_cap if r.symbol in day else r.market_cap
    out: list[MarketPoint] = []
    prev: dict[str, Decimal] | None = None
    level = Decimal(0)
    for d in sorted(days):
        caps = days[d]
        with localcontext(SUM_CONTEXT):
            if prev is None:
                level = sum(caps.values(), Decimal(0))
            else:
                common = caps.keys() & prev.keys()
                if common:
                    num = sum((caps[s] for s in sorted(common)), Decimal(0))
                    den = sum((prev[s] for s in sorted(common)), Decimal(0))
                    with localcontext(RATIO_CONTEXT):
                        level = level * num / den
        out.append(MarketPoint(d, level))
        prev = caps
    return out


def compute_regime(series: Sequence[MarketPoint],
                   rules: IndexRules = DEFAULT_RULES) -> RegimeResult:
    """Run the signal over a market series (sorted by date, one value per day)."""
    n = rules.sma_days
    up_t, down_t = rules.flip_threshold, -rules.flip_threshold
    values = [p.value for p in series]
    points: list[RegimePoint] = []
    flips: list[Flip] = []
    state: Regime | None = None
    up = down = 0
    window = Decimal(0)
    for i, p in enumerate(series):
        with localcontext(SUM_CONTEXT):
            window += values[i]
            if i >= n:
                window -= values[i - n]
        if i < n - 1:
            continue
        with localcontext(RATIO_CONTEXT):
            sma = window / n
            rho = p.value / sma - 1
        up = up + 1 if rho >= up_t else 0
        down = down + 1 if rho <= down_t else 0
        if state is None:
            state = Regime.BULL if rho >= 0 else Regime.BEAR
        elif state is Regime.BEAR and up >= rules.confirm_days:
            state = Regime.BULL
        elif state is Regime.BULL and down >= rules.confirm_days:
            state = Regime.BEAR
        gauge = make_gauge(rho, state)
        if points and points[-1].state is not state:
            flips.append(Flip(p.day, points[-1].state, state, rho, gauge.score))
        points.append(RegimePoint(p.day, p.value, sma, gauge))
    return RegimeResult(tuple(points), tuple(flips), tuple(series))


def load_market_series(path: Path, deny: DenyList | None = None) -> list[MarketPoint]:
    """Read either history shape from a CSV file and return the market series."""
    if detect_kind(path) == "per-asset":
        return series_from_table(read_asset_table(path), deny)
    return series_from_totals(read_total_series(path))


def regime_from_csv(path: Path, rules: IndexRules = DEFAULT_RULES,
                    deny: DenyList | None = None) -> RegimeResult:
    """Convenience: load a history CSV and compute the regime over it."""
    return compute_regime(load_market_series(path, deny), rules)
