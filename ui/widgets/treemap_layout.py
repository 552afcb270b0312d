"""Squarified treemap layout as a pure function (no Qt), so it can be tested exactly.

The algorithm is Bruls, Huizing and van Wijk's "Squarified Treemaps" (2000): items sorted
by size are laid in rows along the shorter side of the free rectangle, and a row grows
while adding the next item does not worsen the row's worst aspect ratio.

Two properties matter to the GUI and are built in rather than hoped for:

* **Shared edges are the same float.** Every tile is stored by its edges (x0, y0, x1, y1),
  and each edge is computed once and reused by the tile on the other side of it (a row's
  far edge *is* the free rectangle's new near edge; inside a row, tile k's end *is* tile
  k+1's start). So snapping edges to whole pixels (:func:`snap`) maps a shared edge to one
  pixel column, and snapped tiles can touch but never overlap.
* **Areas are exact up to rounding.** Inside a row, positions are cumulative fractions of
  the row's length, and the last row ends exactly on the free rectangle's edge, so float
  error does not accumulate into the last (smallest) tiles.

Sorting is by weight descending, ties by input index, so the same weights always give the
same layout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Tile:
    """One laid-out item: ``index`` into the input weights and its rectangle by edges."""

    index: int
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0)


@dataclass(frozen=True, slots=True)
class PixelTile:
    """A tile snapped to whole pixels: integer edges, ``x1``/``y1`` exclusive."""

    index: int
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def area(self) -> int:
        return (self.x1 - self.x0) * (self.y1 - self.y0)

    def contains(self, x: float, y: float) -> bool:
        """Hit test with the same half-open convention as the edges."""
        return self.x0 <= x < self.x1 and self.y0 <= y < self.y1


def _worst(largest: float, smallest: float, total: float, side: float) -> float:
    """Worst aspect ratio of a row of areas summing to ``total`` laid along ``side``.

    For a row of thickness t = total/side, an item of area a is a/t long, so its ratio is
    max(side^2 a / total^2, total^2 / (side^2 a)); over the row this peaks at the largest
    or the smallest item, which is why only those two are needed.
    """
    s2 = side * side
    t2 = total * total
    return max(s2 * largest / t2, t2 / (s2 * smallest))


def squarify(
    weights: Sequence[float | int | Decimal],
    x: float,
    y: float,
    width: float,
    height: float,
) -> list[Tile]:
    """Lay ``weights`` out in the rectangle, one :class:`Tile` per positive weight.

    Tiles come back in layout order (largest first); ``Tile.index`` refers to the input.
    Zero weights get no tile. Each tile's area is ``weight / sum(weights)`` of the
    rectangle's area (to float precision).
    """
    values = []
    for w in weights:
        v = float(w)  # geometry only: weights here are basis points or fractions
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"weights must be finite and non-negative, got {w!r}")
        values.append(v)
    if width <= 0 or height <= 0:
        return []
    order = sorted((i for i, v in enumerate(values) if v > 0), key=lambda i: (-values[i], i))
    if not order:
        return []
    total = math.fsum(values[i] for i in order)
    scale = width * height / total
    areas = [values[i] * scale for i in order]

    # The free rectangle, by edges; every edge below is derived from these exact values.
    fx0, fy0, fx1, fy1 = float(x), float(y), float(x) + float(width), float(y) + float(height)
    tiles: list[Tile] = []
    n = len(order)
    k = 0
    while k < n:
        fw, fh = fx1 - fx0, fy1 - fy0
        side = min(fw, fh)
        row_sum = areas[k]
        worst = _worst(areas[k], areas[k], row_sum, side)
        end = k + 1
        while end < n:
            candidate = row_sum + areas[end]
            # Sorted descending: areas[k] is the row's largest, areas[end] its smallest.
            ratio = _worst(areas[k], areas[end], candidate, side)
            if ratio > worst:
                break
            row_sum, worst, end = candidate, ratio, end + 1
        last = end == n
        if fw >= fh:
            # A column on the left, tiles stacked top to bottom.
            edge = fx1 if last else min(fx1, fx0 + row_sum / fh)
            _stack(tiles, order, areas, k, end, row_sum, fy0, fy1, fx0, edge, vertical=True)
            fx0 = edge
        else:
            # A row on top, tiles side by side left to right.
            edge = fy1 if last else min(fy1, fy0 + row_sum / fw)
            _stack(tiles, order, areas, k, end, row_sum, fx0, fx1, fy0, edge, vertical=False)
            fy0 = edge
        k = end
    return tiles


def _stack(
    tiles: list[Tile],
    order: list[int],
    areas: list[float],
    start: int,
    end: int,
    row_sum: float,
    lo: float,
    hi: float,
    near: float,
    far: float,
    vertical: bool,
) -> None:
    """Split [lo, hi] among the row's items by cumulative share; append their tiles.

    ``near``/``far`` are the row's edges across its thickness. Positions are cumulative
    (lo + span * running_sum / row_sum) and the last one is ``hi`` itself, so neighbours
    share one float and the row spans the free side exactly.
    """
    span = hi - lo
    running = 0.0
    a = lo
    for t in range(start, end):
        running += areas[t]
        b = hi if t == end - 1 else lo + span * (running / row_sum)
        if vertical:
            tiles.append(Tile(order[t], near, a, far, b))
        else:
            tiles.append(Tile(order[t], a, near, b, far))
        a = b


def _round(v: float) -> int:
    """Round half up; one monotone rule for every edge keeps snapped tiles disjoint."""
    return math.floor(v + 0.5)


def snap(tiles: Sequence[Tile]) -> list[PixelTile]:
    """Snap every edge to the nearest whole pixel.

    Each edge moves by at most half a pixel, so each side changes by at most one pixel;
    equal float edges snap to the same pixel and rounding is monotone, so tiles that did
    not overlap still do not. Tiles narrower than a pixel may snap to zero width.
    """
    return [
        PixelTile(t.index, _round(t.x0), _round(t.y0), _round(t.x1), _round(t.y1))
        for t in tiles
    ]


def layout_pixels(
    weights: Sequence[float | int | Decimal], x: int, y: int, width: int, height: int
) -> list[PixelTile]:
    """:func:`squarify` then :func:`snap`: what the treemap widget paints."""
    return snap(squarify(weights, x, y, width, height))
