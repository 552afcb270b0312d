"""The one object the GUI and the CLI talk to.

``WalletService`` ties the core together (keys, chain client, vault, journal, index
engine, devnet) and returns the plain data objects of :mod:`wallet_app.models`. Nothing
here imports Qt; the GUI calls these methods from worker threads, so every method is safe
to call from any thread (chain state is guarded by locks; the journal serialises itself).

Errors are :class:`WalletError` subclasses whose text is meant for the user as it is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from .chain.errors import ChainError, RpcUnavailable, WrongNetwork
from .chain.fees import fee_presets
from .chain.provider import ChainClient
from .chain.registry import ChainInfo, resolve_chain
from .chain.sender import Sender, SendProgress, TxRequest
from .chain.simulate import error_from_web3
from .config import Settings, load_settings, save_settings
from .errors import WalletError
from .index import next_rebalance
from .journal import CachedEvent, Journal
from .keys import RecoveryPhrase, WalletInfo, WalletLocked, WalletManager
from .models import (
    BalanceChange,
    BuyQuote,
    Gauge,
    IndexEvent,
    IndexState,
    Position,
    Regime,
    SellQuote,
    TxRecord,
    TxStatus,
)
from .paths import AppPaths, app_paths
from .vault import (
    SHARE_DECIMALS,
    VaultClient,
    VaultSnapshot,
    describe_event,
    to_decimal,
    to_index_state,
)

log = logging.getLogger(__name__)

FEE_PRESETS = ("low", "market", "aggressive")
#: How long a signed trade stays valid, in chain time.
DEADLINE_S = 20 * 60
USDC_DECIMALS = 6
EVENT_SOURCE = "vault"
#: How long a lens read may serve the position screen after the index screen made it.
SNAPSHOT_REUSE_S = 2.0


# --------------------------------------------------------------------------- errors


class NoWallet(WalletError):
    exit_code = 30

    def __init__(self) -> None:
        super().__init__("No wallet is selected. Create or import one first "
                         "(`index-wallet wallet create`, or the Welcome screen).")


class NotConnected(WalletError):
    exit_code = 31


class NotDeployed(WalletError):
    exit_code = 32


class InvalidAmount(WalletError):
    exit_code = 33


class InsufficientBalance(WalletError):
    exit_code = 34


class TradingClosed(WalletError):
    exit_code = 35


class QuoteExpired(WalletError):
    exit_code = 36


class TradeFailed(WalletError):
    exit_code = 37


# --------------------------------------------------------------------------- data objects


@dataclass(frozen=True)
class NetworkStatus:
    network: str
    chain_name: str
    chain_id: int
    rpc_url: str
    connected: bool
    block_number: int | None = None
    last_ok: datetime | None = None
    error: str | None = None
    is_devnet: bool = False


@dataclass(frozen=True)
class PasswordVerdict:
    ok: bool
    score: int  # 0..4
    reason: str
    label: str


@dataclass(frozen=True)
class StrategyInfo:
    title: str
    paragraphs: list[str]
    rules: list[tuple[str, str]]


@dataclass(frozen=True)
class TradeRow:
    kind: str
    tx_hash: str | None
    timestamp: datetime
    usdc: Decimal
    shares: Decimal
    fee_usdc: Decimal
    nav_per_share: Decimal | None


@dataclass(frozen=True)
class TradeResult:
    kind: str  # "buy" | "sell"
    tx_hash: str
    status: TxStatus
    shares: Decimal
    usdc: Decimal  # buy: paid in (fee included); sell: received at the user's address
    fee_usdc: Decimal
    block_number: int | None
    receiver: str
    gas_fee_eth: Decimal = Decimal(0)


def parse_amount(text: Decimal | str | int, decimals: int, what: str) -> int:
    """A user-typed amount as base units: positive, at most ``decimals`` places, no float."""
    if isinstance(text, float):
        raise InvalidAmount(f"{what}: amounts are never floats (internal error).")
    try:
        value = Decimal(str(text).strip().replace(",", "")) if not isinstance(
            text, Decimal) else text
    except InvalidOperation:
        raise InvalidAmount(f"'{text}' is not a number. Enter the {what} like 250 or "
                            f"250.50.") from None
    if not value.is_finite() or value <= 0:
        raise InvalidAmount(f"Enter a {what} greater than zero.")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(f"The {what} has more than {decimals} decimal places.")
    return int(scaled)


def _bps_of(amount: int, bps: int, rounding: str = ROUND_CEILING) -> int:
    return int((Decimal(amount) * bps / 10_000).to_integral_value(rounding=rounding))


# --------------------------------------------------------------------------- the facade


class WalletService:
    """Facade over the core (see the module docstring)."""

    def __init__(self, paths: AppPaths | None = None, settings: Settings | None = None) -> None:
        self.paths = (paths or app_paths()).ensure()
        self.settings = settings or load_settings(self.paths)
        self.keys = WalletManager(self.paths, self.settings)
        self.journal = Journal.for_paths(self.paths)
        self._lock = threading.RLock()
        self._trade_lock = threading.Lock()
        self._client: ChainClient | None = None
        self._sender: Sender | None = None
        self._vault: VaultClient | None = None
        self._chain: ChainInfo | None = None
        self._devnet: Any = None  # deployment record on the devnet
        self._last_snapshot: VaultSnapshot | None = None
        self._last_snapshot_at = 0.0  # time.monotonic() of that read
        self._status = NetworkStatus(self.settings.network, "", 0, "", False)
        self._permit_domain: dict[str, tuple[str, str] | None] = {}
        self.driver: Any = None  # the devnet's demo market driver, when running

    # ------------------------------------------------------------------ settings, network

    def save_settings(self, settings: Settings) -> None:
        """Validate, store and (when the network changed) reconnect with a chain-id check."""
        settings.validate()
        net_changed = (settings.network, settings.rpc_url, settings.chain_id) != (
            self.settings.network, self.settings.rpc_url, self.settings.chain_id)
        if net_changed:
            probe = ChainClient(resolve_chain(settings, self.paths), retries=0)
            try:
                probe.connect()
            finally:
                probe.close()
        save_settings(settings, self.paths)
        self.settings = settings
        self.keys.settings = settings  # the idle-lock timeout follows the new value
        if net_changed:
            self.disconnect()
            with contextlib.suppress(WalletError):
                self.connect()

    def disconnect(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = self._sender = self._vault = None
            self._last_snapshot = None

    def connect(self) -> NetworkStatus:
        """Connect to the configured network, check its chain id, find the vault, reconcile."""
        with self._lock:
            chain = resolve_chain(self.settings, self.paths)
            client = ChainClient(chain)
            try:
                client.connect()
                block = client.block_number()
            except WalletError as exc:
                client.close()
                self._status = NetworkStatus(chain.key, chain.name, chain.chain_id,
                                             chain.rpc_url, False, error=str(exc),
                                             is_devnet=chain.is_devnet,
                                             last_ok=self._status.last_ok)
                raise
            vault_addr, lens_addr = self._vault_addresses(chain)
            self._client, self._chain = client, chain
            self._vault = VaultClient(client, vault_addr, lens_addr)
            self._sender = Sender(client, self.journal, decoder=VaultClient.revert_decoder())
            self._status = NetworkStatus(chain.key, chain.name, chain.chain_id, chain.rpc_url,
                                         True, block, datetime.now(UTC),
                                         is_devnet=chain.is_devnet)
        addr = self.active_address()
        if addr:
            try:
                self._sender.reconcile(addr)
                self._record_settled_trades(addr)
            except ChainError as exc:
                log.warning("reconcile failed: %s", type(exc).__name__)
        return self._status

    def _record_settled_trades(self, addr: str) -> int:
        """Trades confirmed while the app was not watching (e.g. it was killed after the
        broadcast) enter the activity journal from their receipts; idempotent."""
        client, vault, _ = self._need()
        known = {t.tx_hash for t in self.journal.trades(addr, client.chain_id)}
        added = 0
        for rec in self.journal.transactions(sender=addr, chain_id=client.chain_id):
            if rec.kind not in ("buy", "sell") or rec.status is not TxStatus.CONFIRMED \
                    or rec.tx_hash in known:
                continue
            receipt = client.get_receipt(rec.tx_hash)
            if not receipt:
                continue
            entry = self.journal.entry(rec.tx_hash)
            self._journal_trade(rec.kind, receipt, rec.tx_hash, rec.block_number,
                                entry.fee_paid_wei if entry else None, addr,
                                self._snapshot(addr).usdc)
            added += 1
        return added

    def _journal_trade(self, kind: str, receipt: dict[str, Any], tx_hash: str,
                       block_number: int | None, fee_paid_wei: int | None, addr: str,
                       usdc_token: str) -> TradeResult:
        """Record a confirmed buy or sell in the activity journal from its receipt alone
        (the chain's numbers, never the quote's) and describe it."""
        client, vault, _ = self._need()
        moved = vault.decode_receipt(receipt)
        if kind == "buy":
            usdc, shares = moved["assets_in"], moved["shares_minted"]
        else:  # the payout, confirmed by the USDC Transfer to the user's own address
            usdc, shares = _usdc_received(receipt, usdc_token, addr), moved["shares_burned"]
        gas_eth = to_decimal(fee_paid_wei or 0, 18)
        trade = self.journal.add_trade(
            chain_id=client.chain_id, account=addr, kind=kind, usdc=to_decimal(usdc, 6),
            shares=to_decimal(shares, SHARE_DECIMALS), fee_usdc=to_decimal(moved["fee"], 6),
            gas_fee_eth=gas_eth, tx_hash=tx_hash, block_number=block_number)
        return TradeResult(kind, tx_hash, TxStatus.CONFIRMED, trade.shares, trade.usdc,
                           trade.fee_usdc, block_number, addr, gas_eth)

    def _vault_addresses(self, chain: ChainInfo) -> tuple[str, str]:
        if chain.is_devnet:
            from .devnet.deploy import Deployment
            from .devnet.embedded import deployment_path

            path = deployment_path(self.paths)
            if not path.is_file():
                raise NotDeployed("The devnet runs but has no index deployed. Start it with "
                                  "`index-wallet devnet up` (or `make demo`).")
            self._devnet = Deployment.load(path)
            return self._devnet.vault, self._devnet.lens
        extra = self.settings.extra
        vault, lens = extra.get("vault_address"), extra.get("lens_address")
        if not vault or not lens:
            raise NotDeployed(
                f"No Global 100 vault is configured for {chain.name}. Add vault_address and "
                f"lens_address to {self.paths.settings_file}, or choose the devnet.")
        return to_checksum_address(vault), to_checksum_address(lens)

    def network_status(self) -> NetworkStatus:
        return self._status

    def refresh_status(self) -> NetworkStatus:
        """One block-number request; marks the connection up or down."""
        client = self._client
        if client is None:
            try:
                return self.connect()
            except WalletError:
                return self._status
        try:
            block = client.block_number()
        except WalletError as exc:
            self._status = dataclasses.replace(self._status, connected=False, error=str(exc))
        else:
            self._status = dataclasses.replace(self._status, connected=True, error=None,
                                               block_number=block, last_ok=datetime.now(UTC))
        return self._status

    @property
    def is_devnet(self) -> bool:
        return bool(self._chain and self._chain.is_devnet)

    def _need(self) -> tuple[ChainClient, VaultClient, Sender]:
        if self._client is None or self._vault is None or self._sender is None:
            self.connect()
        assert self._client and self._vault and self._sender
        return self._client, self._vault, self._sender

    def _rpc_guard(self, exc: WalletError) -> None:
        if isinstance(exc, RpcUnavailable):
            self._status = dataclasses.replace(self._status, connected=False, error=str(exc))

    # ------------------------------------------------------------------ wallets

    def wallets(self) -> list[WalletInfo]:
        return self.keys.list()

    def active_wallet(self) -> WalletInfo | None:
        wallets = self.keys.list()
        for w in wallets:
            if w.name == self.settings.active_wallet:
                return w
        return wallets[0] if wallets else None

    def select_wallet(self, name: str) -> None:
        self.keys.get(name)
        self.settings.active_wallet = name
        save_settings(self.settings, self.paths)

    def active_address(self) -> str | None:
        w = self.active_wallet()
        return w.accounts[0].address if w and w.accounts else None

    def _active_name(self) -> str:
        w = self.active_wallet()
        if w is None:
            raise NoWallet()
        return w.name

    def password_verdict(self, password: str, name: str = "") -> PasswordVerdict:
        s = self.keys.password_strength(password, name)
        return PasswordVerdict(s.acceptable, s.score, s.reason or "", s.label)

    def _adopt(self, info: WalletInfo) -> WalletInfo:
        self.select_wallet(info.name)
        return info

    def create_wallet(self, name: str, password: str,
                      words: int = 24) -> tuple[WalletInfo, RecoveryPhrase]:
        info, phrase = self.keys.create(name, password, words=words, unlock=True)
        return self._adopt(info), phrase

    def backup_challenge(self, name: str, k: int = 3) -> list[int]:
        return self.keys.backup_challenge(name, k)

    def verify_backup(self, name: str, answers: dict[int, str], password: str) -> bool:
        return self.keys.verify_backup(name, answers, password)

    def import_mnemonic(self, name: str, phrase: str, password: str,
                        passphrase: str = "") -> WalletInfo:
        return self._adopt(self.keys.import_mnemonic(name, phrase, password, passphrase,
                                                     unlock=True))

    def import_private_key(self, name: str, hex_key: str, password: str) -> WalletInfo:
        return self._adopt(self.keys.import_private_key(name, hex_key, password, unlock=True))

    def import_keystore(self, name: str, keystore_json: str, keystore_password: str,
                        new_password: str) -> WalletInfo:
        return self._adopt(self.keys.import_keystore(name, keystore_json, keystore_password,
                                                     new_password, unlock=True))

    def unlock(self, password: str) -> None:
        self.keys.unlock(self._active_name(), password)

    def lock(self) -> None:
        self.keys.lock()

    def is_unlocked(self) -> bool:
        w = self.active_wallet()
        return bool(w and self.keys.is_unlocked(w.name))

    def touch(self) -> None:
        self.keys.touch()

    @property
    def lock_timeout_seconds(self) -> int:
        return int(self.settings.lock_timeout_minutes) * 60

    def _sign_fn(self, chain_id: int) -> Callable[[dict[str, Any]], bytes]:
        name = self._active_name()
        if not self.keys.is_unlocked(name):
            raise WalletLocked(name)

        def sign(tx: dict[str, Any]) -> bytes:
            return self.keys.sign_transaction(name, 0, tx, chain_id)

        return sign

    # ------------------------------------------------------------------ index

    def _snapshot(self, account: str | None = None) -> VaultSnapshot:
        client, vault, _ = self._need()
        try:
            snap = vault.snapshot(account)
        except WalletError as exc:
            self._rpc_guard(exc)
            raise
        except Exception as exc:  # web3 decoding/contract errors: never shown raw
            mapped = error_from_web3(exc, VaultClient.revert_decoder())
            if mapped is not None:
                raise mapped from None
            # No lens answer where one was deployed: usually another chain behind the URL.
            client.check_chain_id()
            raise NotDeployed(
                f"The index contracts do not answer at {vault.lens_address} on "
                f"{client.chain.name}. Check the network and RPC URL in Settings.") from None
        if snap.chain_id != client.chain_id:
            raise WrongNetwork(client.chain_id, snap.chain_id, client.host, client.chain.name)
        self._last_snapshot, self._last_snapshot_at = snap, time.monotonic()
        self._status = dataclasses.replace(self._status, connected=True, error=None,
                                           block_number=snap.block_number,
                                           last_ok=datetime.now(UTC))
        return snap

    def _clock(self) -> Any:
        if not self.is_devnet:
            return None
        from .devnet.embedded import clock_path
        from .devnet.market_clock import MarketClock

        return MarketClock.load(clock_path(self.paths))

    def _gauge(self, clock: Any) -> Gauge | None:
        if clock is None:
            return None
        latest = clock.regime().latest
        return latest.gauge if latest else None

    def index_state(self) -> IndexState:
        """The Index screen: one lens call (plus local files: gauge, NAV history)."""
        snap = self._snapshot(self.active_address())
        clock = self._clock()
        changes = None
        if clock is not None:
            changes = {s: c for s in clock.prices() if (c := clock.change(s, 1)) is not None}
        chain_now = datetime.fromtimestamp(snap.timestamp, UTC)
        hist = self._nav_points()
        return to_index_state(
            snap, gauge=self._gauge(clock), price_changes=changes,
            change_24h=_change_since(hist, snap.nav_per_share, chain_now, 1),
            change_7d=_change_since(hist, snap.nav_per_share, chain_now, 7),
            next_rebalance=next_rebalance(chain_now))

    def sync_events(self) -> int:
        """Fetch new vault events into the journal's cache (one eth_getLogs)."""
        client, vault, _ = self._need()
        chain_id = client.chain_id
        last = self.journal.last_scanned_block(chain_id, EVENT_SOURCE)
        head = self._last_snapshot.block_number if self._last_snapshot else client.block_number()
        start = 0 if last is None else last + 1
        if start > head:
            return 0
        events = vault.events(start, head)
        cached = [CachedEvent(e.block_number, e.tx_hash, e.log_index, e.kind, {
            "summary": e.summary, "account": e.account,
            "usdc": None if e.usdc is None else str(e.usdc),
            "shares": None if e.shares is None else str(e.shares)}, e.timestamp)
            for e in events]
        return self.journal.add_index_events(chain_id, EVENT_SOURCE, cached, head)

    def _nav_points(self) -> list[tuple[datetime, Decimal]]:
        if self._client is None:
            return []
        rows = self.journal.index_events(self._client.chain_id, EVENT_SOURCE, kinds=["nav"],
                                         newest_first=False)
        pts = [(r.timestamp, Decimal(r.payload["usdc"])) for r in rows
               if r.timestamp and r.payload.get("usdc")]
        return pts

    def nav_history(self) -> list[tuple[datetime, Decimal]]:
        """NAV per share over (chain) time, from the vault's NavUpdated events."""
        try:
            self.sync_events()
        except WalletError as exc:
            self._rpc_guard(exc)
        return self._nav_points()

    def index_events(self, limit: int = 200) -> list[IndexEvent]:
        """The index's transactions log: rebalances, regime switches, fee changes, trades."""
        try:
            self.sync_events()
        except WalletError as exc:
            self._rpc_guard(exc)
        if self._client is None:
            return []
        rows = self.journal.index_events(
            self._client.chain_id, EVENT_SOURCE,
            kinds=["rebalance", "regime", "fee", "weights", "constituent", "pause", "buy",
                   "sell", "redeem_in_kind"], limit=limit)
        out = []
        for r in rows:
            p = r.payload
            out.append(IndexEvent(
                block_number=r.block_number, tx_hash=r.tx_hash, log_index=r.log_index,
                kind=r.kind, summary=p.get("summary", r.kind), timestamp=r.timestamp,
                account=p.get("account"),
                usdc=Decimal(p["usdc"]) if p.get("usdc") else None,
                shares=Decimal(p["shares"]) if p.get("shares") else None))
        return out

    def strategy(self) -> StrategyInfo:
        from .index.rules import DEFAULT_RULES as R

        return StrategyInfo(
            title="TM Global 100: the rules",
            paragraphs=[
                "The index holds the 100 largest crypto assets by market cap while the "
                "market regime is bullish, and 100% USDC while it is bearish.",
                "Stablecoins, wrapped and bridged copies, liquid-staking tokens, tokenized "
                "gold and funds are never eligible; neither is an asset trading under "
                "1,000,000 USD a day.",
                "Weights follow market caps, capped at 25% per asset; the excess goes to the "
                "others in proportion. Weights are whole basis points summing to 100%.",
                "The regime compares the total market cap with its 200-day average. It "
                "turns Bull after 3 daily closes 5% above the average, and Bear after 3 "
                "closes 5% below; a flip triggers an immediate switch.",
                "The index is reconstituted and reweighted every Monday 00:00 UTC. Trades "
                "under 10 bp of drift or under 10 USDC are skipped to save costs.",
            ],
            rules=[
                ("Constituents", str(R.size)),
                ("Weight cap", f"{Decimal(R.cap.numerator) / R.cap.denominator:.0%}"),
                ("Buffer (members stay while ranked)", f"<= {R.buffer_rank}"),
                ("Liquidity floor", f"{R.min_volume_usd or 0:,} USD/day"),
                ("Regime signal", f"{R.sma_days}-day SMA of total market cap"),
                ("Flip threshold", f"±{R.flip_threshold:.0%} for {R.confirm_days} closes"),
                ("Rebalance", "Weekly, Monday 00:00 UTC"),
                ("Drift / minimum trade", f"{R.drift_floor_bps} bp / {R.min_leg_usdc} USDC"),
                ("Buy / sell fee (max)", f"{Decimal(R.buy_fee_bps) / 100}% / "
                 f"{Decimal(R.sell_fee_bps) / 100}% ({Decimal(R.max_fee_bps) / 100}%)"),
            ])

    # ------------------------------------------------------------------ position

    def position(self) -> Position | None:
        addr = self.active_address()
        if addr is None:
            return None
        # A refresh asks for the index and the position together: the lens read for the
        # index moments ago already holds the user's balances, so it is reused (a trade
        # clears it, so a position after a trade is always read fresh).
        recent = self._last_snapshot
        if recent is None or recent.account.lower() != addr.lower() or \
                time.monotonic() - self._last_snapshot_at > SNAPSHOT_REUSE_S:
            recent = self._snapshot(addr)
        snap = recent
        basis = self.journal.position(addr, snap.chain_id)
        value = to_decimal(snap.share_value, snap.usdc_decimals)
        shares = to_decimal(snap.shares, SHARE_DECIMALS)
        return Position(
            address=addr, shares=shares, value_usdc=value,
            usdc_balance=to_decimal(snap.usdc_balance, snap.usdc_decimals),
            eth_balance=to_decimal(snap.eth_balance, 18),
            cost_basis_usdc=basis.cost_basis_usdc, realized_pnl_usdc=basis.realized_pnl_usdc,
            unrealized_pnl_usdc=(value - basis.cost_basis_usdc) if basis.shares else Decimal(0),
            fees_paid_usdc=basis.fees_paid_usdc)

    def my_trades(self) -> list[TradeRow]:
        addr = self.active_address()
        if addr is None or self._client is None:
            return []
        rows = []
        for t in reversed(self.journal.trades(addr, self._client.chain_id)):
            gross = t.usdc - t.fee_usdc if t.kind == "buy" else t.usdc + t.fee_usdc
            nav = (gross / t.shares).quantize(Decimal("0.000001")) if t.shares else None
            rows.append(TradeRow(t.kind, t.tx_hash, t.created_at, t.usdc, t.shares, t.fee_usdc,
                                 nav))
        return rows

    # ------------------------------------------------------------------ quotes

    def _eth_usd(self, snap: VaultSnapshot) -> Decimal | None:
        for c in snap.constituents:
            if c.symbol in ("ETH", "WETH") and c.price18:
                return to_decimal(c.price18, 18)
        return None

    def _slippage(self, slippage_bps: int | None) -> int:
        s = self.settings.slippage_bps if slippage_bps is None else int(slippage_bps)
        if not 1 <= s <= 1000:
            raise InvalidAmount("Slippage must be between 0.01% and 10%.")
        return s

    def _open_for_trading(self, snap: VaultSnapshot, buying: bool) -> VaultSnapshot:
        if buying and snap.paused:
            raise TradingClosed("Buying is paused by the index guardian. You can still sell "
                                "and redeem in kind.")
        if not snap.nav_fresh:
            if self.is_devnet and self._devnet is not None:
                self._devnet_keeper()  # the devnet's keeper refreshes prices on demand
                return self._snapshot(snap.account)
            raise TradingClosed(
                "The index's prices have not been refreshed recently, so trading at NAV is "
                "paused for safety. Try again in a few minutes; in-kind exits stay open.")
        return snap

    def _devnet_keeper(self) -> None:
        from web3 import Web3

        from .devnet.deploy import refresh

        assert self._client is not None
        refresh(Web3(Web3.HTTPProvider(self._client.chain.rpc_url)), self._devnet)

    def _permit_supported(self, usdc: str) -> tuple[str, str] | None:
        if usdc not in self._permit_domain:
            _, vault, _ = self._need()
            try:
                self._permit_domain[usdc] = vault.usdc_permit_domain(usdc)
            except Exception:  # noqa: BLE001 - no EIP-5267: fall back to approve + buy
                self._permit_domain[usdc] = None
        return self._permit_domain[usdc]

    def _permit_signature(self, snap: VaultSnapshot, amount: int, deadline: int) -> Any:
        domain = self._permit_supported(snap.usdc)
        assert domain is not None
        name = self._active_name()
        typed = self.keys.permit_typed_data(
            token_name=domain[0], version=domain[1], chain_id=snap.chain_id,
            verifying_contract=snap.usdc, owner=snap.account, spender=snap.vault,
            value=amount, nonce=snap.usdc_permit_nonce, deadline=deadline)
        return self.keys.sign_typed_data(name, 0, typed, snap.chain_id)

    def _buy_data(self, snap: VaultSnapshot, amount: int, min_shares: int, deadline: int,
                  permit: bool) -> bytes:
        _, vault, _ = self._need()
        if permit:
            sig = self._permit_signature(snap, amount, deadline)
            return vault.buy_with_permit_data(amount, min_shares, snap.account, deadline,
                                              sig.v, sig.r_bytes, sig.s.to_bytes(32, "big"))
        return vault.buy_data(amount, min_shares, snap.account, deadline)

    def quote_buy(self, usdc: Decimal | str, slippage_bps: int | None = None,
                  fee_preset: str = "market") -> BuyQuote:
        """Preview a buy: fee, shares, minimum out, gas, balance changes (simulated)."""
        addr = self.active_address()
        if addr is None:
            raise NoWallet()
        if fee_preset not in FEE_PRESETS:
            raise InvalidAmount(f"Unknown fee preset {fee_preset!r}.")
        amount = parse_amount(usdc, USDC_DECIMALS, "USDC amount")
        slip = self._slippage(slippage_bps)
        client, vault, sender = self._need()
        snap = self._open_for_trading(self._snapshot(addr), buying=True)
        if snap.usdc_balance < amount:
            raise InsufficientBalance(
                f"You have {to_decimal(snap.usdc_balance, 6)} USDC, less than the "
                f"{to_decimal(amount, 6)} USDC you want to spend. Lower the amount or add "
                "USDC to this address.")
        deadline = snap.timestamp + DEADLINE_S
        needs_approval = snap.usdc_allowance < amount
        uses_permit = needs_approval and self._permit_supported(snap.usdc) is not None
        expected = vault.preview_deposit(amount, block=snap.block_number)
        min_shares = expected * (10_000 - slip) // 10_000
        can_simulate = not needs_approval or (uses_permit and self.is_unlocked())
        eth_usd = self._eth_usd(snap)
        simulated_shares = expected
        if can_simulate:
            data = self._buy_data(snap, amount, min_shares, deadline, uses_permit)
            prepared = sender.prepare(TxRequest(sender=addr, to=snap.vault, data=data,
                                                kind="buy", preset=fee_preset),
                                      eth_usd=eth_usd)
            gas = prepared.gas
            ret = prepared.simulation.return_data
            if ret and len(ret) >= 32:
                simulated_shares = int.from_bytes(ret[:32], "big")
        else:
            # Locked and no allowance: price the buy at the vault's measured cost plus the
            # permit or the approval; the exact transaction is simulated before signing.
            gas_limit = 260_000 if uses_permit else 320_000
            gas = fee_presets(client, gas_limit, gas_expected=gas_limit * 3 // 4,
                              eth_usd=eth_usd)[fee_preset]
            sender.check_funds(addr, 0, gas.gas_limit, gas.max_fee_per_gas_wei)
        nav = snap.nav_per_share
        shares_dec = to_decimal(simulated_shares, SHARE_DECIMALS)
        min_dec = to_decimal(min_shares, SHARE_DECIMALS)
        return BuyQuote(
            usdc_in=to_decimal(amount, 6),
            fee_usdc=to_decimal(_bps_of(amount, snap.buy_fee_bps), 6),
            fee_bps=snap.buy_fee_bps, expected_shares=shares_dec, min_shares_out=min_dec,
            min_value_usdc=(min_dec * nav).quantize(Decimal("0.01"), rounding=ROUND_DOWN),
            slippage_bps=slip, nav_per_share=nav, needs_approval=needs_approval,
            uses_permit=uses_permit, gas=gas,
            balance_changes=[BalanceChange("USDC", -to_decimal(amount, 6)),
                             BalanceChange(snap.share_symbol, shares_dec),
                             BalanceChange("ETH", -gas.expected_fee_eth)],
            deadline=deadline, simulated=can_simulate,
            usdc_balance=to_decimal(snap.usdc_balance, 6))

    def quote_sell(self, shares: Decimal | str, slippage_bps: int | None = None,
                   fee_preset: str = "market") -> SellQuote:
        """Preview a sell: payout simulated on-chain, fee, minimum out and the path."""
        addr = self.active_address()
        if addr is None:
            raise NoWallet()
        amount = parse_amount(shares, SHARE_DECIMALS, "number of shares")
        slip = self._slippage(slippage_bps)
        _, vault, sender = self._need()
        snap = self._open_for_trading(self._snapshot(addr), buying=False)
        if snap.shares < amount:
            raise InsufficientBalance(
                f"You hold {to_decimal(snap.shares, SHARE_DECIMALS)} {snap.share_symbol}, "
                "fewer than you want to sell.")
        deadline = snap.timestamp + DEADLINE_S
        path = "cash" if amount <= snap.max_redeem_from_cash else "liquidation"
        eth_usd = self._eth_usd(snap)
        probe = sender.prepare(TxRequest(sender=addr, to=snap.vault, kind="sell",
                                         data=vault.sell_data(amount, 0, addr, deadline),
                                         preset=fee_preset), eth_usd=eth_usd)
        ret = probe.simulation.return_data
        expected = int.from_bytes(ret[:32], "big") if ret and len(ret) >= 32 else \
            vault.preview_redeem(amount)
        gross = amount * snap.share_price // 10**SHARE_DECIMALS
        min_out = expected * (10_000 - slip) // 10_000
        return SellQuote(
            shares_in=to_decimal(amount, SHARE_DECIMALS), gross_usdc=to_decimal(gross, 6),
            fee_usdc=to_decimal(_bps_of(gross, snap.sell_fee_bps), 6),
            fee_bps=snap.sell_fee_bps, expected_usdc=to_decimal(expected, 6),
            min_usdc_out=to_decimal(min_out, 6), slippage_bps=slip, path=path, gas=probe.gas,
            balance_changes=[BalanceChange(snap.share_symbol,
                                           -to_decimal(amount, SHARE_DECIMALS)),
                             BalanceChange("USDC", to_decimal(expected, 6)),
                             BalanceChange("ETH", -probe.gas.expected_fee_eth)],
            deadline=deadline, simulated=True,
            shares_balance=to_decimal(snap.shares, SHARE_DECIMALS))

    # ------------------------------------------------------------------ trades

    def _progress(self, progress: Callable[[str], None] | None
                  ) -> Callable[[SendProgress], None] | None:
        if progress is None:
            return None

        def forward(p: SendProgress) -> None:
            progress(p.message + (f" ({p.tx_hash})" if p.tx_hash and p.stage in (
                "broadcast", "journaled") else ""))

        return forward

    def _check_deadline(self, deadline: int, snap: VaultSnapshot) -> None:
        if snap.timestamp >= deadline - 30:
            raise QuoteExpired("The quote has expired (the market moved on since it was "
                               "made). Review the refreshed quote and confirm again.")

    def buy(self, quote: BuyQuote, progress: Callable[[str], None] | None = None) -> TradeResult:
        """Sign and send the quoted buy (permit + buy in one transaction where possible)."""
        addr = self.active_address()
        if addr is None:
            raise NoWallet()
        client, vault, sender = self._need()
        sign = self._sign_fn(client.chain_id)
        with self._trade_lock:
            client.check_chain_id()  # before anything is read or signed
            snap = self._snapshot(addr)
            self._check_deadline(quote.deadline, snap)
            amount = parse_amount(quote.usdc_in, USDC_DECIMALS, "USDC amount")
            min_shares = parse_amount(quote.min_shares_out, SHARE_DECIMALS, "minimum shares")
            if snap.usdc_balance < amount:
                raise InsufficientBalance(
                    f"You now have {to_decimal(snap.usdc_balance, 6)} USDC, less than the "
                    f"quoted {quote.usdc_in}. Lower the amount.")
            permit = snap.usdc_allowance < amount and quote.uses_permit
            if snap.usdc_allowance < amount and not permit:
                if progress:
                    progress("Approving exactly this amount of USDC for the vault")
                res = sender.send(TxRequest(sender=addr, to=snap.usdc, kind="approve",
                                            data=vault.approve_data(snap.usdc, amount),
                                            summary=f"Approve {quote.usdc_in:,.2f} USDC",
                                            preset=quote.gas.preset),
                                  sign, progress=self._progress(progress))
                if res.status is not TxStatus.CONFIRMED:
                    raise TradeFailed(res.error or "The approval failed; nothing was bought.")
            data = self._buy_data(snap, amount, min_shares, quote.deadline, permit)
            result = sender.send(TxRequest(
                sender=addr, to=snap.vault, data=data, kind="buy",
                summary=f"Buy G100 for {quote.usdc_in:,.2f} USDC", preset=quote.gas.preset,
                meta={"usdc": str(quote.usdc_in), "min_shares": str(quote.min_shares_out)}),
                sign, progress=self._progress(progress))
            if result.status is not TxStatus.CONFIRMED:
                raise TradeFailed((result.error or "The buy failed on-chain.")
                                  + " Your USDC was not spent.")
            self._last_snapshot = None
            return self._journal_trade("buy", dict(result.receipt or {}), result.tx_hash,
                                       result.block_number, result.fee_paid_wei, addr,
                                       snap.usdc)

    def sell(self, quote: SellQuote,
             progress: Callable[[str], None] | None = None) -> TradeResult:
        """Sign and send the quoted sell; the payout is confirmed from the receipt."""
        addr = self.active_address()
        if addr is None:
            raise NoWallet()
        client, vault, sender = self._need()
        sign = self._sign_fn(client.chain_id)
        with self._trade_lock:
            client.check_chain_id()  # before anything is read or signed
            snap = self._snapshot(addr)
            self._check_deadline(quote.deadline, snap)
            shares = parse_amount(quote.shares_in, SHARE_DECIMALS, "number of shares")
            min_out = parse_amount(quote.min_usdc_out, USDC_DECIMALS, "minimum USDC") \
                if quote.min_usdc_out > 0 else 0
            result = sender.send(TxRequest(
                sender=addr, to=snap.vault, kind="sell",
                data=vault.sell_data(shares, min_out, addr, quote.deadline),
                summary=f"Sell {quote.shares_in:,.4f} G100", preset=quote.gas.preset,
                meta={"shares": str(quote.shares_in), "min_usdc": str(quote.min_usdc_out)}),
                sign, progress=self._progress(progress))
            if result.status is not TxStatus.CONFIRMED:
                raise TradeFailed((result.error or "The sell failed on-chain.")
                                  + " You keep your shares.")
            self._last_snapshot = None
            return self._journal_trade("sell", dict(result.receipt or {}), result.tx_hash,
                                       result.block_number, result.fee_paid_wei, addr,
                                       snap.usdc)

    # ------------------------------------------------------------------ journal

    def transactions(self) -> list[TxRecord]:
        addr = self.active_address()
        if addr is None:
            return []
        chain_id = self._client.chain_id if self._client else None
        return self.journal.transactions(sender=addr, chain_id=chain_id)

    def refresh_pending(self) -> list[TxRecord]:
        _, _, sender = self._need()
        addr = self.active_address()
        if addr:
            sender.reconcile(addr, rebroadcast=False)
            self._record_settled_trades(addr)
        return self.transactions()

    def speed_up(self, tx_hash: str) -> TxRecord:
        client, _, sender = self._need()
        res = sender.speed_up(tx_hash, self._sign_fn(client.chain_id), wait=False)
        self._last_snapshot = None
        return res.record

    def cancel(self, tx_hash: str) -> TxRecord:
        client, _, sender = self._need()
        res = sender.cancel(tx_hash, self._sign_fn(client.chain_id), wait=False)
        self._last_snapshot = None
        return res.record

    def export_csv(self, path: Path) -> int:
        """The user's transactions and trades as CSV (``path`` and ``path``-activity.csv)."""
        addr = self.active_address()
        n = self.journal.export_transactions_csv(path, sender=addr) if addr else \
            self.journal.export_transactions_csv(path)
        activity = path.with_name(path.stem + "-activity.csv")
        self.journal.export_activity_csv(activity, account=addr)
        return n

    # ------------------------------------------------------------------ devnet

    def faucet(self, eth: Decimal = Decimal(10), usdc: Decimal = Decimal(10_000)) -> None:
        """Devnet only: test ETH and USDC for the active address."""
        if not self.is_devnet or self._devnet is None:
            raise WalletError("Test funds exist only on the local devnet.")
        addr = self.active_address()
        if addr is None:
            raise NoWallet()
        from web3 import Web3

        from .devnet.deploy import fund

        assert self._client is not None
        fund(Web3(Web3.HTTPProvider(self._client.chain.rpc_url)), self._devnet, addr, eth,
             usdc)
        self._last_snapshot = None  # balances changed: the next read goes to the chain

    def ensure_devnet(self, progress: Callable[[str], None] | None = None) -> NetworkStatus:
        """The embedded default: start, deploy and seed the local devnet if the settings
        select it (at its own address, no RPC URL given) and it is not running, then
        connect. A no-op on other networks or a devnet at an explicit URL."""
        if self.settings.network != "devnet" or self.settings.rpc_url:
            return self._status
        from .devnet.embedded import ensure_devnet

        ensure_devnet(self.paths, progress=progress)
        return self.connect()

    def start_market(self, interval_s: float = 20.0,
                     on_tick: Callable[[Any], None] | None = None) -> Any:
        """Devnet demo mode: move the market one simulated day every ``interval_s``.

        The driver shares the trade lock, so a day never passes between a trade's final
        check and its transaction.
        """
        if not self.is_devnet or self._devnet is None:
            raise WalletError("The simulated market runs only on the local devnet.")
        from .devnet.driver import MarketDriver

        assert self._client is not None
        if self.driver is None:
            self.driver = MarketDriver(self.paths, self._client.chain.rpc_url, self._devnet,
                                       hold=self._trade_lock)
        self.driver.start(interval_s, on_tick)
        return self.driver

    def advance_market(self, days: int = 1,
                       progress: Callable[[str], None] | None = None) -> list[Any]:
        """Devnet: advance the simulated market ``days`` days now (operator included)."""
        if not self.is_devnet or self._devnet is None:
            raise WalletError("The simulated market runs only on the local devnet.")
        from .devnet.driver import MarketDriver

        assert self._client is not None
        if self.driver is None:
            self.driver = MarketDriver(self.paths, self._client.chain.rpc_url, self._devnet,
                                       hold=self._trade_lock)
        reports = [self.driver.tick(progress) for _ in range(days)]
        self._last_snapshot = None
        return reports

    def close(self) -> None:
        if self.driver is not None:
            self.driver.stop()
        self.disconnect()
        self.keys.close()
        self.journal.close()


def _change_since(points: list[tuple[datetime, Decimal]], now_value: Decimal, now: datetime,
                  days: int) -> Decimal | None:
    """NAV change over ``days`` from the NAV history (None when history is too short)."""
    from datetime import timedelta

    cutoff = now - timedelta(days=days)
    older = [v for t, v in points if t <= cutoff]
    if not older or older[-1] == 0:
        return None
    return now_value / older[-1] - 1


_TRANSFER_TOPIC = bytes.fromhex(
    "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")


def _usdc_received(receipt: dict[str, Any], usdc: str, to: str) -> int:
    """USDC transferred to ``to`` in ``receipt`` (the payout, confirmed from the logs)."""
    total = 0
    for log in receipt.get("logs", []):
        if to_checksum_address(log["address"]) != to_checksum_address(usdc):
            continue
        topics = [bytes(t) if not isinstance(t, str) else bytes.fromhex(t[2:])
                  for t in log["topics"]]
        if len(topics) == 3 and topics[0] == _TRANSFER_TOPIC and \
                to_checksum_address(topics[2][-20:]) == to_checksum_address(to):
            data = log["data"]
            total += int.from_bytes(bytes(data) if not isinstance(data, str)
                                    else bytes.fromhex(data[2:]), "big")
    return total


__all__ = [
    "FEE_PRESETS", "InsufficientBalance", "InvalidAmount", "NetworkStatus", "NoWallet",
    "NotConnected", "NotDeployed", "PasswordVerdict", "QuoteExpired", "StrategyInfo",
    "TradeFailed", "TradeResult", "TradeRow", "TradingClosed", "WalletService",
    "parse_amount", "describe_event", "Regime",
]
