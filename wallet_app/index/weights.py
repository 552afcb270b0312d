"""Weights (METHODOLOGY section 4): capped market-cap weights in whole basis points.

All arithmetic is exact (``fractions.Fraction``): the cap loop and the rounding never see
a float, so the same market caps always give the same basis points on every machine.

1. Raw weight ``w_i = m_i / sum(m)``.
2. Cap ``c`` (25%): while some ``w_i > c``, those are set to ``c`` and the excess goes to the
   uncapped assets in proportion to their market caps. Because the hand-out is proportional,
   the uncapped weights after any number of rounds are ``(1 - c * #capped) * m_i / sum(m of
   uncapped)``; the loop below iterates that closed form until no uncapped weight exceeds
   ``c``, which is the same fixed point reached in fewer steps. With fewer assets than
   ``1/c`` (fewer than 4 at 25%) the cap cannot hold and weights are equal.
3. Largest-remainder rounding to integer basis points summing to exactly 10,000; ties on the
   remainder go to the larger market cap, then to the smaller ``id``. Every weight that rounds
   to 0 then gets 1 bp, taken from the largest weight at that moment (ties: larger market
   cap, then smaller id); zero-weight assets are served in (market cap desc, id) order.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from .errors import IndexDataError
from .rules import BPS


def _frac(x: Decimal | Fraction | int) -> Fraction:
    return x if isinstance(x, Fraction) else Fraction(x)


def capped_weights(market_caps: Mapping[str, Decimal | Fraction | int],
                   cap: Fraction = Fraction(1, 4)) -> dict[str, Fraction]:
    """Exact capped market-cap weights summing to 1.

    Market caps must be > 0 (the eligibility screen guarantees it).
    """
    if not market_caps:
        return {}
    caps = {k: _frac(v) for k, v in market_caps.items()}
    if any(v <= 0 for v in caps.values()):
        raise IndexDataError("every selected market cap must be > 0 to compute weights.")
    n = len(caps)
    if cap * n < 1:
        return {k: Fraction(1, n) for k in caps}
    capped: set[str] = set()
    while True:
        free = [k for k in caps if k not in capped]
        remaining = 1 - cap * len(capped)
        total = sum((caps[k] for k in free), Fraction(0))
        weights = {k: remaining * caps[k] / total for k in free} if free else {}
        over = {k for k, w in weights.items() if w > cap}
        if not over:
            break
        capped |= over
    weights.update({k: cap for k in capped})
    return weights


def _size_key(k: str, caps: Mapping[str, Fraction]) -> tuple[Fraction, str]:
    """Sort key "larger market cap first, then id ascending" (use with ascending sort)."""
    return (-caps[k], k)


def round_to_bps(weights: Mapping[str, Fraction],
                 market_caps: Mapping[str, Decimal | Fraction | int],
                 total: int = BPS) -> dict[str, int]:
    """Largest-remainder rounding to integers summing to ``total``, then the 1 bp minimum."""
    if not weights:
        return {}
    if len(weights) > total:
        raise IndexDataError(f"cannot give {len(weights)} assets at least 1 bp each "
                             f"out of {total}.")
    caps = {k: _frac(market_caps[k]) for k in weights}
    exact = {k: w * total for k, w in weights.items()}
    floors = {k: int(v.numerator // v.denominator) for k, v in exact.items()}
    left = total - sum(floors.values())
    order = sorted(weights, key=lambda k: (-(exact[k] - floors[k]), -caps[k], k))
    for k in order[:left]:
        floors[k] += 1
    bps = floors
    if sum(bps.values()) != total:  # pragma: no cover - guarded by the maths above
        raise AssertionError("rounding did not sum to the total")
    for k in sorted((k for k, v in bps.items() if v == 0), key=lambda k: _size_key(k, caps)):
        donor = min(bps, key=lambda d: (-bps[d], -caps[d], d))
        bps[donor] -= 1
        bps[k] = 1
    return bps


def weights_bps(market_caps: Mapping[str, Decimal | Fraction | int],
                cap: Fraction = Fraction(1, 4)) -> dict[str, int]:
    """Section 4 end to end: capped weights rounded to basis points."""
    return round_to_bps(capped_weights(market_caps, cap), market_caps)
