"""Shared helpers for the chain-client tests (imported by tests/test_chain_*.py).

Named ``test_chain_*`` to stay within the chain tests' files; it holds no tests itself.
Everything here talks to a *real* Anvil: accounts come from Anvil's mnemonic or are fresh
keys funded with ``anvil_setBalance``; contracts are compiled from inline Solidity with the
project's pinned solc-js (``contracts/node_modules/solc``) through node.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from wallet_app.chain.provider import ChainClient, CountingProvider
from wallet_app.chain.registry import ChainInfo
from wallet_app.devnet import process
from wallet_app.paths import CONTRACTS_DIR, AppPaths

Account.enable_unaudited_hdwallet_features()

ETH = 10**18


def anvil_account(index: int) -> LocalAccount:
    """Anvil's default account ``index`` (derived from the devnet mnemonic)."""
    return Account.from_mnemonic(process.ANVIL_MNEMONIC,
                                 account_path=f"m/44'/60'/0'/0/{index}")


def rpc(url: str, method: str, *params: Any) -> Any:
    """A raw JSON-RPC call for test set-up (bypasses the code under test)."""
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                              "params": list(params)}, timeout=10).json()
    if "error" in r:
        raise RuntimeError(f"{method}: {r['error']}")
    return r["result"]


def fresh_account(url: str, wei: int = 10 * ETH) -> LocalAccount:
    """A new random key with ``wei`` set as its balance: isolates nonces per test."""
    acct = Account.create()
    rpc(url, "anvil_setBalance", acct.address, hex(wei))
    return acct


def balance(url: str, address: str) -> int:
    return int(rpc(url, "eth_getBalance", address, "latest"), 16)


def nonce_of(url: str, address: str, block: str = "latest") -> int:
    return int(rpc(url, "eth_getTransactionCount", address, block), 16)


@dataclass
class Signer:
    """A ``sign(tx) -> bytes`` callable over a local key, counting its calls."""

    account: LocalAccount
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, tx: dict[str, Any]) -> bytes:
        self.calls.append(dict(tx))
        return bytes(self.account.sign_transaction(tx).raw_transaction)


def devnet_client(url: str, chain_id: int = process.DEVNET_CHAIN_ID,
                  **kw: Any) -> ChainClient:
    """A client for ``url`` that *expects* ``chain_id`` (pass another id to mismatch)."""
    info = ChainInfo(key="devnet", name="Local devnet (Anvil)", chain_id=chain_id,
                     rpc_url=url, is_devnet=True, block_time_s=1.0)
    return ChainClient(info, CountingProvider(url, **kw))


@functools.cache
def compile_solidity(source: str, name: str) -> tuple[list[dict[str, Any]], str]:
    """(abi, creation bytecode hex) of contract ``name`` in ``source`` via solc-js."""
    node = shutil.which("node")
    solc_dir = CONTRACTS_DIR / "node_modules" / "solc"
    if node is None or not solc_dir.is_dir():
        pytest.skip("node or contracts/node_modules/solc is not installed (run the set-up)")
    script = (
        "const solc=require(process.argv[1]);let s='';process.stdin.on('data',d=>s+=d);"
        "process.stdin.on('end',()=>process.stdout.write(solc.compile(s)));"
    )
    std_in = json.dumps({
        "language": "Solidity",
        "sources": {"T.sol": {"content": source}},
        "settings": {"evmVersion": "cancun", "optimizer": {"enabled": False},
                     "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}}},
    })
    out = subprocess.run([node, "-e", script, str(solc_dir)], input=std_in,
                         capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.stdout)
    errors = [e for e in result.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RuntimeError(f"solc: {errors}")
    c = result["contracts"]["T.sol"][name]
    return c["abi"], c["evm"]["bytecode"]["object"]


REVERTER_SOURCE = """
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Reverter {
    error SlippageExceeded(uint256 minOut, uint256 out);
    error Mystery(uint256 code);
    error AlreadyDone();

    bool public done;

    function requireFails() external pure { require(false, "Deadline passed"); }
    function divide(uint256 x) external pure returns (uint256) { return 100 / x; }
    function overflow(uint256 x) external pure returns (uint256) {
        return x + type(uint256).max;
    }
    function assertFails() external pure { assert(false); }
    function slippage(uint256 out) external pure { revert SlippageExceeded(1000, out); }
    function mystery() external pure { revert Mystery(7); }
    function bare() external pure { revert(); }
    function once() external { if (done) revert AlreadyDone(); done = true; }
    receive() external payable {}
}
"""


@dataclass(frozen=True)
class Deployed:
    address: str
    abi: list[dict[str, Any]]


def deploy(url: str, source: str, name: str) -> Deployed:
    """Deploy with Anvil's unlocked account 0 (set-up only, not the code under test)."""
    abi, bytecode = compile_solidity(source, name)
    sender = anvil_account(0).address
    tx_hash = rpc(url, "eth_sendTransaction", {"from": sender, "data": "0x" + bytecode})
    receipt = rpc(url, "eth_getTransactionReceipt", tx_hash)
    if receipt is None:  # automine off somewhere: mine it
        rpc(url, "evm_mine")
        receipt = rpc(url, "eth_getTransactionReceipt", tx_hash)
    return Deployed(receipt["contractAddress"], abi)


def start_anvil(root: Path) -> Iterator[process.NodeInfo]:
    """A private Anvil (own data dir) for tests that stop mining or drop transactions."""
    paths = AppPaths(root / "data", root / "config", root / "logs").ensure()
    info, _ = process.up(paths, port=process.free_port())
    try:
        yield info
    finally:
        process.down(paths)


class FlakyProxy:
    """A local HTTP server that answers a script of failures, then forwards to Anvil.

    ``script`` items: an int HTTP status to return, ``"sleep"`` to hang past the client's
    timeout and *then* forward (delivered, but the client gave up), or ``"ok"`` to
    forward. When the script is exhausted it forwards. With ``only_method`` the script
    applies only to requests of that JSON-RPC method. ``sleep_s`` is how long a "sleep"
    hangs: well past the client's timeout, so that what the client does after giving up
    (a check by hash, a resend) happens before the late delivery even on a loaded machine.
    """

    def __init__(self, upstream: str, script: list[int | str],
                 only_method: str | None = None, sleep_s: float = 0.6) -> None:
        self.upstream = upstream
        self.sleep_s = sleep_s
        self.script = list(script)
        self.only_method = only_method
        self.hits = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.hits += 1
                scripted = proxy.only_method is None or proxy.only_method.encode() in body
                step = proxy.script.pop(0) if proxy.script and scripted else "ok"
                if step == "sleep":
                    time.sleep(proxy.sleep_s)
                    step = "ok"
                if isinstance(step, int):
                    self.send_response(step)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                try:
                    r = httpx.post(proxy.upstream, content=body,
                                   headers={"Content-Type": "application/json"})
                except httpx.HTTPError:  # upstream gone (late handler after teardown)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v2/SECRET-API-KEY"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
