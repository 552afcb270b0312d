"""The Transactions screen: the user's own transactions and the index's activity log.

Two lists because they answer two questions. "Did my transaction go through?" is the
journal (every transaction this wallet signed, with its status; a pending one can be sped
up or cancelled by a replacement with the same nonce). "What did the index do?" is read
from the vault's events: rebalances, regime switches, fee changes, buys and sells.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui.pages.common import (
    Banner,
    Card,
    PageHeader,
    button,
    fill_table,
    label,
    make_table,
    short_hex,
)
from ui.theme import Palette, theme_manager
from wallet_app.models import IndexEvent, TxRecord, TxStatus

TX_HEADERS = ("Time", "Type", "Details", "Status", "Nonce", "Block", "Transaction")
TX_NUMERIC = (4, 5)
EVENT_HEADERS = ("Time", "Event", "Details", "Block", "Transaction")
EVENT_NUMERIC = (3,)
_STATUS_COLOUR = {
    TxStatus.PENDING: "warning",
    TxStatus.CONFIRMED: "positive",
    TxStatus.FAILED: "negative",
    TxStatus.REPLACED: "text_muted",
    TxStatus.DROPPED: "text_muted",
}
_EVENT_NAMES = {
    "buy": "Buy settled", "sell": "Sell settled", "redeem_in_kind": "Redeem in kind",
    "buy_request": "Buy requested", "sell_request": "Sell requested",
    "refund": "Request refunded", "cancel": "Request cancelled", "strike": "NAV strike",
    "role": "Role change",
    "rebalance": "Rebalance", "regime": "Regime switch", "fee": "Fee change",
    "pause": "Pause", "unpause": "Unpause",
}


class TransactionsPage(QWidget):
    """Journal table with Speed up / Cancel, index events table, CSV export.

    Signals:
        speedUpRequested(str), cancelRequested(str), sendNowRequested(str),
        leaveRequested(str): tx hash of the selected pending row (send now = the same
        signed bytes, only before the deadline; leave = nothing is sent).
        exportRequested(Path): the file the user picked in the save dialog.
        refreshRequested()
    """

    speedUpRequested = Signal(str)
    cancelRequested = Signal(str)
    sendNowRequested = Signal(str)
    leaveRequested = Signal(str)
    exportRequested = Signal(object)
    refreshRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.records: list[TxRecord] = []
        self.events: list[IndexEvent] = []

        self.header = PageHeader(
            "Transactions", "Your transactions and the index's activity, newest first")
        self.refresh_button = button("Refresh", name="refreshTx")
        self.export_button = button("Export CSV\u2026", name="exportCsv",
                                    tooltip="Save your transactions as a CSV file")
        self.header.add_widget(self.refresh_button)
        self.header.add_widget(self.export_button)
        self.refresh_button.clicked.connect(self.refreshRequested)
        self.export_button.clicked.connect(self._ask_export_path)
        self.banner = Banner()

        mine = Card("My transactions")
        self.mine_caption = label("", "caption")
        self.speed_button = button("Speed up", name="speedUp",
                                   tooltip="Re-send with a higher fee (same nonce)")
        self.cancel_button = button("Cancel", name="cancelTx",
                                    tooltip="Replace with a 0 ETH transfer to yourself")
        self.send_button = button("Send now", name="sendNow",
                                  tooltip="Send the same signed transaction (only before "
                                          "its deadline)")
        self.leave_button = button("Leave", name="leaveTx",
                                   tooltip="Do nothing now; nothing is sent")
        for b in (self.speed_button, self.cancel_button, self.send_button,
                  self.leave_button):
            b.setEnabled(False)
        self.speed_button.clicked.connect(lambda: self._emit_selected(self.speedUpRequested))
        self.cancel_button.clicked.connect(lambda: self._emit_selected(self.cancelRequested))
        self.send_button.clicked.connect(lambda: self._emit_selected(self.sendNowRequested))
        self.leave_button.clicked.connect(lambda: self._emit_selected(self.leaveRequested))
        top = QHBoxLayout()
        top.addWidget(self.mine_caption, 1)
        top.addWidget(self.send_button)
        top.addWidget(self.speed_button)
        top.addWidget(self.cancel_button)
        top.addWidget(self.leave_button)
        mine.body.addLayout(top)
        self.tx_table = make_table(TX_HEADERS, TX_NUMERIC, stretch=2)
        self.tx_table.itemSelectionChanged.connect(self._update_buttons)
        mine.body.addWidget(self.tx_table, 1)

        index = Card("Index activity")
        self.events_caption = label("", "caption")
        index.body.addWidget(self.events_caption)
        self.event_table = make_table(EVENT_HEADERS, EVENT_NUMERIC, stretch=2)
        index.body.addWidget(self.event_table, 1)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(mine)
        split.addWidget(index)
        split.setSizes([340, 300])
        split.setHandleWidth(14)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 20)
        outer.setSpacing(14)
        outer.addWidget(self.header)
        outer.addWidget(self.banner)
        outer.addWidget(split, 1)
        theme_manager().changed.connect(self._on_theme)
        self.show_transactions([])
        self.show_events([])

    # -- setters ----------------------------------------------------------------------

    def show_transactions(self, records: Sequence[TxRecord]) -> None:
        self.records = sorted(records, key=lambda r: (r.created_at, r.nonce), reverse=True)
        p = theme_manager().palette
        rows = []
        for r in self.records:
            status = f"\u25cf {r.status_text.capitalize()}"
            if r.status is TxStatus.REPLACED and r.replaced_by:
                status += f" by {short_hex(r.replaced_by)}"
            rows.append([
                (fmt.format_timestamp(r.created_at), r.created_at),
                r.kind.replace("_", " ").capitalize(),
                r.summary or "\u2014",
                (status, r.status.value, f"Status: {r.status.value}"),
                (str(r.nonce), r.nonce),
                (f"{r.block_number:,}" if r.block_number else "\u2014", r.block_number),
                (short_hex(r.tx_hash, 10, 8), r.tx_hash, r.tx_hash),
            ])
        fill_table(self.tx_table, rows, TX_NUMERIC)
        self._colour_status(p)
        pending = sum(1 for r in self.records if r.status is TxStatus.PENDING)
        self.mine_caption.setText(
            (f"{len(self.records)} transactions" + (f" \u00b7 {pending} pending" if pending
                                                     else "")
             + " \u00b7 select a pending one to send, speed up, cancel or leave it")
            if self.records else "No transactions signed by this wallet yet")
        self.export_button.setEnabled(bool(self.records))
        self._update_buttons()

    def show_events(self, events: Sequence[IndexEvent]) -> None:
        self.events = sorted(events, key=lambda e: (e.block_number, e.log_index),
                             reverse=True)
        rows = []
        for e in self.events:
            rows.append([
                (fmt.format_timestamp(e.timestamp) if e.timestamp else "\u2014", e.timestamp),
                _EVENT_NAMES.get(e.kind, e.kind.replace("_", " ").capitalize()),
                e.summary,
                (f"{e.block_number:,}", e.block_number),
                (short_hex(e.tx_hash, 10, 8), e.tx_hash, e.tx_hash),
            ])
        fill_table(self.event_table, rows, EVENT_NUMERIC)
        kinds = {e.kind for e in self.events}
        self.events_caption.setText(
            f"{len(self.events)} events" + (
                " \u00b7 rebalances, regime switches and fee changes included"
                if kinds & {"rebalance", "regime", "fee"} else "")
            if self.events else "No index events yet")

    def show_message(self, kind: str, title: str, message: str = "") -> None:
        self.banner.show_message(kind, title, message)

    def selected_record(self) -> TxRecord | None:
        rows = self.tx_table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.records[rows[0].row()]

    def select_hash(self, tx_hash: str) -> bool:
        for i, r in enumerate(self.records):
            if r.tx_hash == tx_hash:
                self.tx_table.selectRow(i)
                return True
        return False

    # -- internals --------------------------------------------------------------------

    def _colour_status(self, p: Palette) -> None:
        for i, r in enumerate(self.records):
            item: QTableWidgetItem | None = self.tx_table.item(i, 3)
            if item is not None:
                item.setForeground(QBrush(p.q(_STATUS_COLOUR.get(r.status, "text"))))

    def _on_theme(self, p: Palette) -> None:
        self._colour_status(p)

    def _update_buttons(self) -> None:
        rec = self.selected_record()
        pending = rec is not None and rec.status is TxStatus.PENDING
        for b in (self.speed_button, self.cancel_button, self.send_button,
                  self.leave_button):
            b.setEnabled(pending)

    def _emit_selected(self, signal: Signal) -> None:  # type: ignore[valid-type]
        rec = self.selected_record()
        if rec is not None and rec.status is TxStatus.PENDING:
            signal.emit(rec.tx_hash)  # type: ignore[attr-defined]

    def _ask_export_path(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export transactions", str(Path.home() / "g100-transactions.csv"),
            "CSV files (*.csv)")
        if path:
            if not path.lower().endswith(".csv"):
                path += ".csv"
            self.exportRequested.emit(Path(path))
