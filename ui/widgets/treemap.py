"""The holdings treemap: one tile per constituent, area by weight, colour by 24 h change.

Geometry comes from the pure, tested layout in :mod:`ui.widgets.treemap_layout`; this
module only decides colours and labels and paints. Work is split so that painting stays
cheap: :meth:`HoldingsTreemap.relayout` (on data, size, font or theme change) computes the
pixel tiles, fills, text colours, fonts and label strings once; ``paintEvent`` then only
fills rectangles and draws pre-chosen text. That is what keeps layout + paint of 100 tiles
well under the 10 ms budget (see ``scripts/bench_ui.py``).

Each tile owns its whole pixel rectangle (for hit testing and for the "area within a
pixel on each side" guarantee); the 1 px separator between tiles is painted inside it, on
its right and bottom line, like a border.

Labels are shown only when they fit at a readable size (11 px or more for the symbol); a
tile too small for that gets an elided symbol if two characters and the ellipsis fit, and
nothing otherwise. Colour never carries information alone: the tooltip and the larger
tiles' third line spell the change out with an arrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QLinearGradient,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ui import formatting as fmt
from ui.theme import Palette, mix, readable_text_on, theme_manager
from ui.widgets.treemap_layout import PixelTile, layout_pixels
from wallet_app.models import Holding, IndexState, Regime

CHANGE_CLAMP = Decimal("0.10")  # the colour scale saturates at +/-10 % in 24 h
CASH_SYMBOLS = frozenset({"USDC"})
GAP = 1  # px between tiles (painted, the layout itself has no gaps)
LEGEND_HEIGHT = 22
MIN_SYMBOL_PX = 11  # smallest symbol size still comfortably readable
_SYMBOL_SIZES = (28, 24, 20, 17, 15, 13, 12, MIN_SYMBOL_PX)


@dataclass(frozen=True)
class TreemapItem:
    """What one tile shows: a holding, or the merged USDC cash line."""

    symbol: str
    name: str
    weight_bps: int
    target_bps: int
    value_usd: Decimal
    price_usd: Decimal
    change_24h: Decimal | None
    is_cash: bool = False


@dataclass
class TileView:
    """A laid-out tile as painted: rectangle, colours and label lines (public for tests)."""

    item: TreemapItem
    rect: QRect  # the tile's full pixel rectangle (the gap is painted inside it)
    fill: QColor
    text_color: QColor
    lines: list[tuple[str, int, bool]] = field(default_factory=list)  # (text, px, bold)
    label_rect: QRectF = field(default_factory=QRectF)
    centered: bool = False  # the all-cash (Bear) map: one tile, its message centred

    @property
    def symbol(self) -> str:
        return self.item.symbol

    @property
    def label(self) -> str:
        """All label lines joined by newlines ("" when the tile is too small)."""
        return "\n".join(text for text, _, _ in self.lines)


def items_from_holdings(holdings: Sequence[Holding], regime: Regime) -> list[TreemapItem]:
    """Turn holdings into tiles: cash lines merge into one USDC tile (so a Bear vault,
    which is all USDC, is exactly one tile); zero-weight lines are dropped."""
    items: list[TreemapItem] = []
    cash_w = cash_t = 0
    cash_value = Decimal(0)
    has_cash = False
    for h in holdings:
        if h.symbol.upper() in CASH_SYMBOLS or not h.token:
            has_cash = True
            cash_w += h.weight_bps
            cash_t += h.target_bps
            cash_value += h.value_usd
            continue
        if h.weight_bps <= 0 and h.value_usd <= 0:
            continue
        items.append(
            TreemapItem(
                h.symbol, h.name, h.weight_bps, h.target_bps, h.value_usd, h.price_usd,
                h.change_24h,
            )
        )
    if has_cash and (cash_w > 0 or cash_value > 0):
        name = "USDC (all cash, Bear regime)" if regime is Regime.BEAR else "USDC (cash)"
        items.append(
            TreemapItem("USDC", name, cash_w, cash_t, cash_value, Decimal(1), None, True)
        )
    return items


def change_color(change: Decimal | None, p: Palette) -> QColor:
    """Diverging red-grey-green colour of a 24 h change, saturated at +/-10 %.

    Unknown change is neutral grey (not green or red: no claim either way).
    """
    neutral = p.q("tile_neutral")
    if change is None or not change.is_finite():
        return neutral
    t = float(max(-CHANGE_CLAMP, min(CHANGE_CLAMP, change)) / CHANGE_CLAMP)  # colour only
    end = p.q("tile_positive") if t > 0 else p.q("tile_negative")
    # An ease-out curve (|t|^0.6) so that everyday moves of 1-3 % are visibly tinted while
    # the scale still saturates exactly at the clamp.
    return mix(neutral, end, abs(t) ** 0.6)


class HoldingsTreemap(QWidget):
    """Treemap of the index holdings.

    Signals:
        tileClicked(str): the symbol of a tile clicked (or activated with Enter/Space).
        tileHovered(str): the symbol under the mouse, "" when it leaves the tiles.
    """

    tileClicked = Signal(str)
    tileHovered = Signal(str)

    def __init__(self, parent: QWidget | None = None, palette: Palette | None = None) -> None:
        super().__init__(parent)
        self._fixed_palette = palette
        self._items: list[TreemapItem] = []
        self._regime = Regime.BULL
        self._tiles: list[TileView] = []
        self._dirty = True
        self._hover = -1
        self._pressed = -1
        self._show_legend = True
        self._fonts: dict[tuple[int, bool], tuple[QFont, QFontMetricsF]] = {}
        # Per-item styling that does not depend on geometry (colours, label strings), kept
        # across resizes and rebuilt only when the data or the palette changes.
        self._styles: list[tuple[QColor, QColor, str, str]] = []
        self._styles_palette: Palette | None = None
        self._advance: dict[tuple[str, int, bool], float] = {}  # text width cache
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 140)
        self.setAccessibleName("Holdings treemap")
        if palette is None:
            theme_manager().changed.connect(self._on_theme)

    # -- public API -------------------------------------------------------------------

    def set_holdings(self, holdings: Sequence[Holding], regime: Regime = Regime.BULL) -> None:
        """Show these holdings; in Bear the USDC cash is one tile."""
        self.set_items(items_from_holdings(holdings, regime), regime)

    def set_state(self, state: IndexState) -> None:
        """Show an IndexState's holdings. A Bear state without a cash line in its holdings
        still shows one USDC tile for its cash, so the map is never empty in Bear."""
        items = items_from_holdings(state.holdings, state.regime)
        bear_without_cash_line = state.regime is Regime.BEAR and not any(i.is_cash for i in items)
        if bear_without_cash_line and state.cash_usdc > 0:
            items.append(
                TreemapItem(
                    "USDC", "USDC (all cash, Bear regime)", 10_000, 10_000,
                    state.cash_usdc, Decimal(1), None, True,
                )
            )
        self.set_items(items, state.regime)

    def set_items(self, items: Sequence[TreemapItem], regime: Regime = Regime.BULL) -> None:
        """Show prepared tiles (for callers that build items themselves)."""
        self._items = list(items)
        self._regime = regime
        self._styles_palette = None  # restyle: colours and label strings follow the data
        if len(self._advance) > 4096:
            self._advance.clear()  # bounded: symbols and weights change slowly
        self._hover = self._pressed = -1
        self._invalidate()

    def set_show_legend(self, show: bool) -> None:
        """Show or hide the colour-scale strip under the tiles."""
        self._show_legend = show
        self._invalidate()

    def theme_palette(self) -> Palette:
        """The palette painting uses: the fixed one if given, else the current theme's."""
        return self._fixed_palette or theme_manager().palette

    def tiles(self) -> list[TileView]:
        """The laid-out tiles (computing the layout if needed), largest first."""
        if self._dirty:
            self.relayout()
        return list(self._tiles)

    def tile_at(self, pos: QPoint) -> str | None:
        """The symbol of the tile under a widget position, None between/outside tiles."""
        i = self._index_at(pos.x(), pos.y())
        return self._tiles[i].symbol if i >= 0 else None

    def tile_rect(self, symbol: str) -> QRect | None:
        """Where a symbol's tile is, for tests and for positioning popups."""
        for t in self.tiles():
            if t.symbol == symbol:
                return QRect(t.rect)
        return None

    def tree_area(self) -> QRect:
        """The rectangle the tiles fill (the widget minus the legend strip)."""
        r = self.rect()
        if self._legend_visible():
            r.setBottom(r.bottom() - LEGEND_HEIGHT)
        return r

    def _legend_visible(self) -> bool:
        """The colour legend, when asked for, there is room, and colours mean something
        (an all-cash map has no 24 h changes to explain)."""
        has_changes = any(not i.is_cash for i in self._items)
        return self._show_legend and has_changes and self.rect().height() > 3 * LEGEND_HEIGHT

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API name
        return QSize(640, 400)

    # -- layout -----------------------------------------------------------------------

    def relayout(self) -> None:
        """Compute tiles, colours and labels for the current size, data and palette."""
        p = self.theme_palette()
        area = self.tree_area()
        weights = [max(0, i.weight_bps) for i in self._items]
        if sum(weights) <= 0:
            # No weights yet (e.g. an empty vault's first refresh): size by value instead.
            weights = [max(Decimal(0), i.value_usd) for i in self._items]  # type: ignore[misc]
        pixel_tiles = (
            layout_pixels(weights, area.x(), area.y(), area.width(), area.height())
            if area.width() > 0 and area.height() > 0
            else []
        )
        self._ensure_fonts()
        if self._styles_palette is not p or len(self._styles) != len(self._items):
            self._styles = [self._style(item, p) for item in self._items]
            self._styles_palette = p
        tiles = []
        for pt in pixel_tiles:
            if pt.width <= GAP or pt.height <= GAP:
                continue  # under a pixel once the gap is drawn: nothing to show or hit
            fill, text_colour, weight_text, third = self._styles[pt.index]
            view = TileView(self._items[pt.index], QRect(pt.x0, pt.y0, pt.width, pt.height),
                            fill, text_colour)
            self._place_label(view, pt, weight_text, third)
            tiles.append(view)
        if len(tiles) == 1 and tiles[0].item.is_cash:
            self._place_cash_message(tiles[0])
        self._tiles = tiles
        self._dirty = False

    def _style(self, item: TreemapItem, p: Palette) -> tuple[QColor, QColor, str, str]:
        """Fill, text colour, weight line and third line of an item's tile."""
        fill = p.q("tile_cash") if item.is_cash else change_color(item.change_24h, p)
        if item.is_cash:
            third = "All cash" if self._regime is Regime.BEAR else "Cash"
        else:
            third = fmt.format_change(item.change_24h)
        return fill, readable_text_on(fill, p), fmt.format_bps(item.weight_bps), third

    def _width(self, text: str, px: int, bold: bool) -> float:
        """Cached text advance: the same labels are measured again on every resize."""
        key = (text, px, bold)
        w = self._advance.get(key)
        if w is None:
            w = self._advance[key] = self._fonts[(px, bold)][1].horizontalAdvance(text)
        return w

    def _ensure_fonts(self) -> None:
        """Fonts and metrics per label size, built once per widget font."""
        if self._fonts:
            return
        family = self.font().family()
        for px in {*_SYMBOL_SIZES, *(self._sub_px(s) for s in _SYMBOL_SIZES)}:
            for bold in (True, False):
                f = QFont(family)
                f.setPixelSize(px)
                f.setBold(bold)
                self._fonts[(px, bold)] = (f, QFontMetricsF(f))

    @staticmethod
    def _sub_px(symbol_px: int) -> int:
        """Size of the weight/change lines under a symbol of ``symbol_px``."""
        return max(10, round(symbol_px * 0.62))

    def _place_label(self, view: TileView, pt: PixelTile, weight_text: str, third: str) -> None:
        """Choose the largest readable label that fits; elide or omit on small tiles."""
        item = view.item
        pad = 6 if min(pt.width, pt.height) >= 40 else 3
        avail_w = pt.width - GAP - 2 * pad
        avail_h = pt.height - GAP - 2 * pad
        if avail_w < 8 or avail_h < 8:
            return
        # Cap the symbol size by the tile height so a huge tile does not get a giant label.
        for px in _SYMBOL_SIZES:
            if px > max(MIN_SYMBOL_PX, pt.height / 4):
                continue
            _, sym_fm = self._fonts[(px, True)]
            sub_px = self._sub_px(px)
            _, sub_fm = self._fonts[(sub_px, False)]
            if self._width(item.symbol, px, True) > avail_w:
                continue
            h_sym, h_sub = sym_fm.height(), sub_fm.height()
            fits_weight = self._width(weight_text, sub_px, False) <= avail_w
            if fits_weight and h_sym + 2 * h_sub + 2 <= avail_h and (
                self._width(third, sub_px, False) <= avail_w
            ):
                view.lines = [(item.symbol, px, True), (weight_text, sub_px, False),
                              (third, sub_px, False)]
            elif fits_weight and h_sym + h_sub + 1 <= avail_h:
                view.lines = [(item.symbol, px, True), (weight_text, sub_px, False)]
            elif h_sym <= avail_h and px <= 13:
                view.lines = [(item.symbol, px, True)]
            else:
                continue
            break
        else:
            # Not even the symbol fits whole at the smallest readable size: elide it if at
            # least two characters stay visible, else leave the tile unlabelled.
            _, fm = self._fonts[(MIN_SYMBOL_PX, True)]
            if fm.height() <= avail_h:
                text = fm.elidedText(item.symbol, Qt.TextElideMode.ElideRight, avail_w)
                if len(text) >= 3 and text.endswith("\u2026"):
                    view.lines = [(text, MIN_SYMBOL_PX, True)]
        if view.lines:
            view.label_rect = QRectF(pt.x0 + pad, pt.y0 + pad, avail_w, avail_h)

    def _place_cash_message(self, view: TileView) -> None:
        """All in USDC (the Bear regime): one tile, so say plainly what it means."""
        item = view.item
        r = view.rect
        lines = [
            ("USDC", 28, True),
            (f"{fmt.format_bps(item.weight_bps)} \u00b7 {fmt.format_usd(item.value_usd)}", 17,
             False),
        ]
        if self._regime is Regime.BEAR:
            lines.append(("Bear regime: the index holds cash until the market turns", 13,
                          False))
        fitted = [ln for ln in lines if self._width(ln[0], ln[1], ln[2]) <= r.width() - 24]
        height = sum(self._fonts[(px, bold)][1].height() + 4 for _, px, bold in fitted)
        if fitted and height <= r.height() - 12:
            view.lines = fitted
            view.centered = True
            view.label_rect = QRectF(r.x() + 12, r.y() + (r.height() - height) / 2,
                                     r.width() - 24, height)

    def _invalidate(self) -> None:
        self._dirty = True
        self.update()

    def _on_theme(self, _palette: Palette) -> None:
        self._invalidate()

    # -- painting ---------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API name
        if self._dirty:
            self.relayout()
        p = self.theme_palette()
        painter = QPainter(self)
        painter.fillRect(self.rect(), p.q("tile_gap"))
        if not self._tiles:
            painter.setPen(p.q("text_muted"))
            painter.drawText(self.tree_area(), Qt.AlignmentFlag.AlignCenter, "No holdings to show")
        clip = event.rect()
        for i, t in enumerate(self._tiles):
            if not t.rect.intersects(clip):
                continue
            inner = t.rect.adjusted(0, 0, -GAP, -GAP)
            fill = mix(t.fill, QColor(255, 255, 255), 0.18) if i == self._hover else t.fill
            painter.fillRect(inner, fill)
            if t.lines:
                self._draw_label(painter, t)
        if 0 <= self._hover < len(self._tiles):
            t = self._tiles[self._hover]
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            pen = QPen(t.text_color, 2)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(t.rect.adjusted(0, 0, -GAP, -GAP)).adjusted(1, 1, -1, -1))
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if self._legend_visible():
            self._draw_legend(painter, p)
        painter.end()

    def _draw_label(self, painter: QPainter, t: TileView) -> None:
        painter.setPen(t.text_color)
        y = t.label_rect.top()
        align = Qt.AlignmentFlag.AlignHCenter if t.centered else Qt.AlignmentFlag.AlignLeft
        for text, px, bold in t.lines:
            font, fm = self._fonts[(px, bold)]
            painter.setFont(font)
            painter.drawText(QRectF(t.label_rect.left(), y, t.label_rect.width(), fm.height()),
                             align | Qt.AlignmentFlag.AlignTop, text)
            y += fm.height() + (4 if t.centered else 2 if bold else 0)

    def _draw_legend(self, painter: QPainter, p: Palette) -> None:
        """A small -10 % .. +10 % colour bar, so the colours can be read."""
        r = self.rect()
        top = r.bottom() - LEGEND_HEIGHT + 7
        font, fm = self._fonts[(10, False)] if (10, False) in self._fonts else (self.font(), None)
        painter.setFont(font)
        bar_w = min(180, r.width() // 3)
        label_w = 42
        x = r.right() - bar_w - label_w
        bar = QRect(x, top + 3, bar_w, 8)
        grad = QLinearGradient(bar.left(), 0, bar.right(), 0)
        grad.setColorAt(0.0, p.q("tile_negative"))
        grad.setColorAt(0.5, p.q("tile_neutral"))
        grad.setColorAt(1.0, p.q("tile_positive"))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(grad)
        painter.drawRoundedRect(bar, 3, 3)
        painter.setPen(p.q("text_muted"))
        text_rect = QRect(bar.left() - label_w - 6, top - 2, label_w, 18)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         "\u221210%")
        painter.drawText(QRect(bar.right() + 6, top - 2, label_w, 18),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "+10%")
        caption_w = bar.left() - label_w - 20 - (r.left() + 2)
        caption = "Size: weight \u00b7 Colour: 24 h change"
        if fm is not None and fm.horizontalAdvance(caption) > caption_w:
            caption = "Colour: 24 h change"
        if fm is None or fm.horizontalAdvance(caption) <= caption_w:
            painter.drawText(QRect(r.left() + 2, top - 2, max(0, caption_w), 18),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, caption)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    # -- interaction ------------------------------------------------------------------

    def _index_at(self, x: float, y: float) -> int:
        if self._dirty:
            self.relayout()
        for i, t in enumerate(self._tiles):
            r = t.rect
            if r.x() <= x < r.x() + r.width() and r.y() <= y < r.y() + r.height():
                return i
        return -1

    def _set_hover(self, i: int) -> None:
        if i == self._hover:
            return
        for j in (self._hover, i):
            if 0 <= j < len(self._tiles):
                self.update(self._tiles[j].rect)
        self._hover = i
        self.setCursor(Qt.CursorShape.PointingHandCursor if i >= 0 else Qt.CursorShape.ArrowCursor)
        self.tileHovered.emit(self._tiles[i].symbol if i >= 0 else "")

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API name
        pos = event.position()
        self._set_hover(self._index_at(pos.x(), pos.y()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API name
        self._set_hover(-1)
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API name
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.position()
            self._pressed = self._index_at(pos.x(), pos.y())
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API name
        if event.button() == Qt.MouseButton.LeftButton:
            pos = event.position()
            i = self._index_at(pos.x(), pos.y())
            # A click is press and release on the same tile (dragging off cancels it).
            if i >= 0 and i == self._pressed:
                self.tileClicked.emit(self._tiles[i].symbol)
            self._pressed = -1
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API name
        """Arrow keys walk the tiles (largest first), Enter/Space activates one."""
        n = len(self.tiles())
        key = event.key()
        if n and key in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self._set_hover((self._hover + 1) % n)
        elif n and key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self._set_hover((self._hover - 1) % n if self._hover >= 0 else n - 1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and (
            0 <= self._hover < n
        ):
            self.tileClicked.emit(self._tiles[self._hover].symbol)
        else:
            super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            i = self._index_at(event.pos().x(), event.pos().y())
            if i >= 0:
                t = self._tiles[i]
                QToolTip.showText(event.globalPos(), tooltip_html(t.item), self, t.rect)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API name
        self._dirty = True
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API name
        if event.type() == QEvent.Type.FontChange:
            self._fonts.clear()
            self._advance.clear()
            self._invalidate()
        super().changeEvent(event)


def tooltip_html(item: TreemapItem) -> str:
    """Rich-text tooltip: name, weight (and target), value, price, 24 h change."""
    weight = fmt.format_bps(item.weight_bps)
    rows = [
        ("Weight", f"{weight}  (target {fmt.format_bps(item.target_bps)})"),
        ("Value", fmt.format_usd(item.value_usd)),
        ("Price", fmt.format_price(item.price_usd)),
    ]
    if not item.is_cash:
        rows.append(("24 h", fmt.format_change(item.change_24h)))
    body = "".join(
        f"<tr><td style='padding-right:12px'>{k}</td><td align='right'>{_esc(v)}</td></tr>"
        for k, v in rows
    )
    return (
        f"<b>{_esc(item.symbol)}</b> &middot; {_esc(item.name)}"
        f"<table cellspacing='0' cellpadding='1' style='margin-top:4px'>{body}</table>"
    )


def _esc(text: str) -> str:
    """Names come from on-chain token metadata: never let them inject markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
