"""EIP-1559 fee presets (low, market, aggressive) from one ``eth_feeHistory`` call.

Why this shape:

* One request gives all three presets: ``eth_feeHistory`` over the last N blocks with the
  10th/50th/90th reward percentiles, plus the *next* block's base fee (the last entry of
  ``baseFeePerGas``). Keeping the quote to one round trip matters for quote latency.
* The priority fee (tip) of a preset is the median over those blocks of its percentile:
  the median ignores a single block with an outlier tip. A per-preset floor keeps the
  presets ordered and non-zero on an idle chain (a devnet has empty blocks, tip 0).
* The *maximum* fee per gas is ``next base fee x headroom + tip``. The base fee can rise
  12.5 % per full block, so 2x (market) survives about six full blocks in a row; low uses
  less headroom (cheaper worst case, may wait), aggressive more.
* The user sees two numbers (DESIGN: expected vs maximum): the *expected* fee is what the
  transaction will most likely cost, ``gas expected x (next base fee + tip)``; the
  *maximum* is the most it can cost, ``gas limit x max fee per gas``. Unused headroom is
  never charged (EIP-1559 refunds the difference), which is why both are shown.

All amounts are ``int`` wei, or ``Decimal`` ETH/USD; never float.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..models import GasEstimate
from .errors import RpcError
from .provider import ChainClient

PRESETS: tuple[str, ...] = ("low", "market", "aggressive")
WEI_PER_ETH = Decimal(10) ** 18
GWEI = 10**9
USD_QUANTUM = Decimal("0.000001")  # USDC precision: enough for cent-level L2 fees


@dataclass(frozen=True)
class FeePolicy:
    """How presets are derived from the fee history (tunable per network if needed)."""

    blocks: int = 10
    percentiles: Mapping[str, float] = field(
        default_factory=lambda: {"low": 10.0, "market": 50.0, "aggressive": 90.0})
    #: max fee per gas = next base fee x headroom + tip
    headroom: Mapping[str, Decimal] = field(
        default_factory=lambda: {"low": Decimal("1.25"), "market": Decimal("2"),
                                 "aggressive": Decimal("2.5")})
    #: tip floors in wei: ordered, so the presets stay ordered on an idle chain
    min_tip_wei: Mapping[str, int] = field(
        default_factory=lambda: {"low": GWEI // 1000, "market": GWEI // 100,
                                 "aggressive": GWEI // 10})


DEFAULT_POLICY = FeePolicy()


@dataclass(frozen=True)
class FeeHistory:
    """What the presets need from ``eth_feeHistory`` (decoded, wei)."""

    next_base_fee_wei: int
    #: reward[block][i] for the policy's percentiles in PRESETS order
    rewards: list[list[int]]
    newest_block: int
    gas_used_ratio: list[float] = field(default_factory=list)  # informational only


@dataclass(frozen=True)
class FeeSuggestion:
    """The per-gas prices of one preset."""

    preset: str
    max_fee_per_gas_wei: int
    max_priority_fee_wei: int
    base_fee_wei: int  # the next block's base fee it was computed from

    @property
    def expected_fee_per_gas_wei(self) -> int:
        """What one unit of gas most likely costs: next base fee + tip (capped by max)."""
        return min(self.max_fee_per_gas_wei, self.base_fee_wei + self.max_priority_fee_wei)


def read_fee_history(client: ChainClient, policy: FeePolicy = DEFAULT_POLICY) -> FeeHistory:
    """One ``eth_feeHistory`` request over the last ``policy.blocks`` blocks."""
    pcts = [float(policy.percentiles[p]) for p in PRESETS]
    raw = client.fee_history(policy.blocks, "latest", pcts)
    return parse_fee_history(raw)


def parse_fee_history(raw: Mapping[str, Any]) -> FeeHistory:
    """Decode the JSON-RPC result; a node without EIP-1559 data is an error we name."""
    try:
        base_fees = [int(x, 16) if isinstance(x, str) else int(x) for x in raw["baseFeePerGas"]]
        oldest = raw["oldestBlock"]
        oldest_n = int(oldest, 16) if isinstance(oldest, str) else int(oldest)
        rewards = [[int(x, 16) if isinstance(x, str) else int(x) for x in row]
                   for row in (raw.get("reward") or [])]
        ratios = [float(r) for r in raw.get("gasUsedRatio") or []]
    except (KeyError, TypeError, ValueError):
        raise RpcError("eth_feeHistory") from None
    if not base_fees:
        raise RpcError("eth_feeHistory")
    newest = oldest_n + max(0, len(base_fees) - 2)
    return FeeHistory(base_fees[-1], rewards, newest, ratios)


def compute_presets(history: FeeHistory,
                    policy: FeePolicy = DEFAULT_POLICY) -> dict[str, FeeSuggestion]:
    """low/market/aggressive per-gas prices, ordered (each >= the previous)."""
    out: dict[str, FeeSuggestion] = {}
    prev_tip = 0
    prev_max = 0
    base = history.next_base_fee_wei
    for i, preset in enumerate(PRESETS):
        column = [row[i] for row in history.rewards if len(row) > i]
        median_tip = int(statistics.median_low(column)) if column else 0
        tip = max(median_tip, int(policy.min_tip_wei[preset]), prev_tip)
        max_fee = int((Decimal(base) * policy.headroom[preset]).to_integral_value()) + tip
        max_fee = max(max_fee, prev_max, tip)
        out[preset] = FeeSuggestion(preset, max_fee, tip, base)
        prev_tip, prev_max = tip, max_fee
    return out


def to_gas_estimate(
    suggestion: FeeSuggestion,
    gas_limit: int,
    *,
    gas_expected: int | None = None,
    eth_usd: Decimal | None = None,
) -> GasEstimate:
    """Expected and maximum fee in ETH (and USD when a price is given).

    ``gas_expected`` is the simulated gas use (before the safety margin); without it the
    limit is used, which overstates the expected fee but never understates it.
    """
    if gas_limit <= 0:
        raise ValueError("gas_limit must be positive")
    used = min(gas_expected if gas_expected is not None else gas_limit, gas_limit)
    expected_wei = used * suggestion.expected_fee_per_gas_wei
    max_wei = gas_limit * suggestion.max_fee_per_gas_wei
    expected_eth = Decimal(expected_wei) / WEI_PER_ETH
    max_eth = Decimal(max_wei) / WEI_PER_ETH
    expected_usd = max_usd = None
    if eth_usd is not None:
        if not isinstance(eth_usd, Decimal):
            raise TypeError("eth_usd must be a Decimal (money is never float)")
        expected_usd = (expected_eth * eth_usd).quantize(USD_QUANTUM)
        max_usd = (max_eth * eth_usd).quantize(USD_QUANTUM)
    return GasEstimate(
        gas_limit=gas_limit,
        max_fee_per_gas_wei=suggestion.max_fee_per_gas_wei,
        max_priority_fee_wei=suggestion.max_priority_fee_wei,
        expected_fee_eth=expected_eth,
        max_fee_eth=max_eth,
        expected_fee_usd=expected_usd,
        max_fee_usd=max_usd,
        preset=suggestion.preset,
    )


def suggest_fees(client: ChainClient,
                 policy: FeePolicy = DEFAULT_POLICY) -> dict[str, FeeSuggestion]:
    """Per-gas prices of the three presets from the node (one request)."""
    return compute_presets(read_fee_history(client, policy), policy)


def fee_presets(
    client: ChainClient,
    gas_limit: int,
    *,
    gas_expected: int | None = None,
    eth_usd: Decimal | None = None,
    policy: FeePolicy = DEFAULT_POLICY,
) -> dict[str, GasEstimate]:
    """The three presets as :class:`GasEstimate` for a transaction of ``gas_limit`` gas."""
    return {name: to_gas_estimate(s, gas_limit, gas_expected=gas_expected, eth_usd=eth_usd)
            for name, s in suggest_fees(client, policy).items()}


def estimate_fee(
    client: ChainClient,
    gas_limit: int,
    preset: str = "market",
    *,
    gas_expected: int | None = None,
    eth_usd: Decimal | None = None,
    policy: FeePolicy = DEFAULT_POLICY,
) -> GasEstimate:
    """One preset as a :class:`GasEstimate`."""
    if preset not in PRESETS:
        raise ValueError(f"unknown fee preset {preset!r}; use one of {PRESETS}")
    return fee_presets(client, gas_limit, gas_expected=gas_expected, eth_usd=eth_usd,
                       policy=policy)[preset]


#: Minimum bump for a same-nonce replacement. geth's txpool default is 10 %; 12.5 % clears
#: geth, Erigon, Nethermind and Anvil alike.
REPLACEMENT_BUMP_BPS = 1250


def bumped(value: int, bump_bps: int = REPLACEMENT_BUMP_BPS) -> int:
    """``value`` raised by at least ``bump_bps`` (rounded up, and always by >= 1 wei)."""
    raised = -(-value * (10_000 + bump_bps) // 10_000)  # ceiling division
    return max(raised, value + 1)


def replacement_fees(
    old_max_fee_wei: int,
    old_tip_wei: int,
    current: FeeSuggestion | None = None,
    bump_bps: int = REPLACEMENT_BUMP_BPS,
) -> tuple[int, int]:
    """(max fee, tip) for a replacement: both >= old + bump, and at least today's preset.

    Nodes only accept a same-nonce replacement if *both* fields rise by the pool's price
    bump, so both are bumped even when only one would matter for inclusion.
    """
    tip = bumped(old_tip_wei, bump_bps)
    max_fee = bumped(old_max_fee_wei, bump_bps)
    if current is not None:
        tip = max(tip, current.max_priority_fee_wei)
        max_fee = max(max_fee, current.max_fee_per_gas_wei)
    return max(max_fee, tip), tip


__all__ = [
    "DEFAULT_POLICY",
    "PRESETS",
    "REPLACEMENT_BUMP_BPS",
    "FeeHistory",
    "FeePolicy",
    "FeeSuggestion",
    "bumped",
    "compute_presets",
    "estimate_fee",
    "fee_presets",
    "parse_fee_history",
    "read_fee_history",
    "replacement_fees",
    "suggest_fees",
    "to_gas_estimate",
]
