"""Everything the pinned contracts logged about one address, read from the chain alone.

Why a module of its own: a watch-only wallet has no journal, so its history (trades,
transactions table) can only come from events; and the tax report needs the G100 share
transfers of a keyed wallet too, which the journal holds only for the ones it sent. Both
read the same logs here, so both see the same history.

What is read, from the deployment block to the head, in windows of :data:`LOG_WINDOW`
blocks (public nodes cap a range), with the address filter set to the *pinned* vault or
USDC token and each log's address checked again:

* the vault's events that name the address in topic 1 (``FeeCharged`` payer,
  ``RedeemedInKind`` caller, ``UsdcClaimed``/``InKindClaimed`` account, ``Transfer`` from),
  in topic 2 (``BuyRequested``/``SellRequested``/``RequestCancelled``/``BuySettled``/
  ``SellSettled``/``RequestRefunded`` owner, the instant ``Deposit``'s owner, ``Transfer``
  to) and in topic 3 (the instant ``Withdraw``'s owner: ERC-4626 puts the owner third,
  which is why an instant sell was once missed);
* the pinned USDC token's ``Transfer`` events from or to the address.

Share (G100) and USDC ``Transfer`` logs whose other side is the zero address (a mint or a
burn) or the vault itself (a request's escrow, a payout, a refund) are dropped: those
moves are the trades the vault's own events already describe. What is left is what the
address really sent to or received from someone else.

Cost: one scan is three ``eth_getLogs`` per window (the address in topic 1, 2 or 3; the
vault and USDC in one request each, their logs told apart by address) plus one batched
block read for the timestamps of the blocks that have new logs. Scans are incremental:
the decoded logs and the last block read are kept in the journal's event cache (source
``owner:<address>``), so a new process, or a new computer after its first scan, only reads
the blocks it has not read yet. A reorg deeper than the blocks already read is not undone
here (the devnet has none; a chain with reorgs would need a confirmation depth).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Context, Decimal, localcontext
from typing import Any

from eth_utils import keccak, to_checksum_address

from ..journal_records import CachedEvent
from ..vault import PRICE_DECIMALS, to_decimal
from .session import Session

#: Blocks per eth_getLogs request.
LOG_WINDOW = 50_000
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
ZERO = "0x" + "00" * 20
#: Vault events by the topic that carries the address.
TOPIC1_EVENTS = ("FeeCharged", "RedeemedInKind", "UsdcClaimed", "InKindClaimed", "Transfer")
TOPIC2_EVENTS = ("BuyRequested", "SellRequested", "RequestCancelled", "BuySettled",
                 "SellSettled", "RequestRefunded", "Deposit", "Transfer")
TOPIC3_EVENTS = ("Withdraw",)


@dataclass(frozen=True)
class OwnerLog:
    """One decoded event about the address (``source``: "vault" or "usdc")."""

    source: str
    name: str
    args: dict[str, Any]
    block: int
    tx_hash: str
    log_index: int
    #: The block's time, when it was read with the log (None: not known yet).
    timestamp: datetime | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.block, self.log_index)


def topic_of(address: str) -> str:
    return "0x" + "00" * 12 + address.lower()[2:]


def hex_hash(tx: Any) -> str:
    return ("0x" + bytes(tx).hex() if isinstance(tx, bytes | bytearray) else str(tx)).lower()


def as_int(v: Any) -> int:
    return int(v, 16) if isinstance(v, str) else int(v)


class OwnerEvents:
    """Reads (and caches up to the last block read) the logs about each address."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._cache: dict[tuple[int, str], tuple[int, list[OwnerLog]]] = {}
        # Screens ask from several worker threads at once: one scan at a time.
        self._lock = threading.RLock()
        #: eth_getLogs requests made (what a refresh costs; read by tests and the README).
        self.requests = 0

    def _get_logs(self, address: str | list[str], topics: list[Any], start: int, end: int
                  ) -> list[dict[str, Any]]:
        client, _, _ = self.s.need()
        wanted = {a.lower() for a in ([address] if isinstance(address, str) else address)}
        out: list[dict[str, Any]] = []
        while start <= end:
            stop = min(end, start + LOG_WINDOW - 1)
            self.requests += 1
            got = client.rpc("eth_getLogs", {"address": address, "topics": topics,
                                             "fromBlock": hex(start), "toBlock": hex(stop)})
            out.extend(x for x in (got or []) if isinstance(x, dict)
                       and str(x.get("address", "")).lower() in wanted)
            start = stop + 1
        return out

    def scanned_to(self, owner: str) -> int | None:
        """The last block whose logs about ``owner`` are known (None: never scanned)."""
        client, _, _ = self.s.need()
        key = (client.chain_id, to_checksum_address(owner).lower())
        with self._lock:
            if key in self._cache:
                return self._cache[key][0]
            return self.s.journal.last_scanned_block(client.chain_id, _source(owner))

    def logs_of(self, owner: str, upto: int | None = None) -> list[OwnerLog]:
        """Every event about ``owner`` in chain order (block, log index), read up to block
        ``upto`` (default: the head, one ``eth_blockNumber``)."""
        client, _, _ = self.s.need()
        owner = to_checksum_address(owner)
        key = (client.chain_id, owner.lower())
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self._stored(client.chain_id, owner)
            last, known = self._cache[key]
            head = client.block_number() if upto is None else int(upto)
            if last >= head:
                return list(known)
            new = self._scan(owner, last + 1, head)
            self.s.journal.add_index_events(client.chain_id, _source(owner), [
                CachedEvent(lg.block, lg.tx_hash, lg.log_index, lg.name,
                            {"source": lg.source, "args": _jsonable(lg.args)},
                            lg.timestamp) for lg in new], head)
            logs = known + new
            self._cache[key] = (head, logs)
            return list(logs)

    def _stored(self, chain_id: int, owner: str) -> tuple[int, list[OwnerLog]]:
        """What earlier scans (this process or another) left in the journal."""
        record = self.s.require_record()
        last = self.s.journal.last_scanned_block(chain_id, _source(owner))
        if last is None:
            return int(record.deployment_block or 0) - 1, []
        rows = self.s.journal.index_events(chain_id, _source(owner), newest_first=False)
        return last, [OwnerLog(str(r.payload["source"]), r.kind, dict(r.payload["args"]),
                               r.block_number, r.tx_hash, r.log_index, r.timestamp)
                      for r in rows]

    def _scan(self, owner: str, start: int, head: int) -> list[OwnerLog]:
        """The logs about ``owner`` in ``start..head``, decoded, with their block times."""
        _, vault, _ = self.s.need()
        record = self.s.require_record()
        me = topic_of(owner)
        both = [record.vault, record.usdc]
        topic1 = [vault._topic(n) for n in TOPIC1_EVENTS]
        topic2 = [vault._topic(n) for n in TOPIC2_EVENTS]
        raw = self._get_logs(both, [topic1, me], start, head)
        raw += self._get_logs(both, [topic2, None, me], start, head)
        raw += self._get_logs(record.vault, [[vault._topic(n) for n in TOPIC3_EVENTS],
                                             None, None, me], start, head)
        seen: set[tuple[str, int]] = set()
        new: list[OwnerLog] = []
        skip = {ZERO.lower(), record.vault.lower()}
        for x in raw:
            source = "vault" if str(x["address"]).lower() == record.vault.lower() else "usdc"
            tx, index = hex_hash(x.get("transactionHash")), as_int(x.get("logIndex", 0))
            if (tx, index) in seen:
                continue  # a transfer to oneself matches both queries
            seen.add((tx, index))
            ev = vault.decode_vault_log(x) if source == "vault" else _erc20_transfer(x)
            if ev is None:
                continue
            name, args = ev
            if source == "usdc" and name != "Transfer":
                continue
            if name == "Transfer":
                ends = {str(args["from"]).lower(), str(args["to"]).lower()}
                if ends & skip:
                    continue  # a mint, burn, escrow or payout: the trade events say it
            new.append(OwnerLog(source, name, dict(args), as_int(x["blockNumber"]), tx,
                                index))
        times = vault._block_times({lg.block for lg in new}) if new else {}
        return sorted((OwnerLog(lg.source, lg.name, lg.args, lg.block, lg.tx_hash,
                                lg.log_index, times.get(lg.block)) for lg in new),
                      key=lambda lg: lg.key)

    def share_transfers(self, owner: str) -> list[OwnerLog]:
        """The G100 share transfers between ``owner`` and anyone else, in chain order."""
        return [lg for lg in self.logs_of(owner) if lg.source == "vault"
                and lg.name == "Transfer"]


def shares_from_logs(owner: str, logs: list[OwnerLog], upto: int) -> int:
    """The G100 balance ``owner``'s events up to block ``upto`` add up to (base units).

    Why: a keyed wallet counts trades it reads from events only when they explain the
    balance the pinned lens shows, so a node that invents (or hides) an event about the
    address cannot put a trade into its cost basis unseen. Every share move has its event:
    a forward buy's ``BuySettled`` and an instant ``Deposit`` mint to the owner; a sell
    request escrows (``SellRequested``), its refund or cancel (odd ids are sells) gives the
    shares back; an instant ``Withdraw`` and ``RedeemedInKind`` burn; ``Transfer`` between
    the owner and someone else moves them.
    """
    me = owner.lower()
    total = 0
    for lg in logs:
        if lg.source != "vault" or lg.block > upto:
            continue
        a = lg.args
        name = lg.name
        if name in ("BuySettled", "Deposit") and str(a["owner"]).lower() == me:
            total += int(a["shares"])
        elif name in ("Withdraw", "SellRequested") and str(a["owner"]).lower() == me:
            total -= int(a["shares"])
        elif name in ("RequestRefunded", "RequestCancelled") and int(a["id"]) & 1 and \
                str(a["owner"]).lower() == me:
            total += int(a["amount"])
        elif name == "RedeemedInKind" and str(a["caller"]).lower() == me:
            total -= int(a["shares"])
        elif name == "Transfer":
            frm, to = str(a["from"]).lower(), str(a["to"]).lower()
            if frm != to:
                total += int(a["value"]) if to == me else -int(a["value"]) if frm == me else 0
    return total


def _source(owner: str) -> str:
    """The journal event-cache source that holds the logs about ``owner``."""
    return "owner:" + owner.lower()


def _jsonable(v: Any) -> Any:
    """Decoded event args as JSON (addresses and integers; tuples become lists)."""
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, bytes | bytearray):
        return "0x" + bytes(v).hex()
    return v


def _erc20_transfer(x: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    topics = [str(t) if isinstance(t, str) else "0x" + bytes(t).hex() for t in
              x.get("topics") or []]
    if len(topics) != 3 or topics[0].lower() != TRANSFER_TOPIC:
        return None
    data = x.get("data") or "0x"
    data = data if isinstance(data, str) else "0x" + bytes(data).hex()
    return "Transfer", {"from": to_checksum_address("0x" + topics[1][-40:]),
                        "to": to_checksum_address("0x" + topics[2][-40:]),
                        "value": int(data, 16) if data != "0x" else 0}


def basket_value(vault: Any, args: dict[str, Any], block: int) -> Decimal:
    """The USD value of what a ``RedeemedInKind`` paid: its USDC (1 USD each) plus every
    token amount at the live oracle price the pinned lens reads *at that block* (a token
    without a price counts 0). Exact (60 digits), not rounded."""
    snap = vault.snapshot(block=block)
    prices = {to_checksum_address(c.token): c for c in snap.constituents}
    with localcontext(Context(prec=60)):
        value = to_decimal(int(args["usdcOut"]), snap.usdc_decimals)
        for token, amt in zip(args["tokens"], args["amounts"], strict=True):
            c = prices.get(to_checksum_address(token))
            if c is not None and c.price18 and int(amt):
                value += to_decimal(int(amt), c.decimals) * to_decimal(c.price18,
                                                                       PRICE_DECIMALS)
    return value
