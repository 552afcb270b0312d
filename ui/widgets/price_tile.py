"""The price tile: NAV per share, 24 h and 7 d change, and how old the figures are.

Built from ordinary labels styled by the theme's style sheet (roles ``title``, ``value``,
``caption``; ``trend`` up/down/flat/none; ``state`` live/stale/offline), so a theme switch
restyles it with no code here. Money is formatted from ``Decimal`` by
:mod:`ui.formatting`; the change figures carry an arrow so direction never depends on
colour alone.

The age line matters for a wallet: a price without its age invites trading on stale data.
It says "updated 2 min ago" while live, turns to the warning colour past
``STALE_AFTER``, and when offline says so and gives the time of the data shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ui import formatting as fmt
from wallet_app.models import IndexState

STALE_AFTER = timedelta(minutes=10)


def _set_prop(label: QLabel, name: str, value: str) -> None:
    """Set a style-sheet property and re-polish so the new rule applies at once."""
    if label.property(name) == value:
        return
    label.setProperty(name, value)
    style = label.style()
    style.unpolish(label)
    style.polish(label)


class PriceTile(QFrame):
    """Card with the index's NAV per share, its 24 h / 7 d change and data age."""

    def __init__(
        self,
        parent: QWidget | None = None,
        clock: Callable[[], datetime] | None = None,
        tz: tzinfo | None = None,
        title: str = "TM Global 100 \u00b7 NAV per share",
    ) -> None:
        super().__init__(parent)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._tz = tz
        self._as_of: datetime | None = None
        self._offline = False
        self.setProperty("card", "true")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        self.title_label = QLabel(title.upper())
        self.title_label.setProperty("role", "title")
        self.nav_label = QLabel(fmt.DASH)
        self.nav_label.setProperty("role", "value")
        self.nav_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.unit_label = QLabel("USDC")
        self.unit_label.setProperty("role", "muted")
        self.change_24h_label = QLabel(fmt.DASH)
        self.change_7d_label = QLabel(fmt.DASH)
        for lab in (self.change_24h_label, self.change_7d_label):
            lab.setProperty("trend", "none")
        self.cap_24h, self.cap_7d = cap_24h, cap_7d = QLabel("24 h"), QLabel("7 d")
        for lab in (cap_24h, cap_7d):
            lab.setProperty("role", "caption")
        self.age_label = QLabel("")
        self.age_label.setProperty("state", "live")

        value_row = QHBoxLayout()
        value_row.setSpacing(6)
        value_row.addWidget(self.nav_label, 0, Qt.AlignmentFlag.AlignBaseline)
        value_row.addWidget(self.unit_label, 0, Qt.AlignmentFlag.AlignBaseline)
        value_row.addStretch(1)

        change_row = QHBoxLayout()
        change_row.setSpacing(6)
        change_row.addWidget(self.change_24h_label)
        change_row.addWidget(cap_24h)
        change_row.addSpacing(18)
        change_row.addWidget(self.change_7d_label)
        change_row.addWidget(cap_7d)
        change_row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(6)
        layout.addWidget(self.title_label)
        layout.addLayout(value_row)
        layout.addLayout(change_row)
        layout.addWidget(self.age_label)

        self._timer = QTimer(self)
        self._timer.setInterval(15_000)  # minute resolution is all the age line shows
        self._timer.timeout.connect(self.refresh_age)

    # -- public API -------------------------------------------------------------------

    def set_nav(
        self,
        nav: Decimal | None,
        change_24h: Decimal | None = None,
        change_7d: Decimal | None = None,
        as_of: datetime | None = None,
    ) -> None:
        """Show a NAV per share (USDC) with its changes (fractions) and the data time."""
        self.nav_label.setText(
            fmt.DASH if nav is None else fmt.format_number(nav, fmt.nav_places(nav))
        )
        for label, change in ((self.change_24h_label, change_24h),
                              (self.change_7d_label, change_7d)):
            label.setText(fmt.format_change(change))
            _set_prop(label, "trend", fmt.trend(change))
        self._as_of = as_of
        self.refresh_age()

    def set_state(self, state: IndexState) -> None:
        """NAV, changes and ``as_of`` from an IndexState."""
        # On the devnet's accelerated market the changes span market days, not clock hours:
        # say so rather than label 30 s of chain time "24 h".
        # (short: the tile is narrow; the tooltip and the header say what a day is here).
        demo = bool(state.demo_speed)
        self.cap_24h.setText("1 day" if demo else "24 h")
        self.cap_7d.setText("7 days" if demo else "7 d")
        tip = (f"Market days of the demo ({state.demo_speed})" if demo else "")
        for lab in (self.cap_24h, self.cap_7d, self.change_24h_label, self.change_7d_label):
            lab.setToolTip(tip)
        self.set_nav(state.nav_per_share, state.change_24h, state.change_7d, state.as_of)

    def set_offline(self, offline: bool) -> None:
        """Offline keeps the last figures visible and says how old they are."""
        self._offline = offline
        self.refresh_age()

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.refresh_age()

    def is_offline(self) -> bool:
        return self._offline

    def refresh_age(self) -> None:
        """Recompute the age line (called by a timer while visible)."""
        if self._as_of is None:
            text, state = ("offline \u2014 no data yet" if self._offline else ""), (
                "offline" if self._offline else "live")
        elif self._offline:
            text = f"offline \u2014 data from {fmt.format_timestamp(self._as_of, self._tz)}"
            state = "offline"
        else:
            now = self._clock()
            text = f"updated {fmt.format_age(self._as_of, now)}"
            aware = self._as_of if self._as_of.tzinfo else self._as_of.replace(tzinfo=UTC)
            state = "stale" if now - aware > STALE_AFTER else "live"
        self.age_label.setText(text)
        _set_prop(self.age_label, "state", state)

    # -- internals --------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API name
        self.refresh_age()
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt API name
        self._timer.stop()
        super().hideEvent(event)
