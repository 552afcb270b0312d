"""Performance table, as an investment product's factsheet shows it.

Rows: the index, then its benchmarks (BTC; the same top 100 without the regime switch).
Columns: 1M, 3M, YTD, 1Y, since inception, maximum drawdown, annualised volatility. Every
figure whose window reaches back before the vault's first day is computed on the backtest
and is marked with a dagger and explained in the footnote: a simulation is never shown as
if it were a result a holder had.

The numbers arrive from the core as a ``PerformanceReport`` (Decimal returns, float
statistics); this widget only formats them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui.theme import Palette, theme_manager

PERIOD_COLUMNS = ("1M", "3M", "YTD", "1Y", "Since inception")
HEADERS = ("", *PERIOD_COLUMNS, "Max drawdown", "Volatility")
DAGGER = "\u2020"


def _pct(value: Any, signed: bool = True) -> str:
    """A fraction as a percent with one decimal; float statistics (volatility, p.a.) are
    turned into Decimal through their shortest repr, for display only."""
    if value is None:
        return fmt.DASH
    if isinstance(value, float):
        value = Decimal(repr(value))
    return fmt.format_percent(value, 1, signed=signed)


class PerformanceTable(QFrame):
    """Card with the table and its footnote."""

    def __init__(self, parent: QWidget | None = None, palette: Palette | None = None) -> None:
        super().__init__(parent)
        self.setProperty("card", "true")
        self._fixed_palette = palette
        self._report: Any = None
        self.title_label = QLabel("PERFORMANCE")
        self.title_label.setProperty("role", "title")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("performanceSubtitle")
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("performanceTable")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(HEADERS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            self.table.setColumnWidth(col, 90 if col <= len(PERIOD_COLUMNS) else 118)
            item = self.table.horizontalHeaderItem(col)
            if item is not None:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
        self.footnote = QLabel("")
        self.footnote.setObjectName("performanceFootnote")
        self.footnote.setWordWrap(True)
        self.footnote.setProperty("role", "muted")
        self.empty_label = QLabel("No performance history yet.")
        self.empty_label.setProperty("role", "muted")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 12)
        lay.setSpacing(6)
        lay.addWidget(self.title_label)
        lay.addWidget(self.subtitle)
        lay.addWidget(self.table)
        lay.addWidget(self.empty_label)
        lay.addWidget(self.footnote)
        lay.addStretch(1)
        if palette is None:
            theme_manager().changed.connect(self._on_theme)
        self.set_report(None)

    def _on_theme(self, _palette: Palette) -> None:
        # A bound method, not a lambda: Qt drops the connection when the widget is deleted.
        self.set_report(self._report)

    def theme_palette(self) -> Palette:
        return self._fixed_palette or theme_manager().palette

    def set_report(self, report: Any) -> None:
        """Show a ``PerformanceReport`` (or None: no history on this network yet)."""
        self._report = report
        has = report is not None
        self.table.setVisible(has)
        self.empty_label.setVisible(not has)
        if not has:
            self.table.setRowCount(0)
            self.subtitle.setText("")
            self.footnote.setText("")
            return
        p = self.theme_palette()
        self.table.setRowCount(len(report.rows))
        for r, row in enumerate(report.rows):
            name = QTableWidgetItem(row.name)
            if r == 0:
                f = QFont(self.font())
                f.setBold(True)
                name.setFont(f)
            else:
                name.setText(f"vs {row.name}")
            name.setToolTip(name.text())
            self.table.setItem(r, 0, name)
            for c, period in enumerate(PERIOD_COLUMNS, start=1):
                pr = row.period(period)
                text = _pct(pr.value)
                if pr.annualised is not None:
                    text = f"{text}  ({_pct(pr.annualised, False)} p.a.)"
                self.table.setItem(r, c, self._cell(text, pr.value, pr.includes_backtest, p,
                                                    f"from the close of {pr.start:%d %b %Y}"
                                                    if pr.start else "history too short"))
            mdd = None if row.max_drawdown is None else -row.max_drawdown
            self.table.setItem(r, len(PERIOD_COLUMNS) + 1,
                               self._cell(_pct(mdd), None, row.stats_include_backtest, p,
                                          "largest fall from a peak"))
            self.table.setItem(r, len(PERIOD_COLUMNS) + 2,
                               self._cell(_pct(row.volatility, False), None,
                                          row.stats_include_backtest, p,
                                          "annualised standard deviation of daily returns"))
        wide = any(row.period("Since inception").annualised is not None for row in report.rows)
        self.table.setColumnWidth(len(PERIOD_COLUMNS), 200 if wide else 132)
        self.table.setFixedHeight(self.table.horizontalHeader().height() + 4
                                  + 34 * len(report.rows))
        self.subtitle.setText(
            f"Returns to the close of {report.as_of:%d %b %Y}; inception "
            f"{report.inception:%d %b %Y}"
            + (" (the vault's first day)." if report.live_start else " (backtest start).")
            + (f"  {report.source}." if getattr(report, "source", "") else ""))
        if report.live_start is None:
            note = (f"{DAGGER} Backtest: the index rules applied to the market history; the "
                    "vault has no NAV history yet. Simulated, not results a holder had.")
        elif report.backtest_start is not None:
            note = (f"{DAGGER} Includes the backtest from {report.backtest_start:%d %b %Y} to "
                    f"the vault's first day, {report.live_start:%d %b %Y}: the index rules "
                    "applied to the market history, not results a holder had. From that day "
                    "on, the vault's own NAV per share.")
        else:
            note = "All figures from the vault's own NAV per share."
        if report.gap_days > 7:
            note += (f" The market data of the backtest ends on {report.backtest_end:%d %b %Y}, "
                     f"{report.gap_days} days before the vault's first day: a period that "
                     "starts in that gap, or a benchmark past its data, shows no figure.")
        self.footnote.setText(note + " Cumulative returns; p.a. for spans over a year. "
                              "Drawdown and volatility over the whole history shown.")

    def _cell(self, text: str, value: Any, backtest: bool, p: Palette,
              tip: str) -> QTableWidgetItem:
        item = QTableWidgetItem(text + (f" {DAGGER}" if backtest else ""))
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        trend = fmt.trend(value)
        colour = {"up": p.positive, "down": p.negative}.get(trend)
        if colour:
            item.setForeground(QColor(colour))
        if backtest:
            f = item.font()
            f.setItalic(True)
            item.setFont(f)
            tip += " (includes backtest)"
        item.setToolTip(tip)
        return item

    def cell_text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text() if item is not None else ""
