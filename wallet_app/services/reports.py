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

Only trades the journal holds as *verified* count (see :mod:`wallet_app.trust.outcome`):
refunds, cancels and anything unverified never enter a lot.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import WalletError
from ..reports.tax import TaxLedger, TaxTrade, YearReport, run_lots, year_report
from ..reports.tax_csv import (
    DISPOSAL_COLUMNS,
    HISTORY_COLUMNS,
    disposal_rows,
    history_rows,
    write_csv,
)
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

    def __init__(self, session: Session) -> None:
        self.s = session
        self._cache: dict[str, TaxTrade] = {}  # request tx -> valued trade (never changes)
        self._eth_feed: tuple[int, str | None] | None = None  # (chain id, feed address)

    # ------------------------------------------------------------------ building

    def tax_trades(self) -> list[TaxTrade]:
        """Every verified, settled buy and sell of the active wallet, valued."""
        client, _, _ = self.s.need()
        addr = self.s.require_address()
        out = []
        for t in self.s.journal.trades(addr, client.chain_id):
            if not t.verified or t.kind not in ("buy", "sell") or not t.tx_hash:
                continue
            cached = self._cache.get(t.tx_hash)
            if cached is None:
                cached = self._value(t, addr)
                self._cache[t.tx_hash] = cached
            out.append(cached)
        return out

    def _value(self, t: Any, addr: str) -> TaxTrade:
        client, vault, _ = self.s.need()
        entry = self.s.journal.entry(t.tx_hash)
        meta = entry.meta if entry else {}
        settled_tx, rid = meta.get("settled_tx"), meta.get("request_id")
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
        return TaxTrade(
            kind=t.kind, time=when, shares=shares, usdc=usdc,
            platform_fee_usdc=Decimal(int(a["fee"])) / USDC_UNIT, nav_usd=nav,
            gas_eth=t.gas_fee_eth,
            eth_usd=self.eth_usd_at(request_block) if t.gas_fee_eth else None,
            request_id=int(rid), request_tx=t.tx_hash, settlement_tx=settled_tx,
            block_number=block)

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
        return run_lots(self.tax_trades(), method)

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
