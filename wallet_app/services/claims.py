"""Claims: what the pinned vault keeps for the user after a payment could not be delivered.

Two kinds exist on IndexVault v2. USDC (``claimableUsdc``, paid by ``claimUsdc``) builds up
when a USDC transfer to the user failed (a blacklisted address); tokens (``owedInKind``,
paid by ``claimInKind(token)``) when an in-kind exit could not deliver one constituent (a
paused or blacklisting token). Both calls pay ``msg.sender`` only, so what they can move is
fixed by the pinned vault's code, whatever the arguments.

``claimInKind``'s ``token`` is the one address of the wallet's calls that is not pinned (an
owed token may have left the index since). The AddressGuard therefore asks
:meth:`ClaimsService.token_is_owed` before signing one: the token must appear in an
``InKindOwed`` event of the pinned vault for this owner, *and* the pinned vault's
``owedInKind(owner, token)`` must be non-zero now. Both answers come from the node; see the
README's security model for what a node that lies consistently about both can still do
(make the wallet sign a claim that reverts: gas, never value).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from eth_utils import to_checksum_address

from ..chain.sender import TxRequest
from ..errors import WalletError
from ..vault import to_decimal
from .pending import PendingService
from .session import Session
from .types import USDC_DECIMALS


class NothingToClaim(WalletError):
    """The pinned vault keeps nothing of that kind for this address."""

    exit_code = 131


@dataclass(frozen=True)
class ClaimRow:
    """One amount the pinned vault keeps for the user."""

    kind: str  # "usdc" | "in_kind"
    token: str  # the USDC address for "usdc"
    symbol: str
    amount: Decimal  # whole units ("?"-symbol tokens: base units)
    raw: int  # base units


@dataclass(frozen=True)
class ClaimResult:
    """A claim sent and verified from the pinned vault's ``UsdcClaimed``/``InKindClaimed``."""

    kind: str
    token: str
    symbol: str
    amount: Decimal
    tx_hash: str
    block_number: int | None
    verified: bool


class ClaimsService:
    """Lists and pays out the user's claims on the pinned vault."""

    def __init__(self, session: Session, pending: PendingService) -> None:
        self.s = session
        self.pending = pending
        session.arg_verifiers[("claimInKind", "token")] = self.token_is_owed

    # ------------------------------------------------------------------ reads

    def claims(self) -> list[ClaimRow]:
        """Every non-zero claim of the active address (USDC first, then tokens)."""
        addr = self.s.active_address()
        if addr is None or self.s.client is None:
            return []
        _, vault, _ = self.s.need()
        rec = self.s.require_record()
        rows: list[ClaimRow] = []
        usdc = vault.claimable_usdc(addr)
        if usdc:
            rows.append(ClaimRow("usdc", to_checksum_address(rec.usdc), "USDC",
                                 to_decimal(usdc, USDC_DECIMALS), usdc))
        for token in vault.in_kind_owed_tokens(addr, rec.deployment_block):
            owed = vault.owed_in_kind(addr, token)
            if owed:
                symbol, dec = vault.token_info(token)
                rows.append(ClaimRow("in_kind", token, symbol, to_decimal(owed, dec), owed))
        return rows

    def token_is_owed(self, token: str) -> bool:
        """The guard's check of ``claimInKind``'s token (see the module docstring)."""
        addr = self.s.require_address()
        _, vault, _ = self.s.need()
        rec = self.s.require_record()
        token = to_checksum_address(token)
        if token == to_checksum_address(rec.usdc) or rec.role_of(token) is not None:
            return False  # a pinned contract is never an in-kind constituent claim
        if token not in vault.in_kind_owed_tokens(addr, rec.deployment_block):
            return False
        return vault.owed_in_kind(addr, token) > 0

    # ------------------------------------------------------------------ writes

    def claim_usdc(self, progress: Callable[[str], None] | None = None) -> ClaimResult:
        """Send ``claimUsdc()`` for the active address."""
        rows = [r for r in self.claims() if r.kind == "usdc"]
        if not rows:
            raise NothingToClaim("The vault keeps no USDC for this address.")
        _, vault, _ = self.s.need()
        return self._send(rows[0], vault.claim_usdc_data(), "UsdcClaimed", progress)

    def claim_in_kind(self, token: str,
                      progress: Callable[[str], None] | None = None) -> ClaimResult:
        """Send ``claimInKind(token)`` for the active address (the guard re-checks the
        token against the pinned vault's events and state before it is signed)."""
        token = to_checksum_address(token)
        rows = [r for r in self.claims() if r.kind == "in_kind" and r.token == token]
        if not rows:
            raise NothingToClaim(f"The vault keeps no {token} for this address.")
        _, vault, _ = self.s.need()
        return self._send(rows[0], vault.claim_in_kind_data(token), "InKindClaimed", progress)

    def _send(self, row: ClaimRow, data: bytes, event: str,
              progress: Callable[[str], None] | None) -> ClaimResult:
        with self.s.signing(self.pending.require_resolved) as scope:
            addr = scope.address
            result = scope.send(TxRequest(
                sender=addr, to=scope.record.vault, data=data, kind="claim",
                summary=f"Claim {row.amount} {row.symbol}",
                meta={"claim": row.kind, "token": row.token}),
                progress, "The claim failed on-chain.", " The amount stays claimable.",
                with_hash=False)
            paid = 0
            for name, args in scope.vault.decode_receipt(dict(result.receipt or {})):
                if name != event or to_checksum_address(args["account"]) != addr:
                    continue
                if event == "InKindClaimed" and to_checksum_address(args["token"]) != row.token:
                    continue
                paid += int(args["amount"])
        dec = USDC_DECIMALS if row.kind == "usdc" else None
        amount = to_decimal(paid, dec) if dec is not None else (
            row.amount * paid / row.raw if row.raw else Decimal(0))
        return ClaimResult(row.kind, row.token, row.symbol, amount, result.tx_hash,
                           result.block_number, verified=paid == row.raw)
