"""Governance a depositor can see: the owner's changes waiting in the timelock.

The vault's owner is OpenZeppelin's ``TimelockController``: every owner call (a new price
feed, a constituent added or removed, fees, limits, roles) is *scheduled* first and can only
be *executed* once its delay has passed. That delay is the depositor's protection: a change
they do not accept can be left before it takes effect, through the in-kind exit, which reads
no price and works paused or not.

The reading and the words are :mod:`wallet_app.governance`'s, the same the owner's
``governance list`` uses, so both say the same sentence and the same time of effect for an
operation. This service only picks the timelock pinned in the chain's deployment record
(never an address the node names), keeps one incremental :class:`~wallet_app.governance.
TimelockLog` per pinned timelock, and keeps the operations still open (pending or ready,
neither executed nor cancelled), soonest first, as :class:`PendingChange`. Nothing here signs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from eth_utils import to_checksum_address

from .. import governance as gov
from ..errors import WalletError
from ..governance import OperationCall, describe_vault_call, time_left_text
from .session import Session

__all__ = ["GovernanceUnavailable", "GovernanceViewService", "OperationCall", "PendingChange",
           "buy_warning", "describe_vault_call", "pending_from", "time_left_text"]


class GovernanceUnavailable(WalletError):
    """The pinned timelock could not be read (its pending changes are unknown)."""

    exit_code = 160


@dataclass(frozen=True)
class PendingChange:
    """A scheduled, not yet executed or cancelled, timelock operation."""

    op_id: str  # 0x… the timelock's operation id
    calls: tuple[OperationCall, ...]
    ready_at: datetime  # chain time from which it can be executed
    seconds_left: int  # until ready_at, at the latest block's time (0 when ready)
    scheduled_block: int
    ready: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def summary(self) -> str:
        """What changes, in one sentence without the time (repeated calls said once)."""
        return "; ".join(dict.fromkeys(c.sentence for c in self.calls))

    @property
    def when(self) -> str:
        """``in 31 h`` / ``in 12 min`` / ``now (ready to execute)``."""
        return time_left_text(self.seconds_left)

    @property
    def headline(self) -> str:
        return f"{_capital(self.summary)}: {self.when}" if self.ready else \
            f"{_capital(self.summary)} {self.when}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def pending_from(ops: Sequence[gov.TimelockOperation]) -> list[PendingChange]:
    """The open operations of ``ops`` as the depositor sees them, soonest first."""
    out = [PendingChange(op_id=o.id, calls=o.calls,
                         ready_at=datetime.fromtimestamp(o.ready_at, UTC),
                         seconds_left=o.seconds_left, scheduled_block=o.scheduled_block,
                         ready=o.state == "ready",
                         now=datetime.fromtimestamp(int(o.now or 0), UTC))
           for o in ops if o.state in ("pending", "ready") and o.calls]
    out.sort(key=lambda c: (c.ready_at, c.op_id))
    return out


class GovernanceViewService:
    """The pinned timelock's pending operations, for the Index page and the buy preview."""

    def __init__(self, session: Session) -> None:
        self.s = session
        #: (chain id, timelock, first block) -> its events so far: a refresh reads only the
        #: new blocks (plus REORG_DEPTH again), not the whole history.
        self._logs: dict[tuple[int, str, int], gov.TimelockLog] = {}
        self._lock = threading.Lock()

    def timelock_log(self) -> gov.TimelockLog | None:
        """The incremental event log of the pinned timelock (None when none is pinned)."""
        rec = self.s.require_record()
        if not rec.timelock:
            return None
        key = (rec.chain_id, rec.timelock, rec.deployment_block)
        with self._lock:
            return self._logs.setdefault(key, gov.TimelockLog(rec.timelock,
                                                              rec.deployment_block))

    def token_names(self) -> dict[str, str]:
        """Constituent symbols by token address, from the pinned vault's lens read (the
        owner's list and the depositor's notice name tokens alike). Empty when the lens
        cannot be read: the sentences then show the short address, never a guess."""
        try:
            snap = self.s.last_snapshot or self.s.snapshot()
        except WalletError:
            return {}
        return {to_checksum_address(c.token): c.symbol for c in snap.constituents}

    def operations(self, names: dict[str, str] | None = None) -> list[gov.TimelockOperation]:
        """Every operation of the pinned timelock (the owner's list), oldest first."""
        log = self.timelock_log()
        if log is None:
            return []
        client, _, _ = self.s.need()
        rec = self.s.require_record()
        try:
            return gov.list_operations(client.rpc, log.timelock, vault=rec.vault,
                                       from_block=rec.deployment_block,
                                       names=self.token_names() if names is None else names,
                                       log=log)
        except WalletError:
            raise
        except Exception as exc:  # noqa: BLE001 - a node error is said plainly
            raise GovernanceUnavailable(
                "The index's timelock could not be read, so pending governance changes "
                f"are unknown ({type(exc).__name__}).") from None

    def pending_changes(self) -> list[PendingChange]:
        """Every operation scheduled on the pinned timelock and still waiting (or ready
        but not executed), soonest first. Empty when the record pins no timelock."""
        return pending_from(self.operations())


def buy_warning(changes: Sequence[PendingChange]) -> str:
    """The buy preview's notice when governance changes are pending ("" when none)."""
    if not changes:
        return ""
    lines = [f"{_capital(c.summary)} {c.when} ({c.ready_at:%d %b %H:%M} UTC)"
             if not c.ready else f"{_capital(c.summary)}: scheduled, ready to take effect now"
             for c in changes[:3]]
    more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
    return ("Governance change pending: " + "; ".join(lines) + more + ". Once it takes "
            "effect it applies to your shares too. The in-kind exit (My Indices: "
            "Exit in kind) stays available at any time, paused or not: it pays your share "
            "of every holding and of the cash.")
