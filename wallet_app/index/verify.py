"""The rule verifier: does the vault hold and target what the rules say?

From the market snapshot recorded with the last rebalance (:mod:`.snapshot_record`) it
recomputes, with the same engine the operator runs, the target weights
(:func:`wallet_app.index.compose`) and the regime
(:func:`wallet_app.index.regime.compute_regime`), and compares them with the vault:

* every constituent's target weight on-chain equals the recomputed one, to the basis point;
* the vault's regime equals the recomputed one;
* what the vault holds, valued at the snapshot's own prices (so later market moves do not
  count), is within the rebalance's execution tolerance of the targets in Bull, and is
  (close to) nothing but USDC in Bear.

The result is "matches the rules" or a list of differences, each naming the asset and both
numbers. Pure: the caller reads the chain and the files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .composition import compose
from .regime import compute_regime
from .rules import DEFAULT_RULES, IndexRules
from .snapshot_record import RebalanceSnapshot

BPS = Decimal(10_000)
#: A holding may be this far (bps of the holdings' value) from its target after a
#: rebalance: pool fees and price impact of the legs, and the legs the rules do not trade
#: (drift under the floor, legs under the minimum). Tighter floors are set per vault size.
HOLDING_TOLERANCE_BPS = 50
#: In Bear the holdings left (dust the pools could not take) are at most this share of NAV.
BEAR_DUST_BPS = 10


@dataclass(frozen=True)
class Difference:
    kind: str  # "target" | "regime" | "holding" | "snapshot" | "changed"
    text: str
    symbol: str | None = None


@dataclass(frozen=True)
class Holding:
    """One constituent as the vault reports it now."""

    symbol: str
    target_bps: int
    balance: int  # token base units
    decimals: int


@dataclass(frozen=True)
class VerifyReport:
    differences: tuple[Difference, ...]
    market_day: str = ""
    block: int = 0
    snapshot_hash: str = ""
    regime_rules: str = ""
    regime_vault: str = ""
    targets_rules: Mapping[str, int] = field(default_factory=dict)
    checked_targets: int = 0
    checked_holdings: int = 0
    notes: tuple[str, ...] = ()

    @property
    def matches(self) -> bool:
        return not self.differences

    @property
    def headline(self) -> str:
        if self.matches:
            return "Matches the rules"
        n = len(self.differences)
        return f"{n} difference{'s' if n != 1 else ''} from the rules"


def _pct(bps: Decimal | int) -> str:
    return f"{Decimal(bps) / 100:.2f}%"


def recompute_targets(snap: RebalanceSnapshot, rules: IndexRules = DEFAULT_RULES
                      ) -> dict[str, int]:
    """The composition the rules give on the snapshot's assets, by symbol."""
    comp = compose(snap.assets, previous=snap.previous, rules=rules)
    return {c.symbol: c.weight_bps for c in comp.constituents}


def recompute_regime(snap: RebalanceSnapshot, rules: IndexRules = DEFAULT_RULES) -> str:
    result = compute_regime(snap.series, rules)
    latest = result.latest
    if latest is None:
        return ""
    return latest.gauge.state.value


def compare(*, targets_snapshot: RebalanceSnapshot | None, latest: RebalanceSnapshot,
            vault_regime: str, holdings: Sequence[Holding], cash: Decimal,
            tolerance_bps: int = HOLDING_TOLERANCE_BPS,
            rules: IndexRules = DEFAULT_RULES) -> VerifyReport:
    """Compare the vault (``holdings``, ``vault_regime``, ``cash`` in USDC) with the rules
    recomputed from ``targets_snapshot`` (the last one that set targets) and ``latest``
    (the last rebalance of any kind: regime and prices)."""
    diffs: list[Difference] = []
    notes: list[str] = []
    recomputed: dict[str, int] = {}
    if targets_snapshot is not None:
        recomputed = recompute_targets(targets_snapshot, rules)
        on_chain = {h.symbol: h.target_bps for h in holdings}
        for sym in sorted(set(on_chain) | set(recomputed),
                          key=lambda s: (-recomputed.get(s, 0), s)):
            want, got = recomputed.get(sym, 0), on_chain.get(sym)
            if got is None:
                diffs.append(Difference("target", f"{sym}: the rules include it at "
                                        f"{_pct(want)}, the vault does not hold it", sym))
            elif got != want:
                diffs.append(Difference("target", f"{sym}: the vault targets {_pct(got)}, "
                                        f"the rules give {_pct(want)}", sym))
    else:
        notes.append("No rebalance has set targets since the deployment: the targets "
                     "were not checked.")
    regime = recompute_regime(latest, rules)
    if regime and regime != vault_regime:
        diffs.append(Difference("regime", f"The vault is in {vault_regime.title()}, the "
                                f"rules give {regime.title()} on {latest.market_day}"))
    prices = {a.symbol: a.current_price for a in latest.assets}
    values: dict[str, Decimal] = {}
    for h in holdings:
        p = prices.get(h.symbol)
        if p is None or p <= 0:
            if h.balance:
                notes.append(f"{h.symbol} has no price in the snapshot: not valued.")
            continue
        values[h.symbol] = Decimal(h.balance).scaleb(-h.decimals) * p
    total = sum(values.values(), Decimal(0))
    checked = 0
    if vault_regime == "bear":
        nav = total + cash
        if nav > 0 and total * BPS / nav > BEAR_DUST_BPS:
            diffs.append(Difference("holding", f"In Bear the vault should hold USDC only; "
                                    f"it holds {_pct(total * BPS / nav)} of its value in "
                                    "tokens"))
        checked = len(values)
    elif total > 0:
        floor_bps = rules.min_leg_usdc * BPS / total
        for h in holdings:
            if h.symbol not in values:
                continue
            checked += 1
            held = values[h.symbol] * BPS / total
            allowed = max(Decimal(tolerance_bps), floor_bps + rules.drift_floor_bps)
            if abs(held - h.target_bps) > allowed:
                diffs.append(Difference("holding", f"{h.symbol}: the vault holds "
                                        f"{_pct(held)} of its holdings (at the snapshot's "
                                        f"prices), its target is {_pct(h.target_bps)}",
                                        h.symbol))
    return VerifyReport(tuple(diffs), market_day=latest.market_day, block=latest.block,
                        regime_rules=regime, regime_vault=vault_regime,
                        targets_rules=recomputed,
                        checked_targets=len(recomputed), checked_holdings=checked,
                        notes=tuple(notes))
