"""Holdings table: model, sort/filter proxy and the searchable view around them.

Sorting must be numeric: a string sort puts "$9.00" above "$10.00" and "-1%" between
"1%" and "2%". The model therefore exposes each cell's raw value (``int`` basis points or
``Decimal`` money) under :data:`SORT_ROLE`, and the proxy compares those Python values in
:meth:`HoldingsProxy.lessThan`. Unknown values (no 24 h change) sort last in both
directions, and ties fall back to the symbol so the order is always the same.

The search box filters on symbol or name, case-insensitively, as a plain substring (no
regular expressions: a user typing "1INCH" or "(" must not get an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui.theme import Palette, theme_manager
from wallet_app.models import Holding

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
SYMBOL_ROLE = Qt.ItemDataRole.UserRole + 2

ModelIndex = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    SYMBOL = 0
    NAME = 1
    WEIGHT = 2
    TARGET = 3
    PRICE = 4
    VALUE = 5
    CHANGE_24H = 6


HEADERS = {
    Column.SYMBOL: "Symbol",
    Column.NAME: "Name",
    Column.WEIGHT: "Weight",
    Column.TARGET: "Target",
    Column.PRICE: "Price",
    Column.VALUE: "Value",
    Column.CHANGE_24H: "24h",
}
_NUMERIC = {Column.WEIGHT, Column.TARGET, Column.PRICE, Column.VALUE, Column.CHANGE_24H}
#: The widest text each fixed column usually shows (values under 1B USD); a wider one is
#: elided, and the user can still drag the column wider.
#: Widths come from these once, instead of ResizeToContents measuring 100 rows on every
#: layout (~45 ms a resize and ~100 ms on the first fill, on the GUI thread).
_WIDEST = {
    Column.SYMBOL: "WWWWW",
    Column.WEIGHT: "↓ Weight",
    Column.TARGET: "100.00%",
    Column.PRICE: "$100,000.00",
    Column.VALUE: "$10,000,000.00",
    Column.CHANGE_24H: "▼ 10.00%",
}
#: The name the Name column must show whole ("Bitcoin Cash", "Internet Computer" is elided
#: only when the table is narrower than every optional column allows).
_NAME_ROOM = "Bitcoin Cash"
#: Padding around a column's text (cell margins and the sort arrow's slot).
_PAD = 20
#: Columns hidden, in this order, when the table is too narrow to give the names room:
#: the target weight is a detail next to the weight; the name matters more.
_OPTIONAL = (Column.TARGET,)


class HoldingsModel(QAbstractTableModel):
    """Table model over a list of :class:`Holding` (one row each, input order)."""

    def __init__(self, parent: QWidget | None = None, palette: Palette | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Holding] = []
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._fixed_palette = palette
        if palette is None:
            theme_manager().changed.connect(self._on_theme)

    def set_holdings(self, holdings: Sequence[Holding]) -> None:
        self.beginResetModel()
        self._rows = list(holdings)
        self.endResetModel()

    def holding(self, row: int) -> Holding:
        return self._rows[row]

    def set_sort_indicator(self, column: int, order: Qt.SortOrder) -> None:
        """Show the sort direction as an arrow in the header text.

        The style's own indicator is drawn over right-aligned header text; an arrow in the
        text itself keeps numeric headers aligned with their numbers.
        """
        self._sort = (column, order)
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(Column) - 1)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        col = Column(section)
        if role == Qt.ItemDataRole.DisplayRole:
            if self._sort is None or self._sort[0] != section:
                return HEADERS[col]
            arrow = "\u2191" if self._sort[1] == Qt.SortOrder.AscendingOrder else "\u2193"
            return f"{arrow} {HEADERS[col]}" if col in _NUMERIC else f"{HEADERS[col]} {arrow}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _align(col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return {
                Column.WEIGHT: "Current share of the index's value",
                Column.TARGET: "Weight set at the last rebalance",
                Column.CHANGE_24H: "Price change over the last 24 hours",
            }.get(col)
        return None

    def sort_key(self, row: int, column: int) -> Any:
        """The raw value a column sorts by: int bps, Decimal money, or folded text."""
        h = self._rows[row]
        col = Column(column)
        if col is Column.SYMBOL:
            return h.symbol.casefold()
        if col is Column.NAME:
            return h.name.casefold()
        if col is Column.WEIGHT:
            return h.weight_bps
        if col is Column.TARGET:
            return h.target_bps
        if col is Column.PRICE:
            return h.price_usd
        if col is Column.VALUE:
            return h.value_usd
        change = h.change_24h
        return change if change is not None and change.is_finite() else None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        h = self._rows[index.row()]
        col = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(h, col)
        if role == SORT_ROLE:
            return self.sort_key(index.row(), col)
        if role == SYMBOL_ROLE:
            return h.symbol
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _align(col)
        if role == Qt.ItemDataRole.ForegroundRole and col is Column.CHANGE_24H:
            return self._change_colour(h.change_24h)
        if role == Qt.ItemDataRole.ToolTipRole and col is Column.NAME:
            return h.name
        return None

    def _display(self, h: Holding, col: Column) -> str:
        if col is Column.SYMBOL:
            return h.symbol
        if col is Column.NAME:
            return h.name
        if col is Column.WEIGHT:
            return fmt.format_bps(h.weight_bps)
        if col is Column.TARGET:
            return fmt.format_bps(h.target_bps)
        if col is Column.PRICE:
            return fmt.format_price(h.price_usd)
        if col is Column.VALUE:
            return fmt.format_usd(h.value_usd)
        return fmt.format_change(h.change_24h)

    def _palette(self) -> Palette:
        return self._fixed_palette or theme_manager().palette

    def _change_colour(self, change: Decimal | None) -> Any:
        t = fmt.trend(change)
        p = self._palette()
        return p.q({"up": "positive", "down": "negative"}.get(t, "text_muted"))

    def _on_theme(self, _p: Palette) -> None:
        if self._rows:
            col = Column.CHANGE_24H
            self.dataChanged.emit(self.index(0, col), self.index(len(self._rows) - 1, col),
                                  [Qt.ItemDataRole.ForegroundRole])


def _align(col: Column) -> Qt.AlignmentFlag:
    horizontal = Qt.AlignmentFlag.AlignRight if col in _NUMERIC else Qt.AlignmentFlag.AlignLeft
    return horizontal | Qt.AlignmentFlag.AlignVCenter


class HoldingsProxy(QSortFilterProxyModel):
    """Numeric sorting on raw values and a symbol/name substring search."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._needle = ""

    def set_search(self, text: str) -> None:
        """Keep rows whose symbol or name contains ``text`` (case-insensitive)."""
        needle = text.strip().casefold()
        if needle == self._needle:
            return
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+: the non-deprecated pair
            self.beginFilterChange()
            self._needle = needle
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._needle = needle
            self.invalidateRowsFilter()

    def search_text(self) -> str:
        return self._needle

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:  # noqa: N802
        if not self._needle:
            return True
        model = self.sourceModel()
        if not isinstance(model, HoldingsModel):
            return True
        h = model.holding(source_row)
        return self._needle in h.symbol.casefold() or self._needle in h.name.casefold()

    def lessThan(self, left: ModelIndex, right: ModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        if not isinstance(model, HoldingsModel):
            return super().lessThan(left, right)
        a = model.sort_key(left.row(), left.column())
        b = model.sort_key(right.row(), right.column())
        if a is None or b is None:
            if a is None and b is None:
                return self._tie(model, left.row(), right.row())
            # Unknown values go to the bottom whichever way the column is sorted.
            descending = self.sortOrder() == Qt.SortOrder.DescendingOrder
            return (a is None) == descending
        if a == b:
            return self._tie(model, left.row(), right.row())
        return bool(a < b)

    def _tie(self, model: HoldingsModel, lrow: int, rrow: int) -> bool:
        """Equal keys: order by symbol, then by source row, so sorting is deterministic."""
        ka = (model.holding(lrow).symbol.casefold(), lrow)
        kb = (model.holding(rrow).symbol.casefold(), rrow)
        return ka < kb


class HoldingsTable(QFrame):
    """Card with a search box and the sortable holdings table.

    Signals:
        holdingActivated(str): a row was double-clicked or Enter was pressed on it.
    """

    holdingActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None, palette: Palette | None = None) -> None:
        super().__init__(parent)
        self.setProperty("card", "true")
        self.model = HoldingsModel(self, palette)
        self.proxy = HoldingsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)

        title = QLabel("HOLDINGS")
        title.setProperty("role", "title")
        self.count_label = QLabel("")
        self.count_label.setProperty("role", "caption")
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search symbol or name")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(220)
        self.search_edit.setMaximumWidth(280)
        self.search_edit.setAccessibleName("Search holdings")
        self.search_edit.textChanged.connect(self._on_search)

        self.view = QTableView()
        self.view.setModel(self.proxy)
        header = self.view.horizontalHeader()
        header.sortIndicatorChanged.connect(self.model.set_sort_indicator)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(Column.WEIGHT, Qt.SortOrder.DescendingOrder)
        # The arrow is drawn in the header text instead (see set_sort_indicator); hiding
        # the style's indicator also stops every header reserving room for it.
        header.setSortIndicatorShown(False)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(30)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setMinimumSectionSize(48)
        # Measure with the font the style sheet gives the table (13 px), not the platform
        # default it has before polishing (9 pt): measured early, "100.00%" was elided.
        self.view.ensurePolished()
        metrics = self.view.fontMetrics()
        for col in Column:
            if col is Column.NAME:
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
                continue
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, metrics.horizontalAdvance(_WIDEST[col]) + _PAD)
        self._name_room = metrics.horizontalAdvance(_NAME_ROOM) + _PAD
        self.view.doubleClicked.connect(self._on_activated)
        self.view.activated.connect(self._on_activated)

        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(title)
        top.addWidget(self.count_label)
        top.addStretch(1)
        top.addWidget(self.search_edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 8)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self._update_count()

    # -- public API -------------------------------------------------------------------

    def set_holdings(self, holdings: Sequence[Holding]) -> None:
        self.model.set_holdings(holdings)
        self._update_count()

    def set_search(self, text: str) -> None:
        """Filter as if the user typed ``text`` in the search box."""
        self.search_edit.setText(text)

    def visible_symbols(self) -> list[str]:
        """Symbols in the order the view shows them (after sort and filter)."""
        return [
            self.proxy.index(r, Column.SYMBOL).data(SYMBOL_ROLE)
            for r in range(self.proxy.rowCount())
        ]

    def select_symbol(self, symbol: str) -> bool:
        """Select and scroll to a symbol's row (e.g. after a treemap click)."""
        for r in range(self.proxy.rowCount()):
            idx = self.proxy.index(r, Column.SYMBOL)
            if idx.data(SYMBOL_ROLE) == symbol:
                self.view.selectRow(r)
                self.view.scrollTo(idx, QAbstractItemView.ScrollHint.PositionAtCenter)
                return True
        return False

    def name_width(self) -> int:
        """The Name column's width now (tests: names get their room at 1280x800)."""
        return self.view.horizontalHeader().sectionSize(Column.NAME)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_columns()

    # -- internals --------------------------------------------------------------------

    def _fit_columns(self) -> None:
        """Hide optional columns while the names would not get their room."""
        header = self.view.horizontalHeader()
        avail = self.view.viewport().width()
        if avail <= 0:
            return
        for col in _OPTIONAL:
            self.view.setColumnHidden(col, False)
        fixed = sum(header.sectionSize(c) for c in Column
                    if c is not Column.NAME and not self.view.isColumnHidden(c))
        for col in _OPTIONAL:
            if avail - fixed >= self._name_room:
                break
            fixed -= header.sectionSize(col)  # (a hidden section's size reads 0)
            self.view.setColumnHidden(col, True)

    def _on_search(self, text: str) -> None:
        self.proxy.set_search(text)
        self._update_count()

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        # The USDC cash line (no token address) is not a constituent.
        cash = sum(1 for r in range(total) if not self.model.holding(r).token)
        k = total - cash
        label = f"{k} constituent{'s' if k != 1 else ''}" + (" + cash" if cash else "")
        self.count_label.setText(label if shown == total else f"{shown} of {total}")

    def _on_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.holdingActivated.emit(index.siblingAtColumn(Column.SYMBOL).data(SYMBOL_ROLE))
