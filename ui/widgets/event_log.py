"""The index's activity log as a model/view table with a legs pane under it.

A log can hold tens of thousands of entries (every strike, NAV refresh-free but still
every request, settlement and rebalance batch), so the table is a ``QTableView`` over a
``QAbstractTableModel`` whose cells are formatted only when the view asks for them (the
visible rows) and then remembered: no widget per row, no measuring of every row (column
widths are fixed or stretched, never "resize to contents"). Selecting a rebalance, a
strike, a regime switch or a constituent change asks for its legs
(:meth:`wallet_app.facade.WalletService.event_legs`, on a worker); the pane shows them:
asset, side, amounts in and out, the oracle price and values, slippage against the
oracle and the gas.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui.pages.common import ALIGN_LEFT, ALIGN_RIGHT, fill_table, label, make_table, short_hex
from wallet_app.index.legs import price_text
from wallet_app.models import IndexEvent

EVENT_HEADERS = ("Time", "Event", "Details", "Block", "Transaction")
EVENT_NUMERIC = (3,)
LEG_HEADERS = ("#", "Asset", "Side", "In", "Out", "Oracle price", "Oracle value in",
               "Oracle value out", "Slippage", "Gas (ETH)")
LEG_NUMERIC = (0, 3, 4, 5, 6, 7, 8, 9)
#: Kinds whose rows open to legs (the service says the same: ``LEG_KINDS``).
LEG_KINDS = ("rebalance", "strike", "regime", "constituent")
EVENT_NAMES = {
    "buy": "Buy settled", "sell": "Sell settled", "redeem_in_kind": "Redeem in kind",
    "buy_request": "Buy requested", "sell_request": "Sell requested",
    "refund": "Request refunded", "cancel": "Request cancelled", "strike": "NAV strike",
    "role": "Role change", "weights": "Target weights", "constituent": "Constituent change",
    "rebalance": "Rebalance", "rebalance_leg": "Rebalance leg", "regime": "Regime switch",
    "fee": "Fee change",
    "pause": "Pause", "unpause": "Unpause",
}
_Index = QModelIndex | QPersistentModelIndex


class EventLogModel(QAbstractTableModel):
    """Index events newest first; each row's texts are built on first display."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.events: list[IndexEvent] = []
        self._texts: dict[int, tuple[str, ...]] = {}
        #: The Details text of an event (the Transactions page adds address labels).
        self.summary_of: Callable[[IndexEvent], str] = lambda e: e.summary

    def set_events(self, events: Sequence[IndexEvent]) -> None:
        self.beginResetModel()
        self.events = sorted(events, key=lambda e: (e.block_number, e.log_index),
                             reverse=True)
        self._texts.clear()
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.events)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(EVENT_HEADERS)

    def _row(self, r: int) -> tuple[str, ...]:
        hit = self._texts.get(r)
        if hit is None:
            e = self.events[r]
            name = EVENT_NAMES.get(e.kind, e.kind.replace("_", " ").capitalize())
            if e.kind in LEG_KINDS:
                name += " \u25b8"  # opens to its legs
            hit = (fmt.format_timestamp(e.timestamp) if e.timestamp else "\u2014", name,
                   self.summary_of(e), f"{e.block_number:,}", short_hex(e.tx_hash, 10, 8))
            self._texts[r] = hit
        return hit

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._row(r)[c]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return ALIGN_RIGHT if c in EVENT_NUMERIC else ALIGN_LEFT
        if role == Qt.ItemDataRole.ToolTipRole:
            e = self.events[r]
            if c == 4:
                return e.tx_hash
            if e.kind in LEG_KINDS:
                return "Select to see its legs below"
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return EVENT_HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return ALIGN_RIGHT if section in EVENT_NUMERIC else ALIGN_LEFT
        return None


def _d(v: Decimal | None, places: int | None = None) -> str:
    if v is None:
        return "\u2014"
    if places is not None:
        return f"{v:,.{places}f}"
    return f"{v.normalize():f}"


def _short(v: Decimal) -> str:
    """An amount for the table: at most 6 decimals, or 6 significant digits for dust
    (the exact amount is in the cell's tooltip, the CLI and the CSV)."""
    if v == 0 or abs(v) >= Decimal("0.01"):
        q = v.quantize(Decimal("0.000001"))
        return f"{q:,f}".rstrip("0").rstrip(".") if "." in f"{q:f}" else f"{q:,f}"
    return f"{v:.6g}"


class EventLog(QWidget):
    """The log table and, under it, the legs of the selected entry.

    Signals:
        legsRequested(IndexEvent): the user selected an entry that has legs.
    """

    legsRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = EventLogModel(self)
        self.view = QTableView()
        self.view.setObjectName("eventLog")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        vh = self.view.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(30)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        for col, width in ((0, 185), (1, 175), (3, 90), (4, 190)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, width)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().selectionChanged.connect(self._selected)

        self.legs_caption = label("Select a rebalance, strike, regime switch or constituent "
                                  "change to see its legs", "caption", wrap=True,
                                  name="legsCaption")
        self.legs_table = make_table(LEG_HEADERS, LEG_NUMERIC)
        self.legs_table.setObjectName("legsTable")
        self.legs_table.setMinimumHeight(90)
        self.legs_table.hide()  # until an entry with legs is selected
        self.current: IndexEvent | None = None

        legs = QWidget()
        legs_lay = QVBoxLayout(legs)
        legs_lay.setContentsMargins(0, 4, 0, 0)
        legs_lay.setSpacing(6)
        legs_lay.addWidget(self.legs_caption)
        legs_lay.addWidget(self.legs_table, 1)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.view)
        self.split.addWidget(legs)
        self.split.setSizes([220, 200])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.split, 1)

    def set_events(self, events: Sequence[IndexEvent]) -> None:
        keep = self.current
        self.model.set_events(events)
        if keep is not None:
            for i, e in enumerate(self.model.events):
                if (e.tx_hash, e.log_index) == (keep.tx_hash, keep.log_index):
                    self.view.selectionModel().blockSignals(True)
                    self.view.selectRow(i)
                    self.view.selectionModel().blockSignals(False)
                    break

    def select_row(self, row: int) -> None:
        self.view.selectRow(row)

    def _selected(self, *_: Any) -> None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return
        e = self.model.events[rows[0].row()]
        self.current = e
        if e.kind in LEG_KINDS:
            self.legs_caption.setText(f"Loading the legs of: {e.summary}\u2026")
            fill_table(self.legs_table, [], LEG_NUMERIC)
            self.legsRequested.emit(e)
        else:
            self.legs_caption.setText(f"{e.summary}: no trades in this entry")
            fill_table(self.legs_table, [], LEG_NUMERIC)
            self.legs_table.hide()

    def show_legs(self, event: IndexEvent, legs: Any) -> None:
        """Show ``legs`` (a :class:`wallet_app.index.legs.LegSet`) if ``event`` is still
        the selected entry (a late answer for another row is dropped)."""
        if self.current is None or (event.tx_hash, event.log_index) != (
                self.current.tx_hash, self.current.log_index):
            return
        rows = []
        for i, leg in enumerate(legs.legs, 1):
            slip = "\u2014" if leg.slippage_bps is None else f"{leg.slippage_bps} bp"
            rows.append([
                (str(i), i), leg.asset, leg.side,
                (f"{_short(leg.amount_in)} {leg.asset_in}", leg.amount_in,
                 f"{_d(leg.amount_in)} {leg.asset_in}"),
                (f"{_short(leg.amount_out)} {leg.asset_out}", leg.amount_out,
                 f"{_d(leg.amount_out)} {leg.asset_out}" + (
                     "" if leg.min_out is None else f" (minimum {_d(leg.min_out)})")),
                (_d(leg.oracle_price_usd) if leg.oracle_price_usd is None else
                 f"${price_text(leg.oracle_price_usd)}", leg.oracle_price_usd,
                 "" if leg.oracle_price_usd is None else f"{leg.oracle_price_usd:f}"),
                (_d(leg.oracle_value_in_usd, 2), leg.oracle_value_in_usd),
                (_d(leg.oracle_value_out_usd, 2), leg.oracle_value_out_usd),
                (slip, leg.slippage_bps),
                (_d(leg.gas_eth.quantize(Decimal("0.000000001"))), leg.gas_eth,
                 "the transaction's fee shared equally by its legs"),
            ])
        fill_table(self.legs_table, rows, LEG_NUMERIC)
        self.legs_table.setVisible(bool(rows))
        n = len(legs.legs)
        parts = [f"{event.summary}: {n} leg{'s' if n != 1 else ''}"]
        if legs.transactions:
            t = len(legs.transactions)
            parts.append(f"gas {legs.gas_used:,} ({_d(legs.gas_eth)} ETH) in {t} "
                         f"transaction{'s' if t != 1 else ''}")
        if legs.oracle_checked is True:
            parts.append("oracle values match the vault's Rebalanced totals")
        elif legs.oracle_checked is False:
            parts.append("oracle values could not be confirmed by the Rebalanced totals")
        if legs.note:
            parts.append(legs.note)
        self.legs_caption.setText(" \u00b7 ".join(parts))
