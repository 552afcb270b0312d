"""Start, find and stop the local Anvil node.

The running node is recorded in ``<data_dir>/devnet/node.json`` (endpoint, pid, port, start
time) so that a second ``devnet up`` reuses it and ``devnet down`` can stop it from another
process. Anvil runs in its own process group, so stopping it never leaves a child behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from ..errors import DevnetError
from ..hardening import child_env
from ..paths import AppPaths, app_paths
from ..toolchain import find_tool

log = logging.getLogger(__name__)

DEVNET_CHAIN_ID = 31337
#: Anvil's well-known test mnemonic; the devnet's operator and faucet keys come from it.
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
DEFAULT_PORT = 8545
#: A block gas limit large enough for a 100-token deployment in few blocks.
BLOCK_GAS_LIMIT = 300_000_000


@dataclass
class NodeInfo:
    """What is recorded about a running node."""

    rpc_url: str
    port: int
    pid: int
    chain_id: int
    started_at: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def _record_path(paths: AppPaths) -> Path:
    return paths.devnet_dir / "node.json"


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """Ask the kernel for a free TCP port on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rpc_chain_id(rpc_url: str, timeout: float = 1.0) -> int | None:
    """Return the node's ``eth_chainId``, or None when it does not answer."""
    try:
        r = httpx.post(
            rpc_url,
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            timeout=timeout,
        )
        return int(r.json()["result"], 16)
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def status(paths: AppPaths | None = None) -> NodeInfo | None:
    """The recorded node if it is alive and answering, else None (stale records removed)."""
    paths = paths or app_paths()
    rec = _record_path(paths)
    if not rec.exists():
        return None
    try:
        info = NodeInfo(**json.loads(rec.read_text()))
    except (ValueError, TypeError):
        rec.unlink(missing_ok=True)
        return None
    if _pid_alive(info.pid) and rpc_chain_id(info.rpc_url) == info.chain_id:
        return info
    rec.unlink(missing_ok=True)
    return None


def up(
    paths: AppPaths | None = None,
    port: int | None = None,
    timeout: float = 15.0,
    block_time: float | None = None,
    accounts: int = 10,
) -> tuple[NodeInfo, bool]:
    """Start Anvil (or reuse the running one). Returns (info, started_now).

    ``accounts=0`` starts a node with no unlocked account at all (every transaction must
    be signed by the caller), as a real chain is.

    ``port=None`` tries 8545 and falls back to a free port; an explicit port that is busy is
    an error, because the caller asked for that one.
    """
    paths = (paths or app_paths()).ensure()
    existing = status(paths)
    if existing:
        return existing, False
    anvil = find_tool("anvil")
    if port is None:
        port = DEFAULT_PORT if port_is_free(DEFAULT_PORT) else free_port()
    elif not port_is_free(port):
        raise DevnetError(
            f"Port {port} is already in use. Stop what listens there or choose another port "
            "(`index-wallet devnet up --port N`, or omit --port to pick a free one)."
        )
    paths.devnet_dir.mkdir(parents=True, exist_ok=True)
    log_file = open(paths.devnet_dir / "anvil.log", "ab")  # noqa: SIM115 - handed to Popen
    cmd = [
        str(anvil),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--chain-id", str(DEVNET_CHAIN_ID),
        "--mnemonic", ANVIL_MNEMONIC,
        "--accounts", str(accounts),
        "--gas-limit", str(BLOCK_GAS_LIMIT),
        "--code-size-limit", "100000",
    ]
    if block_time:
        cmd += ["--block-time", str(block_time)]
    proc = subprocess.Popen(
        cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True, env=child_env(),  # no secret reaches the node
    )
    log_file.close()
    rpc_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DevnetError(
                f"Anvil exited at start (code {proc.returncode}); see "
                f"{paths.devnet_dir / 'anvil.log'}."
            )
        if rpc_chain_id(rpc_url, timeout=0.5) == DEVNET_CHAIN_ID:
            info = NodeInfo(rpc_url, port, proc.pid, DEVNET_CHAIN_ID, time.time())
            _record_path(paths).write_text(info.to_json())
            log.info("devnet started on %s (pid %s)", rpc_url, proc.pid)
            return info, True
        time.sleep(0.05)
    _kill_group(proc.pid)
    raise DevnetError(
        f"Anvil did not answer eth_chainId on {rpc_url} within {timeout:.0f} s; it was stopped. "
        f"See {paths.devnet_dir / 'anvil.log'}."
    )


def _kill_group(pid: int, grace: float = 3.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def down(paths: AppPaths | None = None) -> bool:
    """Stop the recorded node. Returns False when none was running."""
    paths = paths or app_paths()
    rec = _record_path(paths)
    if not rec.exists():
        return False
    try:
        info = NodeInfo(**json.loads(rec.read_text()))
    except (ValueError, TypeError):
        rec.unlink(missing_ok=True)
        return False
    running = _pid_alive(info.pid)
    if running:
        _kill_group(info.pid)
    rec.unlink(missing_ok=True)
    log.info("devnet stopped (pid %s)", info.pid)
    return running
