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
