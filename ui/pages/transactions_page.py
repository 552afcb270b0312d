"""The Transactions screen: the user's own transactions and the index's activity log.

Two lists because they answer two questions. "Did my transaction go through?" is the
journal (every transaction this wallet signed, with its status; a pending one can be sped
up or cancelled by a replacement with the same nonce), plus what the pinned contracts'
events show for the address that this computer did not sign (the same key used on another
computer, G100 or USDC received). "What did the index do?" is read
from the vault's events: rebalances, regime switches, fee changes, buys and sells.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui.labels import label_text, labelled
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
from ui.widgets.event_log import EventLog
from ui.widgets.requests_card import RequestsCard
from wallet_app.models import IndexEvent, TxRecord, TxStatus
from wallet_app.services.watch_history import CHAIN_NOTE
from wallet_app.text import counted

TX_HEADERS = ("Time", "Type", "Details", "Status", "Nonce", "Block", "Transaction")
TX_NUMERIC = (4, 5)
_STATUS_COLOUR = {
    TxStatus.PENDING: "warning",
    TxStatus.CONFIRMED: "positive",
    TxStatus.FAILED: "negative",
    TxStatus.REPLACED: "text_muted",
    TxStatus.DROPPED: "text_muted",
}


class TransactionsPage(QWidget):
    """Journal table with Speed up / Cancel, index events table, CSV export.

    Signals:
        speedUpRequested(str), cancelRequested(str), sendNowRequested(str),
        leaveRequested(str): tx hash of the selected pending row (send now = the same
        signed bytes, only before the deadline; leave = nothing is sent).
        cancelRequestRequested(int): a pending buy/sell request to cancel (before its cut-off).
        exportRequested(Path): the file the user picked in the save dialog.
        taxExportRequested(Path, str): the tax history's file and lot method (fifo/hifo).
        legsRequested(IndexEvent): the selected log entry's legs are wanted.
        refreshRequested()
    """

    speedUpRequested = Signal(str)
    cancelRequested = Signal(str)
    sendNowRequested = Signal(str)
    leaveRequested = Signal(str)
    #: The user clicked Cancel request on a pending buy or sell request (its id).
    cancelRequestRequested = Signal(int)
    exportRequested = Signal(object)
    taxExportRequested = Signal(object, str)
    legsRequested = Signal(object)
    refreshRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.records: list[TxRecord] = []
        self.events: list[IndexEvent] = []
        self.labels: dict[str, str] = {}
        self.can_sign = True

        self.header = PageHeader(
            "Transactions", "Your transactions and the index's activity, newest first")
        self.refresh_button = button("Refresh", name="refreshTx")
        self.export_button = button("Export CSV\u2026", name="exportCsv",
                                    tooltip="Save your transactions as a CSV file")
        self.tax_method = QComboBox()
        self.tax_method.setObjectName("taxMethod")
        self.tax_method.addItem("FIFO", "fifo")
        self.tax_method.addItem("Highest cost", "hifo")
        self.tax_method.setToolTip("Which lots a sell disposes of first in the tax history")
        self.tax_button = button("Tax history CSV\u2026", name="exportTax",
                                 tooltip="Save every verified trade with its USD values, "
                                         "cost basis per lot and realized gain")
        self.header.add_widget(self.refresh_button)
        self.header.add_widget(self.export_button)
        self.header.add_widget(self.tax_method)
        self.header.add_widget(self.tax_button)
        self.tax_button.clicked.connect(self._ask_tax_path)
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
        self._tips = {b.objectName(): b.toolTip() for b in (
            self.speed_button, self.cancel_button, self.send_button, self.tax_button)}
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

        # The same pending-requests card as My Indices (a request is a transaction the
        # strike has not answered yet), with its own Cancel button.
        self.requests_card = RequestsCard("txCancelRequestButton")
        self.requests_card.cancelRequestRequested.connect(self.cancelRequestRequested)

        index = Card("Index activity")
        self.events_caption = label("", "caption")
        index.body.addWidget(self.events_caption)
        self.event_log = EventLog()
        self.event_log.model.summary_of = self._event_text  # names beside known addresses
        self.event_table = self.event_log.view
        self.event_log.legsRequested.connect(self.legsRequested)
        index.body.addWidget(self.event_log, 1)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(mine)
        split.addWidget(index)
        split.setSizes([250, 420])
        split.setHandleWidth(14)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 20)
        outer.setSpacing(14)
        outer.addWidget(self.header)
        outer.addWidget(self.banner)
        outer.addWidget(self.requests_card)
        outer.addWidget(split, 1)
        theme_manager().changed.connect(self._on_theme)
        self.show_transactions([])
        self.show_events([])

    # -- setters ----------------------------------------------------------------------

    def set_labels(self, labels: dict[str, str]) -> None:
        """Names for addresses (contacts, own accounts): shown beside them in both logs."""
        self.labels = dict(labels)
        self.show_transactions(self.records)
        self.show_events(self.events)

    def set_can_sign(self, can_sign: bool, reason: str = "") -> None:
        """A watch-only wallet: the buttons that sign (send now, speed up, cancel) say why
        they are off."""
        self.can_sign = can_sign
        for b in (self.speed_button, self.cancel_button, self.send_button):
            b.setToolTip(reason or self._tips.get(b.objectName(), ""))
        self.requests_card.set_can_sign(can_sign, reason)
        self.show_transactions(self.records)  # the caption says where the rows come from

    def show_requests(self, requests: Sequence[object]) -> None:
        """The user's requests waiting for a strike (objects like ``RequestRow``)."""
        self.requests_card.show_requests(requests)

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
                label_text(r.summary, self.labels) or "\u2014",
                (status, r.status.value, f"Status: {r.status.value}"),
                # -1: a watched address received it (someone else's transaction).
                (str(r.nonce) if r.nonce >= 0 else "\u2014", r.nonce),
                (f"{r.block_number:,}" if r.block_number else "\u2014", r.block_number),
                (short_hex(r.tx_hash, 10, 8), r.tx_hash, r.tx_hash),
            ])
        fill_table(self.tx_table, rows, TX_NUMERIC)
        self._colour_status(p)
        pending = sum(1 for r in self.records if r.status is TxStatus.PENDING)
        hint = ("select a pending one to send, speed up, cancel or leave it" if self.can_sign
                else "read from the chain's events (watch-only)")
        # A keyed wallet's rows this computer did not sign (the key used elsewhere, or
        # shares received) come from the pinned contracts' events.
        elsewhere = sum(1 for r in self.records if r.outcome_note == CHAIN_NOTE)
        if self.can_sign and elsewhere:
            hint = f"{elsewhere} read from the chain's events (not signed here) \u00b7 {hint}"
        self.mine_caption.setText(
            (counted(len(self.records), "transaction") + (f" \u00b7 {pending} pending" if pending
                                                     else "") + f" \u00b7 {hint}")
            if self.records else "No transactions signed by this wallet yet")
        self.export_button.setEnabled(bool(self.records))
        # The tax history is built from trades this app verified: none for a watched wallet.
        self.tax_button.setEnabled(bool(self.records) and self.can_sign)
        self.tax_button.setToolTip(self._tips["exportTax"] if self.can_sign else
                                   "Watch-only wallet: the tax history needs the trades "
                                   "this app signed and verified with its key")
        self._update_buttons()

    def show_events(self, events: Sequence[IndexEvent]) -> None:
        self.event_log.set_events(events)
        self.events = self.event_log.model.events
        kinds = {e.kind for e in self.events}
        self.events_caption.setText(
            counted(len(self.events), "event") + (
                " \u00b7 rebalances, regime switches and fee changes included"
                if kinds & {"rebalance", "regime", "fee"} else "")
            if self.events else "No index events yet")

    def _event_text(self, e: IndexEvent) -> str:
        labels = self.labels
        text = label_text(e.summary, labels)
        if e.account and e.account.lower() in labels:
            text += f" \u00b7 {labelled(e.account, labels)}"
        return text

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
        signs = (self.speed_button, self.cancel_button, self.send_button)
        for b in (*signs, self.leave_button):
            b.setEnabled(pending and (b not in signs or self.can_sign))

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

    def show_legs(self, event: IndexEvent, legs: object) -> None:
        self.event_log.show_legs(event, legs)

    def _ask_tax_path(self) -> None:
        method = str(self.tax_method.currentData())
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the tax history", str(Path.home() / f"g100-tax-{method}.csv"),
            "CSV files (*.csv)")
        if path:
            if not path.lower().endswith(".csv"):
                path += ".csv"
            self.taxExportRequested.emit(Path(path), method)
