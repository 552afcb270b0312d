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
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from typing import Any

from eth_utils import keccak, to_checksum_address

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

    def _get_logs(self, address: str, topics: list[Any], start: int, end: int
                  ) -> list[dict[str, Any]]:
        client, _, _ = self.s.need()
        out: list[dict[str, Any]] = []
        while start <= end:
            stop = min(end, start + LOG_WINDOW - 1)
            got = client.rpc("eth_getLogs", {"address": address, "topics": topics,
                                             "fromBlock": hex(start), "toBlock": hex(stop)})
            out.extend(x for x in (got or []) if isinstance(x, dict)
                       and str(x.get("address", "")).lower() == address.lower())
            start = stop + 1
        return out

    def logs_of(self, owner: str) -> list[OwnerLog]:
        """Every event about ``owner`` in chain order (block, log index)."""
        client, vault, _ = self.s.need()
        record = self.s.require_record()
        owner = to_checksum_address(owner)
        key = (client.chain_id, owner.lower())
        head = client.block_number()
        start = int(record.deployment_block or 0)
        known: list[OwnerLog] = []
        if key in self._cache:
            last, known = self._cache[key]
            if last >= head:
                return list(known)
            start = last + 1
        me = topic_of(owner)
        raw: list[tuple[str, dict[str, Any]]] = []
        for topics in ([[vault._topic(n) for n in TOPIC1_EVENTS], me],
                       [[vault._topic(n) for n in TOPIC2_EVENTS], None, me],
                       [[vault._topic(n) for n in TOPIC3_EVENTS], None, None, me]):
            raw += [("vault", x) for x in self._get_logs(record.vault, topics, start, head)]
        for topics in ([TRANSFER_TOPIC, me], [TRANSFER_TOPIC, None, me]):
            raw += [("usdc", x) for x in self._get_logs(record.usdc, topics, start, head)]
        seen: set[tuple[str, int]] = set()
        new: list[OwnerLog] = []
        skip = {ZERO.lower(), record.vault.lower()}
        for source, x in raw:
            tx, index = hex_hash(x.get("transactionHash")), as_int(x.get("logIndex", 0))
            if (tx, index) in seen:
                continue  # a transfer to oneself matches both queries
            seen.add((tx, index))
            ev = vault.decode_vault_log(x) if source == "vault" else _erc20_transfer(x)
            if ev is None:
                continue
            name, args = ev
            if name == "Transfer":
                ends = {str(args["from"]).lower(), str(args["to"]).lower()}
                if ends & skip:
                    continue  # a mint, burn, escrow or payout: the trade events say it
            new.append(OwnerLog(source, name, args, as_int(x["blockNumber"]), tx, index))
        logs = known + sorted(new, key=lambda lg: lg.key)
        self._cache[key] = (head, logs)
        return list(logs)

    def share_transfers(self, owner: str) -> list[OwnerLog]:
        """The G100 share transfers between ``owner`` and anyone else, in chain order."""
        return [lg for lg in self.logs_of(owner) if lg.source == "vault"
                and lg.name == "Transfer"]


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
