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
* :class:`~wallet_app.services.devnet.DevnetService`: the embedded devnet.

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

from .config import Settings
from .index.performance import PerformanceReport
from .index.regime import RegimeHistory
from .keys import RecoveryPhrase, WalletInfo
from .models import BuyQuote, IndexEvent, IndexState, Position, Regime, SellQuote, TxRecord
from .paths import AppPaths
from .services.devnet import DevnetService
from .services.history import HistoryService
from .services.index_view import IndexViewService
from .services.pending import PendingItem, PendingService, UnresolvedTransactions
from .services.session import Session
from .services.trading import TradingService
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
        self.devnet = DevnetService(self.session)

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

    def verify_backup(self, name: str, answers: dict[int, str], password: str) -> bool:
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

    # ------------------------------------------------------------------ trading

    def quote_buy(self, usdc: Decimal | str, slippage_bps: int | None = None,
                  fee_preset: str = "market") -> BuyQuote:
        return self.trading.quote_buy(usdc, slippage_bps, fee_preset)

    def quote_sell(self, shares: Decimal | str, slippage_bps: int | None = None,
                   fee_preset: str = "market") -> SellQuote:
        return self.trading.quote_sell(shares, slippage_bps, fee_preset)

    def buy(self, quote: BuyQuote, progress: Callable[[str], None] | None = None) -> TradeResult:
        return self.trading.buy(quote, progress)

    def sell(self, quote: SellQuote,
             progress: Callable[[str], None] | None = None) -> TradeResult:
        return self.trading.sell(quote, progress)

    def requests(self) -> list[RequestRow]:
        """The active address's requests waiting for a price strike."""
        return self.trading.requests()

    def cancel_request(self, request_id: int,
                       progress: Callable[[str], None] | None = None) -> TradeResult:
        return self.trading.cancel_request(request_id, progress)

    def settle_requests(self) -> list[TradeResult]:
        """Look up the outcome of every pending request (settled, refunded, cancelled)."""
        addr = self.active_address()
        return self.history.settle_requests(addr) if addr else []

    # ------------------------------------------------------------------ history

    def position(self) -> Position | None:
        return self.history.position()

    def my_trades(self) -> list[TradeRow]:
        return self.history.my_trades()

    def transactions(self) -> list[TxRecord]:
        return self.history.transactions()

    def refresh_pending(self) -> list[TxRecord]:
        return self.history.refresh_pending()

    def speed_up(self, tx_hash: str) -> TxRecord:
        return self.history.speed_up(tx_hash)

    def cancel(self, tx_hash: str) -> TxRecord:
        return self.history.cancel(tx_hash)

    def export_csv(self, path: Path) -> int:
        return self.history.export_csv(path)

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
    "DEADLINE_S", "FEE_PRESETS", "USDC_DECIMALS", "InsufficientBalance", "InvalidAmount",
    "NetworkStatus", "NoWallet", "NotConnected", "NotDeployed", "PasswordVerdict",
    "PendingItem", "UnresolvedTransactions",
    "QuoteExpired", "Regime", "RequestRow", "StrategyInfo", "TradeFailed", "TradeResult",
    "TradeRow",
    "TradingClosed", "WalletService", "describe_event", "parse_amount",
]
