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
import gc
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDialog

from ui import worker
from ui.app import apply_theme
from ui.dialogs.buy_dialog import BuyDialog
from ui.dialogs.common import describe_error, is_locked_error
from ui.dialogs.onboarding import OnboardingDialog, first_address
from ui.dialogs.sell_dialog import SellDialog
from ui.dialogs.strategy_dialog import StrategyDialog
from ui.dialogs.unlock_dialog import UnlockDialog
from ui.main_window import IdleWatcher, MainWindow
from wallet_app.config import Settings
from wallet_app.models import IndexState, Position

log = logging.getLogger(__name__)

STATUS_INTERVAL_MS = 15_000
OFFLINE_RETRY_MS = 5_000
HISTORY_INTERVAL_S = 300


class GcPacer(QObject):
    """Run Python's full garbage collections when the window is quiet, not at random.

    Why: a full (generation 2) collection walks every long-lived object (Qt wrappers,
    web3 contracts and ABI caches, the index data: ~160,000 after start-up) while holding
    the GIL, so the GUI thread stalls until it ends: measured at 60-95 ms, striking in the
    middle of a buy. So, once the first screen of data is up and nothing is in flight,
    everything alive is frozen (``gc.freeze``: later collections skip it) and automatic
    full collections are pushed far out (young collections still run and stay cheap).
    A full collection then runs here every :attr:`every_s` at a moment with no core call
    in flight, no trade being sent and no user input for 3 s; at the latest after
    :attr:`max_wait_s`, unless a trade is being sent.
    """

    def __init__(self, parent: QObject, can_pause: Callable[[], bool],
                 idle_ms: Callable[[], int], every_s: float = 30.0,
                 max_wait_s: float = 300.0) -> None:
        super().__init__(parent)
        self._can_pause = can_pause
        self._idle_ms = idle_ms
        self.every_s = every_s
        self.max_wait_s = max_wait_s
        self._last = time.monotonic()
        self.frozen = False
        self.collections = 0
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._check)

    def start(self) -> None:
        """Arm: freeze at the next quiet moment, then pace the full collections."""
        if not self._timer.isActive():
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _check(self) -> None:
        if not self.frozen:
            if self._can_pause():
                gc.collect()
                gc.freeze()
                young, middle, _ = gc.get_threshold()
                gc.set_threshold(young, middle, 1_000_000)
                self.frozen = True
                self._last = time.monotonic()
                self._timer.setInterval(2_000)
            return
        waited = time.monotonic() - self._last
        if waited < self.every_s:
            return
        quiet = self._can_pause() and self._idle_ms() > 3_000
        if quiet or (waited > self.max_wait_s and self._can_pause()):
            gc.collect()
            self.collections += 1
            self._last = time.monotonic()


class Controller(QObject):
    """Glue between one WalletService and one MainWindow (see the module docstring)."""

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

    # -- wiring ------------------------------------------------------------------------

    def _wire(self) -> None:
        w = self.window
        w.retryRequested.connect(self.refresh_status)
        w.lockRequested.connect(self.lock_now)
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
        tp = w.tx_page
        tp.speedUpRequested.connect(lambda h: self.replace_tx("speed_up", h))
        tp.cancelRequested.connect(lambda h: self.replace_tx("cancel", h))
        tp.sendNowRequested.connect(lambda h: self.resolve_tx("send", h))
        tp.leaveRequested.connect(lambda h: self.resolve_tx("leave", h))
        tp.exportRequested.connect(self.export_csv)
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
        lines = "\n".join(f"\u2022 {i.what}: {i.state_text}" for i in items)
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
        if callable(getattr(self.svc, "requests", None)):
            self._call("requests", self.svc.requests,
                       lambda rows: self._show("my", "requests",
                                               self.window.my_page.show_requests, rows))

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
        if new_block:
            self.refresh_index()
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
        self.address = self.svc.active_address() if self.wallet else None
        self.window.settings_page.show_wallets(
            self.wallet_list, self.wallet.name if self.wallet else None, self.address)
        self._show_wallet()

    def _show_wallet(self) -> None:
        info = self.wallet
        unlocked = bool(info) and self.svc.is_unlocked()
        self.window.set_wallet(info.name if info else None, self.address, unlocked)
        self._update_actions()

    def _update_actions(self) -> None:
        """Buy needs a wallet, the network, and an index that is not paused."""
        has_wallet = self.wallet is not None
        paused = bool(self.state and self.state.paused)
        reason = ("Create or import a wallet first" if not has_wallet else
                  "Offline: buying needs the network" if self.window.offline else
                  "Buying is paused by the index guardian; selling still works." if paused
                  else "")
        self.window.index_page.set_buy_enabled(not reason, reason)
        self.window.my_page.set_buy_enabled(not reason, reason)

    def _sync_lock_state(self) -> None:
        info = self.wallet
        if info is not None:
            self.window.set_wallet(info.name, self.address, self.svc.is_unlocked())

    def _touch(self) -> None:
        try:
            self.svc.touch()
        except Exception:  # noqa: BLE001 - activity bookkeeping must never break input
            log.debug("touch failed", exc_info=True)

    def on_idle(self) -> None:
        """No input for the lock timeout: lock and cover the window."""
        if self.wallet is None or self.window.is_locked_screen():
            return
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
        if self.wallet is None:
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

    def _wallet_ready(self, info: Any) -> None:
        self.reload_wallet()
        self.idle.restart()
        self.refresh_position()
        self.refresh_journal()
        log.info("wallet ready: %s", getattr(info, "name", "?"))
        addr = first_address(info)
        self.window.show_notice("ok", f"Wallet \u201c{info.name}\u201d is ready",
                                f"Address {addr}" if addr else "")

    def open_buy(self) -> BuyDialog | None:
        if self.wallet is None:
            self.open_onboarding()
            return None
        dlg = BuyDialog(self.svc, position=self.position, state=self.state,
                        wallet_name=self._wallet_name(),
                        slippage_bps=self.svc.settings.slippage_bps, parent=self.window)
        dlg.fetch_position_after = False  # _trade_done refreshes it and hands it over
        self._open_trade(dlg)
        return dlg

    def open_sell(self) -> SellDialog | None:
        if self.wallet is None:
            return None
        dlg = SellDialog(self.svc, position=self.position, state=self.state,
                         wallet_name=self._wallet_name(),
                         slippage_bps=self.svc.settings.slippage_bps, parent=self.window)
        dlg.fetch_position_after = False
        self._open_trade(dlg)
        return dlg

    def _open_trade(self, dlg: BuyDialog | SellDialog) -> None:
        dlg.completed.connect(self._trade_done)
        dlg.backgrounded.connect(lambda: self._trade_backgrounded(dlg))
        dlg.failedInBackground.connect(
            lambda title, msg: self._background_failed(dlg, title, msg))
        dlg.settingsRequested.connect(lambda: self.window.navigate("settings"))
        dlg.finished.connect(lambda _r: self._trade_closed(dlg))
        self.dialog = dlg
        dlg.open()

    def _trade_backgrounded(self, dlg: QDialog) -> None:
        """The window was closed while the transaction waits: keep the dialog (it owns
        the worker callbacks) until the outcome arrives, and free the screen."""
        self._background.add(dlg)
        if self.dialog is dlg:
            self.dialog = None
        self.window.show_notice("info", "Your transaction is waiting for a block",
                                "You will see the outcome here. To speed it up or cancel "
                                "it, open Transactions.")
        self.refresh_journal()

    def _background_failed(self, dlg: QDialog, title: str, message: str) -> None:
        self.window.show_notice("error", title, message, sticky=True)
        self._drop_background(dlg)
        self.refresh_journal()
        self.refresh_position()

    def _drop_background(self, dlg: QDialog) -> None:
        if dlg in self._background:
            self._background.discard(dlg)
            dlg.deleteLater()

    def _trade_done(self, result: Any) -> None:
        sender = self.sender()
        if sender in self._background:
            kind = getattr(result, "kind", "") or "trade"
            if getattr(result, "verified", True) is False:
                self.window.show_notice(
                    "warning", f"{str(kind).capitalize()} unverified",
                    f"Transaction {getattr(result, 'tx_hash', '')} was reported mined, but "
                    f"{getattr(result, 'note', '')}. It is not counted in your position.")
            else:
                self.window.show_notice(
                    "ok", f"{str(kind).capitalize()} confirmed",
                    f"Transaction {getattr(result, 'tx_hash', '')} is in block "
                    f"{getattr(result, 'block_number', '?')}.")
            self._drop_background(sender)  # type: ignore[arg-type]
        # These refreshes cover the trade's block; the status timer must not start the
        # same ones again when it sees that block.
        block = getattr(result, "block_number", None)
        if block is not None:
            self.last_block = max(self.last_block or 0, int(block))
        self._show_wallet()
        self.refresh_position()
        self.refresh_journal()
        self.refresh_index()

    def _trade_closed(self, dlg: QDialog) -> None:
        if getattr(dlg, "wants_position_view", False):
            self.window.navigate("my")
        if self.dialog is dlg:
            self.dialog = None
        self._show_wallet()

    def open_strategy(self) -> None:
        self._call("strategy", self.svc.strategy, self._show_strategy)

    def _show_strategy(self, strategy: Any) -> None:
        dlg = StrategyDialog(strategy, self.window)
        self.dialog = dlg
        dlg.open()

    # -- journal actions ---------------------------------------------------------------

    def replace_tx(self, action: str, tx_hash: str) -> None:
        """Speed up or cancel a pending transaction (needs the key: unlock first)."""
        fn = self.svc.speed_up if action == "speed_up" else self.svc.cancel
        verb = "sped up" if action == "speed_up" else "cancelled"

        def run() -> None:
            self._call(None, fn, lambda rec: self._replaced(verb, rec),
                       lambda exc: self._replace_failed(action, tx_hash, exc), tx_hash)

        self.ensure_unlocked(run, "Enter the password to sign the replacement transaction.")

    def resolve_tx(self, action: str, tx_hash: str) -> None:
        """The user's decision on an unresolved transaction: send now or leave it."""
        fn = self.svc.pending_send if action == "send" else self.svc.pending_leave

        def done(rec: Any) -> None:
            title = "Sent again" if action == "send" else "Left as it is"
            self.window.tx_page.show_message(
                "ok", title, f"{rec.tx_hash}: {rec.status_text}."
                + ("" if action == "send" else " Nothing was sent."))
            self.refresh_journal()
            self.refresh_position()

        self._call(None, fn, done, lambda exc: self._replace_failed(action, tx_hash, exc),
                   tx_hash)

    def _replaced(self, verb: str, record: Any) -> None:
        self.window.tx_page.show_message(
            "ok", f"Transaction {verb}",
            f"Replacement {record.tx_hash} sent with nonce {record.nonce}. The status "
            "updates when a block includes one of the two.")
        self.refresh_journal()

    def _replace_failed(self, action: str, tx_hash: str, exc: Exception) -> None:
        if is_locked_error(exc):
            self.ensure_unlocked(lambda: self.replace_tx(action, tx_hash))
            return
        advice = describe_error(exc)
        self.window.tx_page.show_message("error", advice.title, advice.message)
        self.refresh_journal()

    def export_csv(self, path: Path) -> None:
        self._call("export", self.svc.export_csv,
                   lambda n: self.window.tx_page.show_message(
                       "ok", f"Exported {n} transaction{'s' if n != 1 else ''}", str(path)),
                   lambda exc: self.window.tx_page.show_message(
                       "error", "Export failed", describe_error(exc).message), path)

    def faucet(self) -> None:
        self.window.show_notice("info", "Requesting test funds\u2026")
        self._call("faucet", self.svc.faucet, self._fauceted,
                   lambda exc: self.window.show_notice("error", "Test funds failed",
                                                       describe_error(exc).message))

    def cancel_request(self, request_id: int) -> None:
        """Cancel a pending request (one signed transaction), then refresh the position."""
        self.window.show_notice("info", f"Cancelling request #{request_id}\u2026")
        self._call(None, self.svc.cancel_request, self._request_cancelled,
                   lambda exc: (self.window.show_notice("error", "The cancel did not go through",
                                                        describe_error(exc).message),
                                self.refresh_position()), request_id)

    def _request_cancelled(self, result: Any) -> None:
        rid = getattr(result, "request_id", None)
        if getattr(result, "state", "") == "cancelled":
            self.window.show_notice("ok", f"Request #{rid} cancelled",
                                    "Its USDC or shares are back at your address.")
        else:
            self.window.show_notice("info", f"Request #{rid}: {getattr(result, 'state', '')}",
                                    getattr(result, "note", None) or "")
        self.refresh_position()

    def _fauceted(self, _r: object) -> None:
        self.window.show_notice("ok", "Test funds sent",
                                "Test ETH and USDC arrived at your address (devnet only).")
        self.refresh_position()

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
