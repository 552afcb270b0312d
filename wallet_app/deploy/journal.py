"""The deploy journal: every signed transaction on disk before it is broadcast.

One JSON file per (chain, config): the deployer, the nonce of step 0 and, per step, the
signed bytes, their hash and, once mined, the block and gas used. It is rewritten
atomically and fsynced at each change, so after a crash (SIGKILL included) the next run
knows exactly what may be on chain: a step with a hash is looked up by receipt and, if
the node never saw it, re-broadcast as the same bytes (same nonce: it can land once at
most); a step without one was never sent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .config import DeployConfigError

JOURNAL_FORMAT = "g100-deploy-journal"


class DeployJournal:
    """A deploy's journal file (see the module docstring)."""

    def __init__(self, path: Path, data: dict[str, Any], durable: bool = True) -> None:
        self.path, self.data = Path(path), data
        #: False only for a throw-away journal (the devnet's deploy): no fsync.
        self.durable = durable

    @classmethod
    def open(cls, path: Path, *, digest: str, chain_id: int, deployer: str,
             start_nonce: int, durable: bool = True) -> DeployJournal:
        """Load the journal of this config and chain, or start one at ``start_nonce``."""
        path = Path(path)
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != JOURNAL_FORMAT:
                raise DeployConfigError(f"{path} is not a deploy journal.")
            if data["config_digest"] != digest or data["chain_id"] != chain_id:
                raise DeployConfigError(
                    f"The journal {path} belongs to another config or chain; move it away "
                    "to start a new deployment.")
            if data["deployer"] != deployer:
                raise DeployConfigError(
                    f"The journal {path} is a deployment by {data['deployer']}; resume it with "
                    "that key (or move the journal away to start over with this one).")
            return cls(path, data, durable)
        j = cls(path, {"format": JOURNAL_FORMAT, "config_digest": digest,
                       "chain_id": chain_id, "deployer": deployer,
                       "start_nonce": start_nonce, "steps": {}, "record": None}, durable)
        j.save()
        return j

    @property
    def start_nonce(self) -> int:
        return int(self.data["start_nonce"])

    def step(self, index: int) -> dict[str, Any] | None:
        entry: dict[str, Any] | None = self.data["steps"].get(str(index))
        return entry

    def signed(self, index: int, label: str, nonce: int, tx_hash: str, raw: bytes) -> None:
        """Call before broadcasting ``raw``."""
        self.data["steps"][str(index)] = {"label": label, "nonce": nonce, "hash": tx_hash,
                                          "raw": "0x" + raw.hex(), "mined": False}
        self.save()

    def mined(self, index: int, block: int, gas_used: int) -> None:
        self.data["steps"][str(index)].update(mined=True, block=block, gas_used=gas_used)
        self.save()

    def finished(self, record: dict[str, Any]) -> None:
        self.data["record"] = record
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(self.data, indent=1, sort_keys=True))
            fh.flush()
            if self.durable:
                os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        if not self.durable:
            return
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
