"""History for taxes: the wallet's verified trades with the USD values of their moment.

Where each value comes from (the README's "History for taxes" says the same):

* **USDC** counts as exactly 1 USD (a stated assumption, not a market price).
* **G100 shares** are valued at the NAV of their settlement: the pinned vault's ``Struck``
  event in the settlement transaction (``totalAssets / totalSupply``, the NAV every
  request of that strike was priced at). The trade's own ``BuySettled``/``SellSettled`` in
  the same receipt must name the same request, owner and amounts as the journal.
* **ETH** (the network fee of the request transaction) at the ETH/USD price of the
  request's block: on the devnet the price feed the pinned vault uses for its ETH
  constituent (the replay's price), read at that block; on Ethereum, Base and Arbitrum
  the Chainlink ETH/USD aggregator pinned below, read at that block (the node must keep
  that block's state: an archive RPC for old blocks). Where no price can be read the fee
  is left unvalued and the row says so.

* **In-kind exits** (verified in the journal, :mod:`.inkind_exit`): the pinned vault's
  ``RedeemedInKind`` in the exit's receipt (caller = this wallet, the journal's shares);
  its USDC at 1 USD and each token at the live oracle price the pinned lens reads *at the
  exit's block* (0 for a token without a price); the shares at the NAV of that block.
* **G100 share transfers** from the chain (:mod:`.owner_events`: the pinned vault's
  ``Transfer`` logs between this address and anyone but the zero address and the vault),
  valued at the NAV of their block (the lens's ``totalAssets / totalSupply`` there); the
  network fee of a transfer this address sent from the journal, else from its receipt.
  The other side counts as *own* when it is an account of a key this app holds (every
  account of every wallet here): then the lots move with their basis and date (see
  :mod:`wallet_app.reports.tax`), which is why the ledger is run over all own accounts.

Only trades the journal holds as *verified* count (see :mod:`wallet_app.trust.outcome`):
refunds, cancels and anything unverified never enter a lot. What the journal of this
computer lacks (the same key used on another computer) comes from the pinned vault's
events, merged exactly as the position's trades are
(:meth:`wallet_app.services.history.HistoryService.all_trades`), so the tax history and
My Indices list the same trades: a settlement read from the chain is valued from its own
strike receipt like a journal one, an instant trade (all-cash NAV, no strike) at the NAV
of its block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from ..errors import WalletError
from ..reports.tax import TaxLedger, TaxTrade, YearReport, run_lots, year_report
from ..reports.tax_csv import (
    DISPOSAL_COLUMNS,
    HISTORY_COLUMNS,
    disposal_rows,
    history_rows,
    write_csv,
)
from .inkind_exit import redeemed_event
from .owner_events import OwnerEvents, as_int, basket_value
from .session import Session

log = logging.getLogger(__name__)

#: Chainlink ETH/USD aggregators (proxy addresses) the app reads outside the devnet.
CHAINLINK_ETH_USD = {
    1: "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419",  # Ethereum
    8453: "0x71041dddad3595F9CEd3DcCFBe3D1F4b0a16Bb70",  # Base
    42161: "0x639Fe6ab55C921f74e7fac1ee960C0B6293ba612",  # Arbitrum One
}
_FEED_ABI = [
    {"type": "function", "name": "decimals", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint8"}]},
    {"type": "function", "name": "latestRoundData", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "roundId", "type": "uint80"}, {"name": "answer", "type": "int256"},
                 {"name": "startedAt", "type": "uint256"},
                 {"name": "updatedAt", "type": "uint256"},
                 {"name": "answeredInRound", "type": "uint80"}]},
]
USDC_UNIT = Decimal(10) ** 6
SHARE_UNIT = Decimal(10) ** 18


class TaxHistoryError(WalletError):
    """The tax history could not be built (a settlement the chain does not confirm)."""

    exit_code = 120


class ReportsService:
    """The active wallet's tax history and yearly report."""

    def __init__(self, session: Session, events: OwnerEvents | None = None,
                 trades_of: Callable[[str], list[Any]] | None = None) -> None:
        self.s = session
        self.events = events or OwnerEvents(session)
        #: The account's trades (default: the journal's; the facade passes the history's
        #: merge of the journal and the chain's events).
        self.trades_of = trades_of or (
            lambda a: self.s.journal.trades(a, self.s.need()[0].chain_id))
        #: (account, tx, log) -> valued event (a mined block never changes)
        self._cache: dict[tuple[str, str, int], TaxTrade] = {}
        self._eth_feed: tuple[int, str | None] | None = None  # (chain id, feed address)
        self._navs: dict[int, Decimal] = {}

    # ------------------------------------------------------------------ building

    def own_accounts(self) -> list[str]:
        """Every account of every wallet whose key this app holds (checksummed)."""
        out: list[str] = []
        for w in self.s.keys.list():
            for a in w.accounts:
                addr = to_checksum_address(a.address)
                if addr not in out:
                    out.append(addr)
        return out

    def tax_trades(self, addr: str | None = None, own: set[str] | None = None
                   ) -> list[TaxTrade]:
        """Every verified buy, sell and in-kind exit of ``addr`` (default: the active
        account) and its G100 share transfers, valued, each marked with the account."""
        client, _, _ = self.s.need()
        addr = to_checksum_address(addr or self.s.require_address())
        own = own if own is not None else {a.lower() for a in self.own_accounts()}
        out = []
        for t in self.trades_of(addr):
            if not t.verified or not t.tx_hash or \
                    t.kind not in ("buy", "sell", "redeem_in_kind"):
                continue
            key = (addr.lower(), t.tx_hash, -1)
            if key not in self._cache:
                valued = self._value(t, addr) if t.kind != "redeem_in_kind" else \
                    self._exit(t, addr)
                self._cache[key] = replace(valued, account=addr.lower())
            out.append(self._cache[key])
        return out + self._transfers(addr, own)

    def _exit(self, t: Any, addr: str) -> TaxTrade:
        """A verified in-kind exit from its receipt: USDC and tokens at the oracle."""
        client, vault, _ = self.s.need()
        receipt = client.get_receipt(t.tx_hash)
        ev = redeemed_event(receipt or {}, self.s.require_record().vault,
                            vault.decode_vault_log)
        if ev is None or to_checksum_address(ev["caller"]) != addr or \
                Decimal(int(ev["shares"])) / SHARE_UNIT != t.shares:
            raise TaxHistoryError(f"The in-kind exit {t.tx_hash} is not on this chain as "
                                  "the journal has it.")
        block = as_int(receipt["blockNumber"])
        usdc = Decimal(int(ev["usdcOut"])) / USDC_UNIT
        basket = basket_value(vault, ev, block)
        return TaxTrade(
            kind="in_kind_exit", time=self._block_time(block), shares=t.shares, usdc=usdc,
            platform_fee_usdc=Decimal(0), nav_usd=self.nav_at(block),
            gas_eth=(gas := self._gas(t, addr)),
            eth_usd=self.eth_usd_at(block) if gas else None,
            request_tx=t.tx_hash, settlement_tx=t.tx_hash, block_number=block,
            log_index=-1, in_kind_usd=basket - usdc)

    def _transfers(self, addr: str, own: set[str]) -> list[TaxTrade]:
        """The G100 shares ``addr`` sent or received (see the module docstring)."""
        client, _, _ = self.s.need()
        out = []
        for lg in self.events.share_transfers(addr):
            frm, to = to_checksum_address(lg.args["from"]), to_checksum_address(lg.args["to"])
            if frm == to:
                continue
            key = (addr.lower(), lg.tx_hash, lg.log_index)
            if key not in self._cache:
                sent = frm == addr
                other = to if sent else frm
                gas = Decimal(0)
                if sent:
                    entry = self.s.journal.entry(lg.tx_hash)
                    wei = entry.fee_paid_wei if entry and entry.fee_paid_wei else None
                    if wei is None:
                        tx = client.get_transaction(lg.tx_hash) or {}
                        r = client.get_receipt(lg.tx_hash) or {}
                        if str(tx.get("from", "")).lower() == addr.lower() and r:
                            wei = as_int(r["gasUsed"]) * as_int(r["effectiveGasPrice"])
                    gas = Decimal(wei or 0) / Decimal(10) ** 18
                self._cache[key] = TaxTrade(
                    kind="transfer_out" if sent else "transfer_in",
                    time=self._block_time(lg.block),
                    shares=Decimal(int(lg.args["value"])) / SHARE_UNIT, usdc=Decimal(0),
                    platform_fee_usdc=Decimal(0), nav_usd=self.nav_at(lg.block),
                    gas_eth=gas, eth_usd=self.eth_usd_at(lg.block) if gas else None,
                    request_tx=lg.tx_hash, settlement_tx=lg.tx_hash, block_number=lg.block,
                    account=addr.lower(), counterparty=other,
                    own=other.lower() in own, log_index=lg.log_index)
            out.append(self._cache[key])
        return out

    def nav_at(self, block: int) -> Decimal:
        """USD per share at ``block``: the pinned lens's ``totalAssets / totalSupply``
        there (the vault's NAV at its cached prices, the figure a strike prices at)."""
        if block not in self._navs:
            _, vault, _ = self.s.need()
            snap = vault.snapshot(block=block)
            self._navs[block] = (Decimal(snap.total_assets) / USDC_UNIT) / (
                Decimal(snap.total_supply) / SHARE_UNIT) if snap.total_supply else Decimal(0)
        return self._navs[block]

    def _value(self, t: Any, addr: str) -> TaxTrade:
        client, vault, _ = self.s.need()
        entry = self.s.journal.entry(t.tx_hash)
        meta = entry.meta if entry else {}
        settled_tx, rid = meta.get("settled_tx"), meta.get("request_id")
        if getattr(t, "origin", "journal") == "chain":
            if getattr(t, "request_id", None) is None:
                return self._instant(t)
            settled_tx, rid = t.settled_tx, t.request_id
        if not settled_tx or rid is None:
            raise TaxHistoryError(f"The journal has no settlement for trade {t.tx_hash}.")
        receipt = client.get_receipt(settled_tx)
        if not receipt:
            raise TaxHistoryError(f"The settlement {settled_tx} is not on this chain.")
        nav = mine = None
        for name, a in vault.decode_receipt(receipt):
            if name == "Struck" and int(a["totalSupply"]):
                nav = Decimal(int(a["totalAssets"])) / USDC_UNIT / (
                    Decimal(int(a["totalSupply"])) / SHARE_UNIT)
            elif name in ("BuySettled", "SellSettled") and int(a["id"]) == int(rid):
                mine = (name, a)
        if nav is None or mine is None or str(mine[1]["owner"]).lower() != addr.lower():
            raise TaxHistoryError(f"The settlement {settled_tx} does not show request "
                                  f"#{rid} of this wallet struck by the pinned vault.")
        name, a = mine
        shares = Decimal(int(a["shares"])) / SHARE_UNIT
        usdc = Decimal(int(a["assets" if name == "BuySettled" else "usdcOut"])) / USDC_UNIT
        if (shares, usdc) != (t.shares, t.usdc):
            raise TaxHistoryError(f"Request #{rid}: the journal and the vault's settlement "
                                  "event disagree.")
        block = int(receipt["blockNumber"], 16) if isinstance(receipt["blockNumber"], str) \
            else int(receipt["blockNumber"])
        when = self._block_time(block)
        request_block = entry.block_number if entry and entry.block_number else block
        if getattr(t, "origin", "journal") == "chain":
            r = client.get_receipt(t.tx_hash) or {}
            request_block = as_int(r["blockNumber"]) if r.get("blockNumber") else block
        return TaxTrade(
            kind=t.kind, time=when, shares=shares, usdc=usdc,
            platform_fee_usdc=Decimal(int(a["fee"])) / USDC_UNIT, nav_usd=nav,
            gas_eth=(gas := self._gas(t, addr)),
            eth_usd=self.eth_usd_at(request_block) if gas else None,
            request_id=int(rid), request_tx=t.tx_hash, settlement_tx=settled_tx,
            block_number=block)

    def _gas(self, t: Any, addr: str) -> Decimal:
        """The trade's own transaction's network fee: the journal's, else (a trade read
        from the chain) its receipt's when ``addr`` sent it."""
        if getattr(t, "origin", "journal") != "chain":
            return Decimal(t.gas_fee_eth)
        client, _, _ = self.s.need()
        tx = client.get_transaction(t.tx_hash) or {}
        r = client.get_receipt(t.tx_hash) or {}
        if str(tx.get("from", "")).lower() != addr.lower() or not r:
            return Decimal(0)
        return Decimal(as_int(r["gasUsed"]) * as_int(r["effectiveGasPrice"])) / Decimal(10) ** 18

    def _instant(self, t: Any) -> TaxTrade:
        """An instant ERC-4626 trade read from the chain (all-cash NAV, no strike): its
        USDC and fee from the events, the shares at the NAV of its block."""
        block = int(t.block_number)
        gas = self._gas(t, str(t.account))
        return TaxTrade(
            kind=t.kind, time=self._block_time(block), shares=t.shares, usdc=t.usdc,
            platform_fee_usdc=t.fee_usdc, nav_usd=self.nav_at(block), gas_eth=gas,
            eth_usd=self.eth_usd_at(block) if gas else None, request_tx=t.tx_hash,
            settlement_tx=t.tx_hash, block_number=block)

    def _block_time(self, block: int) -> datetime:
        b = self.s.need()[0].get_block(block) or {}
        ts = b.get("timestamp", 0)
        return datetime.fromtimestamp(int(ts, 16) if isinstance(ts, str) else int(ts), UTC)

    def _feed_address(self) -> str | None:
        client, _, _ = self.s.need()
        if self._eth_feed is not None and self._eth_feed[0] == client.chain_id:
            return self._eth_feed[1]
        feed: str | None = CHAINLINK_ETH_USD.get(client.chain_id)
        if self.s.is_devnet:
            snap = self.s.snapshot()
            feed = next((c.feed for c in snap.constituents if c.symbol.upper() == "ETH"), None)
        self._eth_feed = (client.chain_id, feed)
        return feed

    def eth_usd_at(self, block: int) -> Decimal | None:
        """ETH/USD at ``block`` from the source named in the module docstring, or None."""
        feed = self._feed_address()
        if feed is None:
            return None
        try:
            c = self.s.need()[0].w3.eth.contract(address=feed, abi=_FEED_ABI)
            dec = int(c.functions.decimals().call(block_identifier=block))
            answer = int(c.functions.latestRoundData().call(block_identifier=block)[1])
        except Exception:  # noqa: BLE001 - a pruned node or no feed: the fee stays unvalued
            log.info("no ETH/USD price at block %s", block)
            return None
        return Decimal(answer).scaleb(-dec) if answer > 0 else None

    # ------------------------------------------------------------------ outputs

    def ledger(self, method: str = "fifo") -> TaxLedger:
        """The active account's ledger. It is run over every own account that has tax
        events, so lots moved in from one of them arrive with their basis."""
        if self.s.active_watch() is not None:
            raise TaxHistoryError(
                "The tax history is built from the trades this app signed and verified; a "
                "watch-only wallet has none here. Open the wallet that holds its key.")
        addr = to_checksum_address(self.s.require_address())
        accounts = self.own_accounts()
        own = {a.lower() for a in accounts} | {addr.lower()}
        trades = self.tax_trades(addr, own)
        if any(t.own for t in trades):
            for other in accounts:
                if other != addr:
                    trades += self.tax_trades(other, own)
        return run_lots(trades, method, account=addr)

    def export_tax_csv(self, path: Path, method: str = "fifo") -> int:
        """The whole history, one line per verified trade (columns in the README)."""
        return write_csv(path, HISTORY_COLUMNS, history_rows(self.ledger(method)))

    def year_report(self, year: int, method: str = "fifo",
                    csv_path: Path | None = None) -> YearReport:
        """The tax year's disposals and totals; with ``csv_path`` its disposal lines."""
        rep = year_report(self.ledger(method), year)
        if csv_path is not None:
            write_csv(csv_path, DISPOSAL_COLUMNS, disposal_rows(rep.disposals))
        return rep
