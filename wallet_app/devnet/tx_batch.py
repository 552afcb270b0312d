"""Batched transactions from Anvil's unlocked accounts, owner calls through the timelock,
and web3 handles on the deployed contracts (kept out of ``wallet_app/devnet/deploy.py``).

Why batched: the devnet's market and price moves are many transactions; counting nonces
locally and collecting receipts at the end costs one HTTP request per transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import TransactionNotFound

from ..errors import DevnetError
from . import artifacts
from .deployment import Deployment


class TxBatch:
    """Sends transactions from Anvil's unlocked accounts without per-transaction round trips.

    Nonces are counted locally from the pending count, gas limits are given explicitly, and
    receipts are collected later, so a batch costs one HTTP request per transaction.
    """

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self._nonces: dict[str, int] = {}
        self.sent: list[tuple[str, bytes]] = []

    def nonce(self, sender: str) -> int:
        if sender not in self._nonces:
            self._nonces[sender] = self.w3.eth.get_transaction_count(sender, "pending")
        return self._nonces[sender]

    def send(
        self, label: str, sender: str, to: str | None, data: str, gas: int, value: int = 0
    ) -> bytes:
        tx: dict[str, Any] = {
            "from": sender,
            "data": data,
            "gas": hex(gas),
            "nonce": hex(self.nonce(sender)),
            "value": hex(value),
        }
        if to is not None:
            tx["to"] = to
        resp = self.w3.provider.make_request("eth_sendTransaction", [tx])  # type: ignore[arg-type]
        if "error" in resp or "result" not in resp:
            raise DevnetError(f"The devnet rejected the transaction '{label}'. See the Anvil log.")
        self._nonces[sender] += 1
        tx_hash = bytes.fromhex(str(resp["result"])[2:])
        self.sent.append((label, tx_hash))
        return tx_hash

    def wait(self, timeout: float = 120.0) -> list[Any]:
        """Receipts of everything sent since the last wait; raises if any reverted."""
        receipts = []
        deadline = time.monotonic() + timeout
        for label, tx_hash in self.sent:
            while True:
                try:
                    receipt = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
                    break
                except TransactionNotFound:
                    if time.monotonic() > deadline:
                        raise DevnetError(
                            f"The devnet did not mine '{label}' within {timeout:.0f} s."
                        ) from None
                    time.sleep(0.005)
            if receipt["status"] != 1:
                raise DevnetError(f"Devnet transaction '{label}' reverted; see the Anvil log.")
            receipts.append(receipt)
        self.sent = []
        return receipts


def timelock_calls(tx: TxBatch, proposer: str, timelock: str, target: str,
                   calls: Sequence[str], gas: int) -> None:
    """Owner calls on ``target`` through the ``TimelockController``: ``scheduleBatch`` then
    ``executeBatch`` (the devnet's min delay is 0, so both land at once; on a real chain
    the execute waits out the delay)."""
    tl = Web3().eth.contract(abi=artifacts.load("TimelockController").abi)
    targets, values = [target] * len(calls), [0] * len(calls)
    payloads = [bytes.fromhex(c[2:]) for c in calls]
    salt = Web3.keccak(b"".join(payloads) + tx.nonce(proposer).to_bytes(32, "big"))
    tx.send("timelock schedule", proposer, timelock,
            tl.encode_abi("scheduleBatch", [targets, values, payloads, b"\x00" * 32, salt, 0]),
            200_000 + 30_000 * len(calls) + sum(len(p) for p in payloads) * 40)
    tx.send("timelock execute", proposer, timelock,
            tl.encode_abi("executeBatch", [targets, values, payloads, b"\x00" * 32, salt]),
            gas + sum(len(p) for p in payloads) * 40)


def contract(w3: Web3, deployment: Deployment, name: str) -> Contract:
    """A web3 contract object for a deployed contract by its ``addresses`` key
    (``"USDC"`` uses the DevUSDC ABI)."""
    abi_name = {"USDC": "DevUSDC"}.get(name, name)
    return w3.eth.contract(address=deployment.addresses[name], abi=artifacts.load(abi_name).abi)


def token_contract(w3: Web3, deployment: Deployment, symbol: str) -> Contract:
    """The DevToken contract of a constituent."""
    return w3.eth.contract(
        address=deployment.token(symbol).address, abi=artifacts.load("DevToken").abi
    )
