"""The state every service shares: settings, keys, journal, the chain connection, the
active wallet and the last lens read.

One :class:`Session` per facade. The services hold a reference to it and never to each
other's internals, so a capability can be added as a new service without touching the
others. Chain state is guarded by :attr:`Session.lock`; trades and the devnet's market
driver share :attr:`Session.trade_lock` so a simulated day never passes between a trade's
final check and its transaction.

Trust (see :mod:`wallet_app.trust`): the addresses come from the chain's pinned
:class:`~wallet_app.trust.DeploymentRecord`, whose code hashes are checked on every
connect; every signature goes through :meth:`Session.sign_fn` / :meth:`Session.sign_typed`,
which refuse unless the caller holds the wallet's OS trade lock (:meth:`Session.trading`)
and the pre-sign address check passes. A new transaction starts with
:meth:`Session.signing`, the one preamble (signer, lock, chain id, nothing unresolved,
pinned record) every signing service uses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address

from ..book.errors import WatchOnlyCannotSign
from ..book.store import BookStore, WatchWallet
from ..chain.errors import ChainError, RpcUnavailable, WrongNetwork
from ..chain.provider import ChainClient
from ..chain.registry import ChainInfo, resolve_chain
from ..chain.sender import Sender
from ..chain.simulate import error_from_web3
from ..config import Settings, load_settings, save_settings
from ..errors import WalletError
from ..journal import Journal
from ..keys import WalletInfo, WalletLocked, WalletManager
from ..keys.signer_api import KeyringSigner, Signer
from ..paths import AppPaths, app_paths
from ..trust import (
    AddressGuard,
    Confirmed,
    DeploymentRecord,
    DeploymentStore,
    UntrustedAnswer,
    WalletTradeLock,
    verify_code,
)
from ..vault import VaultClient, VaultSnapshot
from .signing import SigningScope
from .types import NetworkStatus, NotDeployed, NoWallet

log = logging.getLogger(__name__)


class Session:
    """Shared core state behind the facade (see the module docstring)."""

    def __init__(self, paths: AppPaths | None = None, settings: Settings | None = None) -> None:
        self.paths = (paths or app_paths()).ensure()
        self.settings = settings or load_settings(self.paths)
        self.keys = WalletManager(self.paths, self.settings)
        self.journal = Journal.for_paths(self.paths)
        #: Contacts, account labels, the active account, watch-only wallets (public data).
        self.book = BookStore(self.paths.data_dir)
        self.lock = threading.RLock()
        self.trade_lock = threading.Lock()
        #: How long a trade waits for its receipt before it is left pending (seconds).
        self.receipt_timeout_s = 120.0
        self.client: ChainClient | None = None
        self.sender: Sender | None = None
        self.vault: VaultClient | None = None
        self.chain: ChainInfo | None = None
        self.devnet: Any = None  # the devnet's own Deployment (faucet, keeper, market)
        self.deployments = DeploymentStore(self.paths)
        self.record: DeploymentRecord | None = None  # the pinned deployment of this chain
        self.last_snapshot: VaultSnapshot | None = None
        self.last_snapshot_at = 0.0  # time.monotonic() of that read
        self.status = NetworkStatus(self.settings.network, "", 0, "", False)
        #: Called with the active address after every successful connect (reconcile).
        self.on_connect: list[Callable[[str], None]] = []
        #: Verifiers of the address arguments the guard does not pin, by (function,
        #: argument); registered by the service that builds those calls (claims).
        self.arg_verifiers: dict[tuple[str, str], Callable[[str], bool]] = {}

    # ------------------------------------------------------------------ settings

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

    # ------------------------------------------------------------------ connection

    def disconnect(self) -> None:
        with self.lock:
            if self.client is not None:
                self.client.close()
            self.client = self.sender = self.vault = None
            self.record = None
            self.last_snapshot = None

    def connect(self) -> NetworkStatus:
        """Connect to the configured network, check its chain id, find the vault, reconcile."""
        with self.lock:
            chain = resolve_chain(self.settings, self.paths)
            client = ChainClient(chain)
            try:
                client.connect()
                block = client.block_number()
            except WalletError as exc:
                client.close()
                self.status = NetworkStatus(chain.key, chain.name, chain.chain_id,
                                            chain.rpc_url, False, error=str(exc),
                                            is_devnet=chain.is_devnet,
                                            last_ok=self.status.last_ok)
                raise
            try:
                record = self._pinned_record(chain)
                verify_code(client, record, chain.name)  # before anything is read
            except WalletError as exc:
                client.close()
                self.status = NetworkStatus(chain.key, chain.name, chain.chain_id,
                                            chain.rpc_url, False, error=str(exc),
                                            is_devnet=chain.is_devnet,
                                            last_ok=self.status.last_ok)
                raise
            self.client, self.chain, self.record = client, chain, record
            self.vault = VaultClient(client, record.vault, record.lens)
            self.sender = Sender(client, self.journal, decoder=VaultClient.revert_decoder())
            self.status = NetworkStatus(chain.key, chain.name, chain.chain_id, chain.rpc_url,
                                        True, block, datetime.now(UTC),
                                        is_devnet=chain.is_devnet)
        addr = self.active_address()
        if addr:
            try:
                for hook in self.on_connect:
                    hook(addr)
            except ChainError as exc:
                log.warning("reconcile failed: %s", type(exc).__name__)
        return self.status

    def _pinned_record(self, chain: ChainInfo) -> DeploymentRecord:
        """The chain's deployment record; the settings' old vault/lens keys are refused."""
        extra = self.settings.extra
        if extra.get("vault_address") or extra.get("lens_address"):
            raise NotDeployed(
                f"{self.paths.settings_file} still names vault_address/lens_address. The "
                "wallet no longer takes contract addresses from settings: it pins a "
                "deployment record per chain (addresses and code hashes). Remove those two "
                "lines and import the deployment file with `index-wallet deployment import "
                "FILE`.")
        if chain.is_devnet:
            from ..devnet.deploy import Deployment
            from ..devnet.embedded import deployment_path

            path = deployment_path(self.paths)
            self.devnet = Deployment.load(path) if path.is_file() else None
        record = self.deployments.load(chain.chain_id)
        if record is None:
            if chain.is_devnet:
                raise NotDeployed("The devnet runs but no index deployment is pinned for "
                                  "it. Start it with `index-wallet devnet up` (or `make "
                                  "demo`), which deploys and pins it.")
            raise NotDeployed(
                f"No Global 100 deployment is pinned for {chain.name} (chain "
                f"{chain.chain_id}). Import its deployment record with `index-wallet "
                "deployment import FILE`, or choose the devnet.")
        return record

    def require_record(self) -> DeploymentRecord:
        self.need()
        assert self.record is not None
        return self.record

    def refresh_status(self) -> NetworkStatus:
        """One block-number request; marks the connection up or down."""
        client = self.client
        if client is None:
            try:
                return self.connect()
            except WalletError:
                return self.status
        try:
            block = client.block_number()
        except WalletError as exc:
            self.status = dataclasses.replace(self.status, connected=False, error=str(exc))
        else:
            self.status = dataclasses.replace(self.status, connected=True, error=None,
                                              block_number=block, last_ok=datetime.now(UTC))
        return self.status

    @property
    def is_devnet(self) -> bool:
        return bool(self.chain and self.chain.is_devnet)

    def need(self) -> tuple[ChainClient, VaultClient, Sender]:
        """The connected chain client, vault client and sender (connecting if needed)."""
        if self.client is None or self.vault is None or self.sender is None:
            self.connect()
        assert self.client and self.vault and self.sender
        return self.client, self.vault, self.sender

    def rpc_guard(self, exc: WalletError) -> None:
        """Mark the connection down when ``exc`` says the node is unreachable."""
        if isinstance(exc, RpcUnavailable):
            self.status = dataclasses.replace(self.status, connected=False, error=str(exc))

    def forget_snapshot(self) -> None:
        """Balances changed (a write of ours): the next read goes to the chain."""
        self.last_snapshot = None

    def snapshot(self, account: str | None = None) -> VaultSnapshot:
        """One lens read, with the chain id it reports checked against the connection."""
        client, vault, _ = self.need()
        try:
            snap = vault.snapshot(account)
        except WalletError as exc:
            self.rpc_guard(exc)
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
        rec = self.record
        if rec is not None and (to_checksum_address(snap.vault) != rec.vault
                                or to_checksum_address(snap.usdc) != rec.usdc):
            raise UntrustedAnswer(
                f"The node's answer names another vault or USDC than the ones pinned for "
                f"{client.chain.name} (pinned vault {rec.vault}, USDC {rec.usdc}). The node "
                f"at {client.host} may be hostile: nothing was signed. Check the RPC URL in "
                "Settings.")
        self.last_snapshot, self.last_snapshot_at = snap, time.monotonic()
        self.status = dataclasses.replace(self.status, connected=True, error=None,
                                          block_number=snap.block_number,
                                          last_ok=datetime.now(UTC))
        return snap

    def recent_snapshot(self, account: str, max_age_s: float) -> VaultSnapshot:
        """The last lens read when it is for ``account`` and younger than ``max_age_s``,
        else a fresh one."""
        recent = self.last_snapshot
        if recent is None or recent.account.lower() != account.lower() or \
                time.monotonic() - self.last_snapshot_at > max_age_s:
            recent = self.snapshot(account)
        return recent

    # ------------------------------------------------------------------ active wallet

    def active_watch(self) -> WatchWallet | None:
        """The watch-only wallet being looked at, if one is (then no keyed wallet is
        active: nothing can be signed)."""
        return self.book.active_watch()

    def active_wallet(self) -> WalletInfo | None:
        if self.active_watch() is not None:
            return None
        wallets = self.keys.list()
        for w in wallets:
            if w.name == self.settings.active_wallet:
                return w
        return wallets[0] if wallets else None

    def active_account_index(self, wallet: WalletInfo | None = None) -> int:
        """The BIP-44 index of the active wallet's active account (0 when unset or gone)."""
        w = wallet or self.active_wallet()
        if w is None:
            return 0
        index = self.book.active_account(w.name)
        return index if any(a.index == index for a in w.accounts) else 0

    def active_address(self) -> str | None:
        watch = self.active_watch()
        if watch is not None:
            return watch.address
        w = self.active_wallet()
        if not w or not w.accounts:
            return None
        index = self.active_account_index(w)
        return next(a.address for a in w.accounts if a.index == index)

    def require_address(self) -> str:
        addr = self.active_address()
        if addr is None:
            raise NoWallet()
        return addr

    def active_name(self) -> str:
        w = self.active_wallet()
        if w is None:
            raise NoWallet()
        return w.name

    # ------------------------------------------------------------------ signing

    def trade_file_lock(self, address: str | None = None) -> WalletTradeLock:
        """The OS lock for the active wallet on the connected chain."""
        client, _, _ = self.need()
        return WalletTradeLock(self.paths, client.chain_id, address or self.require_address())

    @contextlib.contextmanager
    def trading(self, address: str | None = None) -> Any:
        """Hold the wallet's OS trade lock (fail fast: :class:`TradeInProgress`), then the
        in-process trade lock shared with the devnet's market driver. Every signing path
        runs inside this block, from nonce choice to the recorded outcome."""
        with self.trade_file_lock(address), self.trade_lock:
            yield

    @contextlib.contextmanager
    def replacing(self, address: str | None = None) -> Any:
        """The OS trade lock alone, for acting on an existing nonce (speed up, cancel, send
        now): the sender's nonce lock serialises those, and they must stay possible while
        a trade of this process waits for that very transaction."""
        with self.trade_file_lock(address):
            yield

    @contextlib.contextmanager
    def signing(self, require_resolved: Callable[[str], None],
                confirmed: Confirmed | None = None) -> Iterator[SigningScope]:
        """The one preamble of every new transaction of the active wallet (trade, cancel,
        in-kind exit, claim, transfer, revoke), in this order:

        1. the signer, refused at once when the wallet is locked or watch-only (before any
           lock is taken); ``confirmed`` is what the user confirmed in the preview;
        2. the wallet's OS trade lock (:meth:`trading`), held until the block ends: from
           nonce choice through journaling, broadcast and the recorded outcome;
        3. the chain id, before anything is read or signed;
        4. ``require_resolved(address)``: refused while an earlier transaction of this
           wallet is unsent or pending (a retried trade must never become two);
        5. the pinned deployment record, whose addresses the signer's pre-sign check
           enforces on every signature.

        Yields a :class:`SigningScope` whose :meth:`~SigningScope.send` signs and sends."""
        addr = self.require_address()
        client, vault, sender = self.need()
        sign = self.sign_fn(client.chain_id, confirmed)
        with self.trading(addr):
            client.check_chain_id()
            require_resolved(addr)
            yield SigningScope(addr, client, vault, sender, self.require_record(), sign,
                               self.receipt_timeout_s, self.forget_snapshot)

    def guard(self) -> AddressGuard:
        """The pre-sign address check for the active wallet on the connected chain."""
        record = self.require_record()
        return AddressGuard(record, self.require_address(), VaultClient.signing_policies(),
                            self.arg_verifiers)

    def _check_signing(self) -> AddressGuard:
        if not self.trade_file_lock().held_here:
            raise WalletError("Internal error: a signature was requested outside the "
                              "wallet's trade lock; nothing was signed.")
        return self.guard()

    def signer(self, chain_id: int) -> Signer:
        """The :class:`~wallet_app.keys.signer_api.Signer` of the active account: every
        signing path (trades, permits, transfers, revokes) goes through it. Today the
        keyring signer; a hardware signer would be returned here instead."""
        name = self.active_name()
        return KeyringSigner(self.keys, name, self.active_account_index(), self.require_address(),
                             chain_id)

    def sign_fn(self, chain_id: int, confirmed: Confirmed | None = None
                ) -> Callable[[dict[str, Any]], bytes]:
        """A transaction signer for the active wallet (refused at once when locked). Each
        call checks the trade lock and every address in the transaction first;
        ``confirmed`` is what the user confirmed in the preview (a transfer's recipient,
        a revoke's spender), passed on to the address check as it is."""
        watch = self.active_watch()
        if watch is not None:
            raise WatchOnlyCannotSign(watch.label)
        name = self.active_name()
        if not self.keys.is_unlocked(name):
            raise WalletLocked(name)
        signer = self.signer(chain_id)

        def sign(tx: dict[str, Any]) -> bytes:
            self._check_signing().check_transaction(tx, confirmed)
            return signer.sign_transaction(tx).raw

        return sign

    def sign_typed(self, typed: dict[str, Any], chain_id: int) -> Any:
        """EIP-712 signature by the active wallet after the pre-sign address check."""
        watch = self.active_watch()
        if watch is not None:
            raise WatchOnlyCannotSign(watch.label)
        self._check_signing().check_typed_data(typed)
        return self.signer(chain_id).sign_typed_data(typed["domain"], typed["types"],
                                                     typed["message"])

    def close(self) -> None:
        self.disconnect()
        self.keys.close()
        self.journal.close()
