"""The one object the GUI and the CLI talk to.

``WalletService`` is a thin facade over services split by capability, each in its own
module under :mod:`wallet_app.services`:

* :class:`~wallet_app.services.session.Session`: the state they share (settings, keys,
  journal, chain connection, active wallet, last lens read);
* :class:`~wallet_app.services.wallets.WalletsService`: wallets and accounts;
* :class:`~wallet_app.services.index_view.IndexViewService`: the index screen and its log;
* :class:`~wallet_app.services.trading.TradingService`: quotes, buy and sell;
* :class:`~wallet_app.services.history.HistoryService`: position, trades, transactions;
* :class:`~wallet_app.services.pending.PendingService`: unsent/pending transactions and
  the user's decision on each (send now, cancel, leave);
* :class:`~wallet_app.services.transfers.TransfersService`: send USDC, ETH and G100;
* :class:`~wallet_app.services.approvals.ApprovalsService`: allowances granted, revoke;
* :class:`~wallet_app.services.claims.ClaimsService`: USDC and tokens the vault keeps for
  the user after a failed payment (claim them);
* :class:`~wallet_app.services.devnet.DevnetService`: the embedded devnet;
* :class:`~wallet_app.services.accounts.AccountsService`: accounts of one phrase (names,
  the active one), watch-only wallets, every known (label, address);
* :class:`~wallet_app.services.contacts.ContactsService`: contacts and their CSV;
* :class:`~wallet_app.services.receive.ReceiveService`: address, QR code, EIP-681 link;
* :class:`~wallet_app.services.watch_history.WatchHistoryService`: a watched address's
  position and trades from the pinned vault's events.
* the depositor's checks: :class:`~wallet_app.services.governance_view.GovernanceViewService`
  (the timelock's pending changes), :class:`~wallet_app.services.inkind_exit.InKindExitService`
  (the in-kind exit) and :class:`~wallet_app.services.rule_verifier.RuleVerifierService`.

The facade keeps one flat method list so the GUI and the CLI do not need to know which
service answers; new capabilities get a service of their own and one line here per method.
Nothing here imports Qt; the GUI calls these methods from worker threads, so every method
is safe to call from any thread (chain state is guarded by locks; the journal serialises
itself). Errors are :class:`WalletError` subclasses whose text is meant for the user as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from .book.errors import WatchOnlyCannotSign
from .config import Settings
from .index.performance import PerformanceReport
from .index.regime import RegimeHistory
from .keys import RecoveryPhrase, WalletInfo
from .keys.backup import BackupCheck
from .models import BuyQuote, IndexEvent, IndexState, Position, Regime, SellQuote, TxRecord
from .paths import AppPaths
from .services.accounts import AccountRow, AccountsService, Identity
from .services.approvals import ApprovalsService
from .services.claims import ClaimResult, ClaimRow, ClaimsService
from .services.contacts import ContactsService
from .services.deployer import DeployOutcome, DeployService
from .services.devnet import DevnetService
from .services.governance import GovernanceService
from .services.governance_view import GovernanceViewService, PendingChange
from .services.history import HistoryService
from .services.index_legs import IndexLegsService
from .services.index_view import IndexViewService
from .services.inkind_exit import InKindExitService, InKindQuote
from .services.owner_events import OwnerEvents
from .services.pending import PendingItem, PendingService, UnresolvedTransactions
from .services.receive import ReceiveInfo, ReceiveService
from .services.reports import ReportsService
from .services.rule_verifier import RuleVerifierService
from .services.session import Session
from .services.trading import TradingService
from .services.transfer_types import Approval, TransferQuote, TransferResult
from .services.transfers import TransfersService
from .services.types import (
    DEADLINE_S,
    FEE_PRESETS,
    USDC_DECIMALS,
    InsufficientBalance,
    InvalidAmount,
    NetworkStatus,
    NotConnected,
    NotDeployed,
    NoWallet,
    PasswordVerdict,
    QuoteExpired,
    RequestRow,
    StrategyInfo,
    TradeFailed,
    TradeResult,
    TradeRow,
    TradingClosed,
    parse_amount,
)
from .services.wallets import WalletsService
from .services.watch_history import WatchHistoryService
from .vault import describe_event


class WalletService:
    """Facade over the core services (see the module docstring)."""

    def __init__(self, paths: AppPaths | None = None, settings: Settings | None = None) -> None:
        self.session = Session(paths, settings)
        self.accounts = WalletsService(self.session)
        self.index = IndexViewService(self.session)
        self.history = HistoryService(self.session)
        self.pending = PendingService(self.session, self.history)
        self.trading = TradingService(self.session, self.history, self.pending)
        self.transfers = TransfersService(self.session, self.history, self.pending)
        self.approvals = ApprovalsService(self.session, self.pending)
        self.claims_svc = ClaimsService(self.session, self.pending)
        self.devnet = DevnetService(self.session)
        self.account_book = AccountsService(self.session)
        # Contacts, own accounts and watched wallets join the look-alike (address-poisoning)
        # check of every send, beside the addresses this wallet has sent to.
        self.transfers.extra_known = self.account_book.known_addresses
        self.contact_book = ContactsService(self.session)
        self.owner_events = OwnerEvents(self.session)
        self.watch = WatchHistoryService(self.session, self.owner_events)
        # A keyed wallet's history adds what its journal lacks from the same events.
        self.history.set_events(self.owner_events)
        self.receiving = ReceiveService(
            self.session, lambda: (i.title if (i := self.account_book.identity()) else ""))
        self.legs = IndexLegsService(self.session)
        self.reports = ReportsService(self.session, self.owner_events,
                                      trades_of=self.history.all_trades)
        self.governance_view = GovernanceViewService(self.session)
        self.governance = GovernanceService(self.session, self.governance_view)
        self.inkind = InKindExitService(self.session, self.pending)
        self.verifier = RuleVerifierService(self.session)

    # ------------------------------------------------------------------ shared state

    @property
    def paths(self) -> AppPaths:
        return self.session.paths

    @property
    def settings(self) -> Settings:
        return self.session.settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self.session.settings = value

    @property
    def keys(self) -> Any:
        return self.session.keys

    @property
    def journal(self) -> Any:
        return self.session.journal

    @property
    def driver(self) -> Any:
        return self.devnet.driver

    @property
    def is_devnet(self) -> bool:
        return self.session.is_devnet

    @property
    def lock_timeout_seconds(self) -> int:
        return self.accounts.lock_timeout_seconds

    # ------------------------------------------------------------------ network

    def save_settings(self, settings: Settings) -> None:
        self.session.save_settings(settings)

    def connect(self) -> NetworkStatus:
        return self.session.connect()

    def disconnect(self) -> None:
        self.session.disconnect()

    def network_status(self) -> NetworkStatus:
        return self.session.status

    def refresh_status(self) -> NetworkStatus:
        return self.session.refresh_status()

    # ------------------------------------------------------------------ wallets

    def wallets(self) -> list[WalletInfo]:
        return self.accounts.wallets()

    def active_wallet(self) -> WalletInfo | None:
        return self.session.active_wallet()

    def active_address(self) -> str | None:
        return self.session.active_address()

    def select_wallet(self, name: str) -> None:
        self.accounts.select_wallet(name)

    def password_verdict(self, password: str, name: str = "") -> PasswordVerdict:
        return self.accounts.password_verdict(password, name)

    def create_wallet(self, name: str, password: str,
                      words: int = 24) -> tuple[WalletInfo, RecoveryPhrase]:
        return self.accounts.create_wallet(name, password, words)

    def backup_challenge(self, name: str, k: int = 3) -> list[int]:
        return self.accounts.backup_challenge(name, k)

    def verify_backup(self, name: str, answers: dict[int, str], password: str) -> BackupCheck:
        return self.accounts.verify_backup(name, answers, password)

    def import_mnemonic(self, name: str, phrase: str, password: str,
                        passphrase: str = "") -> WalletInfo:
        return self.accounts.import_mnemonic(name, phrase, password, passphrase)

    def import_private_key(self, name: str, hex_key: str, password: str) -> WalletInfo:
        return self.accounts.import_private_key(name, hex_key, password)

    def import_keystore(self, name: str, keystore_json: str, keystore_password: str,
                        new_password: str) -> WalletInfo:
        return self.accounts.import_keystore(name, keystore_json, keystore_password,
                                             new_password)

    def unlock(self, password: str) -> None:
        self.accounts.unlock(password)

    def lock(self) -> None:
        self.accounts.lock()

    def is_unlocked(self) -> bool:
        return self.accounts.is_unlocked()

    def touch(self) -> None:
        self.accounts.touch()

    # ------------------------------------------------------------------ index

    def index_state(self) -> IndexState:
        return self.index.index_state()

    def sync_events(self) -> int:
        return self.index.sync_events()

    def nav_history(self) -> list[tuple[Any, Decimal]]:
        return self.index.nav_history()

    def nav_backtest(self) -> Any:
        return self.index.nav_backtest()

    def index_events(self, limit: int = 200) -> list[IndexEvent]:
        return self.index.index_events(limit)

    def strategy(self) -> StrategyInfo:
        return self.index.strategy()

    def regime_history(self) -> RegimeHistory | None:
        return self.index.regime_history()

    def performance(self) -> PerformanceReport | None:
        return self.index.performance()

    def market_feed_status(self) -> Any:
        """The market feed's :class:`~wallet_app.market.feed.FeedStatus` off the devnet
        (None on the devnet, whose replay is the market); reads no network."""
        feed = self.index.feed()
        return None if feed is None else feed.status()

    def refresh_market_data(self) -> Any:
        """Refresh the market feed now and wait for it (the CLI, tests; the GUI's index
        refresh starts it in the background instead). Does nothing while it is off."""
        feed = self.index.feed()
        if feed is None:
            return None
        feed.wait()
        return feed.refresh()

    # ------------------------------------------------------------------ trading

    def quote_buy(self, usdc: Decimal | str, slippage_bps: int | None = None,
                  fee_preset: str = "market") -> BuyQuote:
        return self.trading.quote_buy(usdc, slippage_bps, fee_preset)

    def quote_sell(self, shares: Decimal | str, slippage_bps: int | None = None,
                   fee_preset: str = "market") -> SellQuote:
        return self.trading.quote_sell(shares, slippage_bps, fee_preset)

    def _require_key(self) -> None:
        """Refuse at once for a watch-only wallet (the signer refuses too, later)."""
        watch = self.session.active_watch()
        if watch is not None:
            raise WatchOnlyCannotSign(watch.label)

    def buy(self, quote: BuyQuote, progress: Callable[[str], None] | None = None) -> TradeResult:
        self._require_key()
        return self.trading.buy(quote, progress)

    def sell(self, quote: SellQuote,
             progress: Callable[[str], None] | None = None) -> TradeResult:
        self._require_key()
        return self.trading.sell(quote, progress)

    def requests(self) -> list[RequestRow]:
        """The active address's requests waiting for a price strike."""
        return self.trading.requests()

    def cancel_request(self, request_id: int,
                       progress: Callable[[str], None] | None = None) -> TradeResult:
        self._require_key()
        return self.trading.cancel_request(request_id, progress)

    def claims(self) -> list[ClaimRow]:
        """USDC and tokens the pinned vault keeps for the active address."""
        return self.claims_svc.claims()

    def claim_usdc(self, progress: Callable[[str], None] | None = None) -> ClaimResult:
        return self.claims_svc.claim_usdc(progress)

    def claim_in_kind(self, token: str,
                      progress: Callable[[str], None] | None = None) -> ClaimResult:
        return self.claims_svc.claim_in_kind(token, progress)

    def settle_requests(self) -> list[TradeResult]:
        """Look up the outcome of every pending request (settled, refunded, cancelled)."""
        addr = self.active_address()
        return self.history.settle_requests(addr) if addr else []

    # ------------------------------------------------------------------ transfers

    def quote_transfer(self, asset: str, to: str, amount: Decimal | str,
                       fee_preset: str = "market") -> TransferQuote:
        return self.transfers.quote(asset, to, amount, fee_preset)

    def send_transfer(self, quote: TransferQuote, confirmed: Any = (),
                      progress: Callable[[str], None] | None = None) -> TransferResult:
        return self.transfers.send(quote, confirmed, progress)

    def approvals_list(self, include_zero: bool = False) -> list[Approval]:
        return self.approvals.list(include_zero)

    def revoke_approval(self, token: str, spender: str,
                        progress: Callable[[str], None] | None = None) -> TransferResult:
        return self.approvals.revoke(token, spender, progress)

    # ------------------------------------------------------------------ depositor's checks

    def pending_governance(self) -> list[PendingChange]:
        """The pinned timelock's scheduled changes still waiting (soonest first)."""
        return self.governance_view.pending_changes()

    def quote_exit_in_kind(self, shares: Decimal | str = "100%",
                           fee_preset: str = "market") -> InKindQuote:
        return self.inkind.quote(shares, fee_preset)

    def exit_in_kind(self, quote: InKindQuote,
                     progress: Callable[[str], None] | None = None) -> TradeResult:
        self._require_key()
        return self.inkind.exit(quote, progress)

    def verify_rules(self) -> Any:
        """The last rebalance's snapshot recomputed and compared with the vault."""
        return self.verifier.verify()

    # ------------------------------------------------------------------ history

    def position(self) -> Position | None:
        watch = self.session.active_watch()
        return self.watch.position(watch.address) if watch else self.history.position()

    def my_trades(self) -> list[TradeRow]:
        watch = self.session.active_watch()
        return self.watch.my_trades(watch.address) if watch else self.history.my_trades()

    def transactions(self) -> list[TxRecord]:
        watch = self.session.active_watch()
        return self.watch.transactions(watch.address) if watch else \
            self.history.transactions()

    def refresh_pending(self) -> list[TxRecord]:
        return self.history.refresh_pending()

    def speed_up(self, tx_hash: str) -> TxRecord:
        self._require_key()
        return self.history.speed_up(tx_hash)

    def cancel(self, tx_hash: str) -> TxRecord:
        self._require_key()
        return self.history.cancel(tx_hash)

    def export_csv(self, path: Path) -> int:
        watch = self.session.active_watch()
        if watch is not None:  # no journal: the chain's events about the address
            from .services.watch_history import export_csv

            return export_csv(self.watch, watch.address, path)
        return self.history.export_csv(path)

    # ------------------------------------------------------------------ accounts, watch-only

    def identity(self) -> Identity | None:
        """The active account or watched wallet (label, address, whether it can sign)."""
        return self.account_book.identity()

    def list_accounts(self, wallet: str | None = None) -> list[AccountRow]:
        return self.account_book.accounts(wallet)

    def add_account(self, password: str, label: str = "") -> AccountRow:
        return self.account_book.add_account(password, label)

    def rename_account(self, key: str | int, label: str) -> AccountRow:
        return self.account_book.rename_account(key, label)

    def switch_account(self, key: str | int, wallet: str | None = None) -> AccountRow:
        return self.account_book.switch_account(key, wallet)

    def watched_wallets(self) -> list[Any]:
        return self.account_book.watched()

    def add_watch(self, label: str, address: str) -> Any:
        return self.account_book.add_watch(label, address)

    def remove_watch(self, key: str) -> Any:
        return self.account_book.remove_watch(key)

    def switch_watch(self, key: str) -> Any:
        return self.account_book.switch_watch(key)

    def known_addresses(self) -> list[tuple[str, str]]:
        """Every (label, checksummed address) the person knows: contacts, own accounts,
        watched wallets. For the send screen's address-poisoning check."""
        return self.account_book.known_addresses()

    def address_labels(self) -> dict[str, str]:
        """Lower-case address -> the name shown beside it on every screen."""
        return self.account_book.address_labels()

    # ------------------------------------------------------------------ receive, contacts

    def receive_info(self, amount_usdc: Decimal | None = None) -> ReceiveInfo:
        return self.receiving.receive_info(amount_usdc)

    def contacts(self) -> list[Any]:
        return self.contact_book.contacts()

    def add_contact(self, label: str, address: str, note: str = "") -> Any:
        return self.contact_book.add_contact(label, address, note)

    def rename_contact(self, key: str, label: str) -> Any:
        return self.contact_book.rename_contact(key, label)

    def remove_contact(self, key: str) -> Any:
        return self.contact_book.remove_contact(key)

    def import_contacts(self, path: Path) -> Any:
        return self.contact_book.import_contacts(path)

    def export_contacts(self, path: Path) -> int:
        return self.contact_book.export_contacts(path)
    # ------------------------------------------------------------------ legs and taxes

    def event_legs(self, event: IndexEvent) -> Any:
        return self.legs.legs(event)

    def export_log_csv(self, path: Path, limit: int = 200) -> int:
        return self.legs.export_log_csv(path, self.index.index_events(limit=limit))

    def export_tax_csv(self, path: Path, method: str = "fifo") -> int:
        return self.reports.export_tax_csv(path, method)

    def tax_year_report(self, year: int, method: str = "fifo",
                        csv_path: Path | None = None) -> Any:
        return self.reports.year_report(year, method, csv_path)

    # ------------------------------------------------------------------ recovery

    def pending_list(self) -> list[PendingItem]:
        return self.pending.list()

    def pending_send(self, tx_hash: str) -> TxRecord:
        return self.pending.send(tx_hash)

    def pending_cancel(self, tx_hash: str) -> TxRecord:
        return self.pending.cancel(tx_hash)

    def pending_leave(self, tx_hash: str) -> TxRecord:
        return self.pending.leave(tx_hash)

    # ------------------------------------------------------------------ deployments

    def deployment(self, chain_id: int | None = None) -> Any:
        """The pinned deployment record of ``chain_id`` (default: the connected chain)."""
        if chain_id is None:
            return self.session.require_record()
        return self.session.deployments.load(chain_id)

    def import_deployment(self, path: Path, replace: bool = False) -> Any:
        """Pin a deployment record from a file (refused when another is pinned, unless
        ``replace``); the next connect checks its code hashes."""
        rec = self.session.deployments.import_file(path, replace=replace)
        self.session.disconnect()
        return rec

    # ------------------------------------------------------------------ deploy

    def deploy_index(self, config: Path, rpc_url: str, **kw: Any) -> DeployOutcome:
        """Dry-run or deploy the index from a config file (``index-wallet deploy``)."""
        return DeployService(self.session).deploy(config, rpc_url, **kw)

    # ------------------------------------------------------------------ governance

    def governance_operations(self) -> list[Any]:
        """The pinned timelock's operations, decoded (``governance.list_operations``)."""
        return self.governance.operations()

    def governance_schedule(self, change: str, signer: Any,
                            password: Callable[[], str] | None = None,
                            **params: Any) -> tuple[str, str, int]:
        """Schedule an owner change through the timelock; (op id, tx hash, ready at)."""
        g = self.governance
        return g.schedule(signer, g.change_calls(change, **params), password)

    def governance_execute(self, op_id: str, signer: Any,
                           password: Callable[[], str] | None = None) -> str:
        return self.governance.execute(signer, op_id, password)

    def signer(self, key_from: str | None, keystore: Path | None) -> Any:
        """The key named by ``--key-from keyring:WALLET`` or ``--keystore FILE``."""
        from .deploy.signers import signer_from_spec

        return signer_from_spec(key_from, keystore, lambda: self.session.keys)

    # ------------------------------------------------------------------ devnet

    def faucet(self, eth: Decimal = Decimal(10), usdc: Decimal = Decimal(10_000)) -> None:
        self.devnet.faucet(eth, usdc)

    def ensure_devnet(self, progress: Callable[[str], None] | None = None) -> NetworkStatus:
        return self.devnet.ensure_devnet(progress)

    def start_market(self, day_s: float | None = None,
                     on_tick: Callable[[Any], None] | None = None,
                     steps: int | None = None) -> Any:
        return self.devnet.start_market(day_s, on_tick, steps)

    def market_speed(self) -> str | None:
        return self.devnet.market_speed()

    def advance_market(self, days: int = 1,
                       progress: Callable[[str], None] | None = None) -> list[Any]:
        return self.devnet.advance_market(days, progress)

    def close(self) -> None:
        self.devnet.close()
        self.session.close()


__all__ = [
    "ClaimResult", "ClaimRow", "DEADLINE_S", "FEE_PRESETS", "USDC_DECIMALS",
    "InsufficientBalance", "InvalidAmount",
    "NetworkStatus", "NoWallet", "NotConnected", "NotDeployed", "PasswordVerdict",
    "PendingItem", "UnresolvedTransactions",
    "QuoteExpired", "Regime", "RequestRow", "StrategyInfo", "TradeFailed", "TradeResult",
    "TradeRow",
    "TradingClosed", "WalletService", "describe_event", "parse_amount",
]
