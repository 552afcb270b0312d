"""The owner's side of governance: list, schedule and execute timelock operations.

Reads are the depositor's view's (:class:`~wallet_app.services.governance_view.
GovernanceViewService`, over :func:`wallet_app.governance.list_operations` on the *pinned*
timelock and vault, the record's addresses, never the node's): one reading, one incremental
event log and one set of sentences, so the owner and the depositor see the same thing. Writes are
signed locally by a proposer's or executor's key (keyring wallet or keystore file, as for
the deploy) and may only be a ``schedule``/``scheduleBatch``/``execute``/``executeBatch``
to the pinned timelock whose calls target the pinned vault or the timelock itself: the
check runs on the exact calldata before the key is touched. Each outcome is verified from
the timelock's own event in the receipt (``CallScheduled`` / ``CallExecuted`` with the id).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from .. import governance as gov
from ..deploy.signers import TxSigner
from ..errors import WalletError
from ..trust.guard import SigningRefused
from .governance_view import GovernanceViewService
from .session import Session


class GovernanceError(WalletError):
    """A governance operation is unknown, not ready, or did not land as signed."""

    exit_code = 142


class GovernanceService:
    """See the module docstring."""

    def __init__(self, session: Session, view: GovernanceViewService | None = None) -> None:
        self.session = session
        self.view = view or GovernanceViewService(session)

    def _pinned(self) -> tuple[Any, str, str]:
        rec = self.session.require_record()
        if not rec.timelock:
            raise GovernanceError("The pinned deployment names no timelock.")
        client = self.session.client
        assert client is not None
        return client, rec.vault, rec.timelock

    def token_names(self) -> dict[str, str]:
        """Constituent symbols by token address, from the pinned vault's lens read."""
        return self.view.token_names()

    def token_of(self, symbol_or_address: str) -> str:
        """A constituent's token address from its symbol (or an address as it is)."""
        if symbol_or_address.startswith("0x") and len(symbol_or_address) == 42:
            return to_checksum_address(symbol_or_address)
        for addr, sym in self.token_names().items():
            if sym.upper() == symbol_or_address.upper():
                return addr
        raise GovernanceError(f"The index has no constituent {symbol_or_address!r}.")

    def operations(self) -> list[gov.TimelockOperation]:
        """Every operation of the pinned timelock, oldest first (states in chain time)."""
        self._pinned()
        return self.view.operations()

    def min_delay(self) -> int:
        client, _vault, timelock = self._pinned()
        raw = client.rpc("eth_call", {"to": timelock,
                                      "data": "0x" + keccak(text="getMinDelay()")[:4].hex()},
                         "latest")
        return int(raw, 16)

    # -------------------------------------------------------------------- writes

    #: selector -> argument types of the timelock functions governance may sign.
    _ALLOWED = {keccak(text=f"{n}({a})")[:4]: (n, a.split(",")) for n, a in (
        ("schedule", "address,uint256,bytes,bytes32,bytes32,uint256"),
        ("execute", "address,uint256,bytes,bytes32,bytes32"),
        ("scheduleBatch", "address[],uint256[],bytes[],bytes32,bytes32,uint256"),
        ("executeBatch", "address[],uint256[],bytes[],bytes32,bytes32"))}

    def _check(self, data: bytes, timelock: str, vault: str) -> None:
        """Refuse anything but schedule/execute on the pinned timelock of pinned targets."""
        found = self._ALLOWED.get(bytes(data[:4]))
        if found is None:
            raise SigningRefused("governance transaction", "function", bytes(data[:4]).hex(),
                                 "a timelock schedule or execute")
        args = abi_decode(found[1], bytes(data[4:]))
        targets = args[0] if found[0].endswith("Batch") else [args[0]]
        for t in targets:
            if to_checksum_address(t) not in (vault, timelock):
                raise SigningRefused("scheduled call", "target", to_checksum_address(t),
                                     f"the pinned vault {vault} or timelock {timelock}")

    def _send(self, signer: TxSigner, data: bytes, event: str, op_id: str) -> str:
        client, vault, timelock = self._pinned()
        self._check(data, timelock, vault)
        chain_id = client.check_chain_id()
        sender = to_checksum_address(signer.address)
        tx: dict[str, Any] = {"from": sender, "to": timelock, "data": "0x" + data.hex()}
        gas = int(client.rpc("eth_estimateGas", tx), 16)
        block = client.get_block("latest") or {}
        base = int(block.get("baseFeePerGas", "0x0"), 16)
        tip = 10**9
        signed = signer.sign({"chainId": chain_id, "to": timelock, "data": data, "value": 0,
                              "nonce": client.get_transaction_count(sender, "pending"),
                              "gas": gas * 5 // 4, "maxFeePerGas": 2 * base + tip,
                              "maxPriorityFeePerGas": tip, "type": 2}, chain_id)
        tx_hash = client.send_raw_transaction(signed.raw)
        receipt = None
        end = time.monotonic() + 600
        while receipt is None and time.monotonic() < end:
            receipt = client.get_receipt(tx_hash)
            if receipt is None:
                time.sleep(0.05)
        if receipt is None or int(receipt["status"], 16) != 1:
            raise GovernanceError(f"The timelock transaction {tx_hash} "
                                  f"{'reverted' if receipt else 'was not mined in 10 min'}.")
        ok = any(lg["address"].lower() == timelock.lower() and lg["topics"][0] == event
                 and lg["topics"][1] == op_id for lg in receipt["logs"])
        if not ok:
            raise GovernanceError(f"{tx_hash} mined without the timelock's event for {op_id}.")
        return str(tx_hash)

    def schedule(self, signer: TxSigner, calls: Sequence[tuple[str, int, bytes]],
                 password: Callable[[], str] | None = None) -> tuple[str, str, int]:
        """Schedule ``calls`` with the timelock's delay; returns (op id, tx, ready_at)."""
        delay = self.min_delay()
        salt = "0x" + secrets.token_bytes(32).hex()
        op_id = gov.operation_id(calls, gov.ZERO32, salt)
        data = gov.schedule_data(calls, salt, delay)
        signer.open(password() if password else "")
        try:
            tx = self._send(signer, data, gov.EV_SCHEDULED, op_id)
        finally:
            signer.close()
        op = next(o for o in self.operations() if o.id == op_id)
        return op_id, tx, op.ready_at

    def execute(self, signer: TxSigner, op_id: str,
                password: Callable[[], str] | None = None) -> str:
        """Execute a ready operation (its calls exactly as scheduled)."""
        op = next((o for o in self.operations() if o.id == op_id.lower()), None)
        if op is None:
            raise GovernanceError(f"The pinned timelock has no operation {op_id}.")
        if op.state != "ready":
            raise GovernanceError(f"Operation {op_id} is {op.state} ({op.when()}); "
                                  "nothing was signed.")
        signer.open(password() if password else "")
        try:
            return self._send(signer, gov.execute_data(op), gov.EV_EXECUTED, op.id)
        finally:
            signer.close()

    def change_calls(self, change: str, *, token: str | None = None, feed: str | None = None,
                     heartbeat: int | None = None, buy_bps: int | None = None,
                     sell_bps: int | None = None) -> list[tuple[str, int, bytes]]:
        """The vault call(s) of a named owner change (for :meth:`schedule`)."""
        _client, vault, _timelock = self._pinned()
        if change == "set-feed" and token and feed and heartbeat:
            return [gov.set_feed(vault, self.token_of(token), to_checksum_address(feed),
                                 heartbeat)]
        if change == "add-constituent" and token and feed and heartbeat:
            return [gov.add_constituent(vault, to_checksum_address(token),
                                        to_checksum_address(feed), heartbeat)]
        if change == "remove-constituent" and token:
            return [gov.remove_constituent(vault, self.token_of(token))]
        if change == "set-fees" and buy_bps is not None and sell_bps is not None:
            return [gov.set_fees(vault, buy_bps, sell_bps)]
        raise GovernanceError(f"Unknown change {change!r} or missing arguments.")
