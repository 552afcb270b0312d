"""Trading: quotes (simulated previews), the signed buy and sell requests, and cancels.

The v2 vault prices forward: a buy or sell is a *request* settled at the next NAV strike
after its cut-off, at that strike's NAV, or refunded there if it would get less than the
user's minimum (or the strike comes after its deadline). A quote reads the index once,
estimates the trade at the current NAV, sets the minimum the strike will enforce, and when
the wallet is unlocked simulates the exact transaction. A request takes the wallet's OS
trade lock, refuses while an earlier transaction is unresolved, re-reads the chain, checks
the chain id and the quote's deadline, signs locally (permit + request in ONE transaction
where the token supports EIP-2612) for the *pinned* vault and USDC only, journals,
broadcasts and records the request verified from the pinned vault's event. It becomes a
trade (journal, cost basis, P&L) only when the pinned vault's settlement event for this
owner says so. On the devnet the keeper strikes as soon as the request's cut-off passes.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import Any

from ..chain.fees import fee_presets
from ..chain.l1fee import l1_data_fee_wei, max_l1_fee_wei, with_l1_fee
from ..chain.sender import TxRequest
from ..models import BalanceChange, BuyQuote, SellQuote, TxStatus
from ..trust.lock import TradeInProgress
from ..vault import SHARE_DECIMALS, VaultSnapshot, to_decimal
from .history import HistoryService
from .pending import PendingService
from .session import Session
from .signing import SigningScope
from .types import (
    DEADLINE_S,
    FEE_PRESETS,
    USDC_DECIMALS,
    InsufficientBalance,
    InvalidAmount,
    QuoteExpired,
    RequestRow,
    TradeFailed,
    TradeResult,
    TradingClosed,
    bps_of,
    parse_amount,
)


class TradingService:
    """Buy and sell the index for the active wallet."""

    def __init__(self, session: Session, history: HistoryService,
                 pending: PendingService) -> None:
        self.s = session
        self.history = history
        self.pending = pending
        self._permit_domain: dict[str, tuple[str, str] | None] = {}
        #: Devnet only: strike right after a request's cut-off (the demo keeper). Off, the
        #: request waits for the market driver's next tick (or a cancel).
        self.auto_strike = True

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _eth_usd(snap: VaultSnapshot) -> Decimal | None:
        for c in snap.constituents:
            if c.symbol in ("ETH", "WETH") and c.price18:
                return to_decimal(c.price18, 18)
        return None

    def _slippage(self, slippage_bps: int | None) -> int:
        s = self.s.settings.slippage_bps if slippage_bps is None else int(slippage_bps)
        if not 1 <= s <= 1000:
            raise InvalidAmount("Slippage must be between 0.01% and 10%.")
        return s

    def _open_for_trading(self, snap: VaultSnapshot, buying: bool) -> VaultSnapshot:
        """Buys are refused while paused (sell requests wait for the strike). Stale prices
        do not block a request: it waits for a strike (or is refunded after its deadline)."""
        if buying and snap.paused:
            raise TradingClosed("Buying is paused by the index guardian. You can still sell "
                                "and redeem in kind.")
        return snap

    @staticmethod
    def _deadline(snap: VaultSnapshot) -> int:
        """The request's deadline: long enough for the next strike after the cut-off."""
        return snap.timestamp + max(DEADLINE_S,
                                    2 * snap.strike_interval + snap.min_request_age)

    def _devnet_strike(self, request_id: int | None) -> None:
        """The devnet keeper: strike once the request's cut-off has passed (signed locally
        with the devnet operator's key and sent raw, like every devnet transaction)."""
        from web3 import Web3

        from ..operator import Operator

        assert self.s.client is not None and self.s.devnet is not None
        _, vault, _ = self.s.need()
        snap = self.s.snapshot(self.s.require_address())
        mine = [r for r in snap.requests if r.id == request_id]
        w3 = Web3(Web3.HTTPProvider(self.s.client.chain.rpc_url))
        Operator(w3, self.s.devnet, vault).strike(
            not_before=mine[0].eligible_at if mine else 0)
        self.s.forget_snapshot()

    def _finish(self, result: TradeResult) -> TradeResult:
        """After a mined request: on the devnet strike now; then look for its settlement."""
        if not result.verified or result.request_id is None:
            return result
        if self.s.is_devnet and self.s.devnet is not None and self.auto_strike:
            self._devnet_strike(result.request_id)
        for settled in self.history.settle_requests(result.receiver):
            if settled.tx_hash == result.tx_hash:
                return settled
        return result

    def _permit_supported(self, usdc: str) -> tuple[str, str] | None:
        if usdc not in self._permit_domain:
            _, vault, _ = self.s.need()
            try:
                self._permit_domain[usdc] = vault.usdc_permit_domain(usdc)
            except Exception:  # noqa: BLE001 - no EIP-5267: fall back to approve + buy
                self._permit_domain[usdc] = None
        return self._permit_domain[usdc]

    def _permit_signature(self, amount: int, deadline: int, nonce: int) -> Any:
        rec = self.s.require_record()
        domain = self._permit_supported(rec.usdc)
        assert domain is not None
        typed = self.s.keys.permit_typed_data(
            token_name=domain[0], version=domain[1], chain_id=rec.chain_id,
            verifying_contract=rec.usdc, owner=self.s.require_address(), spender=rec.vault,
            value=amount, nonce=nonce, deadline=deadline)
        return self.s.sign_typed(typed, rec.chain_id)

    def _buy_data(self, amount: int, min_shares: int, deadline: int, permit: bool,
                  permit_nonce: int = 0) -> bytes:
        _, vault, _ = self.s.need()
        if permit:
            sig = self._permit_signature(amount, deadline, permit_nonce)
            return vault.request_buy_with_permit_data(amount, min_shares, deadline, sig.v,
                                                      sig.r_bytes, sig.s.to_bytes(32, "big"))
        return vault.request_buy_data(amount, min_shares, deadline)

    @staticmethod
    def _gas_ceiling(quoted: int) -> int:
        """Highest gas limit signed without a new quote: the quoted one plus 50 %."""
        return quoted * 3 // 2

    @staticmethod
    def _check_deadline(deadline: int, snap: VaultSnapshot) -> None:
        if snap.timestamp >= deadline - 30:
            raise QuoteExpired("The quote has expired (the market moved on since it was "
                               "made). Review the refreshed quote and confirm again.")

    # ------------------------------------------------------------------ quotes

    def quote_buy(self, usdc: Decimal | str, slippage_bps: int | None = None,
                  fee_preset: str = "market") -> BuyQuote:
        """Preview a buy: fee, shares, minimum out, gas, balance changes (simulated)."""
        addr = self.s.require_address()
        if fee_preset not in FEE_PRESETS:
            raise InvalidAmount(f"Unknown fee preset {fee_preset!r}.")
        amount = parse_amount(usdc, USDC_DECIMALS, "USDC amount")
        slip = self._slippage(slippage_bps)
        client, vault, sender = self.s.need()
        snap = self._open_for_trading(self.s.snapshot(addr), buying=True)
        if snap.usdc_balance < amount:
            raise InsufficientBalance(
                f"You have {to_decimal(snap.usdc_balance, 6)} USDC, less than the "
                f"{to_decimal(amount, 6)} USDC you want to spend. Lower the amount or add "
                "USDC to this address.")
        rec = self.s.require_record()
        deadline = self._deadline(snap)
        # From the pinned USDC itself: a lying lens must not decide the permit or approval.
        allowance, permit_nonce = vault.usdc_allowance_and_nonce(rec.usdc, addr)
        needs_approval = allowance < amount
        uses_permit = needs_approval and self._permit_supported(rec.usdc) is not None
        # The estimate at the current (live) NAV; the strike's NAV decides, the minimum
        # protects the user: below it the strike refunds the USDC.
        _, expected, strike_ready = vault.quote_buy(amount, block=snap.block_number)
        min_shares = expected * (10_000 - slip) // 10_000
        unlocked = self.s.keys.is_unlocked(self.s.active_name())
        can_simulate = not needs_approval or (uses_permit and unlocked)
        eth_usd = self._eth_usd(snap)
        simulated_shares = expected
        prepared = None
        if can_simulate:
            try:
                # The simulated permit is a signature too: it is made under the trade lock
                # and the pre-sign check; while another process trades, the quote is priced
                # without it.
                with self.s.replacing(addr):
                    data = self._buy_data(amount, min_shares, deadline, uses_permit,
                                          permit_nonce)
                prepared = sender.prepare(TxRequest(sender=addr, to=rec.vault, data=data,
                                                    kind="buy", preset=fee_preset),
                                          eth_usd=eth_usd)
            except TradeInProgress:
                can_simulate = False
        if prepared is not None:
            gas = prepared.gas
        else:
            # Locked and no allowance: price the buy at the vault's measured cost plus the
            # permit or the approval; the exact transaction is simulated before signing.
            gas_limit = 200_000 if uses_permit else 260_000
            gas = fee_presets(client, gas_limit, gas_expected=gas_limit * 3 // 4,
                              eth_usd=eth_usd)[fee_preset]
            l1_wei = 0
            if client.chain.op_stack:  # the L1 data fee of a buy of the same shape
                shape = vault.request_buy_with_permit_data(amount, min_shares, deadline, 27,
                                                           b"\xff" * 32, b"\xff" * 32)
                l1_wei = l1_data_fee_wei(client, {
                    "chainId": client.chain_id, "nonce": None, "gas": gas.gas_limit,
                    "maxFeePerGas": gas.max_fee_per_gas_wei,
                    "maxPriorityFeePerGas": gas.max_priority_fee_wei,
                    "to": self.s.require_record().vault,
                    "value": 0, "data": shape})
                gas = with_l1_fee(gas, l1_wei, eth_usd)
            sender.check_funds(addr, 0, gas.gas_limit, gas.max_fee_per_gas_wei,
                               max_l1_fee_wei(l1_wei))
        nav = snap.nav_per_share
        shares_dec = to_decimal(simulated_shares, SHARE_DECIMALS)
        min_dec = to_decimal(min_shares, SHARE_DECIMALS)
        return BuyQuote(
            usdc_in=to_decimal(amount, 6),
            fee_usdc=to_decimal(bps_of(amount, snap.buy_fee_bps), 6),
            fee_bps=snap.buy_fee_bps, expected_shares=shares_dec, min_shares_out=min_dec,
            min_value_usdc=(min_dec * nav).quantize(Decimal("0.01"), rounding=ROUND_DOWN),
            slippage_bps=slip, nav_per_share=nav, needs_approval=needs_approval,
            uses_permit=uses_permit, gas=gas,
            balance_changes=[BalanceChange("USDC", -to_decimal(amount, 6)),
                             BalanceChange(snap.share_symbol, shares_dec),
                             BalanceChange("ETH", -gas.expected_fee_eth)],
            deadline=deadline, simulated=can_simulate,
            usdc_balance=to_decimal(snap.usdc_balance, 6),
            next_strike_at=max(snap.next_strike_at, snap.timestamp + snap.min_request_age),
            min_request_age=snap.min_request_age, strike_ready=strike_ready)

    def quote_sell(self, shares: Decimal | str, slippage_bps: int | None = None,
                   fee_preset: str = "market") -> SellQuote:
        """Preview a sell: payout simulated on-chain, fee, minimum out and the path."""
        addr = self.s.require_address()
        amount = parse_amount(shares, SHARE_DECIMALS, "number of shares")
        slip = self._slippage(slippage_bps)
        _, vault, sender = self.s.need()
        snap = self._open_for_trading(self.s.snapshot(addr), buying=False)
        if snap.shares < amount:
            raise InsufficientBalance(
                f"You hold {to_decimal(snap.shares, SHARE_DECIMALS)} {snap.share_symbol}, "
                "fewer than you want to sell.")
        deadline = self._deadline(snap)
        eth_usd = self._eth_usd(snap)
        probe = sender.prepare(TxRequest(sender=addr, to=self.s.require_record().vault,
                                         kind="sell",
                                         data=vault.request_sell_data(amount, 0, deadline),
                                         preset=fee_preset), eth_usd=eth_usd)
        # The estimate at the current (live) NAV; the strike decides, the minimum protects.
        fee, expected, cash_ok, strike_ready = vault.quote_sell(amount,
                                                               block=snap.block_number)
        gross = expected + fee
        path = "strike" if cash_ok else "waits_for_cash"
        min_out = expected * (10_000 - slip) // 10_000
        return SellQuote(
            shares_in=to_decimal(amount, SHARE_DECIMALS), gross_usdc=to_decimal(gross, 6),
            fee_usdc=to_decimal(fee, 6),
            fee_bps=snap.sell_fee_bps, expected_usdc=to_decimal(expected, 6),
            min_usdc_out=to_decimal(min_out, 6), slippage_bps=slip, path=path, gas=probe.gas,
            balance_changes=[BalanceChange(snap.share_symbol,
                                           -to_decimal(amount, SHARE_DECIMALS)),
                             BalanceChange("USDC", to_decimal(expected, 6)),
                             BalanceChange("ETH", -probe.gas.expected_fee_eth)],
            deadline=deadline, simulated=True,
            shares_balance=to_decimal(snap.shares, SHARE_DECIMALS),
            next_strike_at=max(snap.next_strike_at, snap.timestamp + snap.min_request_age),
            min_request_age=snap.min_request_age, strike_ready=strike_ready,
            cash_sufficient=cash_ok)

    # ------------------------------------------------------------------ trades

    def buy(self, quote: BuyQuote, progress: Callable[[str], None] | None = None) -> TradeResult:
        """Sign and send the quoted buy request (permit + request in one transaction where
        the token supports it); returns it "requested", or "settled"/"refunded" when the
        strike came before this returns (the devnet's keeper strikes at once)."""
        with self.s.signing(self.pending.require_resolved) as scope:
            addr, vault, rec = scope.address, scope.vault, scope.record
            snap = self.s.snapshot(addr)
            self._check_deadline(quote.deadline, snap)
            amount = parse_amount(quote.usdc_in, USDC_DECIMALS, "USDC amount")
            min_shares = parse_amount(quote.min_shares_out, SHARE_DECIMALS, "minimum shares")
            if snap.usdc_balance < amount:
                raise InsufficientBalance(
                    f"You now have {to_decimal(snap.usdc_balance, 6)} USDC, less than the "
                    f"quoted {quote.usdc_in}. Lower the amount.")
            # Allowance and permit nonce from the pinned USDC itself, not from the lens.
            allowance, permit_nonce = vault.usdc_allowance_and_nonce(rec.usdc, addr)
            permit = allowance < amount and quote.uses_permit
            if allowance < amount and not permit:
                if progress:
                    progress("Approving exactly this amount of USDC for the vault")
                scope.send(TxRequest(sender=addr, to=rec.usdc, kind="approve",
                                     data=vault.approve_data(rec.usdc, amount),
                                     summary=f"Approve {quote.usdc_in:,.2f} USDC",
                                     preset=quote.gas.preset),
                           progress, "The approval failed; nothing was requested.")
            data = self._buy_data(amount, min_shares, quote.deadline, permit, permit_nonce)
            requested = self._send_request(TxRequest(
                sender=addr, to=rec.vault, data=data, kind="buy",
                summary=f"Buy request: {quote.usdc_in:,.2f} USDC for at least "
                        f"{quote.min_shares_out:,.4f} G100", preset=quote.gas.preset,
                meta={"usdc": str(quote.usdc_in), "min_shares": str(quote.min_shares_out),
                      "deadline": quote.deadline},
                max_gas_limit=self._gas_ceiling(quote.gas.gas_limit)),
                scope, progress, " Your USDC was not spent.")
        return self._announce(requested, progress)

    def sell(self, quote: SellQuote,
             progress: Callable[[str], None] | None = None) -> TradeResult:
        """Sign and send the quoted sell request (the shares are escrowed in the vault
        until the strike); the payout is verified from the vault's settlement event."""
        with self.s.signing(self.pending.require_resolved) as scope:
            addr, vault, rec = scope.address, scope.vault, scope.record
            snap = self.s.snapshot(addr)
            self._check_deadline(quote.deadline, snap)
            shares = parse_amount(quote.shares_in, SHARE_DECIMALS, "number of shares")
            min_out = parse_amount(quote.min_usdc_out, USDC_DECIMALS, "minimum USDC") \
                if quote.min_usdc_out > 0 else 0
            requested = self._send_request(TxRequest(
                sender=addr, to=rec.vault, kind="sell",
                data=vault.request_sell_data(shares, min_out, quote.deadline),
                summary=f"Sell request: {quote.shares_in:,.4f} G100 for at least "
                        f"{quote.min_usdc_out:,.2f} USDC", preset=quote.gas.preset,
                meta={"shares": str(quote.shares_in), "min_usdc": str(quote.min_usdc_out),
                      "deadline": quote.deadline},
                max_gas_limit=self._gas_ceiling(quote.gas.gas_limit)),
                scope, progress, " You keep your shares.")
        return self._announce(requested, progress)

    def _send_request(self, req: TxRequest, scope: SigningScope,
                      progress: Callable[[str], None] | None, kept: str) -> TradeResult:
        """Send a buy or sell request (inside the caller's signing scope) and journal it
        from its receipt; a failed send says what the user kept (``kept``)."""
        result = scope.send(req, progress, f"The {req.kind} request failed on-chain.", kept)
        return self.history.journal_request(req.kind, dict(result.receipt or {}),
                                            result.tx_hash, result.block_number,
                                            result.fee_paid_wei, req.sender)

    def _announce(self, requested: TradeResult, progress: Callable[[str], None] | None
                  ) -> TradeResult:
        """After the lock is released: say the request is waiting, then follow it to its
        settlement (the devnet strikes at once)."""
        if progress and requested.verified:
            progress(f"Requested (#{requested.request_id}): waiting for the next price strike")
        return self._finish(requested)

    # ------------------------------------------------------------------ requests

    def requests(self) -> list[RequestRow]:
        """The active address's pending requests, read from the pinned vault (lens)."""
        from datetime import UTC, datetime

        addr = self.s.active_address()
        if addr is None or self.s.client is None:
            return []
        snap = self.s.snapshot(addr)

        def t(x: int) -> datetime:
            return datetime.fromtimestamp(x, UTC)

        return [RequestRow(
            request_id=r.id, kind=r.kind,
            amount=to_decimal(r.amount, SHARE_DECIMALS if r.is_sell else USDC_DECIMALS),
            min_out=to_decimal(r.min_out, USDC_DECIMALS if r.is_sell else SHARE_DECIMALS),
            requested_at=t(r.requested_at), deadline=t(r.deadline),
            eligible_at=t(r.eligible_at), cancellable=r.cancellable)
            for r in snap.requests]

    def _recorded_cancel(self, addr: str, request_id: int, chain_id: int
                         ) -> TradeResult | None:
        """The request's cancellation as the journal already holds it (verified from the
        pinned vault's event by whichever caller settled it first), or None."""
        journal = self.s.journal
        for rec in journal.transactions(sender=addr, chain_id=chain_id):
            entry = journal.entry(rec.tx_hash) if rec.kind in ("buy", "sell") else None
            if entry is None or entry.meta.get("request_id") != request_id:
                continue
            if entry.meta.get("request_state") != "cancelled":
                return None
            block = entry.meta.get("settled_block")
            return TradeResult(rec.kind, rec.tx_hash, TxStatus.CONFIRMED, Decimal(0),
                               Decimal(0), Decimal(0), int(block) if block else None, addr,
                               request_id=request_id, state="cancelled")
        return None

    def cancel_request(self, request_id: int,
                       progress: Callable[[str], None] | None = None) -> TradeResult:
        """Cancel a pending request (before its cut-off, or after its deadline): its USDC
        or shares come back; verified from the pinned vault's ``RequestCancelled``."""
        with self.s.signing(self.pending.require_resolved) as scope:
            addr, vault = scope.address, scope.vault
            snap = self.s.snapshot(addr)
            mine = {r.id: r for r in snap.requests}
            req = mine.get(int(request_id))
            if req is None:
                raise InvalidAmount(f"Request #{request_id} is not pending for this address "
                                    "(already settled, refunded or cancelled).")
            if not req.cancellable:
                raise TradingClosed(
                    f"Request #{request_id} is past its cut-off and committed to the next "
                    "price strike; it can no longer be cancelled.")
            scope.send(TxRequest(
                sender=addr, to=scope.record.vault, kind="cancel_request",
                data=vault.cancel_data(int(request_id)),
                summary=f"Cancel request #{request_id}",
                meta={"request_id": int(request_id)}),
                progress, "The cancel failed on-chain.", " The request is still pending.")
            for done in self.history.settle_requests(addr):
                if done.request_id == int(request_id):
                    return done
            # The app's periodic refresh settles requests too: it may have verified and
            # recorded this cancellation between the receipt and the call above.
            recorded = self._recorded_cancel(addr, int(request_id), scope.client.chain_id)
            if recorded is not None:
                return recorded
        raise TradeFailed(f"The cancel of request #{request_id} was mined but the pinned "
                          "vault shows no cancellation for it; refresh to see its state.")
