"""The tax lots, pure: FIFO and HIFO cost basis, realized gains, rounding to the cent,
holding periods and the yearly totals, each figure computed by hand in the comments."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from wallet_app.reports.tax import TaxTrade, cents, run_lots, year_report
from wallet_app.reports.tax_csv import (
    DISPOSAL_COLUMNS,
    HISTORY_COLUMNS,
    disposal_rows,
    history_rows,
    write_csv,
    year_text,
)


def _t(kind: str, day: str, shares: str, usdc: str, fee: str, nav: str, gas: str = "0",
       eth: str | None = "2000", rid: int = 0) -> TaxTrade:
    return TaxTrade(kind=kind, time=datetime.fromisoformat(day).replace(tzinfo=UTC),
                    shares=D(shares), usdc=D(usdc), platform_fee_usdc=D(fee), nav_usd=D(nav),
                    gas_eth=D(gas), eth_usd=None if eth is None else D(eth), request_id=rid,
                    request_tx=f"0xreq{rid}", settlement_tx=f"0xset{rid}", block_number=rid)


# Three buys at different NAVs, then a partial sell and a second sell.
#   L1: 10 shares for 1000 USDC + gas 0.001 ETH x 2000 = 2 USD   -> basis 1002 (100.2/share)
#   L2:  5 shares for  600 USDC + gas 0.0005 x 2000    = 1 USD   -> basis  601 (120.2/share)
#   L3:  8 shares for  720 USDC + gas 0               = 0       -> basis  720 ( 90  /share)
HISTORY = [
    _t("buy", "2026-01-05", "10", "1000", "2.5", "99.75", "0.001", rid=0),
    _t("buy", "2026-02-05", "5", "600", "1.5", "119.7", "0.0005", rid=2),
    _t("buy", "2026-03-05", "8", "720", "1.8", "89.775", rid=4),
    # Sell 12 shares for 1320 USDC net, gas 0.001 ETH at 2500 = 2.50 -> proceeds 1317.50
    _t("sell", "2026-04-05", "12", "1320", "3.3", "110.275", "0.001", "2500", rid=1),
    # Sell 6 more for 540 USDC net, no gas -> proceeds 540
    _t("sell", "2026-05-05", "6", "540", "1.35", "90.225", rid=3),
]


def test_fifo_by_hand() -> None:
    ledger = run_lots(HISTORY, "fifo")
    sell1, sell2 = ledger.rows[3], ledger.rows[4]
    # Sell 1 takes all of L1 (10) and 2 of L2's 5: basis 1002 + 601 x 2/5 = 1242.40.
    assert [(d.lot_id, d.shares) for d in sell1.disposals] == [("L1", D(10)), ("L2", D(2))]
    assert cents(sell1.cost_basis_usd) == D("1242.40")
    # Proceeds 1317.50 split 10/12 and 2/12: 1097.9166.. -> 1097.92 and 219.5833.. -> 219.58.
    assert [cents(d.proceeds_usd) for d in sell1.disposals] == [D("1097.92"), D("219.58")]
    assert [d.gain_usd for d in sell1.disposals] == [D("95.92"), D("-20.82")]
    assert sell1.realized_gain_usd == D("75.10")
    # Sell 2 takes L2's last 3 (601 x 3/5 = 360.60) and 3 of L3 (720 x 3/8 = 270): 630.60.
    assert [(d.lot_id, d.shares) for d in sell2.disposals] == [("L2", D(3)), ("L3", D(3))]
    assert cents(sell2.cost_basis_usd) == D("630.60")
    assert sell2.realized_gain_usd == D("540.00") - D("630.60")
    assert [(lot, shares) for lot, _, shares, _ in ledger.open_lots] == [("L3", D(5))]


def test_hifo_by_hand() -> None:
    ledger = run_lots(HISTORY, "hifo")
    sell1, sell2 = ledger.rows[3], ledger.rows[4]
    # Highest cost per share first: L2 (120.2) all 5, then L1 (100.2) 7 of 10.
    assert [(d.lot_id, d.shares) for d in sell1.disposals] == [("L2", D(5)), ("L1", D(7))]
    # basis 601 + 1002 x 7/10 = 601 + 701.40 = 1302.40; gain 1317.50 - 1302.40 = 15.10
    assert cents(sell1.cost_basis_usd) == D("1302.40")
    assert sell1.realized_gain_usd == D("15.10")
    # Then L1's remaining 3 (300.60) and 3 of L3 (270): 570.60; gain 540 - 570.60 = -30.60
    assert [(d.lot_id, d.shares) for d in sell2.disposals] == [("L1", D(3)), ("L3", D(3))]
    assert sell2.realized_gain_usd == D("-30.60")


def test_methods_differ_but_total_gain_over_a_closed_position_is_the_same() -> None:
    closing = [*HISTORY, _t("sell", "2026-06-05", "5", "500", "1.25", "100.25", rid=5)]
    gains = {}
    for m in ("fifo", "hifo"):
        ledger = run_lots(closing, m)
        gains[m] = sum((r.realized_gain_usd or D(0)) for r in ledger.rows)
        assert ledger.open_lots == ()
    # Everything bought and sold: total gain = total proceeds - total basis, up to the
    # per-disposal rounding (at most half a cent per disposal line).
    exact = D("1317.50") + D(540) + D(500) - (D(1002) + D(601) + D(720))
    assert abs(gains["fifo"] - exact) <= D("0.02") and abs(gains["hifo"] - exact) <= D("0.02")
    assert run_lots(HISTORY, "fifo").rows[3].realized_gain_usd != \
        run_lots(HISTORY, "hifo").rows[3].realized_gain_usd


def test_shares_beyond_lots_have_zero_basis_and_unknown_price_is_flagged() -> None:
    trades = [_t("buy", "2026-01-01", "1", "100", "0.25", "99.75", "0.01", eth=None, rid=0),
              _t("sell", "2026-02-01", "3", "330", "0.75", "110", rid=1)]
    ledger = run_lots(trades)
    # No ETH price: the buy's basis is the USDC alone, and the CSV says why.
    assert ledger.rows[0].cost_basis_usd == D(100)
    sell = ledger.rows[1]
    assert [(d.lot_id, d.shares, cents(d.cost_basis_usd)) for d in sell.disposals] == [
        ("L1", D(1), D("100.00")), ("", D(2), D("0.00"))]
    assert sell.realized_gain_usd == D("110.00") - D("100.00") + D("220.00")
    rows = history_rows(ledger)
    assert "ETH/USD unknown" in rows[0][-1] and "zero basis" in rows[1][-1]
    assert year_report(ledger, 2026).missing_eth_price == 1


def test_holding_period_and_years() -> None:
    trades = [_t("buy", "2025-03-01", "2", "200", "0.5", "99.75", rid=0),
              _t("sell", "2026-03-01", "1", "150", "0.38", "150.4", rid=1),  # exactly a year
              _t("sell", "2026-03-02", "1", "160", "0.4", "160.4", rid=3)]  # a year and a day
    ledger = run_lots(trades)
    assert [d.term for d in ledger.disposals] == ["short", "long"]
    r26 = year_report(ledger, 2026)
    assert (r26.short_term_gain_usd, r26.long_term_gain_usd) == (D("50.00"), D("60.00"))
    assert r26.gain_usd == D("110.00") and r26.sells == 2 and r26.buys == 0
    assert r26.proceeds_usd == D("310.00") and r26.cost_basis_usd == D("200.00")
    assert r26.platform_fees_usd == D("0.78")
    r25 = year_report(ledger, 2025)
    assert r25.disposals == () and r25.buys == 1 and r25.platform_fees_usd == D("0.50")
    assert "No sells settled" in year_text(r25)


def test_rounding_is_half_even_to_the_cent_and_rows_add_up() -> None:
    # 3 shares for 100 USDC: each share costs 33.333..; selling 1 realizes 1/3 of the basis.
    trades = [_t("buy", "2026-01-01", "3", "100", "0.25", "33.25", rid=0),
              _t("sell", "2026-01-02", "1", "40.005", "0.1", "40.1", rid=1)]
    ledger = run_lots(trades)
    d = ledger.disposals[0]
    assert cents(d.cost_basis_usd) == D("33.33")
    assert cents(d.proceeds_usd) == D("40.00")  # 40.005 -> 40.00 (half-even)
    assert d.gain_usd == D("6.67")
    rows = history_rows(ledger)
    sell = dict(zip(HISTORY_COLUMNS, rows[1], strict=True))
    assert D(sell["proceeds_usd"]) - D(sell["cost_basis_usd"]) == D(sell["realized_gain_usd"])


def test_csv_columns_and_text() -> None:
    ledger = run_lots(HISTORY)
    buf = io.StringIO()
    assert write_csv(buf, HISTORY_COLUMNS, history_rows(ledger)) == 5
    lines = list(csv.DictReader(io.StringIO(buf.getvalue())))
    first = lines[0]
    # 10 shares at NAV 99.75 = 997.50 USD; gas 0.001 ETH x 2000 = 2.00 USD; basis 1002.00
    assert (first["type"], first["value_usd"], first["network_fee_usd"],
            first["cost_basis_usd"], first["lots"]) == ("buy", "997.50", "2.00", "1002.00",
                                                         "L1")
    assert first["date_utc"] == "2026-01-05 00:00:00" and first["platform_fee_usd"] == "2.50"
    sell = lines[3]
    assert (sell["lots"], sell["proceeds_usd"], sell["realized_gain_usd"]) == (
        "L1:10 L2:2", "1317.50", "75.10")
    buf = io.StringIO()
    write_csv(buf, DISPOSAL_COLUMNS, disposal_rows(year_report(ledger, 2026).disposals))
    assert buf.getvalue().splitlines()[0] == ",".join(DISPOSAL_COLUMNS)
    assert len(buf.getvalue().splitlines()) == 5  # 4 disposal lines
    text = year_text(year_report(ledger, 2026))
    assert "Realized gain:" in text and "FIFO" in text


def test_refuses_unknown_method_and_kind() -> None:
    with pytest.raises(ValueError, match="method"):
        run_lots(HISTORY, "lifo")
    with pytest.raises(ValueError, match="buy or a sell"):
        run_lots([_t("redeem", "2026-01-01", "1", "1", "0", "1")])


# -- in-kind exits and share transfers -------------------------------------------------
A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
FRIEND = "0x" + "cc" * 20


def _x(kind: str, day: str, shares: str, *, acct: str = A, usdc: str = "0",
       in_kind: str = "0", nav: str = "110", gas: str = "0", eth: str = "2000",
       to: str = "", own: bool = False, tx: str = "", log: int = 0) -> TaxTrade:
    return TaxTrade(kind=kind, time=datetime.fromisoformat(day).replace(tzinfo=UTC),
                    shares=D(shares), usdc=D(usdc), platform_fee_usdc=D(0), nav_usd=D(nav),
                    gas_eth=D(gas), eth_usd=D(eth), settlement_tx=tx or f"0x{day}",
                    block_number=int(day.replace("-", "")), account=acct, counterparty=to,
                    own=own, log_index=log, in_kind_usd=D(in_kind))


# A: L1 10 shares basis 1002, L2 5 shares basis 601 (HISTORY's first two buys), then:
EXIT = _x("in_kind_exit", "2026-03-01", "4", usdc="100", in_kind="350.55", gas="0.001",
          eth="2500")  # proceeds 100 + 350.55 - 2.50 = 448.05
GIFT = _x("transfer_out", "2026-03-02", "3", to=FRIEND, nav="110", gas="0.0005")
MOVE_OUT = _x("transfer_out", "2026-03-03", "2", to=B, own=True, tx="0xmove", log=7)
MOVE_IN = _x("transfer_in", "2026-03-03", "2", acct=B, to=A, own=True, tx="0xmove", log=7)
B_BUY = TaxTrade(kind="buy", time=datetime(2026, 4, 1, tzinfo=UTC), shares=D(1),
                 usdc=D(90), platform_fee_usdc=D(0), nav_usd=D(90), gas_eth=D(0),
                 eth_usd=D(2000), request_id=8, block_number=20260401, account=B)
B_SELL = TaxTrade(kind="sell", time=datetime(2026, 6, 1, tzinfo=UTC), shares=D(2),
                  usdc=D(260), platform_fee_usdc=D(0), nav_usd=D(130), gas_eth=D(0),
                  eth_usd=D(2000), request_id=9, block_number=20260601, account=B)
GOT = _x("transfer_in", "2026-07-01", "2", to=FRIEND, nav="120")


def _mine(*extra: TaxTrade) -> list[TaxTrade]:
    from dataclasses import replace

    return [replace(t, account=A) for t in HISTORY[:2]] + list(extra)


def test_in_kind_exit_is_a_disposal_at_what_arrived() -> None:
    fifo = run_lots(_mine(EXIT), "fifo").rows[2]
    # FIFO: 4 of L1: basis 1002 x 4/10 = 400.80; gain 448.05 - 400.80 = 47.25
    assert [(d.lot_id, d.shares) for d in fifo.disposals] == [("L1", D(4))]
    assert cents(fifo.proceeds_usd) == D("448.05") and fifo.realized_gain_usd == D("47.25")
    hifo = run_lots(_mine(EXIT), "hifo").rows[2]
    # HIFO: 4 of L2 (120.2/share): basis 480.80; gain 448.05 - 480.80 = -32.75
    assert [(d.lot_id, d.shares) for d in hifo.disposals] == [("L2", D(4))]
    assert hifo.realized_gain_usd == D("-32.75")
    rep = year_report(run_lots(_mine(EXIT)), 2026)
    assert rep.in_kind_exits == 1 and rep.sells == 0 and rep.gain_usd == D("47.25")
    assert rep.proceeds_usd == D("448.05") and rep.network_fees_usd == D("5.50")  # 2+1+2.5
    line = dict(zip(HISTORY_COLUMNS, history_rows(run_lots(_mine(EXIT)))[2], strict=True))
    assert (line["type"], line["usdc"], line["in_kind_usd"], line["proceeds_usd"],
            line["cost_basis_usd"], line["realized_gain_usd"]) == (
        "in_kind_exit", "100", "350.55", "448.05", "400.80", "47.25")
    assert "oracle" in line["note"]


def test_gift_removes_lots_without_a_gain_and_own_moves_carry_basis_and_date() -> None:
    trades = _mine(EXIT, GIFT, MOVE_OUT, MOVE_IN, B_BUY, B_SELL, GOT)
    a = run_lots(trades, "fifo", account=A)
    gift, move = a.rows[3], a.rows[4]
    # After the exit L1 holds 6 (basis 601.20); the gift takes 3 of them: 300.60 left.
    assert [(d.lot_id, d.shares) for d in gift.moved] == [("L1", D(3))]
    assert cents(gift.cost_basis_usd) == D("300.60") and gift.realized_gain_usd is None
    assert not gift.disposals and gift.proceeds_usd is None
    assert cents(gift.trade.value_usd) == D("330.00")  # 3 shares at NAV 110
    # The own move takes 2 more of L1 (200.40) to B; A keeps L1 1 share, L2 5, L3 new.
    assert [(d.lot_id, d.shares) for d in move.moved] == [("L1", D(2))]
    assert [(lot, s, cents(c)) for lot, _, s, c in a.open_lots] == [
        ("L1", D(1), D("100.20")), ("L2", D(5), D("601.00")), ("L3", D(2), D("240.00"))]
    rep = year_report(a, 2026)
    assert [r.trade for r in rep.transfers_out] == [GIFT]  # the own move is not listed
    assert rep.transfers_in == 1 and rep.gain_usd == D("47.25")  # only the exit's gain
    text = year_text(rep)
    assert "Sent to others (not sales" in text and FRIEND in text and "330.00" in text
    lines = {r[1]: dict(zip(HISTORY_COLUMNS, r, strict=True)) for r in history_rows(a)}
    notes = [dict(zip(HISTORY_COLUMNS, r, strict=True))["note"] for r in history_rows(a)]
    assert "not a sale" in notes[3] and "own account" in notes[4]
    assert lines["transfer_in"]["cost_basis_usd"] == "240.00"  # 2 at NAV 120
    assert lines["transfer_in"]["lots"] == "L3"

    b = run_lots(trades, "fifo", account=B)
    arrived, _, sold = b.rows
    assert arrived.trade.kind == "transfer_in" and cents(arrived.cost_basis_usd) == D("200.40")
    assert [d.lot_id for d in arrived.moved] == ["L1@0xaaaa"]
    # FIFO by acquisition date: the carried lot (bought 2026-01-05) goes before B's own L1
    # (2026-04-01): basis 200.40, gain 260 - 200.40 = 59.60, acquired in January.
    assert [(d.lot_id, d.shares) for d in sold.disposals] == [("L1@0xaaaa", D(2))]
    assert sold.realized_gain_usd == D("59.60")
    assert sold.disposals[0].acquired == datetime(2026, 1, 5, tzinfo=UTC)
    assert [(lot, s) for lot, _, s, _ in b.open_lots] == [("L1", D(1))]


def test_own_transfer_beyond_the_senders_lots_arrives_with_zero_basis() -> None:
    out = _x("transfer_out", "2026-03-03", "12", to=B, own=True, tx="0xm", log=1)
    inn = _x("transfer_in", "2026-03-03", "12", acct=B, to=A, own=True, tx="0xm", log=1)
    from dataclasses import replace

    b = run_lots([replace(HISTORY[0], account=A), out, inn], "fifo", account=B)
    (row,) = b.rows
    assert [(d.lot_id, d.shares) for d in row.moved] == [("L1@0xaaaa", D(10)), ("", D(2))]
    assert cents(row.cost_basis_usd) == D("1002.00")
    assert "zero basis" in history_rows(b)[0][-1]


def test_year_json_lists_transfers_out_apart() -> None:
    import json

    from wallet_app.cli.output import to_json
    from wallet_app.cli.report_cmds import report_payload

    rep = year_report(run_lots(_mine(EXIT, GIFT, MOVE_OUT, MOVE_IN), account=A), 2026)
    data = json.loads(to_json(report_payload(rep)))
    (gift,) = data["transfers_out"]
    # 3 shares at NAV 110; 3 of L1 after the exit: 1002 x 3/10 = 300.60; fee 0.0005 x 2000
    assert (gift["shares"], gift["value_usd"], gift["cost_basis_usd"], gift["to"],
            gift["lots"], gift["network_fee_usd"]) == ("3", "330.00", "300.60", FRIEND,
                                                       "L1:3", "1.00")
    assert data["in_kind_exits"] == 1 and len(data["disposals"]) == 1
