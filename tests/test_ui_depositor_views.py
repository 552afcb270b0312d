"""The depositor's views alone (no chain): the governance notice's wording for one and
several changes, hidden when none, and the Rule check panel with differences listed."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ui.app import create_app  # noqa: E402
from ui.widgets.governance_notice import GovernanceBanner  # noqa: E402
from ui.widgets.rule_check import RuleCheckPanel  # noqa: E402
from wallet_app.index.verify import Difference, VerifyReport  # noqa: E402
from wallet_app.services.governance_view import OperationCall, PendingChange  # noqa: E402

READY = datetime(2026, 12, 3, 9, 49, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    create_app(theme="light")


def _change(text: str, seconds: int) -> PendingChange:
    return PendingChange(op_id="0x" + "ab" * 32,
                         calls=(OperationCall("0x" + "11" * 20, 0, b"", text, "setFeed"),),
                         ready_at=READY, seconds_left=seconds, scheduled_block=7,
                         ready=seconds == 0)


def test_governance_banner_wording(qtbot) -> None:  # noqa: ANN001
    b = GovernanceBanner()
    qtbot.addWidget(b)
    b.show()
    b.show_changes([])
    assert not b.isVisible()
    b.show_changes([_change("BTC's price feed changes", 31 * 3600)])
    assert b.isVisible() and b.kind() == "warning"
    assert b.title.text() == "BTC's price feed changes in 31 h (03 Dec 09:49 UTC)"
    assert "\u2022" not in b.message.text()  # one change: said once, in the title
    b.show_changes([_change("BTC's price feed changes", 31 * 3600),
                    _change("the fees change to 0.50% on buys and 0.50% on sells", 0)])
    assert b.title.text() == "2 governance changes pending, the first in 31 h"
    assert "\u2022 The fees change to 0.50% on buys and 0.50% on sells: ready to take " \
           "effect now" in b.message.text()
    buying = GovernanceBanner(buying=True, with_exit=False)
    qtbot.addWidget(buying)
    buying.show_changes([_change("SOL leaves the index", 3 * 86_400 + 5)])
    assert buying.title.text() == "SOL leaves the index in 4 days (03 Dec 09:49 UTC)"
    assert buying.message.text().startswith("A governance change is pending")
    assert not buying.primary.isVisibleTo(buying)


def test_rule_check_panel_lists_differences(qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    panel = RuleCheckPanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 520)
    panel.show()
    asked: list[bool] = []
    panel.checkRequested.connect(lambda: asked.append(True))
    panel.request_check()
    assert asked and panel.verdict.text() == "Checking\u2026"
    report = VerifyReport(
        (Difference("target", "BTC: the vault targets 25.01%, the rules give 25.00%", "BTC"),
         Difference("target", "ETH: the vault targets 24.99%, the rules give 25.00%", "ETH")),
        market_day="2025-02-03", block=45, snapshot_hash="0x" + "4a" * 32,
        regime_rules="bull", regime_vault="bull", checked_targets=100, checked_holdings=100)
    panel.show_report(report)
    assert panel.verdict.text() == "\u2717 2 differences from the rules"
    assert panel.table.isVisible() and panel.table.rowCount() == 2
    assert panel.table.item(0, 0).text() == "Target weight"
    assert "25.01%" in panel.table.item(0, 1).text()
    assert panel.check_button.isEnabled()
    panel.grab().save(str(tmp_path / "rule-check-differences.png"))
    if os.environ.get("G100_SCREENSHOT_DIR"):
        panel.grab().save(str(Path(os.environ["G100_SCREENSHOT_DIR"])
                              / "rule-check-differences-light.png"))
