"""What the send pipeline takes and hands back: the request, the prepared transaction,
progress steps, results and reconcile outcomes (kept out of ``wallet_app/chain/sender.py``
so that :mod:`wallet_app.chain.pending_resolution` can use them too)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models import GasEstimate, TxRecord, TxStatus
from .simulate import Simulation

#: ``sign(unsigned_tx_dict) -> raw signed transaction bytes`` (from the key custody module).
SignFn = Callable[[dict[str, Any]], bytes]

TRANSFER_GAS = 21_000


@dataclass(frozen=True)
class SendProgress:
    """One step of the pipeline, for a progress display.

    ``stage`` is one of: checking, simulating, signing, journaled, broadcasting,
    broadcast, waiting, confirmed, failed, replaced.
    """

    stage: str
    message: str
    tx_hash: str | None = None
    elapsed_s: float = 0.0


ProgressFn = Callable[[SendProgress], None]


@dataclass(frozen=True)
class TxRequest:
    """What to send. Fees come from ``preset`` unless both explicit fees are given."""

    sender: str
    to: str | None  # None: contract creation
    value_wei: int = 0
    data: bytes = b""
    kind: str = "transfer"
    summary: str = ""
    gas_limit: int | None = None  # None: estimated with the safety margin
    preset: str = "market"
    max_fee_per_gas_wei: int | None = None
    max_priority_fee_wei: int | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: Refuse before signing when the fresh estimate exceeds this (the quote's limit plus a
    #: margin): a node cannot raise the gas the user pays after they confirmed a quote.
    max_gas_limit: int | None = None


@dataclass(frozen=True)
class PreparedTx:
    """An unsigned, simulated transaction and its fee estimate (not yet nonce-bound)."""

    tx: dict[str, Any]
    gas: GasEstimate
    simulation: Simulation


@dataclass(frozen=True)
class SendResult:
    """Where a sent transaction ended up (for the mined one of its nonce group)."""

    tx_hash: str
    status: TxStatus
    record: TxRecord
    block_number: int | None = None
    gas_used: int | None = None
    fee_paid_wei: int | None = None
    receipt: Mapping[str, Any] | None = None
    error: str | None = None  # our own sentence for a failed transaction


@dataclass(frozen=True)
class ReconcileOutcome:
    """What reconcile did with one journal row."""

    tx_hash: str
    status: TxStatus
    action: str  # "confirmed" | "failed" | "replaced" | "dropped" | "pending" | "rebroadcast"


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(str(value), 16) if str(value).startswith("0x") else int(value)


_DROPPED_TEXT = ("Dropped: another transaction from this account used the same nonce, so "
                 "this one will never be mined. Nothing was spent by it.")

