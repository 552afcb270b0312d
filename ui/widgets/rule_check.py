"""The Strategy dialog's "Rule check" tab: does the vault match the rules?

The core recomputes, from the market snapshot recorded with the last rebalance (its hash
checked against the rebalance log), the target weights and the regime with the same engine
the operator runs, and compares them with what the vault targets and holds
(``WalletService.verify_rules()``). This panel shows the verdict in one line ("Matches the
rules", or how many differences) and lists each difference with the asset and both
numbers. It asks for a check through :attr:`RuleCheckPanel.checkRequested`; the controller
runs it on the worker.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ui.pages.common import Card, KeyValueGrid, button, fill_table, label, make_table, set_prop

HEADERS = ("What", "Difference")
KIND_TEXT = {"target": "Target weight", "regime": "Regime", "holding": "Holding",
             "snapshot": "Snapshot", "changed": "Changed later"}


class RuleCheckPanel(QWidget):
    """Verdict, the snapshot it used, and the differences (if any)."""

    checkRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ruleCheck")
        self.report: Any = None
        self.verdict = label("Not checked yet", "subheading", name="ruleVerdict")
        self.explain = label(
            "The app recomputes the target weights and the regime from the market snapshot "
            "recorded with the last rebalance (its hash checked against the rebalance log), "
            "with the same engine the operator runs, and compares them with what the vault "
            "targets and holds (valued at the snapshot's prices, so later moves do not "
            "count).", "muted", wrap=True)
        self.facts = KeyValueGrid()
        self.facts.add_row("day", "Market close used")
        self.facts.add_row("block", "Recorded at block")
        self.facts.add_row("hash", "Snapshot hash (keccak256)")
        self.facts.add_row("regime", "Regime: rules / vault")
        self.facts.add_row("checked", "Checked")
        self.table = make_table(HEADERS, (), stretch=1)
        self.table.setObjectName("ruleDifferences")
        self.table.setMinimumHeight(160)
        self.notes = label("", "caption", wrap=True)
        self.check_button = button("Check again", name="ruleCheckButton")
        self.check_button.clicked.connect(self.request_check)
        card = Card("Does the vault follow its rules?")
        card.body.addWidget(self.verdict)
        card.body.addWidget(self.explain)
        card.body.addWidget(self.facts)
        card.body.addWidget(self.table, 3)
        card.body.addWidget(self.notes)
        card.body.addStretch(1)  # keeps the lines together while there is no table
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.check_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 12, 0, 0)
        lay.addWidget(card, 1)
        lay.addLayout(row)
        self.table.hide()

    def request_check(self) -> None:
        self.verdict.setText("Checking\u2026")
        set_prop(self.verdict, "trend", "")
        self.check_button.setEnabled(False)
        self.checkRequested.emit()

    def show_report(self, report: Any) -> None:
        self.report = report
        self.check_button.setEnabled(True)
        ok = bool(report.matches)
        self.verdict.setText(("\u2713 " if ok else "\u2717 ") + str(report.headline))
        set_prop(self.verdict, "trend", "up" if ok else "down")
        self.facts.set("day", report.market_day or "\u2014")
        self.facts.set("block", f"{report.block:,}" if report.block else "\u2014")
        h = str(report.snapshot_hash or "")
        self.facts.set("hash", f"{h[:18]}\u2026{h[-8:]}" if len(h) > 30 else h or "\u2014")
        self.facts.set("regime", f"{(report.regime_rules or '?').title()} / "
                                 f"{(report.regime_vault or '?').title()}")
        self.facts.set("checked", f"{report.checked_targets} target weights, "
                                  f"{report.checked_holdings} holdings")
        rows = [[KIND_TEXT.get(d.kind, d.kind), d.text] for d in report.differences]
        fill_table(self.table, rows)
        self.table.setVisible(bool(rows))
        self.notes.setText("\n".join(report.notes))
        self.notes.setVisible(bool(report.notes))

    def show_error(self, title: str, message: str) -> None:
        self.check_button.setEnabled(True)
        self.verdict.setText(title)
        set_prop(self.verdict, "trend", "down")
        self.notes.setText(message)
        self.notes.setVisible(True)
        self.notes.setAlignment(Qt.AlignmentFlag.AlignLeft)
