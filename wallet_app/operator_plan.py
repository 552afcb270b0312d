"""What the operator will do at a rebalance: the methodology applied to the chain's state.

Pure functions over plain data (no web3), so that a dry run, the service and the tests
compute the same plan from the same inputs:

* :func:`reconstitute`: the composition (METHODOLOGY sections 2-4, buffer rule included)
  from a market snapshot, with the vault's current constituents as the previous
  composition; entrants (selected, not yet on the vault) and leavers (on the vault, not
  selected) by symbol.
* :func:`target_weights`: the targets in the vault's constituent order (leavers 0).
* :func:`sell_legs` / :func:`buy_legs`: the rebalance legs from the vault's holdings, the
  drift and minimum-leg floors of section 6 applied by :func:`plan_rebalance`.
* :func:`batches`: legs grouped per transaction (sells first: they fund the buys).

Symbols are the join key between a market snapshot (CoinGecko ids and symbols) and the
vault (each constituent's ERC-20 symbol); the match is case-insensitive. A choice: when a
snapshot has two eligible assets with the same symbol, the larger market cap is the one
the vault's token stands for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from .errors import WalletError
from .index import DEFAULT_RULES, compose, plan_rebalance
from .index.composition import Composition
from .index.inputs import MarketAsset
from .models import Regime

MAX_UINT = 2**256 - 1
#: Legs per rebalance transaction (~150k gas each: a batch stays near 3M gas).
DEFAULT_BATCH = 20
DEFAULT_SLIPPAGE_BPS = 100
#: Gas model used where a transaction cannot be estimated yet (a buy funded by sells
#: not yet mined, an entrant not yet listed): measured per leg plus the call's base.
LEG_GAS = 160_000
BATCH_BASE_GAS = 120_000


@dataclass(frozen=True)
class MarketView:
    """The market snapshot a plan is made from, with a stable content hash."""

    assets: tuple[MarketAsset, ...]
    as_of: str
    source: str

    def canonical(self) -> bytes:
        rows = sorted(
            ({"id": a.id, "symbol": a.symbol.upper(), "name": a.name,
              "current_price": None if a.current_price is None else str(a.current_price),
              "market_cap": None if a.market_cap is None else str(a.market_cap),
              "total_volume": None if a.total_volume is None else str(a.total_volume),
              "categories": sorted(a.categories)} for a in self.assets),
            key=lambda r: (r["id"], r["symbol"]))
        return json.dumps({"as_of": self.as_of, "assets": rows}, sort_keys=True,
                          separators=(",", ":")).encode()

    @property
    def snapshot_hash(self) -> str:
        """sha256 of the canonical snapshot: what a rule verifier can check the plan
        against (same snapshot, same composition, byte for byte)."""
        return "0x" + hashlib.sha256(self.canonical()).hexdigest()


@dataclass(frozen=True)
class OnChainConstituent:
    """A vault constituent as the lens reports it (integers as on chain)."""

    symbol: str
    token: str
    decimals: int
    target_bps: int
    balance: int
    price18: int
    value: int  # USDC base units


@dataclass(frozen=True)
class Reconstitution:
    composition: Composition
    weights: dict[str, int]  # SYMBOL -> bps over the new membership
    entrants: tuple[str, ...]
    leavers: tuple[str, ...]
    prices: dict[str, Decimal] = field(default_factory=dict)  # SYMBOL -> snapshot price


def reconstitute(view: MarketView, members: Sequence[str]) -> Reconstitution:
    """The methodology's composition, with the vault's members as the previous one."""
    by_symbol: dict[str, MarketAsset] = {}
    for a in view.assets:
        sym = a.symbol.upper()
        cur = by_symbol.get(sym)
        if cur is None or (a.valid_market_cap or 0) > (cur.valid_market_cap or 0):
            by_symbol[sym] = a
    member_set = {m.upper() for m in members}
    previous = [by_symbol[m].id for m in sorted(member_set) if m in by_symbol]
    comp = compose(view.assets, previous=previous, as_of=view.as_of, source=view.source)
    weights: dict[str, int] = {}
    prices: dict[str, Decimal] = {}
    for c in comp.constituents:
        sym = c.symbol.upper()
        weights[sym] = weights.get(sym, 0) + c.weight_bps
        prices[sym] = c.price
    entrants = tuple(sorted(s for s in weights if s not in member_set))
    leavers = tuple(sorted(s for s in member_set if s not in weights))
    return Reconstitution(comp, weights, entrants, leavers, prices)


class OperatorDataError(WalletError):
    """The market data would make the operator do something implausible; it refuses."""

    exit_code = 155


#: Most members one rebalance may remove: more means the data, not the market, changed.
MAX_LEAVERS = 20


def check_plausible(recon: Reconstitution, members: Sequence[str]) -> None:
    """Refuse a composition that is empty or replaces a large part of the index at once
    (a truncated or malformed snapshot looks like that); a person must look first."""
    if not recon.weights or sum(recon.weights.values()) != 10_000:
        raise OperatorDataError("The market snapshot selects no constituents (malformed or "
                                "incomplete data?); nothing was traded.")
    if members and len(recon.leavers) > MAX_LEAVERS:
        raise OperatorDataError(f"The snapshot would remove {len(recon.leavers)} of "
                                f"{len(members)} constituents at once (more than "
                                f"{MAX_LEAVERS}); nothing was traded. Check the data source.")


def target_weights(order: Sequence[str], weights: Mapping[str, int]) -> list[int]:
    """Targets in the vault's constituent ``order`` (symbols); absent ones get 0. When a
    selected asset is not on the vault (an entrant not yet listed), its weight goes to the
    largest target so the sum stays 10,000 (the vault requires it)."""
    out = [int(weights.get(s.upper(), 0)) for s in order]
    missing = sum(weights.values()) - sum(out)
    if out and missing:
        i = max(range(len(out)), key=lambda k: (out[k], -k))
        out[i] += missing
    return out


def _value(amount: int, decimals: int) -> Decimal:
    return Decimal(amount).scaleb(-decimals)


def plan_values(cons: Sequence[OnChainConstituent], cash: int, usdc_decimals: int,
                targets: Mapping[str, int], regime: Regime):  # -> RebalancePlan
    values = {c.symbol: _value(c.value, usdc_decimals) for c in cons}
    prices = {c.symbol: _value(c.price18, 18) for c in cons}
    return plan_rebalance(values, _value(cash, usdc_decimals), dict(targets), regime,
                          prices=prices)


def sell_legs(cons: Sequence[OnChainConstituent], cash: int, usdc_decimals: int,
              targets: Mapping[str, int], regime: Regime) -> list[dict]:
    """Sell legs (token amounts; a full exit sells the whole balance)."""
    plan = plan_values(cons, cash, usdc_decimals, targets, regime)
    by = {c.symbol: c for c in cons}
    legs = []
    for leg in plan.sells:
        c = by[leg.asset_id]
        if leg.full_exit:
            amount = MAX_UINT
        else:
            price = _value(c.price18, 18)
            amount = min(c.balance, int((leg.usdc / price).scaleb(c.decimals)
                                        .to_integral_value(rounding=ROUND_DOWN)))
        if amount and c.balance:
            legs.append({"symbol": c.symbol, "token": c.token, "is_buy": False,
                         "amount": str(amount), "usdc": str(leg.usdc)})
    return legs


def buy_legs(cons: Sequence[OnChainConstituent], cash: int, usdc_decimals: int,
             targets: Mapping[str, int], regime: Regime) -> list[dict]:
    """Buy legs (USDC amounts), never more than the free cash in total."""
    plan = plan_values(cons, cash, usdc_decimals, targets, regime)
    by = {c.symbol: c for c in cons}
    left, legs = cash, []
    floor = int(DEFAULT_RULES.min_leg_usdc.scaleb(usdc_decimals))
    for leg in plan.buys:
        amount = min(int(leg.usdc.scaleb(usdc_decimals)), left)
        if amount < floor:
            continue
        left -= amount
        legs.append({"symbol": leg.asset_id, "token": by[leg.asset_id].token, "is_buy": True,
                     "amount": str(amount), "usdc": str(leg.usdc)})
    return legs


def batches(legs: Sequence[dict], size: int = DEFAULT_BATCH) -> list[list[dict]]:
    size = max(1, int(size))
    return [list(legs[i:i + size]) for i in range(0, len(legs), size)]


def leg_tuple(leg: Mapping) -> tuple[str, bool, int, int]:
    """A journaled leg as the vault's ``Leg`` struct (token, isBuy, amountIn, minOut)."""
    return (leg["token"], bool(leg["is_buy"]), int(leg["amount"]), 0)


def model_gas(n_legs: int) -> int:
    return BATCH_BASE_GAS + LEG_GAS * n_legs


@dataclass
class DryRunLeg:
    symbol: str
    side: str
    usdc: Decimal
    expected_out: Decimal | None = None  # what the pool gives now (token or USDC units)
    oracle_out: Decimal | None = None
    slippage_bps: Decimal | None = None
    note: str = ""


@dataclass
class DryRunPlan:
    """What a rebalance would do now; nothing signed."""

    snapshot_hash: str
    as_of: str
    regime: str
    entrants: list[str]
    leavers: list[str]
    legs: list[DryRunLeg]
    transactions: list[dict]  # {"label", "gas", "estimated": bool}
    skipped: list[str] = field(default_factory=list)

    @property
    def total_gas(self) -> int:
        return sum(int(t["gas"]) for t in self.transactions)
