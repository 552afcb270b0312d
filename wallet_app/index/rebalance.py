"""Rebalance trade list (METHODOLOGY sections 5 and 6): from what is held to the targets.

Input: the USDC value of each holding, the USDC cash, and the target weights in basis
points (a sum under 10,000 leaves the rest in USDC). In the Bear regime every target is 0:
the whole index goes to USDC. Output: a :class:`RebalancePlan` with the sell legs first
(they fund the buys), then the buy legs, each sorted by asset id, and the legs left alone
with the reason why.

Floors (section 6): a leg is not traded when the asset's weight drift ``|current - target|``
is under 10 bp, and never when it is worth less than 10 USDC.

Choices (also in the README):

* The 10 bp drift floor applies to assets that stay in the index. An *exit* (target 0,
  including every asset in a Bear switch) or an *entry* (nothing held, target > 0) is a
  change of membership rather than a drift, so only the 10 USDC floor applies to it:
  otherwise a Bear switch would leave every constituent under 0.1% unsold and a Bull
  switch would never buy them back. Dust under 10 USDC stays where it is, listed in
  ``skipped``.
* An exit sells the whole position (``full_exit=True``: the executor sells the balance, not
  a USDC amount computed from a price that may have moved).
* Leg values are rounded *down* to USDC's 6 decimals, so a plan never spends more than the
  cash it assumes.
* If skipped sells leave the buys short of cash, all buys are scaled down pro rata (exact
  ``Decimal``, rounded down); buys that fall under 10 USDC are then dropped.
* Fees and slippage are the executor's concern: the plan is at the given values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Context, Decimal, localcontext

from ..models import Regime
from .errors import IndexDataError
from .rules import BPS, DEFAULT_RULES, IndexRules

USDC_QUANTUM = Decimal("0.000001")
_CTX = Context(prec=40)

SKIP_DRIFT = "drift under the floor"
SKIP_MIN_LEG = "leg under the minimum USDC value"
SKIP_UNFUNDED = "scaled below the minimum USDC value for lack of cash"


@dataclass(frozen=True)
class TradeLeg:
    """One trade of the plan."""

    asset_id: str
    side: str  # "sell" | "buy"
    usdc: Decimal  # value of the leg in USDC (6 decimals)
    current_bps: Decimal  # weight before, exact up to display rounding
    target_bps: int
    drift_bps: Decimal
    full_exit: bool = False
    amount: Decimal | None = None  # tokens, when a price was given


@dataclass(frozen=True)
class SkippedLeg:
    """A leg that the floors leave alone."""

    asset_id: str
    side: str
    usdc: Decimal
    current_bps: Decimal
    target_bps: int
    drift_bps: Decimal
    reason: str


@dataclass(frozen=True)
class RebalancePlan:
    """The trades that bring holdings to the targets, floors applied."""

    regime: Regime
    total_value: Decimal
    cash_before: Decimal
    legs: tuple[TradeLeg, ...]
    skipped: tuple[SkippedLeg, ...]
    buy_scale: Decimal = Decimal(1)

    @property
    def sells(self) -> tuple[TradeLeg, ...]:
        return tuple(leg for leg in self.legs if leg.side == "sell")

    @property
    def buys(self) -> tuple[TradeLeg, ...]:
        return tuple(leg for leg in self.legs if leg.side == "buy")

    @property
    def turnover_usdc(self) -> Decimal:
        """Sum of all legs (buys + sells)."""
        return sum((leg.usdc for leg in self.legs), Decimal(0))

    @property
    def cash_after(self) -> Decimal:
        """Expected USDC after the plan, before fees and slippage."""
        return (self.cash_before + sum((leg.usdc for leg in self.sells), Decimal(0))
                - sum((leg.usdc for leg in self.buys), Decimal(0)))


def _down(x: Decimal) -> Decimal:
    return x.quantize(USDC_QUANTUM, rounding=ROUND_DOWN)


def plan_rebalance(values: Mapping[str, Decimal], cash_usdc: Decimal,
                   target_bps: Mapping[str, int], regime: Regime = Regime.BULL, *,
                   rules: IndexRules = DEFAULT_RULES,
                   prices: Mapping[str, Decimal] | None = None) -> RebalancePlan:
    """Trade list from current USDC values to target weights.

    ``values``: USDC value held per asset id; ``cash_usdc``: USDC held; ``target_bps``:
    target weight per asset id (ignored in Bear, where every target is 0); ``prices``:
    optional USDC price per asset, to give token amounts on the legs.
    """
    if cash_usdc < 0 or any(v < 0 for v in values.values()):
        raise IndexDataError("holdings and cash must not be negative.")
    targets = {} if regime is Regime.BEAR else dict(target_bps)
    if any(not isinstance(t, int) or t < 0 for t in targets.values()):
        raise IndexDataError("target weights must be whole basis points >= 0.")
    if sum(targets.values()) > BPS:
        raise IndexDataError(f"target weights sum to {sum(targets.values())} bp, over {BPS}.")
    total = cash_usdc + sum(values.values(), Decimal(0))
    legs: list[TradeLeg] = []
    skipped: list[SkippedLeg] = []
    if total <= 0:
        return RebalancePlan(regime, total, cash_usdc, (), ())
    floor_bps = Decimal(rules.drift_floor_bps)
    with localcontext(_CTX):
        for asset_id in sorted(set(values) | set(targets)):
            value = values.get(asset_id, Decimal(0))
            target = targets.get(asset_id, 0)
            if value == 0 and target == 0:
                continue
            current = value * BPS / total
            drift = abs(current - target)
            exit_, entry = target == 0, value == 0
            usdc = _down(value) if exit_ else _down(abs(total * target / BPS - value))
            side = "buy" if (not exit_ and total * target / BPS > value) else "sell"
            if drift == 0:
                continue
            reason = None
            if not (exit_ or entry) and drift < floor_bps:
                reason = SKIP_DRIFT
            elif usdc < rules.min_leg_usdc:
                reason = SKIP_MIN_LEG
            if reason:
                skipped.append(SkippedLeg(asset_id, side, usdc, current, target, drift, reason))
            else:
                legs.append(TradeLeg(asset_id, side, usdc, current, target, drift, exit_))
        scale = Decimal(1)
        sells = [leg for leg in legs if leg.side == "sell"]
        buys = [leg for leg in legs if leg.side == "buy"]
        available = cash_usdc + sum((leg.usdc for leg in sells), Decimal(0))
        needed = sum((leg.usdc for leg in buys), Decimal(0))
        if needed > available:
            scale = available / needed
            kept = []
            for leg in buys:
                usdc = _down(leg.usdc * available / needed)  # multiply first: exact when it can be
                if usdc < rules.min_leg_usdc:
                    skipped.append(SkippedLeg(leg.asset_id, "buy", usdc, leg.current_bps,
                                              leg.target_bps, leg.drift_bps, SKIP_UNFUNDED))
                else:
                    kept.append(TradeLeg(leg.asset_id, "buy", usdc, leg.current_bps,
                                         leg.target_bps, leg.drift_bps))
            buys = kept
        if prices:
            sells = [_with_amount(leg, prices) for leg in sells]
            buys = [_with_amount(leg, prices) for leg in buys]
    skipped.sort(key=lambda s: s.asset_id)
    return RebalancePlan(regime, total, cash_usdc, tuple(sells + buys), tuple(skipped), scale)


def _with_amount(leg: TradeLeg, prices: Mapping[str, Decimal]) -> TradeLeg:
    price = prices.get(leg.asset_id)
    if price is None or price <= 0:
        return leg
    return TradeLeg(leg.asset_id, leg.side, leg.usdc, leg.current_bps, leg.target_bps,
                    leg.drift_bps, leg.full_exit, leg.usdc / price)
