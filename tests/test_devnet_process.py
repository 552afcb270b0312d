"""The devnet process, driven through the real `index-wallet devnet` command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wallet_app.devnet import process
from wallet_app.errors import DevnetError, ToolMissingError
from wallet_app.paths import app_paths


def cli(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wallet_app", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **extra_env},
    )


#: Given to `devnet up` in its environment; the node it starts must see neither.
SECRET = "orbit-Lantern-93-velvet-secret"
MARKER = "not-for-children-4242"


def test_up_status_down_through_cli() -> None:
    port = process.free_port()
    r = cli("devnet", "up", "--port", str(port), "--json",
            G100_WALLET_PASSWORD=SECRET, G100_HYGIENE_MARKER=MARKER)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["status"] == "started" and info["port"] == port
    try:
        assert process.rpc_chain_id(info["rpc_url"]) == 31337
        # The node the CLI started has a minimal environment: no secret, nothing else the
        # CLI was given either, but what a program needs (PATH, HOME).
        node_env = dict(line.split(b"=", 1) for line in
                        Path(f"/proc/{info['pid']}/environ").read_bytes().split(b"\0") if line)
        assert SECRET.encode() not in b"".join(node_env.values())
        assert b"G100_WALLET_PASSWORD" not in node_env and b"G100_HYGIENE_MARKER" not in node_env
        assert MARKER.encode() not in b"".join(node_env.values())
        assert node_env[b"PATH"] == os.environ["PATH"].encode() and b"HOME" in node_env
        # A second `up` reuses the running node instead of starting another.
        again = json.loads(cli("devnet", "up", "--json").stdout)
        assert again["status"] == "already running" and again["pid"] == info["pid"]
        st = cli("devnet", "status", "--json")
        assert st.returncode == 0 and json.loads(st.stdout)["rpc_url"] == info["rpc_url"]
    finally:
        down = cli("devnet", "down", "--json")
    assert down.returncode == 0 and json.loads(down.stdout)["stopped"] is True
    # The process is gone (no orphan) and status says so with a non-zero code. Polled:
    # after a SIGKILL (a loaded machine can miss the SIGTERM grace) the end takes a moment.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(info["pid"], 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the devnet node (pid {info['pid']}) outlived 'devnet down'")
    st = cli("devnet", "status", "--json")
    assert st.returncode == 1 and json.loads(st.stdout) == {"running": False}


def test_busy_port_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = cli("devnet", "up", "--port", str(port))
    assert r.returncode == DevnetError.exit_code
    assert f"Port {port} is already in use" in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_binary_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANVIL", "/nonexistent/anvil")
    with pytest.raises(ToolMissingError, match="does not point at an executable"):
        process.up(port=process.free_port())
    r = cli("devnet", "up")
    assert r.returncode == ToolMissingError.exit_code and "anvil" in r.stderr


def test_node_not_answering_in_time(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in "anvil" that runs but never answers JSON-RPC.
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("ANVIL", str(fake))
    with pytest.raises(DevnetError, match="did not answer eth_chainId"):
        process.up(port=process.free_port(), timeout=1.0)
    assert process.status() is None
    assert not (app_paths().devnet_dir / "node.json").exists()


def test_stale_record_is_cleaned(anvil_node: process.NodeInfo) -> None:
    paths = app_paths()
    paths.devnet_dir.mkdir(parents=True, exist_ok=True)
    rec = paths.devnet_dir / "node.json"
    rec.write_text(json.dumps({**anvil_node.__dict__, "pid": 999_999_999}))
    assert process.status(paths) is None
    assert not rec.exists()
