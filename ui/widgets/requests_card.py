"""Cards shared by My Indices and Transactions: pending requests (with Cancel) and claims.

Both only format what the facade returned (``RequestRow``, ``ClaimRow``-like objects) and
emit the user's click as a signal; the controller does the work on a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from ui import formatting as fmt
from ui.pages.common import Card, button, fill_table, label, make_table, selected_row, short_hex

REQUEST_HEADERS = ("Request", "Type", "Amount", "Minimum at the strike", "Cut-off", "State")
CLAIM_HEADERS = ("Kept for you", "Amount", "Token")


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


class RequestsCard(Card):
    """The user's requests waiting for the next price strike, with a Cancel button (enabled
    for a selected request before its cut-off). Hidden while there are none.

    Signals:
        cancelRequestRequested(int): the id of the request to cancel.
    """

    cancelRequestRequested = Signal(int)

    def __init__(self, object_name: str = "cancelRequestButton",
                 parent: QWidget | None = None) -> None:
        super().__init__("Pending requests", parent)
        self.caption = label("", "caption", wrap=True)
        self.table = make_table(REQUEST_HEADERS, (), stretch=3)
        self.cancel_button = button("Cancel request", name=object_name,
                                    tooltip="Allowed before the request's cut-off: its USDC "
                                            "or shares come back")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel_selected)
        self.table.itemSelectionChanged.connect(self._selected_changed)
        self.body.addWidget(self.caption)
        self.body.addWidget(self.table)
        self.body.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignRight)
        self.hide()
        self.requests: list[Any] = []

    def show_requests(self, requests: Sequence[Any]) -> None:
        """Rows from ``RequestRow``-like objects; the card shows only when there are any."""
        self.requests = list(requests)
        rows = []
        for r in self.requests:
            if r.kind == "buy":
                amount = fmt.format_usdc(r.amount)
                minimum = fmt.format_token_amount(r.min_out, "G100", 6)
            else:
                amount = fmt.format_token_amount(r.amount, "G100", 6)
                minimum = fmt.format_usdc(r.min_out)
            rows.append([f"#{r.request_id}", f"{r.kind.capitalize()} request", amount, minimum,
                         fmt.format_timestamp(r.eligible_at),
                         "cancellable" if r.cancellable else "waiting for the strike"])
        fill_table(self.table, rows, ())
        self._fit_rows()
        self.setVisible(bool(self.requests))
        self.caption.setText(
            f"{_n(len(self.requests), 'request')} waiting for the next price strike; each "
            "settles at that strike's NAV, or is refunded below its minimum.")
        self._selected_changed()

    def _fit_rows(self) -> None:
        """As tall as its rows (up to five), so the card never takes the screen from the
        tables below it."""
        t = self.table
        rows = min(max(t.rowCount(), 1), 5)
        height = t.horizontalHeader().sizeHint().height() + 2 * t.frameWidth() + 4 \
            + sum(t.rowHeight(i) for i in range(rows)) if t.rowCount() else 90
        t.setFixedHeight(max(height, 60))

    def select_request(self, request_id: int) -> bool:
        for i, r in enumerate(self.requests):
            if r.request_id == request_id:
                self.table.selectRow(i)
                return True
        return False

    def selected(self) -> Any:
        return selected_row(self.table, self.requests)

    def set_can_sign(self, can_sign: bool, reason: str = "") -> None:
        """A watch-only wallet: Cancel request is off and its tooltip says why."""
        self.can_sign = can_sign
        self.cancel_button.setToolTip(
            reason or "Allowed before the request's cut-off: its USDC or shares come back")
        self._selected_changed()

    def _selected_changed(self) -> None:
        r = self.selected()
        self.cancel_button.setEnabled(bool(r is not None and r.cancellable
                                           and getattr(self, "can_sign", True)))

    def _cancel_selected(self) -> None:
        r = self.selected()
        if r is not None and r.cancellable:
            self.cancel_button.setEnabled(False)
            self.cancelRequestRequested.emit(int(r.request_id))


class ClaimsCard(Card):
    """USDC or tokens the vault keeps for the user after a payment it could not deliver
    (a blacklisted address, a paused token in an in-kind exit), with a Claim button.

    Signals:
        claimRequested(str, str): the claim's kind ("usdc" | "in_kind") and token address.
    """

    claimRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Claimable", parent)
        self.caption = label("The vault could not deliver these to your address when they "
                             "were due and keeps them for you; claiming sends them to your "
                             "address only.", "caption", wrap=True)
        self.table = make_table(CLAIM_HEADERS, (1,), stretch=0)
        self.table.setMinimumHeight(70)
        self.claim_button = button("Claim", name="claimButton",
                                   tooltip="One transaction; the vault pays your address")
        self.claim_button.setEnabled(False)
        self.claim_button.clicked.connect(self._claim_selected)
        self.table.itemSelectionChanged.connect(self._selected_changed)
        self.body.addWidget(self.caption)
        self.body.addWidget(self.table)
        self.body.addWidget(self.claim_button, 0, Qt.AlignmentFlag.AlignRight)
        self.hide()
        self.claims: list[Any] = []

    def show_claims(self, claims: Sequence[Any]) -> None:
        self.claims = list(claims)
        rows = [["USDC" if c.kind == "usdc" else "In-kind exit", f"{c.amount:,f}",
                 c.symbol if c.kind == "usdc" else f"{c.symbol} {short_hex(c.token)}"]
                for c in self.claims]
        fill_table(self.table, rows, (1,))
        self.setVisible(bool(self.claims))
        if len(self.claims) == 1:
            self.table.selectRow(0)
        self._selected_changed()

    def selected(self) -> Any:
        return selected_row(self.table, self.claims)

    def set_can_sign(self, can_sign: bool, reason: str = "") -> None:
        """A watch-only wallet: Claim is off and its tooltip says why."""
        self.can_sign = can_sign
        self.claim_button.setToolTip(reason)
        self._selected_changed()

    def _selected_changed(self) -> None:
        self.claim_button.setEnabled(self.selected() is not None
                                     and getattr(self, "can_sign", True))

    def _claim_selected(self) -> None:
        c = self.selected()
        if c is not None:
            self.claim_button.setEnabled(False)
            self.claimRequested.emit(str(c.kind), str(c.token))
