"""Property tests of the pure squarified layout (ui.widgets.treemap_layout).

The issue's acceptance: up to 100 tiles, no overlaps, every tile inside the rectangle,
each tile's area proportional to its weight within a pixel on each side, deterministic.
Checked here for 1..120 random weights summing to 10,000 bp in random rectangles, both
for the exact float layout and for the pixel-snapped one the widget paints.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import math  # noqa: E402

import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ui.widgets.treemap_layout import (  # noqa: E402
    PixelTile,
    Tile,
    layout_pixels,
    snap,
    squarify,
)

TOTAL_BPS = 10_000


@st.composite
def bps_weights(draw: st.DrawFn, min_tiles: int = 1, max_tiles: int = 120) -> list[int]:
    """n positive integer weights summing to exactly 10,000 (random cut points)."""
    n = draw(st.integers(min_tiles, max_tiles))
    cuts = sorted(draw(st.sets(st.integers(1, TOTAL_BPS - 1), min_size=n - 1, max_size=n - 1)))
    edges = [0, *cuts, TOTAL_BPS]
    weights = [b - a for a, b in zip(edges, edges[1:], strict=False)]
    # Shuffle so that the layout's own sorting is exercised.
    return draw(st.permutations(weights))


rects = st.tuples(
    st.integers(0, 50), st.integers(0, 50), st.integers(40, 1600), st.integers(40, 1000)
)


def _overlap_area(a: Tile | PixelTile, b: Tile | PixelTile) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0


@settings(max_examples=150, deadline=None)
@given(weights=bps_weights(), rect=rects)
def test_float_layout_is_exact_partition(weights: list[int], rect: tuple[int, ...]) -> None:
    x, y, w, h = rect
    tiles = squarify(weights, x, y, w, h)
    assert sorted(t.index for t in tiles) == list(range(len(weights)))
    eps = 1e-7 * (w + h)
    for t in tiles:
        assert x - eps <= t.x0 <= t.x1 <= x + w + eps
        assert y - eps <= t.y0 <= t.y1 <= y + h + eps
        ideal = weights[t.index] / TOTAL_BPS * w * h
        assert math.isclose(t.area, ideal, rel_tol=1e-9, abs_tol=1e-6)
    for i, a in enumerate(tiles):
        for b in tiles[i + 1 :]:
            assert _overlap_area(a, b) <= 1e-6
    assert math.isclose(math.fsum(t.area for t in tiles), w * h, rel_tol=1e-12)


@settings(max_examples=150, deadline=None)
@given(weights=bps_weights(), rect=rects)
def test_pixel_layout_within_a_pixel_per_side(weights: list[int], rect: tuple[int, ...]) -> None:
    x, y, w, h = rect
    exact = {t.index: t for t in squarify(weights, x, y, w, h)}
    pixels = layout_pixels(weights, x, y, w, h)
    assert len(pixels) == len(weights)
    for p in pixels:
        # Inside the rectangle, exactly.
        assert x <= p.x0 <= p.x1 <= x + w
        assert y <= p.y0 <= p.y1 <= y + h
        # Each side within one pixel of the exact tile's side...
        f = exact[p.index]
        assert abs(p.width - f.width) <= 1
        assert abs(p.height - f.height) <= 1
        # ...so the area is the weight's share within a pixel on each side.
        ideal_w, ideal_h = f.width, f.height
        assert math.isclose(ideal_w * ideal_h, weights[p.index] / TOTAL_BPS * w * h,
                            rel_tol=1e-9, abs_tol=1e-6)
        low = max(0.0, ideal_w - 1) * max(0.0, ideal_h - 1)
        high = (ideal_w + 1) * (ideal_h + 1)
        assert low - 1e-6 <= p.area <= high + 1e-6
    # No overlaps (integer arithmetic, exact) and the tiles cover the rectangle exactly.
    for i, a in enumerate(pixels):
        for b in pixels[i + 1 :]:
            assert _overlap_area(a, b) == 0
    assert sum(p.area for p in pixels) == w * h


@settings(max_examples=50, deadline=None)
@given(weights=bps_weights(), rect=rects)
def test_layout_is_deterministic(weights: list[int], rect: tuple[int, ...]) -> None:
    x, y, w, h = rect
    assert squarify(weights, x, y, w, h) == squarify(list(weights), x, y, w, h)
    assert layout_pixels(weights, x, y, w, h) == layout_pixels(tuple(weights), x, y, w, h)


def test_hundred_tiles_in_widget_sized_rect_are_reasonably_square() -> None:
    """Squarified means squarish: the big tiles must not be slivers."""
    weights = [2500, 1900, 1100, 700, 500] + [3300 // 95] * 95
    weights[-1] += TOTAL_BPS - sum(weights)
    tiles = squarify(weights, 0, 0, 900, 520)
    big = [t for t in tiles if weights[t.index] >= 500]
    for t in big:
        ratio = max(t.width / t.height, t.height / t.width)
        assert ratio < 4.0, (t, ratio)


def test_paper_example() -> None:
    """Bruls et al.'s worked example: 6,6,4,3,2,2,1 in a 6 x 4 rectangle."""
    tiles = squarify([6, 6, 4, 3, 2, 2, 1], 0, 0, 6, 4)
    got = [(t.index, round(t.x0, 6), round(t.y0, 6), round(t.x1, 6), round(t.y1, 6))
           for t in tiles]
    assert got == [
        (0, 0, 0, 3, 2),
        (1, 0, 2, 3, 4),
        (2, 3, 0, round(3 + 12 / 7, 6), round(7 / 3, 6)),
        (3, round(3 + 12 / 7, 6), 0, 6, round(7 / 3, 6)),
        (4, 3, round(7 / 3, 6), 4.2, 4),
        (5, 4.2, round(7 / 3, 6), 5.4, 4),
        (6, 5.4, round(7 / 3, 6), 6, 4),
    ]


def test_zero_weights_get_no_tile_and_ties_keep_input_order() -> None:
    tiles = squarify([0, 5, 5, 0], 0, 0, 10, 10)
    assert [t.index for t in tiles] == [1, 2]
    assert squarify([0, 0], 0, 0, 10, 10) == []
    assert squarify([1, 2], 0, 0, 0, 10) == []


def test_rejects_negative_or_non_finite_weights() -> None:
    with pytest.raises(ValueError):
        squarify([1, -1], 0, 0, 10, 10)
    with pytest.raises(ValueError):
        squarify([1, float("nan")], 0, 0, 10, 10)


def test_snap_rounds_half_up_consistently() -> None:
    assert snap([Tile(0, 0.5, 0.49, 2.5, 3.5)]) == [PixelTile(0, 1, 0, 3, 4)]
