"""The operator service's journal: the plan it is executing and every transaction it signed.

Why a journal: a rebalance is many transactions (weights, sell batches, buy batches, the
listing and delisting of constituents through the timelock). A process killed in the
middle must, on restart, finish *the same* plan and never send a leg twice. So the plan is
written down before its first transaction, and each transaction's signed bytes and hash
are written (fsync) before it is broadcast. On restart every journaled transaction is
reconciled by hash first: mined (done, or failed and safe to redo because a failed
transaction changed nothing), still unknown with its nonce unused (the same bytes are
sent again: the same nonce can never be mined twice), or unknown with its nonce used by
another transaction (it can never be mined; the step is signed again after a fresh
simulation).

One JSON file per deployment (``<data>/operator/<chain>-<vault>/journal.json``), replaced
atomically. It holds no secret: signed transactions are public once broadcast.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import WalletError

#: Actions kept for ``operator status`` (older ones are in the log file and on-chain).
HISTORY_KEEP = 50
KEEPER_KINDS = frozenset({"strike", "nav", "execute"})


class OperatorJournalError(WalletError):
    """The journal is unreadable: the operator refuses to act rather than guess."""

    exit_code = 151


@dataclass
class JournalTx:
    """One signed transaction of a step (``status``: signed, mined, failed, dropped)."""

    label: str
    to: str
    data: str
    gas: int
    nonce: int
    tx_hash: str
    raw: str
    status: str = "signed"
    block: int = 0
    gas_used: int = 0
    call: int = 0  # index of the step's call this transaction carries


@dataclass
class JournalStep:
    """One step of a plan: a list of calls to send in order (``status``: todo, running,
    done, waiting (a timelock operation not yet ready), failed)."""

    kind: str  # weights | sell | buy | list | delist | regime | nav
    label: str
    calls: list[dict[str, Any]]  # {"to", "data", "gas", "label"}; buys filled when started
    status: str = "todo"
    txs: list[JournalTx] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def done_calls(self) -> int:
        return sum(1 for t in self.txs if t.status == "mined")


@dataclass
class JournalPlan:
    """A plan being executed (a rebalance, a regime switch, a listing)."""

    plan_id: str
    kind: str  # rebalance | regime | listing
    created_at: int
    snapshot_hash: str
    summary: dict[str, Any]
    steps: list[JournalStep]
    status: str = "running"  # running | done | failed

    def step_index(self) -> int | None:
        for i, s in enumerate(self.steps):
            if s.status != "done":
                return i
        return None


@dataclass
class JournalState:
    plan: JournalPlan | None = None
    #: The keeper's own slot (a strike, a NAV refresh, a timelock execution due): it runs
    #: even while a plan waits for a timelock delay.
    keeper: JournalPlan | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    #: Timelock operations scheduled ahead (id -> {"calls", "ready_at", "kind"}).
    scheduled: dict[str, dict[str, Any]] = field(default_factory=dict)
    last: dict[str, int] = field(default_factory=dict)  # what -> chain time last done


def _tx_from(d: dict[str, Any]) -> JournalTx:
    return JournalTx(**d)


def _step_from(d: dict[str, Any]) -> JournalStep:
    d = dict(d)
    d["txs"] = [_tx_from(t) for t in d.get("txs", [])]
    return JournalStep(**d)


def _plan_from(d: dict[str, Any] | None) -> JournalPlan | None:
    if d is None:
        return None
    d = dict(d)
    d["steps"] = [_step_from(s) for s in d["steps"]]
    return JournalPlan(**d)


class OperatorJournal:
    """Load/save of :class:`JournalState` with fsync (one writer: the service holds a lock)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "journal.json"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.state = self._load()
        #: The last mined transaction of the last finished plan (in memory, for reports).
        self.last_tx_hash: str | None = None

    def _load(self) -> JournalState:
        if not self.path.is_file():
            return JournalState()
        try:
            d = json.loads(self.path.read_text())
            return JournalState(plan=_plan_from(d.get("plan")),
                                keeper=_plan_from(d.get("keeper")),
                                history=list(d.get("history", [])),
                                scheduled=dict(d.get("scheduled", {})),
                                last={k: int(v) for k, v in d.get("last", {}).items()})
        except (ValueError, TypeError, KeyError) as exc:
            raise OperatorJournalError(
                f"The operator journal {self.path} is unreadable ({type(exc).__name__}); "
                "move it aside only after checking the chain for the operator's last "
                "transactions.") from None

    def save(self) -> None:
        """Write atomically and durably (temp file, fsync, rename, fsync of the folder)."""
        body = json.dumps(asdict(self.state), indent=1, sort_keys=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    # ---------------------------------------------------------------- plan life-cycle

    def start(self, plan: JournalPlan, slot: str = "plan") -> None:
        if self.running_plan(slot) is not None:
            raise OperatorJournalError("A plan is already running; finish it first.")
        setattr(self.state, slot, plan)
        if plan.kind == "rebalance":
            # Saved with the plan: a restart resumes this one instead of starting another.
            self.state.last["rebalance"] = plan.created_at
        self.save()

    def finish(self, status: str = "done", note: str = "", slot: str = "plan") -> None:
        plan = getattr(self.state, slot)
        if plan is None:
            return
        plan.status = status
        mined = [t for st in plan.steps for t in st.txs if t.status == "mined"]
        self.last_tx_hash = mined[-1].tx_hash if mined else None
        if plan.kind in KEEPER_KINDS and status == "done":
            # Keeper actions are frequent: kept as "last done", not in the history.
            self.state.last[plan.kind] = int(time.time())
            setattr(self.state, slot, None)
            self.save()
            return
        txs = [t for s in plan.steps for t in s.txs if t.status == "mined"]
        self.record(plan.kind, {
            "plan_id": plan.plan_id, "status": status, "note": note,
            "snapshot_hash": plan.snapshot_hash, "summary": plan.summary,
            "transactions": len(txs), "gas_used": sum(t.gas_used for t in txs),
            "steps": [{"kind": s.kind, "label": s.label, "status": s.status,
                       "legs": sum(len(c.get("legs", ())) for c in s.calls),
                       "dropped": s.detail.get("dropped", []),
                       "txs": [t.tx_hash for t in s.txs if t.status == "mined"]}
                      for s in plan.steps],
        }, save=False)
        setattr(self.state, slot, None)
        self.save()

    def record(self, kind: str, detail: dict[str, Any], *, save: bool = True) -> None:
        """An action for ``operator status`` (newest last, bounded)."""
        self.state.history.append({"kind": kind, "at": int(time.time()), **detail})
        del self.state.history[:-HISTORY_KEEP]
        if save:
            self.save()

    def mark(self, what: str, chain_time: int) -> None:
        self.state.last[what] = int(chain_time)
        self.save()

    def running_plan(self, slot: str = "plan") -> JournalPlan | None:
        plan = getattr(self.state, slot)
        return plan if plan is not None and plan.status == "running" else None
