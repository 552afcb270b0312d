"""The watch-only Transactions rows from decoded events, without a chain: which event names
a transaction's row, which transactions are not the owner's (a settlement in the keeper's
transaction, a deposit for someone else), the claims and cancels a devnet cannot easily
produce, and the nonce of a transaction someone else sent."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from eth_utils import to_checksum_address

from wallet_app.models import TxStatus
from wallet_app.services.owner_events import OwnerLog
from wallet_app.services.watch_history import WatchHistoryService

ME = to_checksum_address("0x" + "a1" * 20)
KEEPER = to_checksum_address("0x" + "0b" * 20)
TOKEN = to_checksum_address("0x" + "0c" * 20)


class _Client:
    chain_id = 31337

    def get_transaction(self, tx: str) -> dict[str, Any]:
        sender = KEEPER if tx.startswith("0xkeep") else ME
        return {"from": sender, "nonce": hex(int(tx[-1], 16))}

    def get_block(self, block: int) -> dict[str, Any]:
        return {"timestamp": hex(1_760_000_000 + block)}


class _Events:
    def __init__(self, logs: list[OwnerLog]) -> None:
        self.logs = logs

    def logs_of(self, owner: str) -> list[OwnerLog]:
        return list(self.logs)


def _log(name: str, tx: str, block: int, source: str = "vault", **args: Any) -> OwnerLog:
    return OwnerLog(source, name, args, block, tx, block)


def test_rows_from_events() -> None:
    me = ME
    logs = [
        _log("BuyRequested", "0xbuy1", 10, id=2, owner=me, assets=500 * 10**6),
        _log("BuySettled", "0xkeep2", 11, id=2, owner=me, assets=500 * 10**6, fee=0,
             shares=10**18),  # the keeper's strike: a trade, not my transaction
        _log("RequestCancelled", "0xcan3", 12, id=4, owner=me, amount=1),
        _log("UsdcClaimed", "0xclm4", 13, account=me, amount=12_340_000),
        _log("InKindClaimed", "0xclm5", 14, account=me, token=TOKEN, amount=7),
        _log("Deposit", "0xkeep6", 15, sender=me, owner=KEEPER, assets=1, shares=1),
        _log("Transfer", "0xkeep7", 16, source="usdc", **{"from": KEEPER, "to": me,
                                                           "value": 5 * 10**6}),
        _log("Withdraw", "0xsel8", 17, sender=me, receiver=me, owner=me,
             assets=99 * 10**6, shares=10**18),
        _log("FeeCharged", "0xsel8", 17, payer=me, recipient=KEEPER, amount=10**6,
             onBuy=False),
    ]
    s = SimpleNamespace(need=lambda: (_Client(), None, None))
    svc = WatchHistoryService(s, _Events(logs))  # type: ignore[arg-type]
    rows = {r.tx_hash: r for r in svc.transactions(me)}
    # The strike and the deposit for someone else are not rows; everything else is one.
    assert set(rows) == {"0xbuy1", "0xcan3", "0xclm4", "0xclm5", "0xkeep7", "0xsel8"}
    assert [(rows[h].kind, rows[h].summary) for h in ("0xbuy1", "0xcan3", "0xclm4",
                                                      "0xclm5", "0xsel8")] == [
        ("buy", "Buy requested #2: 500.00 USDC"),
        ("cancel_request", "Request #4 cancelled"),
        ("claim", "Claimed 12.34 USDC"),
        ("claim", f"Claimed 7 base units of {TOKEN}"),
        ("sell", "Instant sell: 1.0000 G100 for 99.00 USDC")]
    got = rows["0xkeep7"]
    assert got.kind == "transfer" and got.summary == f"Received 5.00 USDC from {KEEPER}"
    assert got.nonce == -1 and got.sender != me  # someone else's transaction
    assert rows["0xsel8"].nonce == 8 and rows["0xsel8"].sender == me
    assert all(r.status is TxStatus.CONFIRMED for r in rows.values())
    assert rows["0xsel8"].created_at == datetime.fromtimestamp(1_760_000_017, UTC)
    # Newest first.
    assert [r.block_number for r in svc.transactions(me)] == [17, 16, 14, 13, 12, 10]
    # The instant sell is a trade with its own fee (the FeeCharged of its transaction).
    (sell,) = [t for t in svc.trades_of(me) if t.kind == "sell"]
    assert (sell.usdc, sell.fee_usdc, sell.tx_hash) == (99, 1, "0xsel8")
