"""Price tile: NAV from Decimal, coloured changes with arrows, data age and offline."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC, datetime, timedelta  # noqa: E402
from decimal import Decimal as D  # noqa: E402

import pytest  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from ui.sample_data import SAMPLE_AS_OF, sample_state  # noqa: E402
from ui.widgets.price_tile import PriceTile  # noqa: E402

pytestmark = pytest.mark.gui


def _tile(qtbot: QtBot, now: datetime = SAMPLE_AS_OF) -> PriceTile:
    t = PriceTile(clock=lambda: now, tz=UTC)
    qtbot.addWidget(t)
    return t


def test_shows_nav_and_changes(qtbot: QtBot) -> None:
    t = _tile(qtbot)
    t.set_state(sample_state())
    assert t.nav_label.text() == "1.2835"
    assert t.unit_label.text() == "USDC"
    assert t.change_24h_label.text() == "\u25b2 2.31%"
    assert t.change_24h_label.property("trend") == "up"
    assert t.change_7d_label.text() == "\u25bc 4.12%"
    assert t.change_7d_label.property("trend") == "down"
    assert t.age_label.text() == "updated 2 min ago"
    assert t.age_label.property("state") == "live"


def test_large_nav_and_unknown_values(qtbot: QtBot) -> None:
    t = _tile(qtbot)
    t.set_nav(D("12345.678"), None, D("0"), None)
    assert t.nav_label.text() == "12,345.68"
    assert t.change_24h_label.text() == "\u2014"
    assert t.change_24h_label.property("trend") == "none"
    assert t.change_7d_label.property("trend") == "flat"
    t.set_nav(None)
    assert t.nav_label.text() == "\u2014"


def test_stale_and_offline(qtbot: QtBot) -> None:
    as_of = datetime(2026, 11, 25, 11, 58, tzinfo=UTC)
    t = _tile(qtbot, now=as_of + timedelta(minutes=40))
    t.set_nav(D("1.5"), D("0.01"), D("0.02"), as_of)
    assert t.age_label.text() == "updated 40 min ago"
    assert t.age_label.property("state") == "stale"
    t.set_offline(True)
    assert t.is_offline()
    assert t.age_label.text() == "offline \u2014 data from 25 Nov 2026 11:58 UTC"
    assert t.age_label.property("state") == "offline"
    assert t.nav_label.text() == "1.5000"  # the last figures stay visible
    t.set_offline(False)
    assert t.age_label.property("state") == "stale"


def test_age_refreshes_from_the_clock(qtbot: QtBot) -> None:
    now = [SAMPLE_AS_OF]
    t = PriceTile(clock=lambda: now[0], tz=UTC)
    qtbot.addWidget(t)
    t.set_state(sample_state())
    now[0] = SAMPLE_AS_OF + timedelta(minutes=5)
    t.refresh_age()
    assert t.age_label.text() == "updated 7 min ago"
    t.show()
    assert t._timer.isActive()


def test_demo_market_says_market_days(qtbot: QtBot) -> None:
    import dataclasses

    t = _tile(qtbot)
    demo = "demo speed: 1 market day every 30 s"
    t.set_state(dataclasses.replace(sample_state(), demo_speed=demo))
    assert (t.cap_24h.text(), t.cap_7d.text()) == ("1 day", "7 days")
    assert "Market days" in t.cap_24h.toolTip()
    t.set_state(sample_state())
    assert (t.cap_24h.text(), t.cap_7d.text()) == ("24 h", "7 d")
