"""Price-based detectors of pegged, wrapped and staked assets: a check of the deny list.

The deny list (``assets/index/exclusions.json``) is kept by hand from categories and
research. These detectors look only at daily closes, so they catch what a list can miss
(an asset nobody categorised, a ticker that changed hands) and they can be run on any
price history the project reaches (tests on ``../shared``, ``scripts/check_deny_list.py``
on fresh data). They flag candidates for a human to check; they never decide eligibility
(a volatile asset can sit near 1 USD for a while, and a depegged stablecoin fails them).

Three detectors, each over a sliding window of consecutive closes:

* **dollar peg**: at least ``share`` (95%) of ``window`` (90) closes within +/-3% of 1 USD.
  The share tolerates a few bad prints and short depegs (DAI traded at 1.035 for a few days
  of summer 2020 on a US exchange).
* **low volatility**: annualised volatility of daily log returns (sample standard deviation
  times sqrt(365)) under 18% over ``window`` (60) closes. Gold tokens run at 10-15%, euro and
  other fiat pegs at 5-10%, while the lowest 60-day figure of any crypto asset in the
  2020-2025 data is about 23% (BTC's lowest about 26%).
* **tracking**: the price ratio to a reference asset (a big, long-listed one) stays in a
  +/-1.5% corridor over ``window`` (90) common days: wrapped, bridged and liquid-staking
  copies (WBTC/BTC, stETH/ETH; a liquid-staking token drifts up by its yield, 3-4% a year,
  under 1% in 90 days). The closest pair of distinct assets in the 2020-2025 data, ETH and
  BTC in the summer of 2023, stayed within +/-2.9% at best.

Floats are used: these are statistics on prices, never money.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from .history import PriceDay

PEG_WINDOW = 90
PEG_BAND = 0.03
PEG_SHARE = 0.95
LOW_VOL_WINDOW = 60
LOW_VOL_THRESHOLD = 0.18
TRACK_WINDOW = 90
TRACK_BAND = 0.015


@dataclass(frozen=True)
class Detection:
    """One flagged asset: which detector, from which day, and the figure that tripped it."""

    symbol: str
    detector: str  # "dollar-peg" | "low-volatility" | "tracking"
    first_day: date  # last day of the first window that tripped
    detail: str


def closes_by_symbol(prices: Iterable[PriceDay]) -> dict[str, list[tuple[date, float]]]:
    """Daily closes per ticker, sorted by day."""
    out: dict[str, list[tuple[date, float]]] = {}
    for p in prices:
        out.setdefault(p.symbol.upper(), []).append((p.day, float(p.close)))
    for rows in out.values():
        rows.sort()
    return out


def dollar_peg(symbol: str, closes: Sequence[tuple[date, float]], window: int = PEG_WINDOW,
               band: float = PEG_BAND, share: float = PEG_SHARE) -> Detection | None:
    """The first window in which ``share`` of the closes sit within ``band`` of 1 USD."""
    if len(closes) < window:
        return None
    inside = [1 if abs(c - 1.0) <= band else 0 for _, c in closes]
    need = math.ceil(share * window)
    run = sum(inside[:window])
    for end in range(window - 1, len(closes)):
        if end >= window:
            run += inside[end] - inside[end - window]
        if run >= need:
            return Detection(symbol, "dollar-peg", closes[end][0],
                             f"{run} of {window} closes within ±{band:.0%} of 1 USD")
    return None


def low_volatility(symbol: str, closes: Sequence[tuple[date, float]],
                   window: int = LOW_VOL_WINDOW,
                   threshold: float = LOW_VOL_THRESHOLD) -> Detection | None:
    """The first window whose annualised volatility is under ``threshold``."""
    if len(closes) <= window:
        return None
    rets = [math.log(b / a) for (_, a), (_, b) in zip(closes, closes[1:], strict=False)
            if a > 0 and b > 0]
    if len(rets) < window:
        return None
    # Running sums over a sliding window (sample variance); O(n) rather than O(n * window).
    s1 = sum(rets[:window])
    s2 = sum(r * r for r in rets[:window])
    for end in range(window, len(rets) + 1):
        if end > window:
            old, new = rets[end - window - 1], rets[end - 1]
            s1 += new - old
            s2 += new * new - old * old
        var = max(0.0, (s2 - s1 * s1 / window) / (window - 1))
        vol = math.sqrt(var * 365)
        if vol < threshold:
            return Detection(symbol, "low-volatility", closes[min(end, len(closes) - 1)][0],
                             f"annualised volatility {vol:.1%} over {window} days")
    return None


def _narrow_window(values: Sequence[float], window: int, spread: float) -> int | None:
    """Index of the last value of the first ``window`` run whose max/min <= ``spread``.

    Sliding maximum and minimum with monotonic deques: linear in ``len(values)``.
    """
    hi: deque[int] = deque()
    lo: deque[int] = deque()
    for i, v in enumerate(values):
        while hi and values[hi[-1]] <= v:
            hi.pop()
        hi.append(i)
        while lo and values[lo[-1]] >= v:
            lo.pop()
        lo.append(i)
        start = i - window + 1
        while hi[0] < start:
            hi.popleft()
        while lo[0] < start:
            lo.popleft()
        if start >= 0 and values[hi[0]] <= values[lo[0]] * spread:
            return i
    return None


def tracking(symbol: str, closes: Sequence[tuple[date, float]],
             references: Mapping[str, Sequence[tuple[date, float]]],
             window: int = TRACK_WINDOW, band: float = TRACK_BAND) -> Detection | None:
    """The first reference asset whose price ``symbol`` follows for ``window`` common days.

    "Follows": the ratio of the two closes stays within a +/-``band`` corridor (max/min of
    the ratio <= (1 + band) / (1 - band)). Two dollar-pegged assets follow each other
    trivially; the peg detector reports those, so references should be non-pegged assets.
    """
    mine = dict(closes)
    spread = (1 + band) / (1 - band)
    for ref in sorted(references):
        if ref == symbol:
            continue
        common = [(d, mine[d] / c) for d, c in references[ref] if d in mine and c > 0]
        if len(common) < window:
            continue
        end = _narrow_window([r for _, r in common], window, spread)
        if end is not None:
            return Detection(symbol, "tracking", common[end][0],
                             f"price within ±{band:.0%} of a fixed multiple of {ref} "
                             f"for {window} days")
    return None


def default_references(series: Mapping[str, Sequence[tuple[date, float]]],
                       count: int = 12) -> list[str]:
    """The tickers with the longest price history, then the highest median price: the big,
    long-listed assets that wrapped and staked copies are made of (BTC, ETH, ...)."""
    ranked = sorted(series, key=lambda s: (-len(series[s]),
                                           -statistics.median(c for _, c in series[s]), s))
    return [s for s in ranked if dollar_peg(s, series[s]) is None][:count]


def detect(prices: Iterable[PriceDay], *,
           references: Iterable[str] | None = None) -> list[Detection]:
    """Run every detector on every ticker; one detection per (ticker, detector).

    ``references`` are the assets a copy would track (default: :func:`default_references`).
    """
    series = closes_by_symbol(prices)
    refs = list(references) if references is not None else default_references(series)
    ref_series = {r.upper(): series[r.upper()] for r in refs if r.upper() in series}
    out: list[Detection] = []
    for sym in sorted(series):
        closes = series[sym]
        for hit in (dollar_peg(sym, closes), low_volatility(sym, closes),
                    tracking(sym, closes, ref_series)):
            if hit is not None:
                out.append(hit)
    return out
