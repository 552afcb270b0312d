"""The main window: sidebar navigation, the four screens, a status bar, and the lock screen.

The window is a view like the pages: it shows what the controller gives it (network
status, offline state, wallet name, notices) and turns clicks into signals. Two pieces of
behaviour live here because they are about the window itself:

* :class:`IdleWatcher` notices the absence of keyboard and mouse input anywhere in the
  application. After the lock timeout the controller locks the wallet and the window
  covers everything with :class:`LockOverlay`, which asks for the password: a wallet left
  open on an unattended desk must not show balances or accept a click on "Buy".
* The offline state: when the node cannot be reached the screens keep their last figures
  (an empty screen helps nobody) and the window says, in the status bar and a banner, how
  old those figures are, refreshing that age every few seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import shiboken6
from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QPainter, QPaintEvent, QPen, QWindow
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui.app import style_window
from ui.pages.approvals_page import ApprovalsPage
from ui.pages.common import Banner, Card, button, label, set_prop, short_hex
from ui.pages.index_page import IndexPage
from ui.pages.my_indices_page import MyIndicesPage
from ui.pages.settings_page import SettingsPage
from ui.pages.transactions_page import TransactionsPage
from ui.theme import theme_manager
from ui.widgets.account_header import AccountHeader

NAV_ITEMS = (
    ("index", "Index", "\u25a6"),
    ("my", "My Indices", "\u25d4"),
    ("transactions", "Transactions", "\u21c5"),
    ("approvals", "Approvals", "\u2713"),
    ("settings", "Settings", "\u2699"),
)
_ACTIVITY_EVENTS = {
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.KeyPress,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}


class IdleWatcher(QObject):
    """Emits :attr:`idle` after ``timeout_ms`` without user input anywhere in the app.

    It watches the top-level *windows* (``QWindow``), where the platform delivers every
    key press, click, wheel and mouse move before Qt routes it to a widget, and only
    looks (never consumes). Not the whole application: an application-wide filter is a
    Python call for every event of every object (each paint, timer and the hundreds of
    notifications a dialog closing sends), and each such call must take the GIL from
    busy worker threads: measured, that alone stretched a dialog closing after a trade
    to 60 ms. New windows (dialogs) are picked up when they get the focus.
    :attr:`activity` fires at most every ``touch_every_ms`` so the core's own idle clock
    (``WalletService.touch``) can follow without a call per mouse move.
    """

    idle = Signal()
    activity = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None,
                 touch_every_ms: int = 5_000) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle)
        self._timeout_ms = timeout_ms
        self._touch_every_ms = touch_every_ms
        self._touch_gate = QTimer(self)
        self._touch_gate.setSingleShot(True)
        self._since = QElapsedTimer()
        self._since.start()
        self._watched: set[int] = set()
        self.enabled = True
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self.watch_window)
            for w in app.topLevelWindows():
                self.watch_window(w)
        self._timer.start(timeout_ms)

    def watch_window(self, window: QWindow | None) -> None:
        """Look at this window's input from now on (idempotent)."""
        if window is None or id(window) in self._watched:
            return
        self._watched.add(id(window))
        window.installEventFilter(self)
        window.destroyed.connect(lambda *_a, k=id(window): self._watched.discard(k))

    def note_activity(self) -> None:
        """Count as input (for input that does not pass through a window, e.g. tests)."""
        self._since.restart()
        if self.enabled:
            self._timer.start(self._timeout_ms)
        if not self._touch_gate.isActive():
            self._touch_gate.start(self._touch_every_ms)
            self.activity.emit()

    def set_timeout_ms(self, timeout_ms: int) -> None:
        self._timeout_ms = max(50, int(timeout_ms))
        self.restart()

    def timeout_ms(self) -> int:
        return self._timeout_ms

    def restart(self) -> None:
        if self.enabled:
            self._timer.start(self._timeout_ms)

    def ms_since_activity(self) -> int:
        """Milliseconds since the last key press, click, wheel or mouse move."""
        return int(self._since.elapsed())

    def remaining_ms(self) -> int:
        return self._timer.remainingTime()

    def stop(self) -> None:
        self._timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() in _ACTIVITY_EVENTS:
            self.note_activity()
        return False


class LockIcon(QWidget):
    """A padlock drawn with QPainter in the accent colour (no icon font is assumed)."""

    def __init__(self, parent: QWidget | None = None, size: int = 48) -> None:
        super().__init__(parent)
        self.setFixedSize(size, size)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API name
        p = theme_manager().palette
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        w, h = float(self.width()), float(self.height())
        pen = QPen(p.q("accent"), w * 0.1)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        shackle = QRectF(w * 0.28, h * 0.08, w * 0.44, h * 0.5)
        painter.drawArc(shackle, 0, 180 * 16)
        painter.drawLine(QPointF(w * 0.28, h * 0.33), QPointF(w * 0.28, h * 0.46))
        painter.drawLine(QPointF(w * 0.72, h * 0.33), QPointF(w * 0.72, h * 0.46))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(p.q("accent"))
        painter.drawRoundedRect(QRectF(w * 0.16, h * 0.44, w * 0.68, h * 0.5), w * 0.08,
                                w * 0.08)
        painter.setBrush(p.q("accent_text"))
        painter.drawEllipse(QPointF(w * 0.5, h * 0.64), w * 0.06, w * 0.06)
        painter.drawRect(QRectF(w * 0.48, h * 0.66, w * 0.04, h * 0.14))
        painter.end()


class LockOverlay(QWidget):
    """Covers the whole window while the wallet is locked; asks for the password."""

    unlockRequested = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("lockOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        card = Card()
        card.setFixedWidth(440)
        card.body.setContentsMargins(32, 28, 32, 26)
        card.body.setSpacing(10)
        icon = LockIcon()
        self.title = label("Wallet locked", "heading")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason = label("", "muted", wrap=True, name="lockReason")
        self.reason.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.password = QLineEdit()
        self.password.setObjectName("lockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password")
        self.password.setMinimumHeight(36)
        self.password.returnPressed.connect(self._submit)
        self.error = label("", "field-error", wrap=True, name="lockError")
        self.error.hide()
        self.unlock_button = button("Unlock", primary=True, name="lockUnlock")
        self.unlock_button.setMinimumHeight(36)
        self.unlock_button.clicked.connect(self._submit)
        card.body.addWidget(icon, 0, Qt.AlignmentFlag.AlignHCenter)
        for w in (self.title, self.reason):
            card.body.addWidget(w)
        card.body.addSpacing(6)
        card.body.addWidget(self.password)
        card.body.addWidget(self.error)
        card.body.addWidget(self.unlock_button)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        lay.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(2)
        parent.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self.parent() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def present(self, reason: str) -> None:
        self.reason.setText(reason)
        self.error.hide()
        self.password.clear()
        self.set_busy(False)
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_error(self, text: str) -> None:
        self.set_busy(False)
        self.error.setText(text)
        self.error.show()
        self.password.selectAll()
        self.password.setFocus()

    def set_busy(self, busy: bool) -> None:
        self.unlock_button.setEnabled(not busy)
        self.password.setEnabled(not busy)
        self.unlock_button.setText("Unlocking\u2026" if busy else "Unlock")

    def _submit(self) -> None:
        pw = self.password.text()
        if not pw:
            self.set_error("Enter the password.")
            return
        self.set_busy(True)
        self.unlockRequested.emit(pw)


class MainWindow(QMainWindow):
    """Sidebar + stacked screens + status bar + lock overlay.

    Signals:
        navigated(str): a sidebar item was chosen ("index", "my", "transactions",
            "settings").
        lockRequested(): the sidebar's Lock button.
        retryRequested(): "Retry now" on the offline banner.
        backupCheckRequested(): "Check backup" on the unchecked-backup banner.
    """

    navigated = Signal(str)
    lockRequested = Signal()
    retryRequested = Signal()
    backupCheckRequested = Signal()

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.setWindowTitle("TM Global 100 Wallet")
        self.setMinimumSize(1024, 680)
        self.offline = False
        self.data_as_of: datetime | None = None
        self.status: Any = None

        # Screens
        self.index_page = IndexPage(clock=clock)
        self.my_page = MyIndicesPage()
        self.tx_page = TransactionsPage()
        self.settings_page = SettingsPage()
        self.approvals_page = ApprovalsPage()
        self.pages: dict[str, QWidget] = {
            "index": self.index_page, "my": self.my_page,
            "transactions": self.tx_page, "approvals": self.approvals_page,
            "settings": self.settings_page,
        }
        self.stack = QStackedWidget()
        for w in self.pages.values():
            self.stack.addWidget(w)

        # Sidebar
        side = QWidget()
        side.setObjectName("sidebar")
        side.setFixedWidth(196)
        side.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        slay = QVBoxLayout(side)
        slay.setContentsMargins(14, 20, 14, 16)
        slay.setSpacing(4)
        name = label("TM Global 100", name="appName")
        tagline = label("Self-custodial index wallet", name="appTagline")
        slay.addWidget(name)
        slay.addWidget(tagline)
        slay.addSpacing(18)
        self.nav_group = QButtonGroup(self)
        self.nav_group.setExclusive(True)
        self.nav_buttons: dict[str, QPushButton] = {}
        for key, text, glyph in NAV_ITEMS:
            b = QPushButton(f"{glyph}  {text}")
            b.setObjectName(f"nav_{key}")
            b.setProperty("nav", "true")
            b.setCheckable(True)
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.clicked.connect(lambda _c=False, k=key: self.navigate(k))
            self.nav_group.addButton(b)
            self.nav_buttons[key] = b
            slay.addWidget(b)
        slay.addStretch(1)
        wallet_card = Card(margins=(12, 10, 12, 10))
        self.wallet_name = label("No wallet", name="walletName")
        self.wallet_name.setProperty("role", "subheading")
        # "Wallet · Account N" is wider than the sidebar: wrap it rather than cut it off.
        self.wallet_name.setWordWrap(True)
        self.wallet_address = label("", "caption", name="walletAddress")
        self.wallet_state = label("", "caption", name="walletState")
        self.backup_badge = label("\u26a0 Backup unchecked", "caption", wrap=True,
                                  name="backupBadge")
        self.backup_badge.setProperty("trend", "down")
        self.backup_badge.hide()
        self.lock_button = button("Lock", name="lockButton",
                                  tooltip="Lock the wallet now (the password unlocks it)")
        self.lock_button.clicked.connect(self.lockRequested)
        wallet_card.body.setSpacing(2)
        wallet_card.body.addWidget(self.wallet_name)
        wallet_card.body.addWidget(self.wallet_address)
        wallet_card.body.addWidget(self.wallet_state)
        wallet_card.body.addWidget(self.backup_badge)
        wallet_card.body.addSpacing(6)
        wallet_card.body.addWidget(self.lock_button)
        slay.addWidget(wallet_card)

        # Content: notice banner over the stacked screens
        self.notice = Banner()
        self.notice.primary.clicked.connect(self._notice_action)
        self.notice.secondary.clicked.connect(self.dismiss_notice)
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(self._auto_clear_notice)
        content = QWidget()
        clay = QVBoxLayout(content)
        clay.setContentsMargins(0, 0, 0, 0)
        clay.setSpacing(0)
        # Who the app acts for, on every screen (account name and address, watch-only).
        self.account_header = AccountHeader()
        header_box = QWidget()
        hlay = QVBoxLayout(header_box)
        hlay.setContentsMargins(24, 12, 24, 0)
        hlay.addWidget(self.account_header)
        clay.addWidget(header_box)
        # Above every screen while the active phrase wallet's backup is unchecked.
        self.backup_banner = Banner()
        self.backup_banner.setObjectName("backupBanner")
        self.backup_banner.primary.clicked.connect(self.backupCheckRequested)
        notice_box = QWidget()
        nlay = QVBoxLayout(notice_box)
        nlay.setContentsMargins(24, 12, 24, 0)
        nlay.addWidget(self.backup_banner)
        nlay.addWidget(self.notice)
        self.notice_box = notice_box
        notice_box.hide()
        clay.addWidget(notice_box)
        clay.addWidget(self.stack, 1)

        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(side)
        row.addWidget(content, 1)
        self.setCentralWidget(central)
        self.lock_overlay = LockOverlay(central)

        # Status bar
        sb = self.statusBar()
        sb.setSizeGripEnabled(False)
        self.conn_label = label("\u25cf Connecting\u2026", name="connLabel")
        self.conn_label.setProperty("conn", "connecting")
        self.network_label = label("", name="networkLabel")
        self.block_label = label("", name="blockLabel")
        self.age_label = label("", name="ageLabel")
        sb.addWidget(self.conn_label)
        sb.addWidget(self.network_label)
        sb.addWidget(self.block_label)
        sb.addPermanentWidget(self.age_label)
        self._age_timer = QTimer(self)
        self._age_timer.setInterval(5_000)
        self._age_timer.timeout.connect(self.refresh_age)
        self._age_timer.start()
        self._notice_action_fn: Callable[[], None] | None = None
        self._pending: dict[tuple[str, str], tuple[Callable[..., None], tuple[Any, ...]]] = {}
        style_window(self)
        self.navigate("index")

    # -- navigation ------------------------------------------------------------------

    def navigate(self, key: str) -> None:
        self._flush(key)
        self.stack.setCurrentWidget(self.pages[key])
        self.nav_buttons[key].setChecked(True)
        self.navigated.emit(key)

    # -- deferred view updates ---------------------------------------------------------
    #
    # Filling a screen nobody is looking at costs GUI-thread time (model resets, column
    # sizing, relayout) at the worst moment: right after a trade, when several refreshes
    # land at once. So a hidden screen only remembers the latest data per setter and
    # applies it when it is shown.

    def update_view(self, page: str, setter: str, fn: Callable[..., None], *args: Any
                    ) -> None:
        """Call ``fn(*args)`` now if ``page`` is on screen, else when it is next shown."""
        if self.stack.currentWidget() is self.pages[page]:
            self._pending.pop((page, setter), None)
            fn(*args)
        else:
            self._pending[(page, setter)] = (fn, args)

    def _flush(self, page: str) -> None:
        for key in [k for k in self._pending if k[0] == page]:
            fn, args = self._pending.pop(key)
            fn(*args)

    def pending_updates(self) -> list[tuple[str, str]]:
        return list(self._pending)

    def prepolish(self, batch: int = 30) -> None:
        """Apply the style sheets to the hidden screens' widgets a few at a time while
        the app is idle, so the first visit (or a dialog closing, which re-checks every
        widget) does not pay for it in one long stall."""
        widgets = [w for key, page in self.pages.items() if page is not self.stack.currentWidget()
                   for w in [page, *page.findChildren(QWidget)]]

        def step() -> None:
            for _ in range(batch):
                if not widgets:
                    return
                w = widgets.pop()
                if shiboken6.isValid(w):
                    w.ensurePolished()
            QTimer.singleShot(0, step)

        QTimer.singleShot(0, step)

    def current_page(self) -> str:
        w = self.stack.currentWidget()
        return next(k for k, p in self.pages.items() if p is w)

    # -- status ------------------------------------------------------------------------

    def set_status(self, status: Any) -> None:
        """Show a NetworkStatus: network, chain, block height, connection state."""
        self.status = status
        chain = getattr(status, "chain_name", "") or getattr(status, "network", "")
        self.network_label.setText(f"{chain} \u00b7 chain {status.chain_id}")
        block = getattr(status, "block_number", None)
        self.block_label.setText(f"Block {block:,}" if block is not None else "Block \u2014")
        if status.connected:
            self.conn_label.setText("\u25cf Connected")
            set_prop(self.conn_label, "conn", "online")
            self.conn_label.setToolTip(f"RPC {getattr(status, 'rpc_url', '')}")
        else:
            self.conn_label.setText("\u25cf Offline")
            set_prop(self.conn_label, "conn", "offline")
            self.conn_label.setToolTip(getattr(status, "error", "") or "")
        self.set_offline(not status.connected, getattr(status, "error", None))

    def set_connecting(self) -> None:
        self.conn_label.setText("\u25cf Connecting\u2026")
        set_prop(self.conn_label, "conn", "connecting")

    def set_offline(self, offline: bool, reason: str | None = None) -> None:
        """Offline keeps every screen's data and says how old it is."""
        was = self.offline
        self.offline = offline
        self.index_page.set_offline(offline)
        if offline:
            self.conn_label.setText("\u25cf Offline")
            set_prop(self.conn_label, "conn", "offline")
            self.show_notice(
                "warning", "You are offline",
                (reason + " " if reason else "")
                + self._age_sentence() + " The app retries every few seconds.",
                primary="Retry now", action=self.retryRequested.emit, sticky=True)
        elif was:
            self.dismiss_notice()
        self.refresh_age()

    def set_data_time(self, as_of: datetime | None) -> None:
        """When the figures on screen were read (for the age shown while offline)."""
        self.data_as_of = as_of
        self.refresh_age()

    def _age_sentence(self) -> str:
        if self.data_as_of is None:
            return "No data has been loaded yet."
        return (f"The figures shown are from {fmt.format_timestamp(self.data_as_of)} "
                f"({fmt.format_age(self.data_as_of, self.clock())}).")

    def refresh_age(self) -> None:
        if self.data_as_of is None:
            self.age_label.setText("")
            return
        age = fmt.format_age(self.data_as_of, self.clock())
        if self.offline:
            self.age_label.setText(f"Offline \u00b7 showing data from "
                                   f"{fmt.format_timestamp(self.data_as_of)} ({age})")
            set_prop(self.age_label, "conn", "offline")
            if self.notice.isVisible() and self.notice.kind() == "warning":
                self.notice.message.setText(self._age_sentence()
                                            + " The app retries every few seconds.")
        else:
            self.age_label.setText(f"Data updated {age}")
            set_prop(self.age_label, "conn", "")

    # -- wallet ------------------------------------------------------------------------

    def set_wallet(self, name: str | None, address: str | None, unlocked: bool) -> None:
        self.wallet_name.setText(name or "No wallet")
        self.wallet_name.setToolTip(name or "")
        self.wallet_address.setText(short_hex(address, 8, 6) if address else
                                    "Create or import one")
        self.wallet_address.setToolTip(address or "")
        self.wallet_state.setText(("\u25cf Unlocked \u2014 can sign" if unlocked
                                   else "\u25cb Locked") if name else "")
        self.lock_button.setVisible(bool(name) and unlocked)

    def set_backup_needed(self, wallet_name: str | None) -> None:
        """Show (a name) or hide (None) the unchecked-backup banner and sidebar badge."""
        self.backup_badge.setVisible(wallet_name is not None)
        if wallet_name is None:
            self.backup_banner.clear()
        else:
            self.backup_banner.show_message(
                "warning", "Your recovery phrase backup is not checked",
                f"If this computer is lost, the phrase is the only way back to the funds in "
                f"\u201c{wallet_name}\u201d. Check your written copy now.",
                primary="Check backup")
        self._sync_notice_box()

    def _sync_notice_box(self) -> None:
        self.notice_box.setVisible(not self.backup_banner.isHidden()
                                   or not self.notice.isHidden())

    def show_lock(self, reason: str) -> None:
        self.lock_overlay.present(reason)

    def hide_lock(self) -> None:
        self.lock_overlay.hide()

    def is_locked_screen(self) -> bool:
        return self.lock_overlay.isVisible()

    # -- notices -----------------------------------------------------------------------

    def show_notice(self, kind: str, title: str, message: str = "", *, primary: str = "",
                    action: Callable[[], None] | None = None, sticky: bool = False) -> None:
        """A message strip above the screens; non-sticky ones fade after 10 s."""
        self._notice_action_fn = action
        self.notice.show_message(kind, title, message, primary=primary,
                                 secondary="" if sticky else "Dismiss")
        self.notice_box.show()
        if sticky:
            self._notice_timer.stop()
        else:
            self._notice_timer.start(10_000)

    def _notice_action(self) -> None:
        if self._notice_action_fn is not None:
            self._notice_action_fn()

    def dismiss_notice(self) -> None:
        self.notice.clear()
        self._sync_notice_box()

    def _auto_clear_notice(self) -> None:
        if not self.offline:
            self.dismiss_notice()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API name
        self._age_timer.stop()
        super().closeEvent(event)
