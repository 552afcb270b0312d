"""The wording of v2 requests in the trade dialogs: when the next price strike comes, and
what became of a request (settled, refunded, cancelled, still waiting).

Kept apart from :mod:`ui.dialogs.trade_base` (the dialogs' machinery) so that the words a
user reads about forward pricing live in one place.
"""

from __future__ import annotations

from typing import Any

from ui import formatting as fmt
from ui.dialogs.trade_base import usdc_text


def strike_text(quote: Any) -> str:
    """When the next price strike is expected, and the cut-off, in words."""
    from datetime import UTC, datetime

    at = getattr(quote, "next_strike_at", 0)
    age = getattr(quote, "min_request_age", 0)
    when = datetime.fromtimestamp(at, UTC).astimezone().strftime("%H:%M:%S") if at else "soon"
    ready = "" if getattr(quote, "strike_ready", True) else " (prices need a refresh first)"
    return f"About {when}{ready}; cancellable for {age} s after you request"


def request_state_text(result: Any) -> str:
    """A request's state as one short line: "#4 settled", "#6 refunded: below ..."."""
    rid = getattr(result, "request_id", None)
    state = getattr(result, "state", "settled")
    note = getattr(result, "note", None)
    head = f"#{rid} {state}" if rid is not None else state
    return head + (f": {note}" if note and state == "refunded" else "")


def outcome_text(result: Any, side: str) -> tuple[str, str, str]:
    """(title, note, card caption) of the done page for a request's state."""
    state = getattr(result, "state", "settled")
    shares = fmt.format_token_amount(getattr(result, "shares", None), "G100", 6)
    usdc = usdc_text(getattr(result, "usdc", None))
    if state == "requested":
        return ("Requested: waiting for the next price strike",
                "Your request is on-chain. It settles at the first NAV strike after its "
                "cut-off, at that strike's price, or is refunded if it would get less than "
                "your minimum. It is listed under My Indices and Transactions, where you "
                "can cancel it before the cut-off.", "Requested")
    if state == "refunded":
        what = "USDC" if side == "buy" else "shares"
        return (f"Refunded: {getattr(result, 'note', None) or 'not settled'}",
                f"The price strike could not meet your minimum, so your {what} came back "
                "to your address. Nothing was traded; only the network fee was spent.",
                "Refunded")
    if state == "cancelled":
        return ("Cancelled", "You cancelled the request before its cut-off; everything "
                "came back to your address.", "Cancelled")
    if side == "buy":
        return (f"\u2713 Settled: {shares}",
                "The shares are in your wallet, priced at the strike's NAV. The USDC is "
                "invested in the index at the next rebalance.", "Settled")
    return (f"\u2713 Settled: {usdc} paid to your address",
            "The sell settled at the strike's NAV; the USDC is at your address.", "Settled")
