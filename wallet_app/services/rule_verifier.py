"""The rule verifier as a service: the last rebalance's snapshot against the pinned vault.

Fetches the vault's rebalance log and snapshots from where the operator records them
(:func:`wallet_app.index.snapshot_record.store_dir`), checks each snapshot's bytes against
its logged keccak256, reads the pinned vault (targets, regime, balances, cash) through the
lens, and asks the pinned vault's own events whether the targets or the regime changed
after the snapshot was recorded. The comparison itself is :func:`wallet_app.index.verify
.compare`. A missing or tampered snapshot is a difference, not a crash.
"""

from __future__ import annotations

from dataclasses import replace

from eth_utils import event_abi_to_log_topic

from ..errors import WalletError
from ..index import snapshot_record as store
from ..index.verify import Difference, Holding, VerifyReport, compare
from ..vault import to_decimal
from .session import Session


class RulesMismatch(WalletError):
    """The vault does not match the rules recomputed from its last rebalance snapshot."""

    exit_code = 164


class RuleVerifierService:
    """``verify()``: "matches the rules" or the differences, for the Strategy dialog and
    ``index-wallet index verify``."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def _changes_after(self, block: int) -> list[tuple[str, int]]:
        """The vault's TargetWeightsSet / RegimeChanged events after ``block``."""
        client, vault, _ = self.s.need()
        if client.block_number() <= block:
            return []
        topics = {}
        for e in vault.vault.abi:
            if e.get("type") == "event" and e["name"] in ("TargetWeightsSet", "RegimeChanged"):
                topics["0x" + bytes(event_abi_to_log_topic(e)).hex()] = e["name"]
        logs = client.rpc("eth_getLogs", {"address": vault.vault_address,
                                          "topics": [list(topics)],
                                          "fromBlock": hex(block + 1), "toBlock": "latest"})
        out = []
        for lg in logs or []:
            name = topics.get(str(lg["topics"][0]).lower())
            if name:
                out.append((name, int(lg["blockNumber"], 16)))
        return out

    def verify(self) -> VerifyReport:
        rec = self.s.require_record()
        snap = self.s.snapshot(self.s.active_address())
        folder = store.store_dir(self.s.paths, rec.chain_id, rec.vault)
        entries = store.log_entries(self.s.paths, rec.chain_id, rec.vault)
        if not entries:
            raise store.SnapshotMissing(
                "No rebalance snapshot is recorded for this vault yet, so there is nothing "
                f"to check against (the operator records them in {folder}). The devnet "
                "records one at each weekly rebalance and regime switch.")
        latest = entries[-1]
        targets_entry = next((e for e in reversed(entries) if e.kind == "rebalance"), None)
        try:
            last = store.load(self.s.paths, rec.chain_id, rec.vault, latest)
            tsnap = (last if targets_entry is latest else
                     store.load(self.s.paths, rec.chain_id, rec.vault, targets_entry)
                     if targets_entry else None)
        except store.SnapshotTampered as exc:
            return VerifyReport((Difference("snapshot", str(exc)),), block=latest.block,
                                market_day=latest.market_day, snapshot_hash=latest.hash)
        diffs: list[Difference] = []
        if last.chain_id != rec.chain_id or last.vault.lower() != rec.vault.lower():
            diffs.append(Difference("snapshot", "The recorded snapshot names another chain "
                                    "or vault than the pinned one."))
        for name, block in self._changes_after(latest.block):
            what = "target weights" if name == "TargetWeightsSet" else "regime"
            diffs.append(Difference("changed", f"The vault's {what} changed at block {block}, "
                                    f"after the last recorded snapshot (block "
                                    f"{latest.block}): no snapshot explains it"))
        holdings = [Holding(c.symbol, c.target_bps, c.balance, c.decimals)
                    for c in snap.constituents]
        report = compare(targets_snapshot=tsnap, latest=last, vault_regime=snap.regime.value,
                         holdings=holdings, cash=to_decimal(snap.cash, snap.usdc_decimals))
        return replace(report, differences=tuple(diffs) + report.differences,
                       snapshot_hash=latest.hash)
