"""The facade's vocabulary: user-facing errors, the plain data objects the services return,
and the amount parser every service shares.

Kept apart from the services so the GUI and the CLI can import the names they show or
catch without pulling in web3 (the services import the chain client; these do not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from ..errors import WalletError
from ..index.performance import PerformanceReport
from ..index.regime import RegimeHistory
from ..models import TxStatus

FEE_PRESETS = ("low", "market", "aggressive")
#: How long a signed trade stays valid, in chain time.
DEADLINE_S = 20 * 60
USDC_DECIMALS = 6
EVENT_SOURCE = "vault"
#: How long a lens read may serve the position screen after the index screen made it.
SNAPSHOT_REUSE_S = 2.0


# --------------------------------------------------------------------------- errors


class NoWallet(WalletError):
    """No wallet is selected (none created or imported yet)."""

    exit_code = 30

    def __init__(self) -> None:
        super().__init__("No wallet is selected. Create or import one first "
                         "(`index-wallet wallet create`, or the Welcome screen).")


class NotConnected(WalletError):
    """The app is not connected to a network (or the connection was lost)."""

    exit_code = 31


class NotDeployed(WalletError):
    """No usable index deployment for the connected chain (none pinned, or old settings)."""

    exit_code = 32


class InvalidAmount(WalletError):
    """An amount typed by the user is not a valid positive number for the token."""

    exit_code = 33


class InsufficientBalance(WalletError):
    """The wallet holds less USDC, shares or ETH than the action needs."""

    exit_code = 34


class TradingClosed(WalletError):
    """The vault does not accept this action now (buying paused, a request past its cut-off)."""

    exit_code = 35


class QuoteExpired(WalletError):
    """The quote is too old or the chain moved since; a fresh quote is needed."""

    exit_code = 36


class TradeFailed(WalletError):
    """A trade could not be completed; the message says at which step and why."""

    exit_code = 37


# --------------------------------------------------------------------------- data objects


@dataclass(frozen=True)
class NetworkStatus:
    network: str
    chain_name: str
    chain_id: int
    rpc_url: str
    connected: bool
    block_number: int | None = None
    last_ok: datetime | None = None
    error: str | None = None
    is_devnet: bool = False


@dataclass(frozen=True)
class PasswordVerdict:
    ok: bool
    score: int  # 0..4
    reason: str
    label: str


@dataclass(frozen=True)
class StrategyInfo:
    title: str
    paragraphs: list[str]
    rules: list[tuple[str, str]]
    #: The gauge's history (same engine, same data source as the gauge); None when the
    #: network has no market data yet (off a devnet: the opt-in market feed is off or
    #: has not read anything).
    regime: RegimeHistory | None = None
    #: Performance table (live NAV, backtest before the vault's first day, benchmarks).
    performance: PerformanceReport | None = None
    #: Why regime or performance is missing, in words for the dialog.
    unavailable: str = ""
    #: The market data feed's state off a devnet (off and how to turn it on, reading,
    #: or its last error), "" when there is nothing to say.
    market_note: str = ""


@dataclass(frozen=True)
class TradeRow:
    kind: str
    tx_hash: str | None
    timestamp: datetime
    usdc: Decimal
    shares: Decimal
    fee_usdc: Decimal
    nav_per_share: Decimal | None
    verified: bool = True


@dataclass(frozen=True)
class TradeResult:
    kind: str  # "buy" | "sell"
    tx_hash: str
    status: TxStatus
    shares: Decimal
    usdc: Decimal  # buy: paid in (fee included); sell: received at the user's address
    fee_usdc: Decimal
    block_number: int | None
    receiver: str
    gas_fee_eth: Decimal = Decimal(0)
    #: True only when the pinned vault's event and the balances read afterwards agree with
    #: what was signed; an unverified trade never counts in cost basis or P&L.
    verified: bool = True
    note: str | None = None  # why it is unverified
    #: v2: the vault's request id, and where the request stands: "requested" (waiting for
    #: the next strike), "settled", "refunded" (note says why) or "cancelled".
    request_id: int | None = None
    state: str = "settled"


@dataclass(frozen=True)
class RequestRow:
    """One of the user's pending requests, for My Indices, Transactions and the CLI."""

    request_id: int
    kind: str  # "buy" | "sell"
    amount: Decimal  # buy: USDC paid in; sell: shares escrowed
    min_out: Decimal  # buy: fewest shares; sell: least USDC
    requested_at: datetime
    deadline: datetime
    eligible_at: datetime  # the cut-off: cancellable before, struck after
    cancellable: bool

    @property
    def summary(self) -> str:
        if self.kind == "buy":
            return (f"Buy #{self.request_id}: {self.amount:,.2f} USDC, at least "
                    f"{self.min_out:,.4f} G100")
        return (f"Sell #{self.request_id}: {self.amount:,.4f} G100, at least "
                f"{self.min_out:,.2f} USDC")


# --------------------------------------------------------------------------- amounts


def parse_amount(text: Decimal | str | int, decimals: int, what: str) -> int:
    """A user-typed amount as base units: positive, at most ``decimals`` places, no float."""
    if isinstance(text, float):
        raise InvalidAmount(f"{what}: amounts are never floats (internal error).")
    try:
        value = Decimal(str(text).strip().replace(",", "")) if not isinstance(
            text, Decimal) else text
    except InvalidOperation:
        raise InvalidAmount(f"'{text}' is not a number. Enter the {what} like 250 or "
                            f"250.50.") from None
    if not value.is_finite() or value <= 0:
        raise InvalidAmount(f"Enter a {what} greater than zero.")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(f"The {what} has more than {decimals} decimal places.")
    return int(scaled)


def bps_of(amount: int, bps: int, rounding: str = ROUND_CEILING) -> int:
    """``amount`` x ``bps`` / 10,000 rounded as the vault rounds fees (up, by default)."""
    return int((Decimal(amount) * bps / 10_000).to_integral_value(rounding=rounding))
