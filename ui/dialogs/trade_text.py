"""Shared formatting of the trade dialogs' preview rows: USDC amounts, network fees,
balance changes and short transaction hashes (kept out of ``ui/dialogs/trade_base.py``)."""

from __future__ import annotations

from decimal import Decimal

from ui import formatting as fmt
from ui.pages.common import short_hex
from wallet_app.models import BalanceChange, GasEstimate


def usdc_text(amount: Decimal | None) -> str:
    """USDC with cents (``250.00 USDC``), or with up to 6 decimals when it has them."""
    if amount is None:
        return fmt.DASH
    if amount == fmt.quantize(amount, 2):
        return fmt.format_usdc(amount)
    return fmt.format_token_amount(amount, "USDC", 6)


def gas_text(gas: GasEstimate, which: str) -> str:
    """``0.00073 ETH ($2.49)`` for the expected or the maximum network fee."""
    eth = gas.expected_fee_eth if which == "expected" else gas.max_fee_eth
    usd = gas.expected_fee_usd if which == "expected" else gas.max_fee_usd
    text = fmt.format_token_amount(eth, "ETH", 6)
    text = f"{text} ({fmt.format_usd(usd)})" if usd is not None else text
    if gas.l1_fee_eth > 0 and which == "expected":  # OP-stack: say what part is L1 data
        text += f", incl. L1 data {fmt.format_token_amount(gas.l1_fee_eth, 'ETH', 6)}"
    return text


def balance_changes_text(changes: list[BalanceChange], sep: str = "\n") -> str:
    """``USDC −250.00`` / ``G100 +194.29`` / ``ETH −0.00073``, one asset per line (they do
    not fit one line beside their caption), from the simulation's deltas."""
    parts = []
    for c in changes:
        sign = "+" if c.delta > 0 else "\u2212" if c.delta < 0 else ""
        if c.asset in ("USDC", "USD"):
            amount = usdc_text(abs(c.delta)).removesuffix(" USDC")
        else:
            amount = fmt.format_token_amount(abs(c.delta), "", 6)
        parts.append(f"{c.asset} {sign}{amount}")
    return sep.join(parts) if parts else "\u2014"


def short(tx_hash: str) -> str:
    return short_hex(tx_hash, 10, 8)
