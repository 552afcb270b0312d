"""The visual theme: one palette object per theme, a style sheet per theme, a runtime switch.

Two consumers need the same colours: Qt style sheets (``assets/ui/<theme>.qss``) for the
ordinary widgets, and the custom-painted widgets (treemap, gauge, chart) that draw with
QPainter/pyqtgraph and cannot read a style sheet. :class:`Palette` is the single source for
the second, and a test checks that every colour the style sheets use is one of the
palette's, so the two cannot drift apart.

Switching theme at runtime goes through :class:`ThemeManager` (``theme_manager()``): it sets
the application's style sheet and QPalette, then emits ``changed`` with the new palette;
custom widgets connect to it and repaint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from wallet_app.resources import asset_dir

#: The style sheets and the icon: package data shipped with the core (wallet_app.resources).
ASSETS_DIR = asset_dir("ui")
THEMES = ("light", "dark")


@dataclass(frozen=True)
class Palette:
    """Named colours of one theme, as ``#RRGGBB`` strings (``#AARRGGBB`` where translucent).

    Kept as strings so the object is trivially comparable and printable; painters convert
    through :meth:`q`, which caches the ``QColor``.
    """

    name: str
    window: str  # app background
    surface: str  # cards, tables, inputs
    surface_alt: str  # hover, alternate rows, pressed
    border: str
    text: str
    text_muted: str
    accent: str  # the one accent colour: primary buttons, focus, chart line
    accent_hover: str  # accent under the mouse / pressed
    accent_soft: str  # accent tint behind selected/checked things
    accent_text: str  # text on accent
    positive: str  # gains
    negative: str  # losses
    warning: str  # stale data, offline
    tile_negative: str  # treemap at -10 % or worse
    tile_neutral: str  # treemap at 0 % (and unknown change)
    tile_positive: str  # treemap at +10 % or better
    tile_cash: str  # the USDC tile
    tile_text_light: str
    tile_text_dark: str
    tile_gap: str  # lines between treemap tiles
    band_strong_bear: str
    band_bear: str
    band_neutral: str
    band_bull: str
    band_strong_bull: str
    chart_fill: str  # translucent accent under the NAV line
    grid: str

    def q(self, field_name: str) -> QColor:
        """The QColor of a palette field (cached: paint code calls this per frame)."""
        return _qcolor(getattr(self, field_name))

    @property
    def bands(self) -> tuple[str, str, str, str, str]:
        """Gauge band colours from strong bear to strong bull (METHODOLOGY section 5)."""
        return (
            self.band_strong_bear,
            self.band_bear,
            self.band_neutral,
            self.band_bull,
            self.band_strong_bull,
        )

    def colours(self) -> set[str]:
        """Every colour value of the palette, upper-case, for the style-sheet check."""
        return {getattr(self, f.name).upper() for f in fields(self) if f.name != "name"}


@lru_cache(maxsize=256)
def _qcolor(spec: str) -> QColor:
    return QColor(spec)


LIGHT = Palette(
    name="light",
    window="#F3F5F8",
    surface="#FFFFFF",
    surface_alt="#EEF1F5",
    border="#DCE1E8",
    text="#121826",
    text_muted="#5B6678",
    accent="#2563EB",
    accent_hover="#1D4ED8",
    accent_soft="#DDE8FD",
    accent_text="#FFFFFF",
    positive="#0E8A5B",
    negative="#D12C3A",
    warning="#B45309",
    tile_negative="#CF3B48",
    tile_neutral="#6F7987",
    tile_positive="#15834F",
    tile_cash="#4F6F9F",
    tile_text_light="#FFFFFF",
    tile_text_dark="#121826",
    tile_gap="#FFFFFF",
    band_strong_bear="#C8303C",
    band_bear="#EC8B70",
    band_neutral="#B8BFC9",
    band_bull="#6CC592",
    band_strong_bull="#12895A",
    chart_fill="#262563EB",
    grid="#E6EAF0",
)

DARK = Palette(
    name="dark",
    window="#0E1116",
    surface="#161B22",
    surface_alt="#1E252E",
    border="#2A323D",
    text="#E6EAF0",
    text_muted="#8D97A7",
    accent="#4D8DFF",
    accent_hover="#6FA3FF",
    accent_soft="#1C2C48",
    accent_text="#FFFFFF",
    positive="#34C77B",
    negative="#F25C66",
    warning="#F0A43A",
    tile_negative="#C93643",
    tile_neutral="#3B434F",
    tile_positive="#15864D",
    tile_cash="#34507A",
    tile_text_light="#FFFFFF",
    tile_text_dark="#0E1116",
    tile_gap="#161B22",
    band_strong_bear="#E0444F",
    band_bear="#C9705C",
    band_neutral="#5A6473",
    band_bull="#3FA56F",
    band_strong_bull="#2FCB7B",
    chart_fill="#334D8DFF",
    grid="#222932",
)

PALETTES: dict[str, Palette] = {"light": LIGHT, "dark": DARK}


def load_stylesheet(name: str) -> str:
    """The style sheet text of a theme, from ``assets/ui/<name>.qss``."""
    if name not in PALETTES:
        raise ValueError(f"unknown theme {name!r}; expected one of {', '.join(THEMES)}")
    text = (ASSETS_DIR / f"{name}.qss").read_text(encoding="utf-8")
    # Images in the sheet (the check mark) are package data: Qt resolves a relative url()
    # against the working directory, so the sheet names them by the asset folder's path.
    return text.replace("@ASSETS@", ASSETS_DIR.as_posix())


def qpalette_for(p: Palette) -> QPalette:
    """A QPalette matching the theme, for the parts style sheets do not reach (menus,
    native dialogs, the Fusion style's own drawing)."""
    qp = QPalette()
    roles = {
        QPalette.ColorRole.Window: p.window,
        QPalette.ColorRole.WindowText: p.text,
        QPalette.ColorRole.Base: p.surface,
        QPalette.ColorRole.AlternateBase: p.surface_alt,
        QPalette.ColorRole.ToolTipBase: p.surface,
        QPalette.ColorRole.ToolTipText: p.text,
        QPalette.ColorRole.PlaceholderText: p.text_muted,
        QPalette.ColorRole.Text: p.text,
        QPalette.ColorRole.Button: p.surface,
        QPalette.ColorRole.ButtonText: p.text,
        QPalette.ColorRole.BrightText: p.negative,
        QPalette.ColorRole.Highlight: p.accent,
        QPalette.ColorRole.HighlightedText: p.accent_text,
        QPalette.ColorRole.Link: p.accent,
        QPalette.ColorRole.Mid: p.border,
    }
    for role, spec in roles.items():
        qp.setColor(role, QColor(spec))
    qp.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(p.text_muted))
    qp.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(p.text_muted))
    qp.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor(p.text_muted))
    return qp


class ThemeManager(QObject):
    """Holds the current theme and switches it at runtime.

    Custom widgets read :attr:`palette` when painting and connect to :attr:`changed` to
    repaint; ordinary widgets follow the application style sheet by themselves.
    """

    changed = Signal(object)  # the new Palette

    def __init__(self, name: str = "light") -> None:
        super().__init__()
        if name not in PALETTES:
            raise ValueError(f"unknown theme {name!r}")
        self._name = name
        self._extra_sheets: list[Callable[[Palette], str]] = []

    def add_stylesheet(self, provider: Callable[[Palette], str]) -> None:
        """Append more style-sheet rules (e.g. the screens' own) for every theme.

        ``provider`` gets the palette being applied and returns QSS text; it is appended
        after the theme's sheet on every :meth:`apply`, so a theme switch keeps it.
        """
        self._extra_sheets.append(provider)

    def stylesheet(self, name: str | None = None) -> str:
        """The full application style sheet of a theme: its QSS file plus the extras."""
        name = self._name if name is None else name
        parts = [load_stylesheet(name), *(f(PALETTES[name]) for f in self._extra_sheets)]
        return "\n".join(parts)

    @property
    def name(self) -> str:
        return self._name

    @property
    def palette(self) -> Palette:
        return PALETTES[self._name]

    def apply(self, name: str | None = None, app: QApplication | None = None) -> Palette:
        """Switch to theme ``name`` (the current one when None) and restyle the app.

        Safe before a QApplication exists: then only the palette object changes, which
        is all a unit test of a painted widget needs.
        """
        name = self._name if name is None else name
        if name not in PALETTES:
            raise ValueError(f"unknown theme {name!r}; expected one of {', '.join(THEMES)}")
        self._name = name
        p = PALETTES[name]
        app = app or QApplication.instance()  # type: ignore[assignment]
        if isinstance(app, QApplication):
            app.setStyle("Fusion")  # the same base look on every platform, QSS on top
            app.setPalette(qpalette_for(p))
            app.setStyleSheet(self.stylesheet(name))
        self.changed.emit(p)
        return p

    def toggle(self) -> Palette:
        """Light <-> dark, for a menu action or a settings switch."""
        return self.apply("dark" if self._name == "light" else "light")


_manager: ThemeManager | None = None


def theme_manager() -> ThemeManager:
    """The application's one ThemeManager (created on first use, light theme)."""
    global _manager
    if _manager is None:
        _manager = ThemeManager()
    return _manager


def current_palette() -> Palette:
    """Shorthand for ``theme_manager().palette``."""
    return theme_manager().palette


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """Linear blend from ``a`` (t=0) to ``b`` (t=1); colour maths only, never money."""
    t = 0.0 if t < 0 else 1.0 if t > 1 else t
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
        a.alphaF() + (b.alphaF() - a.alphaF()) * t,
    )


def _relative_luminance(c: QColor) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio between two colours (1 .. 21)."""
    la, lb = _relative_luminance(a), _relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def readable_text_on(background: QColor, p: Palette) -> QColor:
    """The palette's light or dark tile text, whichever contrasts more with ``background``."""
    light, dark = p.q("tile_text_light"), p.q("tile_text_dark")
    return light if contrast_ratio(background, light) >= contrast_ratio(background, dark) else dark
