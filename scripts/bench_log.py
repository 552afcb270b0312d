#!/usr/bin/env python3
"""Benchmark of the index log: 10,000 events opened and scrolled on the Transactions
screen, and the performance panel's computation over 5 years of daily NAV.

The log (offscreen, 1280x800, the real ``TransactionsPage``): a ``QTimer`` ticks every
5 ms on the GUI thread and records the gap between ticks while the page is handed 10,000
synthetic index events (rebalances, strikes, settlements, NAV-less entries) and then
scrolled from top to bottom and back three pages at a time, one step per 16 ms frame, with
every frame painted; a selection of a rebalance row in the middle shows its legs pane.
A gap over 50 ms is a stall a person sees. Each run is a fresh page; prints the median
over ``--repeat`` runs of the open time, the longest gap while scrolling and the median
frame. Then the performance panel (``splice`` + ``performance_report`` over 1,827 daily
closes x 3 series, the same inputs as ``scripts/bench_performance.py``): median of 21.

    .venv/bin/python scripts/bench_log.py [--events 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

STALL_MS = 50.0
KINDS = ("rebalance", "strike", "buy", "sell", "buy_request", "sell_request", "regime",
         "refund", "fee", "constituent")


def synthetic_events(n: int) -> list:
    from wallet_app.models import IndexEvent

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        out.append(IndexEvent(
            block_number=1_000 + i, tx_hash="0x" + f"{i:064x}", log_index=i % 7, kind=kind,
            summary=f"{kind.replace('_', ' ').capitalize()} #{i}: {Decimal(i) * 7:,.2f} USDC",
            timestamp=t0 + timedelta(seconds=12 * i),
            usdc=Decimal(i) / 3, shares=None))
    return out


class GapMonitor:
    """The longest gap between 5 ms ticks of a GUI-thread timer."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self.cpu_gaps: list[float] = []  # GUI-thread CPU time between the same ticks
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.gaps.clear()
        self.cpu_gaps.clear()
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.gaps.append((now - self._last) * 1000)
        self.cpu_gaps.append((cpu - self._last_cpu) * 1000)
        self._last, self._last_cpu = now, cpu


def one_run(n: int) -> dict[str, float]:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from ui.pages.transactions_page import TransactionsPage
    from wallet_app.index.legs import Leg, LegSet, TxCost

    app = QApplication.instance()
    assert app is not None
    page = TransactionsPage()
    page.resize(1280, 800)
    page.show()
    app.processEvents()
    events = synthetic_events(n)
    mon = GapMonitor()
    mon.start()
    t0 = time.perf_counter()
    page.show_events(events)
    page.event_log.view.viewport().repaint()
    open_ms = (time.perf_counter() - t0) * 1000
    assert page.event_log.model.rowCount() == n

    view = page.event_log.view
    bar = view.verticalScrollBar()
    step = max(1, 3 * bar.pageStep())  # a brisk wheel spin: three pages a frame
    positions = list(range(0, bar.maximum() + 1, step)) + [bar.maximum()]
    positions += positions[::-1]
    frames: list[float] = []
    cpu: list[float] = []
    # As the app does once its first data is on screen (ui/controller.py's GC pacer):
    # freeze what is alive and push automatic full collections out.
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000)
    loop = QEventLoop()
    it = iter(positions)

    def frame() -> None:
        try:
            value = next(it)
        except StopIteration:
            loop.quit()
            return
        f0, c0 = time.perf_counter(), time.thread_time()
        bar.setValue(value)
        view.viewport().repaint()
        frames.append((time.perf_counter() - f0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        QTimer.singleShot(16, frame)

    mon.start()
    QTimer.singleShot(0, frame)
    loop.exec()
    # Select a rebalance half way down and show its legs (what a click does).
    mid = next(i for i in range(n // 2, n) if page.events[i].kind == "rebalance")
    s0 = time.perf_counter()
    view.selectRow(mid)
    legs = LegSet("rebalance", page.events[mid].tx_hash, tuple(
        Leg(f"T{k:03d}", "buy", Decimal(100), "USDC", Decimal("0.5"), f"T{k:03d}",
            Decimal(200), Decimal(100), Decimal("99.5"), Decimal("0.49"), Decimal("0.0001"))
        for k in range(20)), (TxCost("0x", 3_000_000, 3 * 10**15),), True)
    page.show_legs(page.events[mid], legs)
    app.processEvents()
    select_ms = (time.perf_counter() - s0) * 1000
    mon.stop()
    gaps = mon.gaps
    page.close()
    page.deleteLater()
    app.processEvents()
    return {"open_ms": open_ms, "max_gap_ms": max(gaps) if gaps else 0.0,
            "max_gap_cpu_ms": max(mon.cpu_gaps) if mon.cpu_gaps else 0.0,
            "median_frame_ms": statistics.median(frames), "max_frame_ms": max(frames),
            "frames": float(len(frames)), "select_ms": select_ms,
            "max_frame_cpu_ms": max(cpu)}


def perf_panel_ms(repeat: int = 21) -> float:
    from decimal import Decimal as D

    import bench_performance as bp

    from wallet_app.index.performance import performance_report, splice

    backtest = bp.walk(1, D(10_000), 0.03)
    live = [(d, v / backtest[-180][1]) for d, v in backtest[-180:]]
    btc, flat = bp.walk(2, D(13_000), 0.035), bp.walk(3, D(10_000), 0.04)

    def run() -> object:
        index, live_start = splice(backtest, live)
        return performance_report(index, live_start=live_start,
                                  benchmarks={"BTC": btc, "Top 100, always invested": flat})

    run()
    return bp.timed(run, repeat)[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from ui.app import create_app

    create_app(theme="light")
    runs = [one_run(args.events) for _ in range(args.repeat)]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    worst = max(r["max_gap_ms"] for r in runs)
    print(f"log with {args.events:,} events, median of {args.repeat} runs "
          f"({int(runs[0]['frames'])} scroll frames each):")
    print(f"  open (model reset + first paint):     {med('open_ms'):7.1f} ms")
    print(f"  longest GUI-thread gap while scrolling: {med('max_gap_ms'):7.1f} ms "
          f"(worst run {worst:.1f} ms; target < {STALL_MS:.0f} ms) "
          f"{'OK' if med('max_gap_ms') < STALL_MS else 'STALL'}")
    print(f"  the same gaps in GUI-thread CPU time:   {med('max_gap_cpu_ms'):7.1f} ms "
          f"{'OK' if med('max_gap_cpu_ms') < STALL_MS else 'STALL'} (wall minus this: "
          f"the thread waiting for a core; load {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores)")
    print(f"  scroll frame (set + paint), median:    {med('median_frame_ms'):7.1f} ms "
          f"(longest {med('max_frame_ms'):.1f} ms wall, {med('max_frame_cpu_ms'):.1f} ms "
          "of GUI-thread CPU: the rest is the machine's other work)")
    print(f"  select a rebalance + 20 legs shown:    {med('select_ms'):7.1f} ms")
    perf = perf_panel_ms()
    print(f"performance panel, 1,827 daily closes x 3 series: median {perf:.1f} ms "
          f"(target < 50 ms) {'OK' if perf < 50 else 'SLOW'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
