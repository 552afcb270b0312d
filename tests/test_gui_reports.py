"""The Transactions screen's tax export and the log's legs pane, by clicks, against the
real facade on a real Anvil devnet with the real keyring.

A wallet buys once (set-up through the facade) and the operator rebalances; then the
user picks "Highest cost", clicks "Tax history CSV..." and saves (the file dialog answers
with a path), and clicks a rebalance row of the index activity to see its legs.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from web3 import Web3  # noqa: E402

from tests.gui_support import LEFT, WAIT, open_app  # noqa: E402
from tests.wallet_support import forget_wallet, new_funded_wallet  # noqa: E402
from ui import worker  # noqa: E402
from ui.app import create_app  # noqa: E402
from wallet_app.devnet.deploy import set_prices  # noqa: E402
from wallet_app.operator import Operator  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    create_app(theme="light")


def test_tax_export_and_legs_by_clicks(qtbot, devnet, tmp_path: Path,  # noqa: ANN001
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    paths, dev = devnet
    svc, name = new_funded_wallet(monkeypatch, paths, "gui-tax", eth=Decimal(2),
                                  usdc=Decimal(5_000))
    bought = svc.buy(svc.quote_buy(Decimal("1200")))
    assert bought.state == "settled"
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    # Three prices move apart: the rebalance sells the winners and buys the loser.
    snap = svc.session.snapshot()
    set_prices(w3, dev.deployment, {c.symbol: Decimal(c.price18).scaleb(-18) * Decimal(f)
                                    for c, f in zip(snap.constituents[:3],
                                                    ("1.03", "0.97", "1.03"), strict=True)},
               refresh_nav=True)
    assert svc.session.vault is not None
    assert Operator(w3, dev.deployment, svc.session.vault).rebalance().legs > 0

    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    try:
        qtbot.mouseClick(win.nav_buttons["transactions"], LEFT)
        tp = win.tx_page
        qtbot.waitUntil(lambda: any(r.tx_hash == bought.tx_hash for r in tp.records)
                        and any(e.kind == "rebalance" for e in tp.events), timeout=WAIT)

        # The tax export: pick the method, click, the save dialog answers with a path.
        out = tmp_path / "taxes"
        asked: list[str] = []

        def save_dialog(parent, title, start, filt):  # noqa: ANN001, ANN202
            asked.append(start)
            return str(out), filt

        monkeypatch.setattr("ui.pages.transactions_page.QFileDialog.getSaveFileName",
                            save_dialog)
        tp.tax_method.setCurrentIndex(tp.tax_method.findData("hifo"))
        qtbot.waitUntil(tp.tax_button.isEnabled, timeout=WAIT)
        qtbot.mouseClick(tp.tax_button, LEFT)
        written = tmp_path / "taxes.csv"  # ".csv" added to a name without it
        qtbot.waitUntil(written.is_file, timeout=WAIT)
        assert asked and asked[0].endswith("g100-tax-hifo.csv")
        rows = list(csv.DictReader(written.open()))
        assert [(r["type"], r["method"], r["request_tx"]) for r in rows] == [
            ("buy", "hifo", bought.tx_hash)]
        assert Decimal(rows[0]["usdc"]) == Decimal(1200)
        assert Decimal(rows[0]["cost_basis_usd"]) >= Decimal(1200)  # + the network fee
        qtbot.waitUntil(lambda: tp.banner.isVisible(), timeout=WAIT)
        assert "1 trade" in tp.banner.title.text() and "trades" not in tp.banner.title.text()

        # "Export CSV..." writes the index log with every leg beside the transactions.
        tx_csv = tmp_path / "tx.csv"
        monkeypatch.setattr("ui.pages.transactions_page.QFileDialog.getSaveFileName",
                            lambda *a: (str(tx_csv), "CSV files (*.csv)"))
        qtbot.mouseClick(tp.export_button, LEFT)
        log_csv = tmp_path / "tx-index-log.csv"
        qtbot.waitUntil(lambda: log_csv.is_file() and "index log" in tp.banner.title.text(),
                        timeout=WAIT)
        log_rows = list(csv.DictReader(log_csv.open()))
        newest = next(e for e in tp.events if e.kind == "rebalance")
        mine = [r for r in log_rows if r["tx_hash"] == newest.tx_hash]
        assert mine and all(r["event"] == "rebalance" and r["oracle_checked"] == "yes"
                            for r in mine)

        # The legs: click the newest rebalance row; its legs fill the pane.
        row = next(i for i, e in enumerate(tp.events) if e.kind == "rebalance")
        view = tp.event_log.view
        view.scrollTo(view.model().index(row, 0))
        rect = view.visualRect(view.model().index(row, 2))
        qtbot.mouseClick(view.viewport(), LEFT, pos=rect.center())
        legs = svc.event_legs(tp.events[row])
        table = tp.event_log.legs_table
        qtbot.waitUntil(lambda: table.rowCount() == len(legs.legs) > 0, timeout=WAIT)
        assert [table.item(i, 1).text() for i in range(table.rowCount())] == [
            leg.asset for leg in legs.legs]
        assert table.item(0, 3).text().endswith(legs.legs[0].asset_in)
        assert "match the vault's Rebalanced totals" in tp.event_log.legs_caption.text()
        if os.environ.get("G100_SCREENSHOTS"):
            win.grab().save(str(Path(os.environ["G100_SCREENSHOTS"]) / "tx-legs.png"))
    finally:
        ctl.shutdown()
        assert worker.wait_idle(WAIT)
        forget_wallet(svc, name)
