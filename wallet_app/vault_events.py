"""The v2 vault's events as lines of the transactions log, and its errors in plain words.

Kept apart from :mod:`wallet_app.vault` (the client) so that each stays readable: this
module only turns decoded events into :class:`~wallet_app.models.IndexEvent` rows and
custom errors into messages a user can act on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .models import IndexEvent
from .text import counted

SHARE_DECIMALS = 18

#: Plain-language text for the vault's custom errors (the decoder fills ``{arg}`` names).
VAULT_ERROR_MESSAGES: dict[str, str] = {
    "InvalidDeadline": (
        "The request's deadline is in the past or more than 30 days ahead, so nothing was "
        "sent. Review a fresh quote and try again."),
    "RequestNotPending": (
        "This request is no longer pending: it was already settled, refunded or "
        "cancelled. Refresh to see its outcome."),
    "NotRequestOwner": "This request belongs to another address; only its owner can cancel it.",
    "CancelClosed": (
        "This request is past its cut-off and committed to the next price strike, so it can "
        "no longer be cancelled. It will be settled at that strike (or refunded if below "
        "your minimum)."),
    "NothingToClaim": "There is nothing waiting to be claimed for this address.",
    "StalePrice": (
        "A constituent's price feed is out of date, so the price strike cannot run. Your "
        "request waits (or is refunded after its deadline); in-kind exits stay open."),
    "PriceUnavailable": (
        "A constituent has no price, so the price strike cannot run. In-kind exits stay "
        "open."),
    "InvalidPrice": (
        "A constituent's price feed reported an invalid price, so the price strike cannot "
        "run. In-kind exits stay open."),
    "PriceDeviationTooLarge": (
        "A constituent's price moved more than the vault accepts in one refresh, so the "
        "strike waits for a review. In-kind exits stay open."),
    "SequencerDown": (
        "The network's sequencer is down or just came back, so prices are not trusted "
        "yet. Try again later; in-kind exits stay open."),
    "EnforcedPause": (
        "Buying is paused by the index guardian. You can still request a sell and redeem "
        "in kind."),
    "ZeroAmount": "Enter an amount greater than zero.",
    "ZeroAddress": "The receiving address is empty.",
    "InsufficientCash": (
        "The index does not hold enough cash to pay this out right now. Try a smaller "
        "amount."),
    "ERC20InsufficientBalance": "Your token balance is too low for this amount.",
    "ERC20InsufficientAllowance": (
        "The vault is not approved to take this much USDC. Approve the amount and retry."),
    "ERC4626ExceededMaxRedeem": (
        "An instant sell is possible only while the index holds nothing but cash; request "
        "a sell instead."),
    "ERC4626ExceededMaxDeposit": (
        "An instant buy is possible only while the index holds nothing but cash; request a "
        "buy instead."),
    "ERC2612ExpiredSignature": "The permit signature has expired. Request a fresh quote.",
    "ERC2612InvalidSigner": "The permit signature is not valid for this account.",
}

#: Why a request was refunded at a strike (``IndexVault.RefundReason``).
REFUND_REASONS = {0: "below your minimum", 1: "its deadline passed"}


def _usdc(v: int) -> Decimal:
    return Decimal(int(v)).scaleb(-6)


def _shares(v: int) -> Decimal:
    return Decimal(int(v)).scaleb(-SHARE_DECIMALS)


def request_kind(request_id: int) -> str:
    """``"buy"`` for an even request id, ``"sell"`` for an odd one (the vault's encoding)."""
    return "sell" if int(request_id) & 1 else "buy"


def describe_event(name: str, a: dict[str, Any], log: dict[str, Any]) -> IndexEvent | None:
    """One vault event as a line of the transactions log (None for internal bookkeeping)."""
    base = {"block_number": log["blockNumber"], "tx_hash": "0x" + bytes(
        log["transactionHash"]).hex(), "log_index": log["logIndex"]}
    if name == "BuyRequested":
        return IndexEvent(**base, kind="buy_request", account=a["owner"],
                          usdc=_usdc(a["assets"]),
                          summary=f"Buy requested #{a['id']}: {_usdc(a['assets']):,.2f} USDC, "
                                  f"at least {_shares(a['minSharesOut']):,.4f} G100")
    if name == "SellRequested":
        return IndexEvent(**base, kind="sell_request", account=a["owner"],
                          shares=_shares(a["shares"]),
                          summary=f"Sell requested #{a['id']}: {_shares(a['shares']):,.4f} "
                                  f"G100, at least {_usdc(a['minUsdcOut']):,.2f} USDC")
    if name == "BuySettled":
        return IndexEvent(**base, kind="buy", account=a["owner"], usdc=_usdc(a["assets"]),
                          shares=_shares(a["shares"]),
                          summary=f"Buy settled #{a['id']}: {_usdc(a['assets']):,.2f} USDC "
                                  f"for {_shares(a['shares']):,.4f} G100")
    if name == "SellSettled":
        return IndexEvent(**base, kind="sell", account=a["owner"], usdc=_usdc(a["usdcOut"]),
                          shares=_shares(a["shares"]),
                          summary=f"Sell settled #{a['id']}: {_shares(a['shares']):,.4f} G100 "
                                  f"for {_usdc(a['usdcOut']):,.2f} USDC")
    if name == "RequestRefunded":
        what = (f"{_shares(a['amount']):,.4f} G100" if request_kind(a["id"]) == "sell"
                else f"{_usdc(a['amount']):,.2f} USDC")
        why = REFUND_REASONS.get(int(a["reason"]), "refunded")
        return IndexEvent(**base, kind="refund", account=a["owner"],
                          summary=f"Request #{a['id']} refunded ({why}): {what} returned")
    if name == "RequestCancelled":
        what = (f"{_shares(a['amount']):,.4f} G100" if request_kind(a["id"]) == "sell"
                else f"{_usdc(a['amount']):,.2f} USDC")
        return IndexEvent(**base, kind="cancel", account=a["owner"],
                          summary=f"Request #{a['id']} cancelled: {what} returned")
    if name == "Struck":
        supply = a["totalSupply"]
        nav = (Decimal(a["totalAssets"]) / Decimal(supply) * Decimal(10**12)
               if supply else None)
        return IndexEvent(**base, kind="strike",
                          usdc=None if nav is None else nav.quantize(Decimal("0.000001")),
                          summary=f"NAV strike #{a['strikeId']}: {a['settled']} settled, "
                                  f"{a['refunded']} refunded")
    if name in ("Deposit", "Withdraw"):  # the all-cash instant paths
        kind = "buy" if name == "Deposit" else "sell"
        return IndexEvent(**base, kind=kind, account=a["owner"], usdc=_usdc(a["assets"]),
                          shares=_shares(a["shares"]),
                          summary=f"Instant {kind}: {_usdc(a['assets']):,.2f} USDC, "
                                  f"{_shares(a['shares']):,.4f} G100")
    if name == "RedeemedInKind":
        return IndexEvent(**base, kind="redeem_in_kind", account=a.get("caller"),
                          shares=_shares(a.get("shares", 0)),
                          summary="In-kind redemption")
    if name == "Rebalanced":
        return IndexEvent(**base, kind="rebalance", account=a["operator"],
                          usdc=_usdc(a["valueIn"]),
                          summary=f"Rebalance: {counted(a['legs'], 'trade')}, "
                                  f"{_usdc(a['valueIn']):,.2f} USDC traded")
    if name == "SwapExecuted":  # one leg of a rebalance batch (the batch is Rebalanced)
        return IndexEvent(**base, kind="rebalance_leg",
                          summary=f"Rebalance leg: {a['amountIn']:,} of {a['tokenIn'][:10]}… "
                                  f"for {a['amountOut']:,} of {a['tokenOut'][:10]}… (base units)")
    if name == "RegimeChanged":
        new = "Bear (100% USDC)" if a["current"] == 1 else "Bull (constituents)"
        return IndexEvent(**base, kind="regime", summary=f"Regime switch to {new}")
    if name == "FeesSet":
        return IndexEvent(**base, kind="fee",
                          summary=f"Fees set: buy {a['buyFeeBps'] / 100}%, "
                                  f"sell {a['sellFeeBps'] / 100}%")
    if name == "RoleSet":
        roles = ("Operator", "Keeper", "Guardian", "Fee recipient")
        role = roles[a["role"]] if a["role"] < len(roles) else "Role"
        return IndexEvent(**base, kind="role", summary=f"{role} set to {a['current']}")
    if name == "TargetWeightsSet":
        n = counted(len(a["tokens"]), "constituent")
        return IndexEvent(**base, kind="weights", summary=f"Target weights set for {n}")
    if name == "ConstituentAdded":
        return IndexEvent(**base, kind="constituent", summary=f"Constituent added {a['token']}")
    if name == "ConstituentRemoved":
        return IndexEvent(**base, kind="constituent",
                          summary=f"Constituent removed {a['token']}")
    if name == "NavUpdated":
        supply = a["totalSupply"]
        nav = (Decimal(a["holdingsValue"] + a["cash"]) / Decimal(supply) * Decimal(10**12)
               if supply else None)
        return IndexEvent(**base, kind="nav",
                          timestamp=datetime.fromtimestamp(a["timestamp"], UTC),
                          usdc=None if nav is None else nav.quantize(Decimal("0.000001")),
                          summary="NAV refreshed")
    if name in ("Paused", "Unpaused"):
        return IndexEvent(**base, kind="pause", summary=f"Buys {name.lower()}")
    return None
