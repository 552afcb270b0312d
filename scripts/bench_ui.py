#!/usr/bin/env python
"""Benchmark the holdings treemap: layout and paint of 100 tiles (target: under 10 ms).

Measures, as the median of many runs after a warm-up (fonts and glyph caches):
  * the pure squarified layout + pixel snapping (no Qt),
  * the widget's relayout (layout + colours + label fitting with font metrics),
  * the paint of the laid-out tiles into an image (1x and 2x device pixel ratio),
  * relayout + paint together, which is what a resize or a data refresh costs.

Uses SAMPLE DATA (ui.sample_data). Exit status 1 if relayout + paint misses the target,
so CI or ``make bench`` can use it as a check.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_ui.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ui.sample_data import sample_state  # noqa: E402
from ui.theme import LIGHT  # noqa: E402
from ui.widgets.treemap import HoldingsTreemap  # noqa: E402
from ui.widgets.treemap_layout import layout_pixels  # noqa: E402

TARGET_MS = 10.0


def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and 95th percentile of ``fn``'s wall time in milliseconds."""
    for _ in range(max(3, runs // 20)):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert app is not None  # noqa: S101 - keeps the app alive for the run

    state = sample_state()
    weights = [h.weight_bps for h in state.holdings]
    ok = True
    print(f"treemap of {len(weights)} tiles, median (p95) of {args.runs} runs; "
          f"target: relayout + paint < {TARGET_MS:.0f} ms")
    for w, h in ((900, 560), (1280, 800)):
        tree = HoldingsTreemap(palette=LIGHT)
        tree.resize(w, h)
        tree.set_state(state)
        tree.relayout()
        area = tree.tree_area()
        assert len(tree.tiles()) == len(weights)  # noqa: S101
        results = {
            "pure layout (squarify + snap)": median_ms(
                lambda a=area: layout_pixels(weights, a.x(), a.y(), a.width(), a.height()),
                args.runs),
            "widget relayout (+ colours, labels)": median_ms(tree.relayout, args.runs),
        }
        for dpr in (1.0, 2.0):
            image = QImage(int(w * dpr), int(h * dpr), QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(dpr)

            def paint(img: QImage = image, t: HoldingsTreemap = tree) -> None:
                painter = QPainter(img)
                t.render(painter, QPoint())
                painter.end()

            def both(img: QImage = image, t: HoldingsTreemap = tree) -> None:
                t.relayout()
                painter = QPainter(img)
                t.render(painter, QPoint())
                painter.end()

            def refresh(img: QImage = image, t: HoldingsTreemap = tree) -> None:
                t.set_state(state)  # new data: restyle every tile, then lay out and paint
                t.relayout()
                painter = QPainter(img)
                t.render(painter, QPoint())
                painter.end()

            results[f"paint @{dpr:g}x"] = median_ms(paint, args.runs)
            results[f"data refresh + relayout + paint @{dpr:g}x"] = median_ms(refresh, args.runs)
            results[f"relayout + paint @{dpr:g}x"] = median_ms(both, args.runs)
            ok = ok and results[f"relayout + paint @{dpr:g}x"][0] < TARGET_MS
            ok = ok and results[f"data refresh + relayout + paint @{dpr:g}x"][0] < TARGET_MS
        print(f"\n{w}x{h}:")
        for name, (med, p95) in results.items():
            print(f"  {name:<44} {med:7.3f} ms  (p95 {p95:.3f} ms)")
    print("\nPASS" if ok else "\nFAIL: over target")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
