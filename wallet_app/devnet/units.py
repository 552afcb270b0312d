"""Units of the devnet market: USDC and feed decimals, the Uniswap V2 reserve bound, and
exact Decimal-to-base-unit conversions (kept out of ``wallet_app/devnet/deploy.py``).

Money is ``Decimal`` or integer base units, never float: :func:`to_units` refuses an
amount finer than the token's decimals instead of rounding it away.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

USDC_DECIMALS = 6
#: Feed decimals for prices of at least one cent (like Chainlink USD feeds) and below it.
FEED_DECIMALS = 8
FEED_DECIMALS_SMALL = 18
#: Uniswap V2 reserves are uint112.
MAX_RESERVE = 2**112 - 1

def to_units(amount: Decimal, decimals: int) -> int:
    """Exact base units of a Decimal amount; refuses amounts finer than ``decimals``."""
    scaled = Decimal(amount).scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than {decimals} decimals")
    return int(scaled)


def feed_decimals_for(price_usd: Decimal) -> int:
    """8 decimals like Chainlink USD feeds; 18 for sub-cent prices so they keep precision."""
    return FEED_DECIMALS if price_usd >= Decimal("0.01") else FEED_DECIMALS_SMALL


def feed_answer(price_usd: Decimal, decimals: int) -> int:
    """The feed's integer answer for a USD price (half-even rounding); must be positive."""
    answer = int(Decimal(price_usd).scaleb(decimals).to_integral_value(ROUND_HALF_EVEN))
    if answer <= 0:
        raise ValueError(f"price {price_usd} is too small for a {decimals}-decimal feed")
    return answer
