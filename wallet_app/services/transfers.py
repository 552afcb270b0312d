"""Send USDC, ETH and G100 shares out of the wallet: preview, send, verify.

A transfer is the one signing path whose counterparty is *not* pinned, so it is guarded
the other way round: the recipient is checked before anything is signed (see
:mod:`.recipients`), the preview is a simulation (``eth_call`` + ``eth_estimateGas``
through the sender), and the pre-sign address check allows exactly the recipient the
user confirmed in that preview, passed explicitly (:class:`~wallet_app.trust.Confirmed`),
while the token addresses come from the deployment record. Like a trade a transfer holds
the wallet's trade lock, refuses while an earlier transaction is unresolved, is journaled
(fsync) before its broadcast, and is listed on start when unsent or pending, for the user
to send, cancel or leave; a pending one can be sped up or cancelled.

The outcome is verified from the pinned token's ``Transfer`` event (this owner to the
confirmed recipient, the signed amount) and the balances afterwards (sender and
recipient at the receipt's block minus the block before agree with the token's events in
that block); ETH transfers from the balances and the receipt's fee. A mismatch marks it
"unverified" in the journal, never silently "sent".

**ETH Max** sends the balance less the most the network fee can be: gas limit x max fee
per gas, plus on OP-stack chains the L1 data fee with its headroom
(:mod:`wallet_app.chain.l1fee`); those fee fields are signed as quoted, so the amount
plus the fee never exceeds the balance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from eth_utils import keccak, to_checksum_address

from ..chain.l1fee import l1_data_fee_wei, max_l1_fee_wei
from ..chain.sender import PreparedTx, Sender, TxRequest
from ..models import BalanceChange, TxStatus
from ..trust.guard import Confirmed
from ..vault import SHARE_DECIMALS, to_decimal
from .history import HistoryService
from .pending import PendingService
from .recipients import check_recipient
from .session import Session
from .transfer_types import (
    ASSETS,
    ConfirmationRequired,
    RecipientCheck,
    TransferQuote,
    TransferResult,
)
from .types import SNAPSHOT_REUSE_S, InsufficientBalance, InvalidAmount, parse_amount

log = logging.getLogger(__name__)
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
KnownFn = Callable[[], Iterable[tuple[str, str]]]


def topic_address(address: str) -> str:
    return "0x" + "00" * 12 + address.lower()[2:]


def _amt(raw: int, decimals: int) -> str:
    """A base-unit amount for a sentence: ``12.5``, ``0``, never ``0E-18``."""
    d = to_decimal(raw, decimals)
    return f"{d.normalize():f}" if d else "0"


def _int(v: Any) -> int:
    return int(v, 16) if isinstance(v, str) else int(v)


def eth_max(sender: Sender, owner: str, to: str, balance: int, preset: str,
            eth_usd: Decimal | None = None) -> tuple[int, int, PreparedTx]:
    """(value, reserve, prepared) of "send all my ETH": the balance less the most the
    network fee can be (gas limit x max fee per gas, plus on OP-stack chains the L1 data
    fee of this very payload with its headroom). The prepared transaction carries those
    exact fee fields, so value + fee can never exceed the balance."""
    probe = sender.prepare(TxRequest(sender=owner, to=to, value_wei=0, kind="transfer",
                                     preset=preset), check_funds=False)
    tx = probe.tx
    l1 = 0
    if sender.client.chain.op_stack:
        # The value's bytes are part of the payload and the L1 fee prices non-zero bytes
        # higher: price a value of the balance's length with every byte 0xff, an upper
        # bound for any amount up to the balance.
        bound = (1 << (8 * max(1, (balance.bit_length() + 7) // 8))) - 1
        l1 = l1_data_fee_wei(sender.client, dict(tx, value=bound))
    reserve = tx["gas"] * tx["maxFeePerGas"] + max_l1_fee_wei(l1)
    value = balance - reserve
    if value <= 0:
        symbol = sender.client.chain.native_symbol
        raise InsufficientBalance(
            f"Your {_amt(balance, 18)} {symbol} do not cover the network fee of up to "
            f"{_amt(reserve, 18)} {symbol}: nothing to send.")
    prepared = sender.prepare(TxRequest(
        sender=owner, to=to, value_wei=value, kind="transfer", gas_limit=tx["gas"],
        max_fee_per_gas_wei=tx["maxFeePerGas"],
        max_priority_fee_wei=tx["maxPriorityFeePerGas"], preset=preset), eth_usd=eth_usd)
    return value, reserve, prepared


class TransfersService:
    """Transfers of the active wallet (see the module docstring)."""

    def __init__(self, session: Session, history: HistoryService,
                 pending: PendingService) -> None:
        self.s = session
        self.history = history
        self.pending = pending
        #: More labelled addresses for the look-alike check (contacts, own accounts):
        #: the one hook the contacts service plugs into (``() -> [(label, address)]``).
        self.extra_known: KnownFn | None = None
        history.settle_hooks.append(self.record_outcomes)

    # ------------------------------------------------------------------ what is known

    def _sent_transfers(self, addr: str) -> list[Any]:
        client, _, _ = self.s.need()
        return [e for e in self.s.journal.entries(chain_id=client.chain_id, sender=addr)
                if e.kind == "transfer" and e.meta.get("recipient")]

    def history_addresses(self, addr: str | None = None) -> list[tuple[str, str]]:
        """(label, address) of every recipient this wallet has sent to (confirmed)."""
        addr = addr or self.s.require_address()
        out = []
        for e in self._sent_transfers(addr):
            if e.status is TxStatus.CONFIRMED:
                amount = f"{Decimal(str(e.meta.get('amount', '0'))).normalize():f}"
                out.append((f"sent {amount} {e.meta.get('symbol', '')} on "
                            f"{e.created_at:%Y-%m-%d}", str(e.meta["recipient"])))
        return out

    def known_addresses(self, addr: str) -> list[tuple[str, str]]:
        known = list(self.history_addresses(addr))
        if self.extra_known is not None:
            known.extend(self.extra_known())
        return known

    # ------------------------------------------------------------------ assets

    def _asset(self, asset: str) -> tuple[str | None, int, str]:
        """(pinned token address or None for ETH, decimals, symbol)."""
        asset = asset.lower()
        if asset not in ASSETS:
            raise InvalidAmount(f"Unknown asset {asset!r}: send one of USDC, ETH or G100.")
        rec = self.s.require_record()
        if asset == "usdc":
            return rec.usdc, 6, "USDC"
        if asset == "g100":
            return rec.vault, SHARE_DECIMALS, "G100"
        client, _, _ = self.s.need()
        return None, 18, client.chain.native_symbol

    def _balance(self, asset: str, addr: str, block: int | str = "latest") -> int:
        token, _, _ = self._asset(asset)
        client, vault, _ = self.s.need()
        if token is None:
            return client.get_balance(addr, block)
        return vault.erc20_balance(token, addr, block)

    def _transfer_data(self, token: str, to: str, amount: int) -> bytes:
        _, vault, _ = self.s.need()
        c = self.s.client.w3.eth.contract(address=to_checksum_address(token),  # type: ignore[union-attr]
                                          abi=vault.usdc_abi)
        return vault._data(c.functions.transfer(to_checksum_address(to), int(amount)))

    def check(self, to: str, asset: str) -> RecipientCheck:
        """The recipient checks (no signature): format, pinned contracts, code, history,
        look-alikes."""
        from .recipients import parse_recipient, refuse_pinned

        addr = self.s.require_address()
        client, _, _ = self.s.need()
        rec = self.s.require_record()
        address = parse_recipient(to)
        refuse_pinned(address, asset, rec, addr)  # before asking the node anything
        code = client.rpc("eth_getCode", address, "latest")
        sent = [str(e.meta["recipient"]) for e in self._sent_transfers(addr)
                if e.status is TxStatus.CONFIRMED]
        return check_recipient(address, asset, record=rec, owner=addr, code=code,
                               history=sent, known=self.known_addresses(addr))

    def _eth_usd(self, addr: str) -> Decimal | None:
        try:
            snap = self.s.recent_snapshot(addr, SNAPSHOT_REUSE_S)
        except Exception:  # noqa: BLE001 - the dollar figure is optional
            return None
        for c in snap.constituents:
            if c.symbol in ("ETH", "WETH") and c.price18:
                return to_decimal(c.price18, 18)
        return None

    # ------------------------------------------------------------------ preview

    def quote(self, asset: str, to: str, amount: Decimal | str,
              fee_preset: str = "market") -> TransferQuote:
        """Preview a transfer: recipient checks, amount (``"max"`` allowed), simulated
        gas and balance changes. Nothing is signed."""
        addr = self.s.require_address()
        asset = asset.lower()
        token, decimals, symbol = self._asset(asset)
        check = self.check(to, asset)
        _, _, sender = self.s.need()
        balance = self._balance(asset, addr, "pending" if token is None else "latest")
        is_max = str(amount).strip().lower() == "max"
        eth_usd = self._eth_usd(addr)
        pinned = False
        if token is None:
            if is_max:
                value, _, prepared = eth_max(sender, addr, check.address, balance,
                                             fee_preset, eth_usd)
                pinned = True
            else:
                value = parse_amount(amount, 18, f"{symbol} amount")
                if value > balance:
                    raise InsufficientBalance(
                        f"You have {_amt(balance, 18)} {symbol}, less than the "
                        f"{_amt(value, 18)} {symbol} you want to send.")
                prepared = sender.prepare(TxRequest(sender=addr, to=check.address,
                                                    value_wei=value, kind="transfer",
                                                    preset=fee_preset), eth_usd=eth_usd)
            gas = prepared.gas
            changes = [BalanceChange(symbol, -(to_decimal(value, 18) + gas.expected_fee_eth))]
        else:
            value = balance if is_max else parse_amount(amount, decimals, f"{symbol} amount")
            if value > balance:
                raise InsufficientBalance(
                    f"You have {_amt(balance, decimals)} {symbol}, less than the "
                    f"{_amt(value, decimals)} {symbol} you want to send.")
            if value <= 0:
                raise InvalidAmount(f"You have no {symbol} to send.")
            prepared = sender.prepare(TxRequest(
                sender=addr, to=token, data=self._transfer_data(token, check.address, value),
                kind="transfer", preset=fee_preset), eth_usd=eth_usd)
            gas = prepared.gas
            changes = [BalanceChange(symbol, -to_decimal(value, decimals)),
                       BalanceChange("ETH", -gas.expected_fee_eth)]
        return TransferQuote(
            asset=asset, symbol=symbol, recipient=check.address,
            amount=to_decimal(value, decimals), amount_base=value, decimals=decimals,
            balance=to_decimal(balance, decimals), is_max=is_max, gas=gas,
            balance_changes=changes, check=check, pinned_fees=pinned)

    # ------------------------------------------------------------------ send

    def send(self, quote: TransferQuote, confirmed: Iterable[str] = (),
             progress: Callable[[str], None] | None = None) -> TransferResult:
        """Sign and send the previewed transfer to exactly ``quote.recipient``.
        ``confirmed``: the blocking warnings the user confirmed ("contract", "lookalike");
        any other still open refuses with :class:`ConfirmationRequired`."""
        ok = set(confirmed)
        missing = [c for c in quote.check.needs_confirmation if c not in ok]
        if missing:
            raise ConfirmationRequired(missing, list(quote.check.warnings))
        token, decimals, symbol = self._asset(quote.asset)
        with self.s.signing(self.pending.require_resolved,
                            Confirmed(recipient=quote.recipient)) as scope:
            addr = scope.address
            fresh = self.check(quote.recipient, quote.asset)  # code may have appeared since
            missing = [c for c in fresh.needs_confirmation if c not in ok]
            if missing:
                raise ConfirmationRequired(missing, list(fresh.warnings))
            balance = self._balance(quote.asset, addr, "pending" if token is None else "latest")
            if quote.amount_base > balance:
                raise InsufficientBalance(
                    f"You now have {_amt(balance, decimals)} {symbol}, less than the "
                    f"{quote.amount} {symbol} previewed. Preview again.")
            meta = {"recipient": quote.recipient, "asset": quote.asset, "symbol": symbol,
                    "amount": str(quote.amount), "amount_base": str(quote.amount_base)}
            summary = f"Send {quote.amount.normalize():f} {symbol} to {quote.recipient}"
            if token is None:
                req = TxRequest(sender=addr, to=quote.recipient, value_wei=quote.amount_base,
                                kind="transfer", summary=summary, meta=meta,
                                preset=quote.gas.preset,
                                gas_limit=quote.gas.gas_limit if quote.pinned_fees else None,
                                max_fee_per_gas_wei=quote.gas.max_fee_per_gas_wei
                                if quote.pinned_fees else None,
                                max_priority_fee_wei=quote.gas.max_priority_fee_wei
                                if quote.pinned_fees else None,
                                max_gas_limit=quote.gas.gas_limit * 3 // 2)
            else:
                req = TxRequest(sender=addr, to=token, kind="transfer", summary=summary,
                                data=self._transfer_data(token, quote.recipient,
                                                         quote.amount_base),
                                meta=meta, preset=quote.gas.preset,
                                max_gas_limit=quote.gas.gas_limit * 3 // 2)
            result = scope.send(req, progress, "The transfer failed on-chain.",
                                f" Your {symbol} did not move.")
            return self._record(result.tx_hash)

    # ------------------------------------------------------------------ outcome

    def record_outcomes(self, addr: str) -> int:
        """Verify every mined transfer of ``addr`` that has no outcome yet (after a
        restart, a send-now or a speed-up); idempotent."""
        n = 0
        for e in self._sent_transfers(addr):
            if e.status is TxStatus.CONFIRMED and not e.meta.get("outcome"):
                try:
                    self._record(e.tx_hash)
                except Exception:  # noqa: BLE001 - offline now: verified at the next settle
                    log.warning("could not verify transfer %s yet", e.tx_hash)
                    continue
                n += 1
        return n

    def _record(self, tx_hash: str) -> TransferResult:
        entry = self.s.journal.entry(tx_hash)
        assert entry is not None
        ok, note = self.verify(tx_hash)
        self.s.journal.update_meta(tx_hash, outcome="verified" if ok else "unverified",
                                   outcome_note=note or None)
        fee = to_decimal(entry.fee_paid_wei or 0, 18)
        m = entry.meta
        return TransferResult("transfer", tx_hash, entry.status, str(m.get("asset", "")),
                              Decimal(str(m.get("amount", "0"))), str(m.get("recipient", "")),
                              entry.block_number, fee, ok, note,
                              "sent" if ok else "unverified")

    def verify(self, tx_hash: str) -> tuple[bool, str]:
        """(verified, reason): the pinned token's Transfer event and the balances."""
        from eth_account.typed_transactions import TypedTransaction
        from hexbytes import HexBytes

        client, vault, _ = self.s.need()
        entry = self.s.journal.entry(tx_hash)
        if entry is None:
            return False, "the transfer is not in the journal"
        m = entry.meta
        owner = to_checksum_address(entry.sender)
        recipient = to_checksum_address(str(m["recipient"]))
        amount = int(m["amount_base"])
        token, _, _ = self._asset(str(m["asset"]))
        signed = TypedTransaction.from_bytes(HexBytes(entry.raw_tx)).as_dict()
        receipt = client.get_receipt(tx_hash)
        if not receipt or _int(receipt.get("status", 0)) != 1:
            return False, "the receipt does not show a successful transaction"
        block = _int(receipt["blockNumber"])
        if token is None:
            if int(signed.get("value", 0)) != amount:
                return False, "the signed amount differs from the journal"
            fee = _int(receipt["gasUsed"]) * _int(receipt["effectiveGasPrice"]) \
                + _int(receipt.get("l1Fee", 0) or 0)
            d_owner = client.get_balance(owner, block) - client.get_balance(owner, block - 1)
            d_rec = client.get_balance(recipient, block) - client.get_balance(recipient,
                                                                               block - 1)
            if d_owner != -(amount + fee):
                return False, "your ETH balance did not fall by the amount plus the fee"
            if d_rec != amount:
                return False, "the recipient's ETH balance did not rise by the amount"
            return True, ""
        mine = [lg for lg in receipt.get("logs", [])
                if to_checksum_address(lg["address"]) == token and lg["topics"]
                and str(lg["topics"][0]).lower() == TRANSFER_TOPIC
                and str(lg["topics"][1]).lower() == topic_address(owner)
                and str(lg["topics"][2]).lower() == topic_address(recipient)
                and _int(lg["data"] if lg["data"] not in ("0x", "") else 0) == amount]
        if len(mine) != 1:
            return False, (f"the pinned token shows {len(mine)} Transfer events of this "
                           "amount from you to the recipient (expected exactly one)")
        logs = client.rpc("eth_getLogs", {"address": token, "fromBlock": hex(block),
                                          "toBlock": hex(block), "topics": [TRANSFER_TOPIC]})
        for party in (owner, recipient):
            want = 0
            for lg in logs or []:
                v = _int(lg["data"]) if lg["data"] not in ("0x", "") else 0
                if str(lg["topics"][1]).lower() == topic_address(party):
                    want -= v
                if str(lg["topics"][2]).lower() == topic_address(party):
                    want += v
            got = vault.erc20_balance(token, party, block) - vault.erc20_balance(
                token, party, block - 1)
            if got != want:
                who = "your" if party == owner else "the recipient's"
                return False, f"{who} balance does not match the token's Transfer events"
        return True, ""


__all__ = ["TransfersService"]
