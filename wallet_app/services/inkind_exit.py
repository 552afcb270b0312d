"""The in-kind exit: leave the index with your share of every holding and of the cash.

``redeemInKind(shares, receiver)`` on the pinned vault burns the shares and sends the same
fraction of the free cash and of each constituent token, at once, in one transaction. It
reads no price and charges no fee, so it works paused or not, with stale or missing feeds,
and while a governance change is pending: it is the exit a depositor who disagrees with a
scheduled change takes before it takes effect.

A preview simulates the exact call (``eth_call``) for the exact amounts it would pay; the
exit itself runs like a trade: under the wallet's OS trade lock, refused while an earlier
transaction is unresolved, chain id checked, signed locally for the pinned vault only (the
address guard checks ``receiver`` = you), journaled before broadcast. The outcome is taken
from the pinned vault's ``RedeemedInKind`` event for you alone and checked against your
balances at its block: shares down by exactly what was signed, every token and the USDC up
by exactly what the event says. Only then does it enter the activity journal, as a sale at
the value of what arrived (oracle prices at that block; 0 for a token without a price).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from eth_utils import to_checksum_address

from ..chain.sender import TxRequest
from ..errors import WalletError
from ..models import GasEstimate, TxStatus
from ..vault import PRICE_DECIMALS, SHARE_DECIMALS, VaultSnapshot, to_decimal
from .pending import PendingService
from .session import Session
from .types import InsufficientBalance, InvalidAmount, TradeResult, parse_amount

log = logging.getLogger(__name__)


class InKindExitFailed(WalletError):
    """The in-kind exit did not go through (the shares are still yours)."""

    exit_code = 161


@dataclass(frozen=True)
class InKindLine:
    symbol: str
    token: str
    amount: Decimal  # in the token's own units
    value_usdc: Decimal | None  # at the oracle price of the preview's block (None: no price)


@dataclass(frozen=True)
class InKindQuote:
    """What ``redeemInKind`` would pay now (simulated), and its network fee."""

    shares: Decimal
    usdc_out: Decimal
    lines: tuple[InKindLine, ...]  # only tokens with a non-zero amount
    value_usdc: Decimal  # USDC + every priced token at the oracle
    gas: GasEstimate
    paused: bool
    shares_balance: Decimal
    block_number: int


@dataclass(frozen=True)
class _Mined:
    """A mined exit found in the journal (the fields :meth:`InKindExitService._record`
    reads from a send result)."""

    tx_hash: str
    receipt: Mapping[str, Any]
    block_number: int | None
    fee_paid_wei: int | None


def _amounts_from_simulation(raw: Any) -> tuple[int, list[int]]:
    usdc, amounts = raw
    return int(usdc), [int(a) for a in amounts]


class InKindExitService:
    """The active wallet's in-kind exit (preview and the signed redemption)."""

    def __init__(self, session: Session, pending: PendingService) -> None:
        self.s = session
        self.pending = pending
        session.on_connect.append(self._after_connect)

    def _after_connect(self, addr: str) -> None:
        try:
            self.record_mined(addr)
        except Exception:  # noqa: BLE001 - a failed look-up must not fail the connect
            log.warning("in-kind exits mined while away could not be recorded",
                        exc_info=True)

    def record_mined(self, addr: str) -> int:
        """On connect (after the journal is reconciled): an exit mined while the app was
        not watching (killed after the broadcast) is verified and recorded from its
        receipt, once. Sends nothing. Returns how many it recorded."""
        from eth_account.typed_transactions import TypedTransaction
        from hexbytes import HexBytes

        client, vault, _ = self.s.need()
        done = 0
        for rec in self.s.journal.transactions(sender=addr, chain_id=client.chain_id):
            if rec.kind != "redeem_in_kind" or rec.status is not TxStatus.CONFIRMED:
                continue
            entry = self.s.journal.entry(rec.tx_hash)
            if entry is None or entry.meta.get("outcome"):
                continue
            receipt = client.get_receipt(rec.tx_hash)
            data = bytes(TypedTransaction.from_bytes(HexBytes(entry.raw_tx)).as_dict()
                         .get("data", b""))
            call = vault.decode_call(data)
            if not receipt or call is None or call[0] != "redeemInKind":
                continue
            mined = _Mined(rec.tx_hash, dict(receipt), rec.block_number, entry.fee_paid_wei)
            self._record(mined, int(call[1]["shares"]), addr, self.s.snapshot(addr))
            done += 1
        return done

    # ------------------------------------------------------------------ preview

    def _lines(self, snap: VaultSnapshot, amounts: list[int]) -> tuple[InKindLine, ...]:
        out = []
        for c, amt in zip(snap.constituents, amounts, strict=False):
            if not amt:
                continue
            value = None
            if c.price18:
                value = (to_decimal(amt, c.decimals) * to_decimal(c.price18, PRICE_DECIMALS)
                         ).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            out.append(InKindLine(c.symbol, to_checksum_address(c.token),
                                  to_decimal(amt, c.decimals), value))
        return tuple(out)

    def _shares(self, shares: Decimal | str, snap: VaultSnapshot) -> int:
        text = str(shares).strip()
        if text.endswith("%"):
            try:
                pct = Decimal(text[:-1])
            except ArithmeticError:
                raise InvalidAmount(f"{text!r} is not a percentage.") from None
            if not 0 < pct <= 100:
                raise InvalidAmount("The percentage must be above 0 and at most 100.")
            amount = snap.shares if pct == 100 else int(snap.shares * pct / 100)
        else:
            amount = parse_amount(text, SHARE_DECIMALS, "number of shares")
        if amount <= 0:
            raise InvalidAmount("You hold no shares to exit with." if snap.shares == 0
                                else "Enter a number of shares above zero.")
        if amount > snap.shares:
            raise InsufficientBalance(
                f"You hold {to_decimal(snap.shares, SHARE_DECIMALS)} {snap.share_symbol}, "
                "fewer than you want to redeem.")
        return amount

    def quote(self, shares: Decimal | str = "100%", fee_preset: str = "market") -> InKindQuote:
        """Simulate the exit of ``shares`` (a number or ``N%``) for exactly what it pays."""
        addr = self.s.require_address()
        _, vault, sender = self.s.need()
        rec = self.s.require_record()
        snap = self.s.snapshot(addr)
        amount = self._shares(shares, snap)
        data = vault.redeem_in_kind_data(amount, addr)
        prepared = sender.prepare(TxRequest(sender=addr, to=rec.vault, data=data,
                                            kind="redeem_in_kind", preset=fee_preset))
        raw = vault.vault.functions.redeemInKind(amount, addr).call(
            {"from": addr}, block_identifier=snap.block_number)
        usdc, amounts = _amounts_from_simulation(raw)
        lines = self._lines(snap, amounts)
        usdc_dec = to_decimal(usdc, snap.usdc_decimals)
        value = usdc_dec + sum((ln.value_usdc for ln in lines if ln.value_usdc is not None),
                               Decimal(0))
        return InKindQuote(shares=to_decimal(amount, SHARE_DECIMALS), usdc_out=usdc_dec,
                           lines=lines, value_usdc=value, gas=prepared.gas,
                           paused=snap.paused,
                           shares_balance=to_decimal(snap.shares, SHARE_DECIMALS),
                           block_number=snap.block_number)

    # ------------------------------------------------------------------ the exit

    def exit(self, quote: InKindQuote,
             progress: Callable[[str], None] | None = None) -> TradeResult:
        """Sign and send the previewed ``redeemInKind`` for you; verified from the pinned
        vault's event and your balances (see the module docstring)."""
        with self.s.signing(self.pending.require_resolved) as scope:
            addr, vault = scope.address, scope.vault
            snap = self.s.snapshot(addr)
            amount = parse_amount(quote.shares, SHARE_DECIMALS, "number of shares")
            if amount > snap.shares:
                raise InsufficientBalance(
                    f"You now hold {to_decimal(snap.shares, SHARE_DECIMALS)} "
                    f"{snap.share_symbol}, fewer than the {quote.shares} previewed.")
            result = scope.send(TxRequest(
                sender=addr, to=scope.record.vault, kind="redeem_in_kind",
                data=vault.redeem_in_kind_data(amount, addr),
                summary=f"Exit in kind: {quote.shares:,.4f} {snap.share_symbol}",
                preset=quote.gas.preset, meta={"shares": str(quote.shares)},
                max_gas_limit=quote.gas.gas_limit * 3 // 2),
                progress, "The in-kind exit failed on-chain.", " You keep your shares.",
                error=InKindExitFailed, with_hash=False)
            return self._record(result, amount, addr, snap)

    def _record(self, result: Any, amount: int, addr: str, before: VaultSnapshot
                ) -> TradeResult:
        """Check the receipt against the pinned vault's event and the balances; journal."""
        _, vault, _ = self.s.need()
        rec = self.s.require_record()
        receipt: Mapping[str, Any] = dict(result.receipt or {})
        block = int(result.block_number or 0)
        reason = verify_redemption(receipt, result.tx_hash, addr, rec.vault, amount,
                                   vault.decode_vault_log, vault.erc20_balance, block,
                                   rec.usdc)
        event = redeemed_event(receipt, rec.vault, vault.decode_vault_log)
        usdc = to_decimal(int(event["usdcOut"]), before.usdc_decimals) if event else Decimal(0)
        value = usdc
        if event is not None:
            prices = {to_checksum_address(c.token): c for c in self.s.snapshot(addr).constituents}
            for token, amt in zip(event["tokens"], event["amounts"], strict=True):
                c = prices.get(to_checksum_address(token))
                if c is not None and c.price18 and amt:
                    value += to_decimal(int(amt), c.decimals) * to_decimal(c.price18,
                                                                           PRICE_DECIMALS)
        value = value.quantize(Decimal("0.000001"), rounding=ROUND_DOWN)
        gas_eth = to_decimal(result.fee_paid_wei or 0, 18)
        shares = to_decimal(amount, SHARE_DECIMALS)
        verified = reason is None
        self.s.journal.update_meta(result.tx_hash, outcome="settled" if verified else
                                   "unverified", outcome_note=reason)
        self.s.journal.add_trade(
            chain_id=self.s.require_record().chain_id, account=addr, kind="redeem_in_kind",
            usdc=value, shares=shares, gas_fee_eth=gas_eth, tx_hash=result.tx_hash,
            block_number=block, note=reason or "in kind: valued at the oracle",
            verified=verified)
        return TradeResult("redeem_in_kind", result.tx_hash, TxStatus.CONFIRMED, shares,
                           value, Decimal(0), block, addr, gas_eth, verified=verified,
                           note=reason, state="settled" if verified else "unverified")


def redeemed_event(receipt: Mapping[str, Any], vault: str,
                   decode: Callable[[Mapping[str, Any]], tuple[str, dict] | None]
                   ) -> dict[str, Any] | None:
    """The one ``RedeemedInKind`` of the pinned vault in ``receipt`` (None if not exactly
    one)."""
    found = []
    for lg in receipt.get("logs") or []:
        try:
            if to_checksum_address(lg["address"]) != vault:
                continue
        except (KeyError, TypeError, ValueError):
            continue
        ev = decode(dict(lg))
        if ev is not None and ev[0] == "RedeemedInKind":
            found.append(ev[1])
    return found[0] if len(found) == 1 else None


def verify_redemption(receipt: Mapping[str, Any], tx_hash: str, owner: str, vault: str,
                      shares: int, decode: Callable[[Mapping[str, Any]], Any],
                      balance_of: Callable[[str, str, int], int], block: int,
                      usdc: str) -> str | None:
    """None when the exit is verified, else why not (in the user's words): the receipt is
    ours and succeeded, the pinned vault logged exactly one ``RedeemedInKind`` with caller
    and receiver = you and the shares you signed, and your balances at its block moved by
    exactly that: shares down, each token and the USDC up by the event's amounts."""
    got = receipt.get("transactionHash")
    got = "0x" + bytes(got).hex() if isinstance(got, bytes | bytearray) else str(got or "")
    if got.lower() != tx_hash.lower():
        return "the node's receipt is for another transaction"
    status = receipt.get("status", 0)
    if (int(status, 16) if isinstance(status, str) else int(status)) != 1:
        return "the receipt does not report success"
    ev = redeemed_event(receipt, vault, decode)
    if ev is None:
        return "the pinned vault logged no single in-kind redemption in this transaction"
    if to_checksum_address(ev["caller"]) != owner or to_checksum_address(ev["receiver"]) != owner:
        return "the vault's redemption event names another address"
    if int(ev["shares"]) != shares:
        return (f"the vault burned {ev['shares']} share units, not the {shares} you signed")
    moves = [(vault, -shares)] + [(to_checksum_address(t), int(a))
                                   for t, a in zip(ev["tokens"], ev["amounts"], strict=True)]
    moves.append((usdc, int(ev["usdcOut"])))
    totals: dict[str, int] = {}
    for token, delta in moves:
        totals[token] = totals.get(token, 0) + delta
    for token, delta in totals.items():
        if not delta:
            continue
        change = balance_of(token, owner, block) - balance_of(token, owner, block - 1)
        if change != delta:
            return (f"your balance of {token} moved by {change}, not the {delta} the "
                    "vault's event says")
    return None
