"""Small building blocks shared by the screens and dialogs.

They exist so every screen speaks the same visual language as the reusable widgets in
``ui/widgets`` (cards, caption/value pairs, tables) without each screen re-styling labels
by hand. Styling is by dynamic properties matched in ``assets/ui/*.qss`` and
``assets/ui/screens.qss``; :func:`set_prop` re-polishes so a changed property restyles
at once (Qt does not do that by itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ALIGN_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
ALIGN_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
#: Role under which table cells keep their raw (Decimal/int/datetime) value for sorting.
RAW_ROLE = Qt.ItemDataRole.UserRole + 11


def set_prop(widget: QWidget, name: str, value: str) -> None:
    """Set a style-sheet property and re-polish so the matching rule applies now."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


def label(text: str = "", role: str | None = None, *, wrap: bool = False,
          selectable: bool = False, name: str | None = None) -> QLabel:
    """A QLabel with a style role (title, value, muted, caption, heading, stat...)."""
    lab = QLabel(text)
    if role:
        lab.setProperty("role", role)
    if wrap:
        lab.setWordWrap(True)
    if selectable:
        lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        lab.setObjectName(name)
    return lab


def button(text: str, *, primary: bool = False, name: str | None = None,
           tooltip: str = "") -> QPushButton:
    """A push button; ``primary`` marks the one call to action of a screen."""
    b = QPushButton(text)
    if primary:
        b.setProperty("primary", "true")
    if name:
        b.setObjectName(name)
    if tooltip:
        b.setToolTip(tooltip)
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    return b


class Card(QFrame):
    """A raised panel with an upper-case title, like the widgets' cards."""

    def __init__(self, title: str = "", parent: QWidget | None = None,
                 margins: tuple[int, int, int, int] = (18, 16, 18, 16)) -> None:
        super().__init__(parent)
        self.setProperty("card", "true")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(*margins)
        self.body.setSpacing(8)
        self.title_label: QLabel | None = None
        if title:
            self.title_label = label(title.upper(), "title")
            self.body.addWidget(self.title_label)


class Stat(QFrame):
    """A caption over a big figure over a small note: one number of a dashboard row."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("card", "true")
        self.caption = label(caption.upper(), "title")
        self.value = label("\u2014", "stat", selectable=True)
        self.note = label("", "caption", wrap=True)
        self.note.setProperty("trend", "none")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        lay.setSpacing(4)
        lay.addWidget(self.caption)
        lay.addWidget(self.value)
        lay.addWidget(self.note)
        # Preferred, not Maximum: stats in one row share its height (the tallest note).
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set(self, value: str, note: str = "", trend: str | None = None) -> None:
        """Show a formatted value; ``trend`` (up/down/flat/none) colours the note."""
        self.value.setText(value)
        self.note.setText(note)
        set_prop(self.note, "trend", trend or "none")


class KeyValueGrid(QWidget):
    """Two columns of caption / value rows; the preview tables of the trade dialogs.

    Rows are addressed by a key so a test (or a refresh) can read and update one value.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(18)
        self.grid.setVerticalSpacing(7)
        self.grid.setColumnStretch(1, 1)
        self._values: dict[str, QLabel] = {}
        self._captions: dict[str, QLabel] = {}

    def add_row(self, key: str, caption: str, tooltip: str = "", emphasis: bool = False,
                wrap: bool = False) -> QLabel:
        row = self.grid.rowCount()
        cap = label(caption, "muted")
        val = label("\u2014", "kv-strong" if emphasis else "kv", selectable=True, wrap=wrap)
        val.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        val.setObjectName(f"kv_{key}")
        if tooltip:
            cap.setToolTip(tooltip)
            val.setToolTip(tooltip)
        # Top-aligned so a multi-line value (balance changes) reads beside its caption.
        self.grid.addWidget(cap, row, 0, Qt.AlignmentFlag.AlignTop)
        self.grid.addWidget(val, row, 1)
        self._values[key] = val
        self._captions[key] = cap
        return val

    def add_separator(self) -> None:
        line = QFrame()
        line.setProperty("separator", "true")
        line.setFixedHeight(1)
        self.grid.addWidget(line, self.grid.rowCount(), 0, 1, 2)

    def set(self, key: str, text: str) -> None:
        self._values[key].setText(text)

    def text(self, key: str) -> str:
        return self._values[key].text()

    def set_caption(self, key: str, text: str) -> None:
        self._captions[key].setText(text)

    def set_row_visible(self, key: str, visible: bool) -> None:
        self._values[key].setVisible(visible)
        self._captions[key].setVisible(visible)

    def keys(self) -> list[str]:
        return list(self._values)

    def clear(self) -> None:
        for val in self._values.values():
            val.setText("\u2014")


class Banner(QFrame):
    """A coloured message strip: error (what happened + what to do), warning, info, ok.

    Carries up to two action buttons whose meaning the owner decides (Try again, Open
    Settings, ...). Hidden while empty so it takes no room.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("banner", "info")
        self.title = label("", "banner-title", wrap=True)
        self.message = label("", "banner-text", wrap=True, selectable=True)
        self.primary = button("", name="bannerPrimary")
        self.secondary = button("", name="bannerSecondary")
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.message)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(14, 10, 10, 10)
        lay.setSpacing(10)
        lay.addLayout(text, 1)
        lay.addWidget(self.secondary, 0, Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(self.primary, 0, Qt.AlignmentFlag.AlignVCenter)
        self.primary.hide()
        self.secondary.hide()
        self.hide()

    def show_message(self, kind: str, title: str, message: str = "",
                     primary: str = "", secondary: str = "") -> None:
        set_prop(self, "banner", kind)
        self.title.setText(title)
        self.message.setText(message)
        self.message.setVisible(bool(message))
        self.primary.setText(primary)
        self.primary.setVisible(bool(primary))
        self.secondary.setText(secondary)
        self.secondary.setVisible(bool(secondary))
        self.show()

    def clear(self) -> None:
        self.title.setText("")
        self.message.setText("")
        self.hide()

    def kind(self) -> str:
        return str(self.property("banner"))


def make_table(headers: Sequence[str], numeric: Sequence[int] = (),
               stretch: int | None = None) -> QTableWidget:
    """A read-only, row-selecting table styled like the holdings table."""
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(list(headers))
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(True)
    t.setShowGrid(False)
    t.setWordWrap(False)
    t.verticalHeader().hide()
    t.verticalHeader().setDefaultSectionSize(30)
    header = t.horizontalHeader()
    header.setHighlightSections(False)
    header.setMinimumSectionSize(60)
    for col in range(len(headers)):
        mode = (QHeaderView.ResizeMode.Stretch if col == stretch
                else QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(col, mode)
        item = t.horizontalHeaderItem(col)
        if item is not None:
            item.setTextAlignment(ALIGN_RIGHT if col in numeric else ALIGN_LEFT)
    t.setProperty("numericColumns", list(numeric))
    return t


def selected_row(table: QTableWidget, rows: Sequence[Any]) -> Any:
    """The item of ``rows`` behind the one selected table row, else None (nothing or
    several rows selected): a table shows ``rows`` in order."""
    picked = {i.row() for i in table.selectedItems()}
    return rows[picked.pop()] if len(picked) == 1 else None


def fill_table(table: QTableWidget, rows: Sequence[Sequence[Any]],
               numeric: Sequence[int] = ()) -> None:
    """Replace the rows; each cell is text or a ``(text, raw, tooltip)`` tuple."""
    table.setSortingEnabled(False)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            raw: Any = None
            tip = ""
            if isinstance(cell, tuple):
                text, raw, tip = (list(cell) + ["", ""])[:3]
            else:
                text = cell
            item = QTableWidgetItem(str(text))
            item.setTextAlignment(ALIGN_RIGHT if c in numeric else ALIGN_LEFT)
            if raw is not None:
                item.setData(RAW_ROLE, raw)
            if tip:
                item.setToolTip(str(tip))
            table.setItem(r, c, item)


def short_hex(value: str | None, head: int = 6, tail: int = 4) -> str:
    """``0x1234…abcd``: enough of an address or hash to recognise it, in little room."""
    if not value:
        return "\u2014"
    if len(value) <= head + tail + 1:
        return value
    return f"{value[:head]}\u2026{value[-tail:]}"


def copy_to_clipboard(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


class PageHeader(QWidget):
    """The heading row of a screen: a title, a subtitle, and room for buttons on the right."""

    def __init__(self, title: str, subtitle: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = label(title, "heading")
        self.subtitle = label(subtitle, "muted", wrap=True)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        texts.addWidget(self.title)
        texts.addWidget(self.subtitle)
        self.subtitle.setVisible(bool(subtitle))
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(10)
        self.row.addLayout(texts, 1)

    def add_widget(self, widget: QWidget) -> None:
        self.row.addWidget(widget, 0, Qt.AlignmentFlag.AlignVCenter)
