"""The legs of the index's log entries, derived from the pinned vault's own events.

Pure arithmetic over integers the chain gave (no web3 here): the service
(:mod:`wallet_app.services.index_legs`) collects the events, receipts and the vault's
constituent book at the block, this module turns them into :class:`Leg` rows.

What the vault emits and what is derived:

* A rebalance leg is one ``SwapExecuted(tokenIn, tokenOut, amountIn, amountOut,
  minAmountOut)``: asset, side and the amounts in and out are the event's own numbers.
  The vault does **not** emit the oracle price of each leg; it is read from the vault's
  constituent book (``getConstituents().cachedPrice``) at the rebalance's block, which
  ``IndexBook.trade`` sets to the price the leg was checked against. The oracle values are
  then computed with the vault's own integer formula (floored ``amount * price /
  (10^decimals * 10^12)``), and their sums must equal the batch's ``Rebalanced.valueIn``
  and ``valueOut`` exactly; :attr:`LegSet.oracle_checked` says whether they do (they do
  not when a later transaction in the same block moved the price cache).
* A strike leg is one settlement (``BuySettled``/``SellSettled``) or refund of that strike,
  valued at the strike's NAV (``Struck.totalAssets / totalSupply``).
* Gas is the transaction's (``gasUsed * effectiveGasPrice`` from its receipt); the legs of
  one transaction share it, so a leg's gas is the transaction's fee split equally among
  its legs (the EVM does not meter a leg).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

USDC_DECIMALS = 6
PRICE_SCALE = 10**12  # 18-decimal prices to 6-decimal USDC values
_USDC = Decimal(10) ** USDC_DECIMALS


@dataclass(frozen=True)
class BookEntry:
    """A constituent as the vault's book held it at a block."""

    token: str
    symbol: str
    decimals: int
    price18: int  # cachedPrice: USD per whole token, 18 decimals


@dataclass(frozen=True)
class Leg:
    """One trade inside a log entry."""

    asset: str  # the constituent's symbol, or G100 for strike legs
    side: str  # "buy" | "sell" | "refund"
    amount_in: Decimal
    asset_in: str
    amount_out: Decimal
    asset_out: str
    oracle_price_usd: Decimal | None  # USD per unit of ``asset`` (the oracle, or the NAV)
    oracle_value_in_usd: Decimal | None  # what went in, at the oracle
    oracle_value_out_usd: Decimal | None  # what came out, at the oracle
    min_out: Decimal | None = None  # the vault's floor for ``amount_out``
    gas_eth: Decimal = Decimal(0)  # the transaction's fee / its legs
    tx_hash: str = ""
    fee_usdc: Decimal | None = None  # strike legs: the platform fee inside the amounts

    @property
    def slippage_bps(self) -> Decimal | None:
        """What the leg lost against the oracle, in basis points of the value in
        (positive: received less than the oracle value), to 0.01 bp."""
        if not self.oracle_value_in_usd or self.oracle_value_out_usd is None:
            return None
        loss = self.oracle_value_in_usd - self.oracle_value_out_usd
        return (loss / self.oracle_value_in_usd * 10_000).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class TxCost:
    tx_hash: str
    gas_used: int
    fee_wei: int

    @property
    def fee_eth(self) -> Decimal:
        return Decimal(self.fee_wei).scaleb(-18)


@dataclass(frozen=True)
class LegSet:
    """The legs of one log entry and the transactions that carried them."""

    kind: str
    tx_hash: str
    legs: tuple[Leg, ...] = ()
    transactions: tuple[TxCost, ...] = ()
    oracle_checked: bool | None = None  # rebalances: oracle sums equal Rebalanced's totals
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def gas_eth(self) -> Decimal:
        return sum((t.fee_eth for t in self.transactions), Decimal(0))

    @property
    def gas_used(self) -> int:
        return sum(t.gas_used for t in self.transactions)


def _value(amount: int, price18: int, decimals: int) -> int:
    """The vault's ``_valueOf``: USDC base units, floored."""
    return amount * price18 // (10**decimals * PRICE_SCALE)


def swap_legs(swaps: list[dict], book: dict[str, BookEntry], usdc: str,
              cost: TxCost) -> tuple[list[Leg], int, int]:
    """Rebalance legs of one transaction from its ``SwapExecuted`` args; returns the legs
    and the sums of their oracle values in and out (USDC base units) for the check
    against ``Rebalanced``. ``book`` maps lowercased token addresses to their entry."""
    legs, v_in_sum, v_out_sum = [], 0, 0
    share = Decimal(cost.fee_wei).scaleb(-18) / len(swaps) if swaps else Decimal(0)
    usdc = usdc.lower()
    for a in swaps:
        t_in, t_out = str(a["tokenIn"]).lower(), str(a["tokenOut"]).lower()
        buy = t_in == usdc
        entry = book.get(t_out if buy else t_in)
        amt_in, amt_out, min_out = int(a["amountIn"]), int(a["amountOut"]), int(
            a["minAmountOut"])
        if entry is None:  # not a constituent at that block: amounts only
            legs.append(Leg("?", "buy" if buy else "sell", Decimal(amt_in), t_in,
                            Decimal(amt_out), t_out, None, None, None, None, share,
                            cost.tx_hash))
            continue
        dec, price = entry.decimals, entry.price18
        if buy:
            v_in, v_out = amt_in, _value(amt_out, price, dec)
            legs.append(Leg(entry.symbol, "buy", Decimal(amt_in) / _USDC, "USDC",
                            Decimal(amt_out).scaleb(-dec), entry.symbol,
                            Decimal(price).scaleb(-18), Decimal(v_in) / _USDC,
                            Decimal(v_out) / _USDC, Decimal(min_out).scaleb(-dec), share,
                            cost.tx_hash))
        else:
            v_in, v_out = _value(amt_in, price, dec), amt_out
            legs.append(Leg(entry.symbol, "sell", Decimal(amt_in).scaleb(-dec), entry.symbol,
                            Decimal(amt_out) / _USDC, "USDC", Decimal(price).scaleb(-18),
                            Decimal(v_in) / _USDC, Decimal(v_out) / _USDC,
                            Decimal(min_out) / _USDC, share, cost.tx_hash))
        v_in_sum += v_in
        v_out_sum += v_out
    return legs, v_in_sum, v_out_sum


def strike_legs(events: list[tuple[str, dict]], cost: TxCost) -> list[Leg]:
    """The settlements and refunds of one strike, valued at the strike's NAV."""
    struck = next((a for n, a in events if n == "Struck"), None)
    nav = None
    if struck is not None and int(struck["totalSupply"]):
        nav = (Decimal(int(struck["totalAssets"])) / _USDC) / (
            Decimal(int(struck["totalSupply"])).scaleb(-18))
    mine = [(n, a) for n, a in events if n in ("BuySettled", "SellSettled",
                                                 "RequestRefunded")]
    share = Decimal(cost.fee_wei).scaleb(-18) / len(mine) if mine else Decimal(0)
    legs = []
    for n, a in mine:
        if n == "BuySettled":
            usdc, fee = Decimal(int(a["assets"])) / _USDC, Decimal(int(a["fee"])) / _USDC
            shares = Decimal(int(a["shares"])).scaleb(-18)
            legs.append(Leg("G100", "buy", usdc, "USDC", shares, "G100", nav, usdc - fee,
                            None if nav is None else shares * nav, None, share, cost.tx_hash,
                            fee))
        elif n == "SellSettled":
            usdc, fee = Decimal(int(a["usdcOut"])) / _USDC, Decimal(int(a["fee"])) / _USDC
            shares = Decimal(int(a["shares"])).scaleb(-18)
            legs.append(Leg("G100", "sell", shares, "G100", usdc, "USDC", nav,
                            None if nav is None else shares * nav - fee, usdc, None, share,
                            cost.tx_hash, fee))
        else:
            sell = int(a["id"]) & 1
            amount = (Decimal(int(a["amount"])).scaleb(-18) if sell
                      else Decimal(int(a["amount"])) / _USDC)
            unit = "G100" if sell else "USDC"
            legs.append(Leg("G100", "refund", amount, unit, amount, unit, nav, None, None,
                            None, share, cost.tx_hash))
    return legs


#: The operator sends a switch's batches back to back; a longer pause ends the run.
RUN_GAP_S = 120
#: Entries that end a run (a new decision of the operator).
RUN_BOUNDARY = ("regime", "weights", "constituent")


def operator_run(rows: Iterable[Any], here: tuple[int, int], at: datetime | None,
                 after: bool = True, gap_s: int = RUN_GAP_S) -> list[str]:
    """The transactions of the rebalance run right after (``after``) or right before the
    log entry at ``here`` = (block, log index), time ``at``.

    ``rows`` are cached log rows (``block_number``, ``log_index``, ``kind``, ``tx_hash``,
    ``timestamp``) in scan order away from the entry: ascending for ``after``, descending
    otherwise. The run is the ``rebalance`` rows met before any boundary kind, each within
    ``gap_s`` seconds of chain time of the previous member (the first of the entry
    itself); returned oldest first, each transaction once."""
    last = at
    out: list[str] = []
    for r in rows:
        pos = (r.block_number, r.log_index)
        if (pos <= here) if after else (pos >= here):
            continue
        if r.kind in RUN_BOUNDARY or r.timestamp is None or last is None:
            break
        if r.kind != "rebalance":
            continue
        if abs((r.timestamp - last).total_seconds()) > gap_s:
            break
        if r.tx_hash not in out:
            out.append(r.tx_hash)
        last = r.timestamp
    return out if after else out[::-1]


def price_text(v: Decimal) -> str:
    """A USD price for reading: 6 decimals at 1 USD and above (a strike's NAV is an exact
    ratio with 28 digits), 6 significant digits below."""
    if abs(v) >= 1:
        return f"{v.quantize(Decimal('0.000001')).normalize():f}"
    return f"{v:.6g}"
