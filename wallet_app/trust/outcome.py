"""Verified outcomes: a trade counts only when the pinned vault says it happened.

A receipt with ``status: 1`` proves little when the node may be hostile: it can invent the
receipt, or the transaction may have done something else. A trade is *verified* when

1. the receipt is for our transaction hash, from the user, to the pinned vault, status 1;
2. it carries exactly one of the pinned vault's own trade events for this owner
   (``Deposit(sender=owner, owner=owner, assets, shares)`` for a buy,
   ``Withdraw(sender=owner, receiver=owner, owner=owner, assets, shares)`` for a sell) with
   the amounts the user signed for: the exact USDC in (buy) or shares out (sell) and at least
   the quoted minimum out;
3. the balances read from the pinned contracts at the receipt's block and the block before
   moved by exactly those amounts.

Anything else is *unverified*: shown as such, never counted in cost basis or P&L. The
numbers recorded come from the event, never from the quote.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

#: ``balance_of(token, owner, block) -> int``, read from the pinned contracts.
BalanceFn = Callable[[str, str, int], int]


@dataclass(frozen=True)
class Expected:
    """What the user signed for (decoded from the signed calldata, not from the quote)."""

    kind: str  # "buy" | "sell"
    amount_in: int  # buy: USDC base units paid; sell: shares burned
    min_out: int  # buy: least shares; sell: least USDC


@dataclass(frozen=True)
class Outcome:
    verified: bool
    kind: str
    shares: int = 0
    assets: int = 0  # buy: USDC paid in (fee included); sell: USDC paid to the owner
    fee: int = 0
    reason: str | None = None  # why it is unverified, in the user's words


def _int(v: Any) -> int:
    if isinstance(v, int):
        return v
    s = str(v)
    return int(s, 16) if s.startswith("0x") else int(s)


def verify_trade(*, receipt: Mapping[str, Any], tx_hash: str, owner: str, vault: str,
                 usdc: str, expected: Expected,
                 decode_vault_log: Callable[[Mapping[str, Any]], tuple[str, dict] | None],
                 balance_of: BalanceFn | None) -> Outcome:
    """Check a mined receipt against the pinned vault (see the module docstring)."""
    owner, vault = to_checksum_address(owner), to_checksum_address(vault)
    kind = expected.kind

    def unverified(reason: str, **kw: int) -> Outcome:
        return Outcome(False, kind, reason=reason, **kw)

    got = receipt.get("transactionHash")
    got = "0x" + bytes(got).hex() if isinstance(got, bytes | bytearray) else str(got or "")
    if got.lower() != tx_hash.lower():
        return unverified("the node's receipt is for another transaction")
    if _int(receipt.get("status", 0)) != 1:
        return unverified("the receipt does not report success")
    if receipt.get("from") and to_checksum_address(receipt["from"]) != owner:
        return unverified("the receipt is for a transaction from another address")
    if receipt.get("to") and to_checksum_address(receipt["to"]) != vault:
        return unverified("the receipt is for a transaction to another contract")
    events = []
    fee = 0
    for log in receipt.get("logs", []) or []:
        try:
            if to_checksum_address(log["address"]) != vault:
                continue
        except (KeyError, ValueError, TypeError):
            continue
        ev = decode_vault_log(log)
        if ev is None:
            continue
        name, args = ev
        if name == "FeeCharged":
            fee += int(args.get("amount", 0))
        elif name in ("Deposit", "Withdraw"):
            events.append((name, args))
    want = "Deposit" if kind == "buy" else "Withdraw"
    mine = [a for n, a in events if n == want and to_checksum_address(a["owner"]) == owner]
    if len(mine) != 1:
        return unverified(f"the receipt has {len(mine)} {want} events of the pinned vault "
                          "for your address (exactly one expected)")
    a = mine[0]
    shares, assets = int(a["shares"]), int(a["assets"])
    if to_checksum_address(a["sender"]) != owner:
        return unverified(f"the {want} event was not sent by your address")
    if kind == "buy":
        if assets != expected.amount_in:
            return unverified("the vault took a different USDC amount than you signed for",
                              shares=shares, assets=assets)
        if shares < expected.min_out:
            return unverified("fewer shares than your minimum were minted", shares=shares,
                              assets=assets)
    else:
        if to_checksum_address(a["receiver"]) != owner:
            return unverified("the payout went to another address", shares=shares,
                              assets=assets)
        if shares != expected.amount_in:
            return unverified("the vault burned a different number of shares than you "
                              "signed for", shares=shares, assets=assets)
        if assets < expected.min_out:
            return unverified("the payout is below your minimum", shares=shares,
                              assets=assets)
    if balance_of is not None:
        block = _int(receipt["blockNumber"])
        try:
            d_shares = balance_of(vault, owner, block) - balance_of(vault, owner, block - 1)
            d_usdc = balance_of(usdc, owner, block) - balance_of(usdc, owner, block - 1)
        except Exception:  # noqa: BLE001 - unreadable balances: cannot verify
            return unverified("your balances could not be read after the trade",
                              shares=shares, assets=assets)
        ok = (d_shares, d_usdc) == ((shares, -assets) if kind == "buy" else (-shares, assets))
        if not ok:
            return unverified("your balances after the trade do not match the vault's event",
                              shares=shares, assets=assets)
    return Outcome(True, kind, shares=shares, assets=assets, fee=fee)


# ----------------------------------------------------------------- v2: requests


@dataclass(frozen=True)
class RequestOutcome:
    """A v2 request as the pinned vault recorded it in the user's own transaction."""

    verified: bool
    kind: str
    request_id: int | None = None
    amount: int = 0  # buy: USDC escrowed; sell: shares escrowed
    min_out: int = 0
    deadline: int = 0
    reason: str | None = None


def _receipt_checks(receipt: Mapping[str, Any], tx_hash: str, owner: str,
                    vault: str) -> str | None:
    got = receipt.get("transactionHash")
    got = "0x" + bytes(got).hex() if isinstance(got, bytes | bytearray) else str(got or "")
    if got.lower() != tx_hash.lower():
        return "the node's receipt is for another transaction"
    if _int(receipt.get("status", 0)) != 1:
        return "the receipt does not report success"
    if receipt.get("from") and to_checksum_address(receipt["from"]) != owner:
        return "the receipt is for a transaction from another address"
    if receipt.get("to") and to_checksum_address(receipt["to"]) != vault:
        return "the receipt is for a transaction to another contract"
    return None


def _vault_events(logs: Any, vault: str,
                  decode_vault_log: Callable[[Mapping[str, Any]], tuple[str, dict] | None]
                  ) -> list[tuple[str, dict, Mapping[str, Any]]]:
    out = []
    for log in logs or []:
        try:
            if to_checksum_address(log["address"]) != vault:
                continue
        except (KeyError, ValueError, TypeError):
            continue
        ev = decode_vault_log(log)
        if ev is not None:
            out.append((ev[0], ev[1], log))
    return out


def verify_request(*, receipt: Mapping[str, Any], tx_hash: str, owner: str, vault: str,
                   usdc: str, expected: Expected,
                   decode_vault_log: Callable[[Mapping[str, Any]], tuple[str, dict] | None],
                   balance_of: BalanceFn | None) -> RequestOutcome:
    """A mined v2 request checked against the pinned vault: exactly one ``BuyRequested``
    (``SellRequested``) for this owner with the amount and minimum the user signed, and the
    USDC (shares) balance down by exactly that amount at the receipt's block."""
    owner, vault = to_checksum_address(owner), to_checksum_address(vault)
    kind = expected.kind

    def unverified(reason: str, **kw: Any) -> RequestOutcome:
        return RequestOutcome(False, kind, reason=reason, **kw)

    problem = _receipt_checks(receipt, tx_hash, owner, vault)
    if problem:
        return unverified(problem)
    want = "BuyRequested" if kind == "buy" else "SellRequested"
    mine = [a for n, a, _ in _vault_events(receipt.get("logs"), vault, decode_vault_log)
            if n == want and to_checksum_address(a["owner"]) == owner]
    if len(mine) != 1:
        return unverified(f"the receipt has {len(mine)} {want} events of the pinned vault "
                          "for your address (exactly one expected)")
    a = mine[0]
    amount = int(a["assets"] if kind == "buy" else a["shares"])
    min_out = int(a["minSharesOut"] if kind == "buy" else a["minUsdcOut"])
    rid = int(a["id"])
    kw = {"request_id": rid, "amount": amount, "min_out": min_out,
          "deadline": int(a["deadline"])}
    if (rid & 1) != (1 if kind == "sell" else 0):
        return unverified("the request id does not match its side", **kw)
    if amount != expected.amount_in or min_out != expected.min_out:
        return unverified("the vault recorded a different amount or minimum than you "
                          "signed for", **kw)
    if balance_of is not None:
        block = _int(receipt["blockNumber"])
        token = usdc if kind == "buy" else vault
        try:
            delta = balance_of(token, owner, block) - balance_of(token, owner, block - 1)
        except Exception:  # noqa: BLE001 - unreadable balances: cannot verify
            return unverified("your balances could not be read after the request", **kw)
        if delta != -amount:
            return unverified("your balance after the request does not match the vault's "
                              "event", **kw)
    return RequestOutcome(True, kind, **kw)


@dataclass(frozen=True)
class Settlement:
    """How a request ended, from the pinned vault's own event for it."""

    state: str  # "settled" | "refunded" | "cancelled" | "unverified"
    kind: str
    request_id: int
    shares: int = 0
    assets: int = 0  # buy: USDC paid in (fee included); sell: USDC paid out after the fee
    fee: int = 0
    block_number: int | None = None
    tx_hash: str | None = None
    reason: str | None = None  # refund reason, or why it is unverified

    @property
    def verified(self) -> bool:
        return self.state != "unverified"


def verify_settlement(*, logs: Any, request_id: int, owner: str, vault: str,
                      expected: Expected,
                      decode_vault_log: Callable[[Mapping[str, Any]], tuple[str, dict] | None]
                      ) -> Settlement | None:
    """The outcome of request ``request_id`` from the pinned vault's logs (None while no
    outcome event exists yet). A settlement counts only when exactly one outcome event of
    the pinned vault names this id and this owner, on the right side, for the amount the
    user signed, and at least their minimum."""
    owner, vault = to_checksum_address(owner), to_checksum_address(vault)
    kind = expected.kind
    names = ("BuySettled", "SellSettled", "RequestRefunded", "RequestCancelled")
    found = [(n, a, log) for n, a, log in _vault_events(logs, vault, decode_vault_log)
             if n in names and int(a["id"]) == int(request_id)]
    if not found:
        return None

    def unverified(reason: str) -> Settlement:
        return Settlement("unverified", kind, request_id, reason=reason)

    if len(found) != 1:
        return unverified(f"the pinned vault reports {len(found)} outcomes for request "
                          f"#{request_id} (exactly one expected)")
    name, a, log = found[0]
    if to_checksum_address(a["owner"]) != owner:
        return unverified("the outcome event names another address")
    tx = log.get("transactionHash")
    tx = "0x" + bytes(tx).hex() if isinstance(tx, bytes | bytearray) else (
        str(tx) if tx is not None else None)
    at = {"block_number": _int(log["blockNumber"]) if log.get("blockNumber") is not None
          else None, "tx_hash": tx}
    if name == "RequestCancelled":
        return Settlement("cancelled", kind, request_id, **at)
    if name == "RequestRefunded":
        why = {0: "below your minimum", 1: "its deadline passed"}.get(int(a["reason"]),
                                                                        "refunded")
        if int(a["amount"]) != expected.amount_in:
            return unverified("the refund is for a different amount than you signed for")
        return Settlement("refunded", kind, request_id, reason=why, **at)
    if (name == "BuySettled") != (kind == "buy"):
        return unverified("the settlement is for the other side of the trade")
    shares, fee = int(a["shares"]), int(a["fee"])
    if kind == "buy":
        assets = int(a["assets"])
        if assets != expected.amount_in:
            return unverified("the vault settled a different USDC amount than you signed for")
        if shares < expected.min_out:
            return unverified("fewer shares than your minimum were minted")
    else:
        assets = int(a["usdcOut"])
        if shares != expected.amount_in:
            return unverified("the vault settled a different number of shares than you "
                              "signed for")
        if assets < expected.min_out:
            return unverified("the payout is below your minimum")
    return Settlement("settled", kind, request_id, shares=shares, assets=assets, fee=fee,
                      **at)
