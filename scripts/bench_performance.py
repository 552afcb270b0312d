#!/usr/bin/env python3
"""Benchmark of the performance table: 5 years of daily NAV plus two benchmarks.

Synthetic, seeded inputs (no network): 1,827 daily closes (2020-10-25 .. 2025-10-25) of the
index NAV at 40-digit Decimal precision (as the backtest makes them), of BTC and of the
always-invested top 100, spliced with a live history for the last 180 days. Times
``splice`` + ``performance_report`` (every period, drawdown, volatility, for the three
rows) and prints the median and best of ``--repeat`` runs; the target is a median under
50 ms. Also runs on the real data in ``../shared`` when it is there (backtest NAV).

    .venv/bin/python scripts/bench_performance.py [--repeat 21]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Context, Decimal, localcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wallet_app.index.performance import performance_report, splice  # noqa: E402

TARGET_MS = 50.0
DAYS = 5 * 365 + 2


def walk(seed: int, start: Decimal, vol: float) -> list[tuple[date, Decimal]]:
    rnd = random.Random(seed)
    v = start
    out = []
    with localcontext(Context(prec=40)):
        for i in range(DAYS):
            v = v * (1 + Decimal(repr(rnd.gauss(0.0006, vol))))
            out.append((date(2020, 10, 25) + timedelta(days=i), v))
    return out


def timed(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    backtest = walk(1, Decimal(10_000), 0.03)
    live = [(d, v / backtest[-180][1]) for d, v in backtest[-180:]]
    btc = walk(2, Decimal(13_000), 0.035)
    flat = walk(3, Decimal(10_000), 0.04)

    def run() -> object:
        index, live_start = splice(backtest, live)
        return performance_report(index, live_start=live_start,
                                  benchmarks={"BTC": btc, "Top 100, always invested": flat})

    rep = run()
    assert rep is not None and len(rep.rows) == 3
    med, best = timed(run, args.repeat)
    ok = med < TARGET_MS
    print(f"performance table, {DAYS} daily closes x 3 series: median {med:.1f} ms, "
          f"best {best:.1f} ms (target < {TARGET_MS:.0f} ms) {'OK' if ok else 'SLOW'}")

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "market"
    if (shared / "daily_market_caps_2020-2025.csv").is_file():
        from wallet_app.index import (
            BacktestConfig,
            read_asset_table,
            read_price_table,
            run_backtest,
        )
        caps = read_asset_table(shared / "daily_market_caps_2020-2025.csv")
        prices = read_price_table(shared / "daily_ohlcv_2020-2025.csv")
        nav = [(p.day, p.nav) for p in run_backtest(caps, prices).points]
        flat2 = [(p.day, p.nav) for p in
                 run_backtest(caps, prices, BacktestConfig(use_regime=False)).points]
        btc2 = [(p.day, p.close) for p in prices if p.symbol == "BTC"]
        med2, best2 = timed(lambda: performance_report(
            nav, benchmarks={"BTC": btc2, "Top 100, always invested": flat2}), args.repeat)
        print(f"performance table, real backtest NAV ({len(nav)} closes, ../shared): "
              f"median {med2:.1f} ms, best {best2:.1f} ms")
        ok = ok and med2 < TARGET_MS
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
