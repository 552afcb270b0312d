"""Theme: style sheets use only palette colours, runtime switch reaches painted widgets."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import fields  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from ui.sample_data import sample_state  # noqa: E402
from ui.theme import (  # noqa: E402
    PALETTES,
    THEMES,
    Palette,
    contrast_ratio,
    load_stylesheet,
    theme_manager,
)
from ui.widgets.gauge import RegimeGauge  # noqa: E402
from ui.widgets.nav_chart import NavChart  # noqa: E402
from ui.widgets.treemap import HoldingsTreemap  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def restore_theme(qapp: QApplication) -> Iterator[None]:
    before = theme_manager().name
    yield
    theme_manager().apply(before)


@pytest.mark.parametrize("name", THEMES)
def test_stylesheet_colours_are_palette_colours(name: str) -> None:
    qss = load_stylesheet(name)
    used = {c.upper() for c in re.findall(r"#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?\b", qss)}
    assert used, "style sheet has no colours?"
    stray = used - PALETTES[name].colours()
    assert not stray, f"{name}.qss uses colours not in the palette: {sorted(stray)}"
    assert "rgb(" not in qss.lower()  # every colour goes through the palette check above


@pytest.mark.parametrize("palette", list(PALETTES.values()))
def test_palette_values_are_valid_and_readable(palette: Palette) -> None:
    for f in fields(palette):
        if f.name != "name":
            assert QColor(getattr(palette, f.name)).isValid(), f.name
    # Body text and muted text must be readable on the surfaces they sit on.
    for bg in ("window", "surface", "surface_alt"):
        assert contrast_ratio(palette.q("text"), palette.q(bg)) >= 7.0
        assert contrast_ratio(palette.q("text_muted"), palette.q(bg)) >= 3.5
    for fg in ("positive", "negative"):
        assert contrast_ratio(palette.q(fg), palette.q("surface")) >= 3.0
    assert len(palette.bands) == 5


def test_switch_theme_at_runtime(qtbot: QtBot, restore_theme: None) -> None:
    app = QApplication.instance()
    tm = theme_manager()
    tree = HoldingsTreemap()
    qtbot.addWidget(tree)
    tree.resize(500, 300)
    tree.set_state(sample_state())
    gauge = RegimeGauge()
    qtbot.addWidget(gauge)
    chart = NavChart()
    qtbot.addWidget(chart)
    tm.apply("light")
    neutral_light = tree.tiles()[0].fill
    with qtbot.waitSignal(tm.changed, timeout=1000) as blocker:
        tm.apply("dark")
    assert blocker.args[0] is PALETTES["dark"]
    assert app.styleSheet() == load_stylesheet("dark")
    assert app.palette().color(QPalette.ColorRole.Window) == QColor(PALETTES["dark"].window)
    assert tree.theme_palette().name == "dark"
    assert tree.tiles()[0].fill != neutral_light  # relaid out with the dark palette
    assert chart.plot_widget.backgroundBrush().color() == PALETTES["dark"].q("surface")
    assert not gauge.grab().isNull()
    tm.toggle()
    assert tm.name == "light"


def test_unknown_theme_is_refused() -> None:
    with pytest.raises(ValueError):
        theme_manager().apply("sepia")
    with pytest.raises(ValueError):
        load_stylesheet("sepia")


def test_deleted_widgets_do_not_break_a_switch(qtbot: QtBot, restore_theme: None) -> None:
    """Widgets connect bound methods, so a dead widget is disconnected, not called."""
    for cls in (HoldingsTreemap, RegimeGauge, NavChart):
        w = cls()
        w.deleteLater()
    qtbot.wait(10)
    theme_manager().apply("dark")
    theme_manager().apply("light")


def test_extra_stylesheets_survive_a_switch(restore_theme: None) -> None:
    from ui.theme import ThemeManager

    tm = ThemeManager()
    tm.add_stylesheet(lambda p: f"QLabel#probe {{ color: {p.accent}; }}")
    tm.apply("dark")
    sheet = QApplication.instance().styleSheet()
    assert sheet.startswith(load_stylesheet("dark"))
    assert f"QLabel#probe {{ color: {PALETTES['dark'].accent}; }}" in sheet
    tm.apply("light")
    assert PALETTES["light"].accent in QApplication.instance().styleSheet().split("probe")[1]
