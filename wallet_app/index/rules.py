"""The numeric parameters of the Global 100 methodology (v1), in one frozen object.

Every engine function takes an :class:`IndexRules` so that tests and backtests can vary a
parameter without monkey-patching, while the defaults are exactly METHODOLOGY.md v1.
Fractions and Decimals only: the rules feed exact arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

#: Basis points in 100%.
BPS = 10_000


@dataclass(frozen=True)
class IndexRules:
    """Parameters of METHODOLOGY.md; the defaults are version 1."""

    #: Number of constituents (section 3).
    size: int = 100
    #: Previous constituents ranked at or above this stay (buffer rule, section 3).
    buffer_rank: int = 110
    #: Weight cap per constituent (section 4).
    cap: Fraction = Fraction(1, 4)
    #: Liquidity floor on 24h volume in USD (section 2.3); ``None`` disables it (used by
    #: backtests over tables that carry no volume).
    min_volume_usd: Decimal | None = Decimal(1_000_000)
    #: Simple moving average window, in daily closes (section 5).
    sma_days: int = 200
    #: |rho| a close must reach to count towards a flip (section 5).
    flip_threshold: Decimal = Decimal("0.05")
    #: Consecutive closes beyond the threshold needed to flip (section 5).
    confirm_days: int = 3
    #: A rebalance leaves alone an asset whose weight drift is under this (section 6).
    drift_floor_bps: int = 10
    #: A rebalance never trades a leg smaller than this many USDC (section 6).
    min_leg_usdc: Decimal = Decimal(10)
    #: Default mint and redeem fees (section 7).
    buy_fee_bps: int = 25
    sell_fee_bps: int = 25
    #: Immutable maximum of either fee (section 7).
    max_fee_bps: int = 100

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError("size must be at least 1")
        if self.buffer_rank < self.size:
            raise ValueError("buffer_rank must be >= size")
        if not 0 < self.cap <= 1:
            raise ValueError("cap must be in (0, 1]")
        if self.sma_days < 1 or self.confirm_days < 1:
            raise ValueError("sma_days and confirm_days must be >= 1")
        for fee in (self.buy_fee_bps, self.sell_fee_bps):
            if not 0 <= fee <= self.max_fee_bps:
                raise ValueError("fees must be between 0 and max_fee_bps")


#: The rules of METHODOLOGY.md v1.
DEFAULT_RULES = IndexRules()
