"""Commands that need no network start without web3, eth-account or Qt.

Each command runs in a fresh interpreter; after it returns, the child prints which of the
heavy packages ended up in ``sys.modules``. The offline commands must load none of them
(importing web3 alone takes most of a second); the control case shows that the probe does
see them when they are loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("web3", "eth_account", "eth_keyfile", "PySide6", "shiboken6", "pyqtgraph", "ui",
         "wallet_app.facade")

PROBE = r"""
import contextlib, io, json, sys
argv = json.loads(sys.argv[1])
heavy = json.loads(sys.argv[2])
from wallet_app.cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(argv)
    except SystemExit as exc:  # --help
        code = exc.code or 0
loaded = sorted(h for h in heavy if h in sys.modules)
print(json.dumps({"code": code, "loaded": loaded, "stdout": out.getvalue()}))
"""


def _run(argv: list[str], tmp: Path, code: str = PROBE) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(argv), json.dumps(HEAVY)],
                          capture_output=True, text=True, env=env, cwd=tmp, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["index", "--help"],
    ["index", "compose"],
    ["index", "compose", "--json"],
    ["index", "schedule"],
    ["wallet", "list"],
    ["devnet", "status"],
    ["deployment", "--help"],
])
def test_offline_commands_import_nothing_heavy(argv: list[str], tmp_path: Path) -> None:
    res = _run(argv, tmp_path)
    assert res["loaded"] == [], f"{argv} imported {res['loaded']}"
    assert res["code"] in (0, 1), res  # devnet status: 1 = not running


def test_history_commands_import_nothing_heavy(shared_market: Path, tmp_path: Path) -> None:
    caps = str(shared_market / "daily_market_caps_2020-2025.csv")
    for argv in (["index", "regime", "--history", caps, "--last", "3"],
                 ["index", "backtest", "--history", caps, "--no-prices", "--json"]):
        res = _run(argv, tmp_path)
        assert res["code"] == 0 and res["loaded"] == [], (argv, res["loaded"])


def test_wallet_list_shows_wallets_without_key_code(app_home, tmp_path: Path) -> None:
    """`wallet list` reads the registry only, and still lists what the manager created."""
    from wallet_app.keys import WalletManager

    mgr = WalletManager()
    info, phrase = mgr.create("Startup", "correct horse battery staple 9", words=12)
    phrase.wipe()
    mgr.close()
    res = _run(["wallet", "list", "--json"], tmp_path)
    assert res["loaded"] == []
    listed = json.loads(res["stdout"])["wallets"]
    assert [w["name"] for w in listed] == ["Startup"]
    assert listed[0]["accounts"][0]["address"] == info.accounts[0].address


def test_probe_sees_heavy_imports(tmp_path: Path) -> None:
    """Control: a command that does load the key code is reported as such."""
    code = PROBE.replace("from wallet_app.cli.main import main",
                         "from wallet_app.cli.main import main\n"
                         "import wallet_app.keys as k; k.WalletManager")
    res = _run(["--help"], tmp_path, code)
    assert "eth_account" in res["loaded"]
