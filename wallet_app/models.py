"""Plain data objects the facade returns to the GUI and the CLI.

They hold no connections and no secrets, so they can cross threads freely and be
serialised to JSON by the CLI. Money is always ``Decimal`` (USD/USDC amounts, prices,
share counts in whole units) or ``int`` base units where named ``*_raw``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class Regime(StrEnum):
    BULL = "bull"
    BEAR = "bear"


class TxStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    REPLACED = "replaced"
    DROPPED = "dropped"


@dataclass(frozen=True)
class Gauge:
    """The regime gauge of METHODOLOGY section 5."""

    rho: Decimal  # M_t / S_t - 1
    score: Decimal  # clamp(50 + 250 * rho, 0, 100)
    band: str  # "Strong bear" | "Bear" | "Neutral" | "Bull" | "Strong bull"
    state: Regime


@dataclass(frozen=True)
class Holding:
    """One constituent as the vault holds it now."""

    symbol: str
    name: str
    token: str  # checksum address ("" for the USDC cash line)
    decimals: int
    balance: Decimal  # whole tokens held by the vault
    price_usd: Decimal
    value_usd: Decimal
    target_bps: int  # target weight in basis points
    weight_bps: int  # current weight of the vault's value, basis points
    change_24h: Decimal | None = None  # fraction, e.g. Decimal("-0.031")


@dataclass(frozen=True)
class IndexState:
    """Everything the Index screen shows, read in one refresh."""

    name: str  # "TM Global 100"
    share_symbol: str  # "G100"
    vault: str
    nav_per_share: Decimal  # USDC per share
    total_supply: Decimal  # shares
    total_value_usd: Decimal
    cash_usdc: Decimal
    holdings: list[Holding]
    regime: Regime
    gauge: Gauge | None
    buy_fee_bps: int
    sell_fee_bps: int
    max_fee_bps: int
    fee_recipient: str
    paused: bool
    block_number: int
    as_of: datetime
    change_24h: Decimal | None = None
    change_7d: Decimal | None = None
    next_rebalance: datetime | None = None
    #: The devnet's demo speed in words ("1 market day every 30 s"), else None.
    demo_speed: str | None = None
    #: Why the gauge has no reading, or that its data is stale (off a devnet: the market
    #: data feed is off, still reading, or failed), in words; None when all is well.
    gauge_note: str | None = None
    #: The market feed is reading on its own thread: the GUI asks again shortly (its
    #: result shows without waiting for the next block).
    market_refreshing: bool = False


@dataclass(frozen=True)
class Position:
    """The user's holding of the index ("My Indices")."""

    address: str
    shares: Decimal
    value_usdc: Decimal
    usdc_balance: Decimal
    eth_balance: Decimal
    cost_basis_usdc: Decimal
    realized_pnl_usdc: Decimal
    unrealized_pnl_usdc: Decimal
    fees_paid_usdc: Decimal
    #: Shares held that no recorded buy explains (received by transfer, bought before this
    #: wallet's history on this computer, the devnet's seed): they have no known cost, so
    #: they are in the value but in neither the cost basis nor the unrealised P&L.
    shares_without_basis: Decimal = Decimal(0)


@dataclass(frozen=True)
class GasEstimate:
    gas_limit: int
    max_fee_per_gas_wei: int
    max_priority_fee_wei: int
    expected_fee_eth: Decimal  # gas used x (base fee + tip)
    max_fee_eth: Decimal  # gas limit x max fee per gas
    expected_fee_usd: Decimal | None
    max_fee_usd: Decimal | None
    preset: str  # "low" | "market" | "aggressive"
    #: OP-stack chains: the L1 data fee included in both fees above (0 elsewhere).
    l1_fee_eth: Decimal = Decimal(0)


@dataclass(frozen=True)
class BalanceChange:
    asset: str  # "USDC", "G100", "ETH"
    delta: Decimal


@dataclass(frozen=True)
class BuyQuote:
    usdc_in: Decimal
    fee_usdc: Decimal
    fee_bps: int
    expected_shares: Decimal
    min_shares_out: Decimal
    min_value_usdc: Decimal  # min shares x NAV
    slippage_bps: int
    nav_per_share: Decimal
    needs_approval: bool
    uses_permit: bool
    gas: GasEstimate
    balance_changes: list[BalanceChange] = field(default_factory=list)
    deadline: int = 0  # unix seconds (chain time)
    #: True when the numbers come from simulating the exact transaction (eth_call); False
    #: when the permit cannot be signed yet (wallet locked): then they are computed from
    #: the vault's preview, and the exact transaction is simulated before signing.
    simulated: bool = True
    usdc_balance: Decimal = Decimal(0)
    #: v2 forward pricing: the request is settled at the next NAV strike after its cut-off
    #: (``min_request_age`` seconds), at that strike's NAV; ``expected_shares`` is an
    #: estimate at today's NAV, ``min_shares_out`` the minimum the strike enforces.
    next_strike_at: int = 0  # unix seconds (chain time); 0 when unknown
    min_request_age: int = 0
    strike_ready: bool = True


@dataclass(frozen=True)
class SellQuote:
    shares_in: Decimal
    gross_usdc: Decimal
    fee_usdc: Decimal
    fee_bps: int
    expected_usdc: Decimal
    min_usdc_out: Decimal
    slippage_bps: int
    path: str  # "cash" | "liquidation"
    gas: GasEstimate
    balance_changes: list[BalanceChange] = field(default_factory=list)
    deadline: int = 0
    simulated: bool = True
    shares_balance: Decimal = Decimal(0)
    next_strike_at: int = 0
    min_request_age: int = 0
    strike_ready: bool = True
    cash_sufficient: bool = True  # False: the sell waits until the operator raises cash


@dataclass(frozen=True)
class TxRecord:
    """One transaction this wallet signed, from the journal."""

    tx_hash: str
    kind: str  # "buy" | "sell" | "approve" | "cancel" | ...
    status: TxStatus
    nonce: int
    chain_id: int
    sender: str
    created_at: datetime
    block_number: int | None = None
    summary: str = ""
    replaced_by: str | None = None
    #: For a mined trade: "verified" (the pinned vault's event and the balances agree) or
    #: "unverified" (anything else: never counted in cost basis or P&L); None otherwise.
    outcome: str | None = None
    outcome_note: str | None = None

    @property
    def status_text(self) -> str:
        """The status as the log shows it ("confirmed (unverified)" for a doubtful trade)."""
        if self.status is TxStatus.CONFIRMED and self.outcome == "unverified":
            return "confirmed (unverified)"
        return self.status.value


@dataclass(frozen=True)
class IndexEvent:
    """An entry of the index's transactions log, read from vault events."""

    block_number: int
    tx_hash: str
    log_index: int
    kind: str  # "buy" | "sell" | "redeem_in_kind" | "rebalance" | "regime" | "fee" | ...
    summary: str
    timestamp: datetime | None = None
    account: str | None = None
    usdc: Decimal | None = None
    shares: Decimal | None = None
