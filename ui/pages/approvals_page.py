"""The Approvals screen: every allowance this wallet granted on USDC and G100, and revoke.

An allowance lets a contract take the user's tokens later without asking; the screen
lists each spender the pinned tokens' Approval events name for this wallet, with its
label (a role from the deployment record, else "unknown contract"), the allowance read
from the token now, and a warning on unlimited ones. Revoke is one transaction
(``approve(spender, 0)``), signed after the password like a trade.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

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

HEADERS = ("Token", "Spender", "Who", "Allowance", "Last approval block")
NUMERIC = (3, 4)


class ApprovalsPage(QWidget):
    """Table of allowances with Revoke.

    Signals:
        refreshRequested()
        revokeRequested(str token symbol, str spender): the selected row's.
    """

    refreshRequested = Signal()
    revokeRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.approvals: list[Any] = []
        self.header = PageHeader(
            "Approvals", "Contracts allowed to move your USDC or G100 without asking again")
        self.refresh_button = button("Refresh", name="refreshApprovals")
        self.refresh_button.clicked.connect(self.refreshRequested)
        self.header.add_widget(self.refresh_button)
        self.banner = Banner()
        self.unlimited_banner = Banner()
        card = Card("Allowances you granted")
        self.caption = label("Loading\u2026", "caption", wrap=True)
        self.revoke_button = button("Revoke", primary=True, name="revokeApproval",
                                    tooltip="Set the allowance to 0 (one transaction)")
        self.revoke_button.setEnabled(False)
        self.revoke_button.clicked.connect(self._revoke_selected)
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.revoke_button)
        card.body.addLayout(top)
        self.table = make_table(HEADERS, NUMERIC, stretch=2)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        card.body.addWidget(self.table)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 24, 28, 20)
        lay.setSpacing(14)
        lay.addWidget(self.header)
        lay.addWidget(self.banner)
        lay.addWidget(self.unlimited_banner)
        lay.addWidget(card, 1)

    def show_approvals(self, approvals: Sequence[Any]) -> None:
        self.approvals = list(approvals)
        rows = []
        for a in self.approvals:
            amount = ("Unlimited \u26a0" if a.unlimited
                      else fmt.format_token_amount(a.allowance, a.symbol, 6))
            rows.append([a.symbol, (a.spender, None, a.spender), a.label, amount,
                         f"{a.last_block:,}"])
        fill_table(self.table, rows, NUMERIC)
        n = len(self.approvals)
        self.caption.setText(
            f"{n} active allowance{'s' if n != 1 else ''}, read from the tokens now"
            if n else "No active allowances: no contract can move your USDC or G100.")
        unlimited = [a for a in self.approvals if a.unlimited]
        if unlimited:
            names = ", ".join(f"{a.symbol} to {a.label} {short_hex(a.spender)}"
                              for a in unlimited)
            self.unlimited_banner.show_message(
                "warning", f"{len(unlimited)} unlimited allowance"
                           f"{'s' if len(unlimited) != 1 else ''}",
                f"{names}. An unlimited allowance lets that contract take every "
                "token of this kind you hold, now or later. Revoke it unless you use it.")
        else:
            self.unlimited_banner.clear()
        self._selection_changed()

    def selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() \
            else []
        if not rows:
            return None
        i = rows[0].row()
        return self.approvals[i] if 0 <= i < len(self.approvals) else None

    def select_spender(self, spender: str) -> bool:
        for i, a in enumerate(self.approvals):
            if a.spender.lower() == spender.lower():
                self.table.selectRow(i)
                return True
        return False

    def _selection_changed(self) -> None:
        self.revoke_button.setEnabled(self.selected() is not None)

    def _revoke_selected(self) -> None:
        a = self.selected()
        if a is not None:
            self.revoke_button.setEnabled(False)
            self.revokeRequested.emit(a.symbol, a.spender)

    def show_message(self, kind: str, title: str, message: str = "") -> None:
        self.banner.show_message(kind, title, message)
