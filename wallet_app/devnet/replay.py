"""Price paths that drive the devnet's feeds and pools over simulated time.

Two sources, both deterministic (same inputs and seed, same prices to the last digit):

* :func:`synthetic_paths`: a seeded market with alternating bull and bear phases, so that
  the gauge and the regime visibly change on the devnet. Every asset follows the market
  factor with its own beta plus idiosyncratic noise.
* :func:`historical_paths`: real daily closes (``../shared/data/market/daily_ohlcv_...``
  when the caller points at it). Assets without history follow the market (mean of the
  assets that do have it) with seeded noise.

Both are *anchored*: on the anchor day each asset's price equals its snapshot price, so
the devnet deployed at snapshot prices continues smoothly into the replay, and the days
before the anchor give the 200-day history the regime signal needs.

Random numbers come from :class:`random.Random` (floats) and are turned into ``Decimal``
multipliers at once; prices themselves are ``Decimal`` rounded to 10 significant digits.
"""

from __future__ import annotations

import csv
import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Context, Decimal
from pathlib import Path

_CTX = Context(prec=10)


@dataclass(frozen=True)
class PricePaths:
    """Daily prices per symbol, ``days[k]`` being the date of ``prices[sym][k]``."""

    days: list[date]
    prices: dict[str, list[Decimal]]
    anchor_index: int

    def on(self, k: int) -> dict[str, Decimal]:
        return {s: p[k] for s, p in self.prices.items()}

    def market_series(self, caps_at_anchor: Mapping[str, Decimal]) -> list[Decimal]:
        """Total market cap per day, holding each asset's supply at its anchor value."""
        out = []
        for k in range(len(self.days)):
            total = Decimal(0)
            for s, cap in caps_at_anchor.items():
                series = self.prices.get(s)
                if series:
                    total += cap * series[k] / series[self.anchor_index]
            out.append(total)
        return out


def _anchor(raw: list[float], anchor_index: int, price: Decimal) -> list[Decimal]:
    base = raw[anchor_index]
    return [_CTX.multiply(Decimal(repr(v / base)), price) for v in raw]


def _phases(rng: random.Random, n: int) -> list[float]:
    """Daily market drift: alternating bull (+) and bear (-) phases of 60-160 days."""
    drift: list[float] = []
    bull = True
    while len(drift) < n:
        length = rng.randint(60, 160)
        d = rng.uniform(0.0015, 0.004) if bull else -rng.uniform(0.0015, 0.0035)
        drift.extend([d] * length)
        bull = not bull
    return drift[:n]


def synthetic_paths(
    start_prices: Mapping[str, Decimal],
    *,
    days_before: int = 400,
    days_after: int = 730,
    seed: int = 100,
    anchor_day: date | None = None,
) -> PricePaths:
    """A seeded market around ``anchor_day`` (default today is NOT used: pass it in)."""
    anchor_day = anchor_day or date(2025, 11, 3)
    n = days_before + days_after + 1
    rng = random.Random(seed)
    drift = _phases(rng, n)
    market = [0.0] * n
    level = 0.0
    for k in range(n):
        level += drift[k] + rng.gauss(0.0, 0.022)
        market[k] = level
    prices: dict[str, list[Decimal]] = {}
    for sym in sorted(start_prices):
        arng = random.Random(f"{seed}:{sym}")
        if start_prices[sym] == 1 and sym.upper().startswith("USD"):
            prices[sym] = [start_prices[sym]] * n
            continue
        beta = arng.uniform(0.7, 1.5)
        vol = arng.uniform(0.01, 0.04)
        log_p, raw = 0.0, []
        for k in range(n):
            step = market[k] - (market[k - 1] if k else 0.0)
            log_p += beta * step + arng.gauss(0.0, vol)
            raw.append(math.exp(log_p))
        prices[sym] = _anchor(raw, days_before, start_prices[sym])
    day_list = [anchor_day + timedelta(days=k - days_before) for k in range(n)]
    return PricePaths(day_list, prices, days_before)


def load_closes(ohlcv_csv: Path) -> dict[str, dict[date, float]]:
    """Daily closes by base symbol from a ``date,symbol,base,open,high,low,close,volume`` file."""
    closes: dict[str, dict[date, float]] = defaultdict(dict)
    with ohlcv_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                c = float(row["close"])
            except (KeyError, ValueError):
                continue
            if c > 0:
                closes[row["base"].upper()][date.fromisoformat(row["date"])] = c
    return closes


def historical_paths(
    start_prices: Mapping[str, Decimal],
    closes: Mapping[str, Mapping[date, float]],
    start: date,
    end: date,
    anchor_day: date,
    *,
    seed: int = 100,
) -> PricePaths:
    """Real closes from ``start`` to ``end`` anchored on ``anchor_day``.

    A missing day carries the last close forward. Assets with no history at all follow the
    mean log-return of the assets that have one, times a seeded beta, plus seeded noise.
    """
    if not start <= anchor_day <= end:
        raise ValueError("anchor_day must lie between start and end")
    n = (end - start).days + 1
    day_list = [start + timedelta(days=k) for k in range(n)]
    anchor_index = (anchor_day - start).days
    known: dict[str, list[float]] = {}
    for sym in start_prices:
        series = closes.get(sym.upper())
        if not series:
            continue
        first = next((series[d] for d in sorted(series) if d >= start), None)
        if first is None:
            continue
        out, last = [], first
        for d in day_list:
            last = series.get(d, last)
            out.append(last)
        known[sym] = out
    mean_ret = [0.0] * n
    if known:
        for k in range(1, n):
            mean_ret[k] = sum(math.log(v[k] / v[k - 1]) for v in known.values()) / len(known)
    prices: dict[str, list[Decimal]] = {}
    for sym in sorted(start_prices):
        if sym in known:
            prices[sym] = _anchor(known[sym], anchor_index, start_prices[sym])
            continue
        if start_prices[sym] == 1 and sym.upper().startswith("USD"):
            prices[sym] = [start_prices[sym]] * n
            continue
        arng = random.Random(f"{seed}:{sym}")
        beta, vol = arng.uniform(0.8, 1.4), arng.uniform(0.01, 0.03)
        log_p, raw = 0.0, []
        for k in range(n):
            log_p += beta * mean_ret[k] + (arng.gauss(0.0, vol) if k else 0.0)
            raw.append(math.exp(log_p))
        prices[sym] = _anchor(raw, anchor_index, start_prices[sym])
    return PricePaths(day_list, prices, anchor_index)


def symbols_with_history(closes: Mapping[str, Mapping[date, float]],
                         symbols: Sequence[str]) -> list[str]:
    return [s for s in symbols if s.upper() in closes]
