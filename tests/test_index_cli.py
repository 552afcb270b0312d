"""`index-wallet index ...`: text for people, JSON that parses for scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wallet_app.cli.main import main
from wallet_app.market.errors import SnapshotError


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(list(argv)) == 0
    out = capsys.readouterr().out
    return json.loads(out)


def test_compose_default_snapshot_json(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "index", "compose", "--json")
    assert data["constituent_count"] == 100 and data["total_weight_bps"] == 10_000
    assert data["source"] == "app snapshot" and data["as_of"].startswith("2025-01-31")
    first = data["constituents"][0]
    assert set(first) >= {"rank", "id", "symbol", "market_cap", "weight_bps"}
    assert isinstance(first["market_cap"], str)  # Decimals as strings
    assert all(e["reasons"] for e in data["excluded"])


def test_compose_markets_file_and_previous(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    coins = [{"id": f"c{i:03d}", "symbol": f"C{i}", "name": f"Coin {i}", "current_price": 2,
              "market_cap": (200 - i) * 10**9, "total_volume": 10**7} for i in range(130)]
    coins.append({"id": "tether", "symbol": "usdt", "name": "Tether", "current_price": 1,
                  "market_cap": 10**14, "total_volume": 10**10})
    markets = tmp_path / "markets.json"
    markets.write_text(json.dumps(coins))
    first = run_json(capsys, "index", "compose", "--markets", str(markets), "--json")
    assert [c["id"] for c in first["constituents"]][:2] == ["c000", "c001"]
    assert first["excluded"][0]["id"] == "tether"
    # Feed the output back as the previous composition (after shifting the ranks).
    prev = tmp_path / "prev.json"
    prev.write_text(json.dumps({"constituents": [{"id": f"c{i:03d}"} for i in range(10, 110)]}))
    second = run_json(capsys, "index", "compose", "--markets", str(markets), "--previous",
                      str(prev), "--json")
    assert sum(c["buffered"] for c in second["constituents"]) == 10
    # Text output is a table.
    assert main(["index", "compose", "--markets", str(markets)]) == 0
    text = capsys.readouterr().out
    assert "100 constituents" in text and "USDT" in text and "deny list" in text


def test_compose_bad_file_is_a_clear_error(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"nope": 1}')
    assert main(["index", "compose", "--markets", str(bad)]) == SnapshotError.exit_code
    assert "error:" in capsys.readouterr().err


def test_regime_total_series_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "total.csv"
    lines = ["date,market_cap"]
    for i in range(260):
        v = 1000 + (i if i < 220 else 220 - 5 * (i - 220))
        lines.append(f"2021-{1 + i // 28:02d}-{1 + i % 28:02d},{v}")
    csv.write_text("\n".join(lines) + "\n")
    data = run_json(capsys, "index", "regime", "--history", str(csv), "--json")
    assert data["input"]["kind"] == "total" and data["days"] == 61
    p = data["points"][0]
    assert set(p) == {"date", "market", "sma", "rho", "score", "band", "state"}
    assert data["points"][-1]["state"] in ("bull", "bear")
    assert main(["index", "regime", "--history", str(csv), "--last", "3"]) == 0
    out = capsys.readouterr().out
    assert "Flips" in out and out.count("\n") < 20


def test_regime_short_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "short.csv"
    csv.write_text("date,market_cap\n2021-01-01,5\n")
    data = run_json(capsys, "index", "regime", "--history", str(csv), "--json")
    assert data["days"] == 0 and data["points"] == []


def test_regime_real_table_json(shared_market: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "index", "regime", "--history",
                    str(shared_market / "daily_market_caps_2020-2025.csv"), "--json")
    assert data["input"]["kind"] == "per-asset"
    assert len(data["flips"]) == 10
    by_day = {p["date"]: p for p in data["points"]}
    assert by_day["2022-06-30"]["state"] == "bear"
    assert by_day["2021-03-01"]["state"] == "bull" and by_day["2024-12-01"]["state"] == "bull"


@pytest.mark.gui  # the chart is drawn by the gui extra: not collected in the core venv
def test_backtest_json_and_chart(shared_market: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "nav.png"
    data = run_json(capsys, "index", "backtest", "--history",
                    str(shared_market / "daily_market_caps_2020-2025.csv"), "--prices",
                    str(shared_market / "daily_ohlcv_2020-2025.csv"), "--chart", str(chart),
                    "--json")
    s = data["summary"]
    for key in ("total_return", "volatility_annualised", "max_drawdown", "turnover", "cagr"):
        assert key in s
    assert s["use_regime"] is True and data["comparison"]["use_regime"] is False
    assert len(data["nav"]) == s["days"] and len(data["flips"]) == 10
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_schedule_json(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "index", "schedule", "--json")
    assert data["next_rebalance"].endswith("+00:00")


def test_core_does_not_import_qt() -> None:
    code = ("import sys, wallet_app.index, wallet_app.market, wallet_app.cli.index_cmds;"
            "bad=[m for m in sys.modules if m.startswith(('PySide6','pyqtgraph','ui'))];"
            "print(bad); sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
