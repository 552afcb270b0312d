"""Data objects and errors of transfers and approvals (no web3: the GUI imports these).

Exit codes 110-119 belong to this capability (see the README's exit-code list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..errors import WalletError
from ..models import BalanceChange, GasEstimate, TxStatus

#: What can be sent: the pinned USDC, the index's share token (the vault) and the chain's
#: native ETH.
ASSETS = ("usdc", "eth", "g100")


class InvalidRecipient(WalletError):
    """Not an address, or a mixed-case address whose EIP-55 checksum is wrong."""

    exit_code = 110


class RecipientRefused(WalletError):
    """An address nothing is ever sent to: a pinned contract (the token itself, the vault,
    the lens), the zero address or this wallet's own address."""

    exit_code = 111


class ConfirmationRequired(WalletError):
    """The recipient needs the user's explicit confirmation (a contract, a look-alike of
    a known address) and it was not given; nothing was signed."""

    exit_code = 112

    def __init__(self, missing: list[str], warnings: list[RecipientWarning]) -> None:
        self.missing = missing
        text = " ".join(w.message for w in warnings if w.code in missing)
        flags = ", ".join(missing)
        super().__init__(f"Not sent, the recipient needs your confirmation. {text} Confirm "
                         f"it ({flags}) if you are sure.")


class TransferUnverified(WalletError):
    """A transfer or revoke was mined, but the pinned token's event and the balances do
    not confirm it (the CLI's exit code for it)."""

    exit_code = 113


class NothingToRevoke(WalletError):
    """The spender has no allowance left on that token: there is nothing to revoke."""

    exit_code = 114


@dataclass(frozen=True)
class RecipientWarning:
    """One thing the user must know about the recipient before signing.

    ``code``: "first_transfer" (never sent to before), "contract" (code at the address),
    "lookalike" (same first and last four hex characters as a known address: the
    address-poisoning pattern). ``blocking`` ones must be confirmed explicitly.
    """

    code: str
    title: str
    message: str
    blocking: bool
    #: For "lookalike": the known (label, address) pairs it resembles.
    similar: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RecipientCheck:
    """The recipient as checked before signing."""

    address: str  # EIP-55 checksummed
    is_contract: bool
    first_transfer: bool
    warnings: tuple[RecipientWarning, ...] = ()
    #: The known label of exactly this address (history or contacts), if any.
    label: str | None = None

    @property
    def needs_confirmation(self) -> tuple[str, ...]:
        return tuple(w.code for w in self.warnings if w.blocking)


@dataclass(frozen=True)
class TransferQuote:
    """A previewed transfer (simulated, not signed)."""

    asset: str  # "usdc" | "eth" | "g100"
    symbol: str
    recipient: str
    amount: Decimal
    amount_base: int
    decimals: int
    balance: Decimal
    is_max: bool
    gas: GasEstimate
    balance_changes: list[BalanceChange]
    check: RecipientCheck
    #: The exact fee fields to sign (ETH Max: the amount leaves exactly this fee).
    pinned_fees: bool = False
    #: Unused by transfers; lets the shared dialog machinery print its status line.
    slippage_bps: int = 0
    simulated: bool = True


@dataclass(frozen=True)
class TransferResult:
    """Where a sent transfer (or revoke) ended up."""

    kind: str  # "transfer" | "revoke"
    tx_hash: str
    status: TxStatus
    asset: str
    amount: Decimal
    recipient: str
    block_number: int | None
    fee_eth: Decimal
    verified: bool
    note: str = ""
    state: str = ""  # "sent" | "unverified"


@dataclass(frozen=True)
class Approval:
    """One allowance this wallet granted, as read from the pinned token now."""

    token: str  # the pinned token's address
    symbol: str  # "USDC" | "G100"
    spender: str
    label: str  # the spender's role from the deployment record, or "unknown contract"
    allowance: Decimal
    allowance_base: int
    unlimited: bool
    last_block: int  # the block of the last Approval event for this spender
    known: bool = False
    events: int = field(default=1)


__all__ = [
    "ASSETS", "Approval", "ConfirmationRequired", "InvalidRecipient", "NothingToRevoke",
    "RecipientCheck", "RecipientRefused", "RecipientWarning", "TransferQuote",
    "TransferResult", "TransferUnverified",
]
