#!/usr/bin/env python3
"""Benchmark of the index engine: compose over 10,000 assets, regime over 2,000 days.

Synthetic, seeded inputs (no network, no ../shared): a 10,000-asset /coins/markets-shaped
snapshot with a power-law market-cap distribution and some stablecoins, bad rows and
duplicates mixed in; a 2,000-day total market-cap random walk; and the same regime
computed from a 64-asset per-asset table (128,000 rows) to include chain-linking.
Prints the best of several runs for each; the targets are under 0.5 s each.

    .venv/bin/python scripts/bench_index.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wallet_app.index import (  # noqa: E402 - after the path tweak for running from a checkout
    AssetDay,
    MarketAsset,
    MarketPoint,
    compose,
    compute_regime,
    series_from_table,
)

TARGET = 0.5


def synthetic_snapshot(n: int, seed: int = 1) -> list[MarketAsset]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        cap = Decimal(int(2e12 / (i + 1) ** 1.1 * rnd.uniform(0.8, 1.2)))
        vol = Decimal(int(float(cap) * rnd.uniform(0.0005, 0.2)))
        price = Decimal(rnd.randint(1, 10**8)).scaleb(-4)
        symbol = f"T{i}"
        if i % 97 == 5:
            symbol = "USDT" if i % 2 else "WBTC"  # denied tickers
        out.append(MarketAsset(f"token-{i:05d}", symbol, f"Token {i}", price,
                               None if i % 211 == 7 else cap, vol))
    out += out[:50]  # duplicated ids
    rnd.shuffle(out)
    return out


def synthetic_series(days: int, seed: int = 2) -> list[MarketPoint]:
    rnd = random.Random(seed)
    v = 1e12
    out = []
    for i in range(days):
        v *= 1 + rnd.gauss(0.0005, 0.03)
        out.append(MarketPoint(date(2019, 1, 1) + timedelta(days=i), Decimal(int(v))))
    return out


def synthetic_table(days: int, assets: int, seed: int = 3) -> list[AssetDay]:
    rnd = random.Random(seed)
    caps = [1e9 * rnd.uniform(1, 500) for _ in range(assets)]
    rows = []
    for d in range(days):
        day = date(2019, 1, 1) + timedelta(days=d)
        for a in range(assets):
            caps[a] *= 1 + rnd.gauss(0.0005, 0.04)
            if d >= a * 10:  # assets enter over time, like the real table
                rows.append(AssetDay(day, f"A{a}", Decimal(int(caps[a]))))
    return rows


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    snapshot = synthetic_snapshot(10_000)
    series = synthetic_series(2_000)
    table = synthetic_table(2_000, 64)
    compose(snapshot)  # warm-up: reads the deny list once
    t_compose = best_of(lambda: compose(snapshot), args.repeat)
    t_regime = best_of(lambda: compute_regime(series), args.repeat)
    t_table = best_of(lambda: compute_regime(series_from_table(table)), args.repeat)
    comp = compose(snapshot)
    reg = compute_regime(series)
    print(f"compose   {len(snapshot):>7,} assets         {t_compose * 1000:8.1f} ms "
          f"({len(comp.constituents)} constituents, {len(comp.excluded)} excluded)")
    print(f"regime    {len(series):>7,} days (total)   {t_regime * 1000:8.1f} ms "
          f"({len(reg.points)} gauge days, {len(reg.flips)} flips)")
    print(f"regime    {len(table):>7,} rows (64 assets, chain-linked, 2,000 days) "
          f"{t_table * 1000:8.1f} ms")
    ok = t_compose < TARGET and t_regime < TARGET
    print(f"targets (< {TARGET} s each): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
