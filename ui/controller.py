"""The controller: owns the WalletService, runs its calls on the worker, feeds the views.

Pages and dialogs are views: they display what they are given and emit what the user
asked for. This class is the only place that decides *when* the core is called, which is
what keeps three promises testable in one spot:

* no core call runs on the GUI thread (everything goes through :func:`ui.worker.submit`,
  with this controller or a dialog as the callback context);
* a failing network never blanks the screens: a failed refresh flips the window to its
  offline state and the last figures stay, with their age;
* the wallet locks after the idle timeout, and nothing that signs runs while it is
  locked without asking for the password first.

The GUI reaches the core only through the facade object passed in; the attribute names it
reads are those of ``wallet_app.facade.WalletService`` and ``wallet_app.models``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDialog

from ui import worker
from ui.app import apply_theme
from ui.book_controller import BookController
from ui.depositor_controller import DepositorChecks
from ui.dialogs.backup_check import BackupCheckDialog
from ui.dialogs.buy_dialog import BuyDialog
from ui.dialogs.common import describe_error
from ui.dialogs.onboarding import OnboardingDialog, first_address
from ui.dialogs.sell_dialog import SellDialog
from ui.dialogs.strategy_dialog import StrategyDialog
from ui.dialogs.unlock_dialog import UnlockDialog
from ui.gc_pacer import GcPacer
from ui.journal_actions import JournalActions
from ui.main_window import IdleWatcher, MainWindow
from ui.trade_actions import TradeActions
from ui.transfer_actions import TransferActions
from wallet_app.config import Settings
from wallet_app.models import IndexState, Position

log = logging.getLogger(__name__)

STATUS_INTERVAL_MS = 15_000
OFFLINE_RETRY_MS = 5_000
HISTORY_INTERVAL_S = 300


class Controller(TradeActions, JournalActions, QObject):
    """Glue between one WalletService and one MainWindow (see the module docstring).

    The trade flows live in :class:`~ui.trade_actions.TradeActions`, the Transactions
    screen's actions in :class:`~ui.journal_actions.JournalActions`.
    """

    def __init__(
        self,
        service: Any,
        window: MainWindow,
        *,
        status_interval_ms: int = STATUS_INTERVAL_MS,
        idle_timeout_ms: int | None = None,
        auto_onboard: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(window)
        self.svc = service
        self.window = window
        self.clock = clock or (lambda: datetime.now(UTC))
        self.auto_onboard = auto_onboard
        self.state: IndexState | None = None
        self.position: Position | None = None
        self.pending_items: list[Any] = []
        self.history_at: datetime | None = None
        self.last_block: int | None = None
        self.status: Any = None
        self.dialog: QDialog | None = None
        self._background: set[QDialog] = set()
        self.unlock_dialog: UnlockDialog | None = None
        self._busy: set[str] = set()
        self._last: dict[str, Any] = {}
        #: The active wallet and its address, read from the core when they can change
        #: (start, onboarding, wallet switch): reading them reads a file, which the GUI
        #: thread should not do on every refresh.
        self.wallet: Any = None
        self.address: str | None = None
        self.wallet_list: list[Any] = []
        #: The active account or watched wallet (``WalletService.identity``).
        self.identity: Any = None
        self._status_interval = status_interval_ms
        self._started = False

        self.status_timer = QTimer(self)
        self.status_timer.timeout.connect(self.refresh_status)
        timeout = idle_timeout_ms if idle_timeout_ms is not None else \
            int(getattr(service, "lock_timeout_seconds", 300)) * 1000
        self.idle = IdleWatcher(timeout, self)
        self.gc_pacer = GcPacer(self, self._can_pause, self.idle.ms_since_activity)
        self.idle.idle.connect(self.on_idle)
        self.idle.activity.connect(self._touch)
        self._wire()
        self.book = BookController(self)
        self.transfers = TransferActions(self)  # Send and Approvals
        self.depositor = DepositorChecks(self)  # governance notice, in-kind exit, rule check

    # -- wiring ------------------------------------------------------------------------

    def _wire(self) -> None:
        w = self.window
        w.retryRequested.connect(self.refresh_status)
        w.lockRequested.connect(self.lock_now)
        w.backupCheckRequested.connect(self.open_backup_check)
        w.lock_overlay.unlockRequested.connect(self.unlock_from_overlay)
        w.navigated.connect(self._on_navigate)
        ip = w.index_page
        ip.buyRequested.connect(self.open_buy)
        ip.strategyRequested.connect(self.open_strategy)
        mp = w.my_page
        mp.buyRequested.connect(self.open_buy)
        mp.sellRequested.connect(self.open_sell)
        mp.onboardRequested.connect(self.open_onboarding)
        mp.faucetRequested.connect(self.faucet)
        mp.cancelRequestRequested.connect(self.cancel_request)
        mp.claimRequested.connect(self.claim)
        tp = w.tx_page
        tp.cancelRequestRequested.connect(self.cancel_request)
        tp.speedUpRequested.connect(lambda h: self.replace_tx("speed_up", h))
        tp.cancelRequested.connect(lambda h: self.replace_tx("cancel", h))
        tp.sendNowRequested.connect(lambda h: self.resolve_tx("send", h))
        tp.leaveRequested.connect(lambda h: self.resolve_tx("leave", h))
        tp.exportRequested.connect(self.export_csv)
        tp.taxExportRequested.connect(self.export_tax_csv)
        tp.legsRequested.connect(self.load_legs)
        tp.refreshRequested.connect(self.refresh_journal)
        sp = w.settings_page
        sp.saveRequested.connect(self.save_settings)
        sp.themeChanged.connect(self.set_theme)
        sp.lockRequested.connect(self.lock_now)
        sp.addWalletRequested.connect(lambda: self.open_onboarding(first_run=False))
        sp.walletSelected.connect(self.select_wallet)

    # -- start and stop ----------------------------------------------------------------

    def start(self) -> None:
        """Show what is known without I/O, then connect and load everything."""
        self._started = True
        self.idle.watch_window(self.window.windowHandle())
        self.window.settings_page.show_settings(self.svc.settings)
        self.reload_wallet()
        self.window.set_connecting()
        prepare = getattr(self.svc, "ensure_devnet", None)
        if callable(prepare) and getattr(self.svc.settings, "network", "") == "devnet":
            # The embedded default network: start, deploy and seed the local devnet on a
            # worker (seconds), showing its progress, then connect.
            self.window.show_notice("info", "Starting the local devnet\u2026", sticky=True)
            worker.submit(prepare, on_done=lambda _r: self._connect(True),
                          on_error=self._went_offline, context=self,
                          on_progress=lambda m: self.window.notice.title.setText(m))
        else:
            self._connect(False)
        if self.auto_onboard and not self.wallet_list:
            QTimer.singleShot(0, self.open_onboarding)

    def _connect(self, clear_notice: bool = False) -> None:
        if clear_notice:
            self.window.dismiss_notice()
        self._call("connect", self.svc.connect, self._connected, self._went_offline)

    def _can_pause(self) -> bool:
        """Nothing in flight and no trade being sent: a short pause goes unnoticed."""
        dialogs = [self.dialog, *self._background]
        sending = any(d is not None and getattr(d, "sending", False) for d in dialogs)
        return not sending and worker.pending() == 0

    def shutdown(self) -> None:
        self.gc_pacer.stop()
        self.status_timer.stop()
        self.idle.stop()
        worker.wait_idle(3_000)

    def _connected(self, status: Any) -> None:
        self._apply_status(status)
        self.refresh_all()
        self.window.prepolish()
        if self.address and callable(getattr(self.svc, "pending_list", None)):
            self._call("pending", self.svc.pending_list, self._pending_loaded)

    def _pending_loaded(self, items: list[Any]) -> None:
        """On start: unresolved transactions are listed and nothing is sent until the
        user decides on the Transactions screen."""
        self.pending_items = list(items)
        if not items:
            return
        from ui.labels import label_text

        lines = "\n".join(f"\u2022 {label_text(i.what, self.book.labels)}: {i.state_text}"
                          for i in items)
        self.window.show_notice(
            "warning", f"{len(items)} unresolved transaction{'s' if len(items) != 1 else ''}",
            f"{lines}\nNothing is sent until you decide: send now, cancel or leave it on the "
            "Transactions screen. New trades wait until then.",
            primary="Open Transactions", action=lambda: self.window.navigate("transactions"),
            sticky=True)
        self.window.tx_page.show_message(
            "warning", "Unresolved transactions",
            lines + "\nSelect one, then Send now (same signed bytes, before its deadline), "
            "Cancel (a replacement) or Leave.")

    # -- the one way core calls are made -----------------------------------------------

    def _call(self, key: str | None, fn: Callable[..., Any], on_done: Callable[[Any], None],
              on_error: Callable[[Exception], None] | None = None, *args: Any) -> bool:
        """Submit ``fn(*args)``; with a ``key``, at most one such call is in flight."""
        if key is not None:
            if key in self._busy:
                return False
            self._busy.add(key)

        def done(value: Any) -> None:
            self._busy.discard(key or "")
            on_done(value)

        def failed(exc: Exception) -> None:
            self._busy.discard(key or "")
            (on_error or self._background_error)(exc)

        worker.submit(fn, *args, on_done=done, on_error=failed, context=self)
        return True

    def _background_error(self, exc: Exception) -> None:
        """A refresh failed: offline if the network is the cause, else a notice."""
        advice = describe_error(exc)
        if advice.kind in ("offline", "network"):
            self._went_offline(exc)
        else:
            self.window.show_notice("error", advice.title, advice.message)

    # -- refreshes ---------------------------------------------------------------------

    def refresh_all(self) -> None:
        self.refresh_index()
        self.refresh_history()
        self.refresh_position()
        self.refresh_journal()

    def refresh_index(self) -> None:
        self._call("index", self.svc.index_state, self._index_loaded)

    def _index_loaded(self, state: IndexState) -> None:
        changed = state != self.state
        first = self.state is None
        self.state = state
        if changed:
            self.window.update_view("index", "state", self.window.index_page.show_state, state)
        self.window.set_data_time(self.clock())
        self._update_actions()
        self.depositor.refresh(getattr(state, "block_number", None))
        if first:
            self.gc_pacer.start()
        if isinstance(self.dialog, BuyDialog | SellDialog):
            self.dialog.state = state

    def refresh_history(self) -> None:
        self._call("history", self.svc.nav_history, self._history_loaded)

    def _history_loaded(self, points: list[tuple[datetime, Any]]) -> None:
        first = self.history_at is None
        self.history_at = self.clock()
        if points != self._last.get("history"):
            self._last["history"] = points
            self.window.update_view("index", "history", self.window.index_page.show_history,
                                    points)
        if points and (first or self._last.get("backtest_for") != points[0]):
            # The backtest joins the vault's first NAV: asked for once per first point
            # (about 2 s of work on the worker the first time, cached after).
            self._last["backtest_for"] = points[0]
            backtest = getattr(self.svc, "nav_backtest", None)
            if backtest is not None:
                self._call("backtest", backtest,
                           lambda bt: self._show("index", "backtest",
                                                 self.window.index_page.show_backtest, bt))

    def refresh_position(self) -> None:
        if self.wallet is None:
            self.position = None
            self.window.update_view("my", "position", self.window.my_page.show_position, None,
                                    False)
            return
        self._call("position", self.svc.position, self._position_loaded)
        self._call("trades", self.svc.my_trades,
                   lambda rows: self._show("my", "trades", self.window.my_page.show_trades,
                                           rows))
        self._refresh_requests()
        if callable(getattr(self.svc, "claims", None)):
            self._call("claims", self.svc.claims,
                       lambda rows: self._show("my", "claims",
                                               self.window.my_page.show_claims, rows))

    def _refresh_requests(self) -> None:
        """Pending requests on both screens that list them (My Indices, Transactions)."""
        if self.wallet is None or not callable(getattr(self.svc, "requests", None)):
            return

        def shown(rows: Any) -> None:
            self._show("my", "requests", self.window.my_page.show_requests, rows)
            self._show("transactions", "requests", self.window.tx_page.show_requests, rows)

        self._call("requests", self.svc.requests, shown)

    def _position_loaded(self, position: Position | None) -> None:
        self.position = position
        dlg = self.dialog
        if isinstance(dlg, BuyDialog | SellDialog) and dlg.pages.currentWidget() is dlg.done_page:
            dlg.show_new_position(position)
        self._show("my", "position", self.window.my_page.show_position, position, True)

    def refresh_journal(self) -> None:
        tp = self.window.tx_page
        self._call("events", self.svc.index_events,
                   lambda rows: self._show("transactions", "events", tp.show_events, rows))
        if self.wallet is not None:
            self._call("journal", self.svc.transactions,
                       lambda rows: self._show("transactions", "journal",
                                               tp.show_transactions, rows))
            self._refresh_requests()
        else:
            self._show("transactions", "journal", tp.show_transactions, [])

    def _show(self, page: str, setter: str, fn: Callable[..., None], value: Any,
              *extra: Any) -> None:
        """Hand fresh data to a view, unless it is the same as last time (a refresh after
        every block mostly brings nothing new, and redrawing 100 rows for nothing is what
        makes a window stutter)."""
        key = f"{page}.{setter}"
        if key in self._last and self._last[key] == (value, extra):
            return
        self._last[key] = (value, extra)
        self.window.update_view(page, setter, fn, value, *extra)

    def refresh_status(self) -> None:
        """Timer tick: one block-number call; a new block refreshes the data."""
        self._sync_lock_state()
        self._call("status", self.svc.refresh_status, self._status_loaded, self._went_offline)

    def _status_loaded(self, status: Any) -> None:
        was_offline = self.window.offline
        self._apply_status(status)
        self._update_actions()
        if not status.connected:
            return
        block = getattr(status, "block_number", None)
        new_block = was_offline or (block is not None and block != self.last_block)
        # While the market feed reads (off the devnet), the index is asked again every
        # tick, so that the gauge shows as soon as the feed has its data.
        if new_block or getattr(self.state, "market_refreshing", False):
            self.refresh_index()
        if new_block:
            self.refresh_position()
            self.refresh_journal()
        # A new block may carry a NavUpdated: the chart ends at the current NAV, so it
        # follows the chain (one eth_getLogs from the last scanned block).
        if new_block or self.history_at is None or \
                (self.clock() - self.history_at).total_seconds() > HISTORY_INTERVAL_S:
            self.refresh_history()
        self.last_block = block

    def _apply_status(self, status: Any) -> None:
        self.status = status
        self.window.set_status(status)
        self.window.my_page.set_devnet(bool(getattr(status, "is_devnet", False)))
        if self.last_block is None:
            self.last_block = getattr(status, "block_number", None)
        self.status_timer.start(self._status_interval if status.connected
                                else min(self._status_interval, OFFLINE_RETRY_MS))
        self.window.settings_page.show_connection(
            f"Connected to {getattr(status, 'chain_name', status.network)} (chain "
            f"{status.chain_id})" if status.connected else
            (getattr(status, "error", None) or "Not connected"), bool(status.connected))

    def _went_offline(self, exc: Exception) -> None:
        advice = describe_error(exc)
        self.window.set_offline(True, advice.message or advice.title)
        self._update_actions()
        self.window.settings_page.show_connection(advice.message or advice.title, False)
        self.status_timer.start(min(self._status_interval, OFFLINE_RETRY_MS))

    def _on_navigate(self, key: str) -> None:
        if key == "transactions" and self._started:
            self.refresh_journal()

    # -- wallet, lock --------------------------------------------------------------------

    def reload_wallet(self) -> None:
        """Read the wallet list, the active wallet and its address from the core."""
        self.wallet_list = list(self.svc.wallets())
        self.wallet = self.svc.active_wallet()
        self.identity = self.book.read_identity()
        if self.wallet is None and self.identity is not None:
            self.wallet = self.identity  # a watched wallet: shown, never signing
        self.address = self.svc.active_address() if self.wallet else None
        self.window.settings_page.show_wallets(
            self.wallet_list, self.wallet.name if self.wallet else None, self.address)
        self._show_wallet()

    def _show_wallet(self) -> None:
        info = self.wallet
        unlocked = bool(info) and self.svc.is_unlocked()
        self.window.set_wallet(info.name if info else None, self.address, unlocked)
        self.book.show_identity()
        self.window.set_backup_needed(
            info.name if info is not None and getattr(info, "needs_backup_check", False)
            else None)
        self._update_actions()

    def _update_actions(self) -> None:
        """Buy needs a wallet, the network, and an index that is not paused."""
        has_wallet = self.wallet is not None
        paused = bool(self.state and self.state.paused)
        reason = ("Create or import a wallet first" if not has_wallet else
                  "Offline: buying needs the network" if self.window.offline else
                  "Buying is paused by the index guardian; selling still works." if paused
                  else "")
        if has_wallet and self.book.signing_reason():
            reason = self.book.signing_reason()  # watch-only: no key to sign a buy
        self.window.index_page.set_buy_enabled(not reason, reason)
        self.window.my_page.set_buy_enabled(not reason, reason)

    def _sync_lock_state(self) -> None:
        info = self.wallet
        if info is not None:
            self.window.set_wallet(info.name, self.address, self.svc.is_unlocked())
            self.book.show_identity()

    def _touch(self) -> None:
        try:
            self.svc.touch()
        except Exception:  # noqa: BLE001 - activity bookkeeping must never break input
            log.debug("touch failed", exc_info=True)

    def on_idle(self) -> None:
        """No input for the lock timeout: lock and cover the window."""
        if self.wallet is None or self.window.is_locked_screen() or self.book.signing_reason():
            return  # (a watched wallet has no key to lock)
        dlg = self.dialog
        if dlg is not None and getattr(dlg, "sending", False):
            self.idle.restart()  # never lock in the middle of a transaction
            return
        if dlg is not None and dlg.isVisible():
            dlg.reject()
        self.svc.lock()
        minutes = max(1, round(self.idle.timeout_ms() / 60_000))
        self.window.show_lock(
            f"Locked after {minutes} minute{'s' if minutes != 1 else ''} without activity. "
            "Enter the password to continue." if self.idle.timeout_ms() >= 60_000 else
            "Locked after a period without activity. Enter the password to continue.")
        self._show_wallet()

    def lock_now(self) -> None:
        if self.wallet is None or self.book.signing_reason():
            return
        self.svc.lock()
        self.window.show_lock("Locked. Enter the password to continue.")
        self._show_wallet()

    def unlock_from_overlay(self, password: str) -> None:
        self._call(None, self.svc.unlock, self._unlocked_overlay, self._overlay_failed,
                   password)

    def _unlocked_overlay(self, _result: object) -> None:
        self.window.hide_lock()
        self.idle.restart()
        self._show_wallet()

    def _overlay_failed(self, exc: Exception) -> None:
        advice = describe_error(exc)
        self.window.lock_overlay.set_error(advice.message or advice.title)

    def ensure_unlocked(self, then: Callable[[], None], reason: str = "") -> None:
        """Run ``then`` now if unlocked, else after the password prompt succeeds."""
        if self.book.signing_reason():
            self.window.show_notice("warning", "Nothing can be signed here",
                                    self.book.signing_reason())
            return
        if self.svc.is_unlocked():
            then()
            return
        info = self.wallet
        dlg = UnlockDialog(self.svc, info.name if info else "", reason, self.window)
        dlg.accepted.connect(lambda: (self._show_wallet(), then()))
        dlg.open()
        self.unlock_dialog = dlg

    def select_wallet(self, name: str) -> None:
        self._call("select", self.svc.select_wallet, self._wallet_selected, None, name)

    def _wallet_selected(self, _result: object) -> None:
        self.reload_wallet()
        self.refresh_position()
        self.refresh_journal()

    # -- dialogs -------------------------------------------------------------------------

    def _wallet_name(self) -> str:
        return self.wallet.name if self.wallet else ""

    def open_onboarding(self, first_run: bool = True) -> OnboardingDialog:
        dlg = OnboardingDialog(self.svc, self.window, first_run=first_run)
        dlg.walletReady.connect(self._wallet_ready)
        self.dialog = dlg
        dlg.open()
        return dlg

    def open_backup_check(self) -> BackupCheckDialog | None:
        """The backup check for the active wallet (from the banner on every screen)."""
        if self.wallet is None:
            return None
        dlg = BackupCheckDialog(self.svc, self.wallet.name, self.window)
        dlg.passed.connect(lambda name: (self.reload_wallet(), self.window.show_notice(
            "ok", "Your backup checks out", f"The recovery phrase of \u201c{name}\u201d "
            "matches your written copy.")))
        self.dialog = dlg
        dlg.open()
        return dlg

    def _wallet_ready(self, info: Any) -> None:
        self.reload_wallet()
        self.idle.restart()
        self.refresh_position()
        self.refresh_journal()
        log.info("wallet ready: %s", getattr(info, "name", "?"))
        addr = first_address(info)
        self.window.show_notice("ok", f"Wallet \u201c{info.name}\u201d is ready",
                                f"Address {addr}" if addr else "")

    def open_strategy(self) -> None:
        self._call("strategy", self.svc.strategy, self._show_strategy)

    def _show_strategy(self, strategy: Any) -> None:
        dlg = StrategyDialog(strategy, self.window)
        self.depositor.attach_strategy(dlg)
        self.dialog = dlg
        dlg.open()

    # -- settings ------------------------------------------------------------------------

    def set_theme(self, name: str) -> None:
        """Switch the theme now, then store it (no network involved)."""
        apply_theme(name)
        s = dataclasses.replace(self.svc.settings, theme=name)
        self._call(None, self.svc.save_settings, lambda _r: None,
                   lambda exc: self.window.settings_page.show_error(
                       "The theme could not be saved", describe_error(exc).message), s)

    def save_settings(self, settings: Settings) -> None:
        self.window.set_connecting()
        self._call("settings", self.svc.save_settings, lambda _r: self._settings_saved(settings),
                   self._settings_failed, settings)

    def _settings_saved(self, settings: Settings) -> None:
        self.window.settings_page.show_saved()
        self.window.settings_page.show_settings(self.svc.settings)
        apply_theme(self.svc.settings.theme)
        self.idle.set_timeout_ms(int(getattr(self.svc, "lock_timeout_seconds",
                                             settings.lock_timeout_minutes * 60)) * 1000)
        self.window.set_status(self.svc.network_status())
        self.last_block = None
        self.refresh_all()

    def _settings_failed(self, exc: Exception) -> None:
        advice = describe_error(exc)
        self.window.settings_page.show_error(advice.title, advice.message)
        try:
            self.window.set_status(self.svc.network_status())
        except Exception:  # noqa: BLE001 - the cached status is only decoration here
            log.debug("no cached status", exc_info=True)
