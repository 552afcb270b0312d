"""Typed client of the on-chain index: the IndexVault and its IndexLens.

Reads go through the lens (one ``eth_call`` returns the whole screen); writes are encoded
here as calldata and sent by the chain package's sender, which simulates, journals and
broadcasts them. Amounts cross this boundary as integer base units; the conversion to
``Decimal`` for display happens in :func:`to_index_state` and the facade.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from eth_utils import to_checksum_address
from web3.types import RPCEndpoint

from .chain.provider import ChainClient
from .chain.simulate import RevertDecoder
from .devnet import artifacts
from .models import Holding, IndexEvent, IndexState, Regime
from .vault_events import VAULT_ERROR_MESSAGES, describe_event, request_kind  # noqa: F401

SHARE_DECIMALS = 18
#: The vault functions the wallet signs for its user; nothing else.
USER_FUNCTIONS = frozenset({"requestBuy", "requestBuyWithPermit", "requestSell", "cancel",
                            "claimUsdc", "claimInKind", "redeemInKind", "deposit", "redeem"})
#: The events that end a request (its outcome).
OUTCOME_EVENTS = ("BuySettled", "SellSettled", "RequestRefunded", "RequestCancelled")
PRICE_DECIMALS = 18  # lens and vault prices: USD with 18 decimals
INDEX_NAME = "TM Global 100"

def to_decimal(raw: int, decimals: int) -> Decimal:
    """Integer base units to a ``Decimal`` of whole units, exactly."""
    return Decimal(int(raw)).scaleb(-decimals)


def to_base_units(amount: Decimal, decimals: int) -> int:
    """Whole units to integer base units; refuses more precision than the token has."""
    scaled = amount.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"at most {decimals} decimal places")
    return int(scaled)


@dataclass(frozen=True)
class ConstituentRaw:
    token: str
    symbol: str
    name: str
    decimals: int
    feed: str
    target_bps: int
    balance: int
    price18: int
    price_fresh: bool
    value: int  # USDC base units


@dataclass(frozen=True)
class PendingRequest:
    """One of the user's requests waiting for a strike (from the lens)."""

    id: int
    is_sell: bool
    amount: int  # buy: USDC paid in (fee included); sell: shares escrowed
    min_out: int  # buy: fewest shares; sell: least USDC after the fee
    requested_at: int
    deadline: int
    eligible_at: int  # first time a strike may settle it (its cut-off)
    cancellable: bool

    @property
    def kind(self) -> str:
        return "sell" if self.is_sell else "buy"


@dataclass(frozen=True)
class VaultSnapshot:
    """The v2 lens snapshot, integers as the chain returned them."""

    chain_id: int
    block_number: int
    timestamp: int
    vault: str
    usdc: str
    usdc_decimals: int
    share_symbol: str
    total_assets: int
    total_supply: int
    share_price: int  # USDC base units per whole share
    cash: int
    holdings_value: int
    live_holdings_value: int
    instant_open: bool  # all cash: the synchronous ERC-4626 paths are open
    strike_ready: bool  # a strike would go through now (fresh, in-band prices, unpaused)
    nav_updated_at: int
    buy_fee_bps: int
    sell_fee_bps: int
    max_buy_fee_bps: int
    max_sell_fee_bps: int
    fee_recipient: str
    regime: Regime
    paused: bool
    owner: str
    timelock_min_delay: int
    operator: str
    keeper: str
    guardian: str
    min_request_age: int
    strike_interval: int
    last_strike_at: int
    next_strike_at: int
    strike_count: int
    pending_buy_assets: int
    pending_sell_shares: int
    account: str
    shares: int
    share_value: int
    max_redeem_instant: int
    usdc_balance: int
    usdc_allowance: int
    usdc_permit_nonce: int
    eth_balance: int
    claimable_usdc: int
    requests: tuple[PendingRequest, ...]
    constituents: tuple[ConstituentRaw, ...]

    @property
    def nav_per_share(self) -> Decimal:
        return to_decimal(self.share_price, self.usdc_decimals)

    @property
    def nav_fresh(self) -> bool:
        """Whether the next strike can price requests now (kept under the v1 name)."""
        return self.strike_ready


class VaultClient:
    """Reads and encodes calls for one deployed vault (addresses from the deployment)."""

    def __init__(self, client: ChainClient, vault: str, lens: str) -> None:
        self.client = client
        w3 = client.w3
        self.vault_address = to_checksum_address(vault)
        self.lens_address = to_checksum_address(lens)
        self.vault = w3.eth.contract(address=self.vault_address,
                                     abi=artifacts.load("IndexVault").abi)
        self.lens = w3.eth.contract(address=self.lens_address,
                                    abi=artifacts.load("IndexLens").abi, decode_tuples=True)
        self.usdc_abi = artifacts.load("DevUSDC").abi

    @staticmethod
    def signing_policies() -> dict[str, Any]:
        """What the v2 wallet may sign, per pinned role (see :mod:`wallet_app.trust.guard`):
        the vault's user calls (requests, cancel, claims, the in-kind exit and the all-cash
        instant paths), USDC's ``approve`` (spender: the vault) and its EIP-2612
        ``Permit``; and, only with the user's explicit confirmation of the address in a
        preview (:class:`~wallet_app.trust.guard.Confirmed`), ``transfer`` of USDC or of
        G100 shares to that recipient and ``approve(spender, 0)`` (a revoke). Nothing
        else is ever signed for these contracts: no ``strike``, no owner or operator
        function. ``claimInKind``'s token is
        not pinned (an owed token may have left the index): the claims service verifies it
        (:meth:`wallet_app.services.claims.ClaimsService.token_is_owed`)."""
        from .trust.guard import CallPolicy

        return {
            "vault": CallPolicy(abi=artifacts.load("IndexVault").abi,
                                functions=USER_FUNCTIONS,
                                token_functions=frozenset({"transfer", "approve"}),
                                verified_args=frozenset({("claimInKind", "token")})),
            "usdc": CallPolicy(abi=artifacts.load("DevUSDC").abi,
                               functions=frozenset({"approve"}), spender_role="vault",
                               typed_data=frozenset({"Permit"}),
                               token_functions=frozenset({"transfer"})),
        }

    def erc20_balance(self, token: str, owner: str, block: int | str = "latest") -> int:
        """``balanceOf(owner)`` of ``token`` (a pinned address), read directly, not via
        the lens."""
        c = self.client.w3.eth.contract(address=to_checksum_address(token), abi=self.usdc_abi)
        return int(c.functions.balanceOf(to_checksum_address(owner)).call(
            block_identifier=block))

    def usdc_allowance_and_nonce(self, usdc: str, owner: str) -> tuple[int, int]:
        """The owner's allowance to the pinned vault and EIP-2612 nonce, read from the
        pinned USDC itself (the permit is built from these, never from the lens)."""
        c = self.client.w3.eth.contract(address=to_checksum_address(usdc), abi=self.usdc_abi)
        o = to_checksum_address(owner)
        return (int(c.functions.allowance(o, self.vault_address).call()),
                int(c.functions.nonces(o).call()))

    def decode_call(self, data: bytes) -> tuple[str, dict[str, Any]] | None:
        """The vault function and arguments a signed calldata encodes (None if not ours)."""
        try:
            fn, args = self.vault.decode_function_input(bytes(data))
        except Exception:  # noqa: BLE001 - not a vault call
            return None
        return fn.fn_name, dict(args)

    def decode_vault_log(self, log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """One log of the pinned vault decoded (raw JSON-RPC or web3 form)."""
        if isinstance(log.get("blockNumber"), str):
            log = _normalise_log(log)
        return self._decode_log(log)

    @staticmethod
    def revert_decoder() -> RevertDecoder:
        """A decoder that knows the vault's, OpenZeppelin's and the tokens' custom errors."""
        dec = RevertDecoder()
        dec.register_abi(artifacts.load("IndexVault").abi)
        dec.register_abi(artifacts.load("DevUSDC").abi)
        dec.register_messages(VAULT_ERROR_MESSAGES)
        return dec

    # ------------------------------------------------------------------ reads

    def snapshot(self, account: str | None = None, block: str | int = "latest") -> VaultSnapshot:
        """Everything a screen needs, in exactly one ``eth_call``."""
        user = to_checksum_address(account) if account else "0x" + "00" * 20
        s = self.lens.functions.snapshot(self.vault_address, user).call(block_identifier=block)
        v, u = s.vault, s.user
        cons = tuple(
            ConstituentRaw(
                token=c.token, symbol=c.symbol, name=c.name, decimals=c.decimals, feed=c.feed,
                target_bps=c.targetWeightBps, balance=c.balance, price18=c.price,
                price_fresh=c.priceFresh and c.withinBand, value=c.value)
            for c in s.constituents
        )
        reqs = tuple(
            PendingRequest(id=int(r.id), is_sell=bool(r.isSell), amount=int(r.amount),
                           min_out=int(r.minOut), requested_at=int(r.requestedAt),
                           deadline=int(r.deadline), eligible_at=int(r.eligibleAt),
                           cancellable=bool(r.cancellable))
            for r in u.requests
        )
        return VaultSnapshot(
            chain_id=s.chainId, block_number=s.blockNumber, timestamp=s.timestamp,
            vault=v.vault, usdc=v.asset, usdc_decimals=v.assetDecimals, share_symbol=v.symbol,
            total_assets=v.totalAssets, total_supply=v.totalSupply, share_price=v.sharePrice,
            cash=v.cash, holdings_value=v.holdingsValue,
            live_holdings_value=v.liveHoldingsValue, instant_open=v.instantOpen,
            strike_ready=v.strikeReady, nav_updated_at=v.navUpdatedAt,
            buy_fee_bps=v.buyFeeBps, sell_fee_bps=v.sellFeeBps,
            max_buy_fee_bps=v.maxBuyFeeBps, max_sell_fee_bps=v.maxSellFeeBps,
            fee_recipient=v.feeRecipient, regime=Regime.BEAR if v.regime == 1 else Regime.BULL,
            paused=v.paused, owner=v.owner, timelock_min_delay=v.timelockMinDelay,
            operator=v.operator, keeper=v.keeper, guardian=v.guardian,
            min_request_age=v.minRequestAge, strike_interval=v.strikeInterval,
            last_strike_at=v.lastStrikeAt, next_strike_at=v.nextStrikeAt,
            strike_count=v.strikeCount, pending_buy_assets=v.pendingBuyAssets,
            pending_sell_shares=v.pendingSellShares,
            account=u.account, shares=u.shares, share_value=u.shareValue,
            max_redeem_instant=u.maxRedeemInstant, usdc_balance=u.usdcBalance,
            usdc_allowance=u.usdcAllowance, usdc_permit_nonce=u.usdcPermitNonce,
            eth_balance=u.ethBalance, claimable_usdc=u.claimableUsdc, requests=reqs,
            constituents=cons,
        )

    def quote_buy(self, assets: int, block: str | int = "latest") -> tuple[int, int, bool]:
        """(fee, shares, strike ready) of a buy request of ``assets`` struck now, at live
        prices: the estimate shown before the user signs (the strike decides)."""
        fee, shares, ready = self.lens.functions.quoteBuy(self.vault_address, assets).call(
            block_identifier=block)
        return int(fee), int(shares), bool(ready)

    def quote_sell(self, shares: int, block: str | int = "latest"
                   ) -> tuple[int, int, bool, bool]:
        """(fee, USDC out, cash sufficient, strike ready) of a sell request struck now."""
        fee, out, cash_ok, ready = self.lens.functions.quoteSell(
            self.vault_address, shares).call(block_identifier=block)
        return int(fee), int(out), bool(cash_ok), bool(ready)

    def request_state(self, request_id: int, block: str | int = "latest"
                      ) -> tuple[str, bool]:
        """(owner, still pending) of a request, read from the pinned vault."""
        r, pending = self.vault.functions.requestOf(int(request_id)).call(
            block_identifier=block)
        return to_checksum_address(r[0]), bool(pending)

    # ------------------------------------------------------------------ calldata

    def _data(self, fn: Any) -> bytes:
        return bytes.fromhex(fn._encode_transaction_data()[2:])

    def request_buy_data(self, assets: int, min_shares: int, deadline: int) -> bytes:
        return self._data(self.vault.functions.requestBuy(assets, min_shares, deadline))

    def request_buy_with_permit_data(self, assets: int, min_shares: int, deadline: int,
                                     v: int, r: bytes, s: bytes) -> bytes:
        return self._data(self.vault.functions.requestBuyWithPermit(
            assets, min_shares, deadline, v, r, s))

    def request_sell_data(self, shares: int, min_usdc: int, deadline: int) -> bytes:
        return self._data(self.vault.functions.requestSell(shares, min_usdc, deadline))

    def cancel_data(self, request_id: int) -> bytes:
        return self._data(self.vault.functions.cancel(int(request_id)))

    def claim_usdc_data(self) -> bytes:
        return self._data(self.vault.functions.claimUsdc())

    def claim_in_kind_data(self, token: str) -> bytes:
        return self._data(self.vault.functions.claimInKind(to_checksum_address(token)))

    def redeem_in_kind_data(self, shares: int, receiver: str) -> bytes:
        return self._data(self.vault.functions.redeemInKind(shares,
                                                            to_checksum_address(receiver)))

    def approve_data(self, usdc: str, amount: int) -> bytes:
        token = self.client.w3.eth.contract(address=to_checksum_address(usdc),
                                            abi=self.usdc_abi)
        return self._data(token.functions.approve(self.vault_address, amount))

    def usdc_permit_domain(self, usdc: str) -> tuple[str, str]:
        """(name, version) of the USDC's EIP-712 domain, read from the token (EIP-5267)."""
        token = self.client.w3.eth.contract(address=to_checksum_address(usdc),
                                            abi=self.usdc_abi)
        domain = token.functions.eip712Domain().call()
        return str(domain[1]), str(domain[2])

    # ------------------------------------------------------------------ receipts and logs

    def decode_receipt(self, receipt: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """This vault's events in ``receipt``, decoded, in log order."""
        out = []
        for log in receipt.get("logs", []):
            if to_checksum_address(log["address"]) != self.vault_address:
                continue
            if isinstance(log.get("blockNumber"), str):  # raw JSON-RPC form
                log = _normalise_log(log)
            ev = self._decode_log(log)
            if ev is not None:
                out.append(ev)
        return out

    def request_outcome_logs(self, request_id: int, from_block: int,
                             to_block: int | str = "latest") -> list[dict[str, Any]]:
        """The pinned vault's logs that end request ``request_id`` (settled, refunded or
        cancelled), raw, from one ``eth_getLogs`` filtered by the indexed id."""
        topics = [[self._topic(n) for n in OUTCOME_EVENTS],
                  "0x" + int(request_id).to_bytes(32, "big").hex()]
        logs = self.client.rpc("eth_getLogs", {
            "address": self.vault_address, "topics": topics,
            "fromBlock": hex(from_block),
            "toBlock": to_block if isinstance(to_block, str) else hex(to_block),
        })
        return [log for log in logs or [] if isinstance(log, dict)]

    def owner_outcome_logs(self, owner: str, block: int) -> list[dict[str, Any]]:
        """The pinned vault's settlement and refund logs for ``owner`` in one block (the
        strike's), to check the balances the strike moved."""
        topics = [[self._topic(n) for n in OUTCOME_EVENTS[:3]],
                  None, "0x" + bytes.fromhex(to_checksum_address(owner)[2:]).rjust(32, b"\0")
                  .hex()]
        logs = self.client.rpc("eth_getLogs", {
            "address": self.vault_address, "topics": topics,
            "fromBlock": hex(block), "toBlock": hex(block)})
        return [log for log in logs or [] if isinstance(log, dict)]

    def claimable_usdc(self, owner: str, block: str | int = "latest") -> int:
        """USDC the pinned vault keeps for ``owner`` after a failed payment."""
        return int(self.vault.functions.claimableUsdc(to_checksum_address(owner)).call(
            block_identifier=block))

    def owed_in_kind(self, owner: str, token: str, block: str | int = "latest") -> int:
        """``token`` the pinned vault keeps for ``owner`` after a failed in-kind transfer."""
        return int(self.vault.functions.owedInKind(
            to_checksum_address(owner), to_checksum_address(token)).call(block_identifier=block))

    def in_kind_owed_tokens(self, owner: str, from_block: int) -> list[str]:
        """The tokens the pinned vault's ``InKindOwed`` events credit to ``owner`` (distinct,
        oldest first), from one ``eth_getLogs`` filtered by the owner's topic. Logs that are
        not the pinned vault's, or not for ``owner``, are dropped."""
        owner = to_checksum_address(owner)
        topics = [self._topic("InKindOwed"),
                  "0x" + bytes.fromhex(owner[2:]).rjust(32, b"\0").hex()]
        logs = self.client.rpc("eth_getLogs", {
            "address": self.vault_address, "topics": topics,
            "fromBlock": hex(from_block), "toBlock": "latest"})
        out: list[str] = []
        for raw in logs or []:
            if not isinstance(raw, dict) or str(raw.get("address", "")).lower() \
                    != self.vault_address.lower():
                continue
            ev = self._decode_log(_normalise_log(raw))
            if ev is None or ev[0] != "InKindOwed":
                continue
            if to_checksum_address(ev[1]["account"]) != owner:
                continue
            token = to_checksum_address(ev[1]["token"])
            if token not in out:
                out.append(token)
        return out

    def token_info(self, token: str) -> tuple[str, int]:
        """(symbol, decimals) read from ``token`` itself: for display only (an owed token
        need not be a constituent any more); ("?", 0) when it does not answer."""
        c = self.client.w3.eth.contract(address=to_checksum_address(token), abi=self.usdc_abi)
        try:
            return str(c.functions.symbol().call())[:16], int(c.functions.decimals().call())
        except Exception:  # noqa: BLE001 - an odd token still gets listed, in base units
            return "?", 0

    def _topic(self, name: str) -> str:
        for topic, ev in self._events_by_topic().items():
            if ev.event_name == name:
                return "0x" + topic.hex()
        raise KeyError(name)

    def _decode_log(self, log: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        topics = log.get("topics") or []
        if not topics:
            return None
        topic0 = bytes(topics[0]) if not isinstance(topics[0], str) else bytes.fromhex(
            topics[0][2:])
        event = self._events_by_topic().get(topic0)
        if event is None:
            return None
        try:
            decoded = event().process_log(log)
        except Exception:  # noqa: BLE001 - a log we cannot decode is skipped, not fatal
            return None
        return decoded["event"], dict(decoded["args"])

    def _events_by_topic(self) -> dict[bytes, Any]:
        if not hasattr(self, "_topic_map"):
            from eth_utils import event_abi_to_log_topic

            self._topic_map = {
                bytes(event_abi_to_log_topic(e)): getattr(self.vault.events, e["name"])
                for e in self.vault.abi if e.get("type") == "event"
            }
        return self._topic_map

    def events(self, from_block: int, to_block: int | str = "latest") -> list[IndexEvent]:
        """The vault's events in a block range as transactions-log entries (one getLogs)."""
        logs = self.client.rpc("eth_getLogs", {
            "address": self.vault_address,
            "fromBlock": hex(from_block),
            "toBlock": to_block if isinstance(to_block, str) else hex(to_block),
        })
        out: list[IndexEvent] = []
        for raw in logs:
            log = _normalise_log(raw)
            ev = self._decode_log(log)
            if ev is None:
                continue
            entry = describe_event(ev[0], ev[1], log)
            if entry is not None:
                out.append(entry)
        times = self._block_times({e.block_number for e in out if e.timestamp is None})
        return [e if e.timestamp is not None else
                dataclasses.replace(e, timestamp=times.get(e.block_number)) for e in out]

    def _block_times(self, blocks: set[int]) -> dict[int, datetime]:
        """Timestamps of ``blocks`` in one batched HTTP request (only when there are any)."""
        if not blocks:
            return {}
        order = sorted(blocks)
        answers = self.client.provider.make_batch_request(
            [(RPCEndpoint("eth_getBlockByNumber"), [hex(b), False]) for b in order])
        if not isinstance(answers, list):
            return {}
        out = {}
        for b, ans in zip(order, answers, strict=False):
            block = ans.get("result") if isinstance(ans, dict) else None
            if block and block.get("timestamp"):
                out[b] = datetime.fromtimestamp(int(block["timestamp"], 16), UTC)
        return out


def _normalise_log(raw: dict[str, Any]) -> dict[str, Any]:
    from hexbytes import HexBytes

    return {
        "address": raw["address"],
        "topics": [HexBytes(t) for t in raw["topics"]],
        "data": HexBytes(raw["data"]),
        "blockNumber": int(raw["blockNumber"], 16),
        "transactionHash": HexBytes(raw["transactionHash"]),
        "transactionIndex": int(raw["transactionIndex"], 16),
        "blockHash": HexBytes(raw["blockHash"]),
        "logIndex": int(raw["logIndex"], 16),
        "removed": raw.get("removed", False),
    }


def to_index_state(s: VaultSnapshot, *, gauge: Any = None, change_24h: Decimal | None = None,
                   change_7d: Decimal | None = None, next_rebalance: datetime | None = None,
                   price_changes: dict[str, Decimal] | None = None) -> IndexState:
    """The lens snapshot as the Index screen's data object."""
    dec = s.usdc_decimals
    total_value = to_decimal(s.cash + s.live_holdings_value, dec)
    holdings: list[Holding] = []
    for c in s.constituents:
        value = to_decimal(c.value, dec)
        weight = int((Decimal(c.value) * 10_000 / Decimal(s.cash + s.live_holdings_value))
                     .to_integral_value()) if (s.cash + s.live_holdings_value) else 0
        holdings.append(Holding(
            symbol=c.symbol, name=c.name, token=c.token, decimals=c.decimals,
            balance=to_decimal(c.balance, c.decimals),
            price_usd=to_decimal(c.price18, PRICE_DECIMALS).normalize(),
            # In Bear the target is 100% USDC whatever weights the vault keeps for the
            # next Bull: the table shows the target the vault is actually steering to.
            value_usd=value, target_bps=0 if s.regime is Regime.BEAR else c.target_bps,
            weight_bps=weight,
            change_24h=(price_changes or {}).get(c.symbol)))
    cash_weight = int((Decimal(s.cash) * 10_000 / Decimal(s.cash + s.live_holdings_value))
                      .to_integral_value()) if (s.cash + s.live_holdings_value) else 0
    if s.cash:
        holdings.append(Holding(
            symbol="USDC", name="USD Coin (cash)", token="", decimals=dec,
            balance=to_decimal(s.cash, dec), price_usd=Decimal(1),
            value_usd=to_decimal(s.cash, dec),
            target_bps=10_000 if s.regime is Regime.BEAR else 0, weight_bps=cash_weight,
            change_24h=Decimal(0)))
    return IndexState(
        name=INDEX_NAME, share_symbol=s.share_symbol, vault=s.vault,
        nav_per_share=s.nav_per_share, total_supply=to_decimal(s.total_supply, SHARE_DECIMALS),
        total_value_usd=total_value, cash_usdc=to_decimal(s.cash, dec), holdings=holdings,
        regime=s.regime, gauge=gauge, buy_fee_bps=s.buy_fee_bps, sell_fee_bps=s.sell_fee_bps,
        max_fee_bps=max(s.max_buy_fee_bps, s.max_sell_fee_bps), fee_recipient=s.fee_recipient,
        paused=s.paused, block_number=s.block_number,
        as_of=datetime.fromtimestamp(s.timestamp, UTC), change_24h=change_24h,
        change_7d=change_7d, next_rebalance=next_rebalance)
