"""The market snapshot of each rebalance, recorded so that anyone can check the rules.

A rebalance decides two things from market data: the target weights (the composition of
:func:`wallet_app.index.compose` over that day's assets, with the buffer rule's previous
constituents) and the regime (:func:`wallet_app.index.regime.compute_regime` over the
total market series up to that day). The operator records exactly those inputs here, with
what it decided, at the moment it rebalances; the verifier (:mod:`.verify`) recomputes the
decision from them and compares it with what the vault holds and targets.

Where it is stored: ``<data dir>/rebalance-snapshots/<chain id>/<vault address>/`` holds
one file per snapshot, ``<hash>.json`` (the canonical JSON bytes themselves), and the log
``log.jsonl``, one line per rebalance: block, chain time, market day, kind (``rebalance``
or ``regime``) and the snapshot's ``keccak256``. The hash is in the log, not on-chain:
putting it on-chain needs the vault to take it (an event argument of the operator's
``setTargetWeights``), which is a contract change not made here. A snapshot whose bytes no
longer hash to the logged value is reported as tampered.

Pure data and files: no chain access, no Qt. Money and caps stay Decimal text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import WalletError
from ..paths import AppPaths
from .inputs import MarketAsset
from .regime import MarketPoint

SNAPSHOT_FORMAT = "g100-rebalance-snapshot"
SNAPSHOT_VERSION = 1


class SnapshotMissing(WalletError):
    """No recorded rebalance snapshot to verify against."""

    exit_code = 162


class SnapshotTampered(WalletError):
    """A recorded snapshot is unreadable or does not hash to its logged value."""

    exit_code = 163


def _d(x: Decimal | None) -> str | None:
    return None if x is None else format(x, "f")


def _dec(x: Any) -> Decimal | None:
    return None if x is None else Decimal(str(x))


@dataclass(frozen=True)
class RebalanceSnapshot:
    """The inputs of one rebalance and what the operator decided from them."""

    chain_id: int
    vault: str
    block: int  # the chain's latest block when it was recorded (after the rebalance)
    timestamp: int  # that block's time
    market_day: str  # ISO date of the market close it used
    kind: str  # "rebalance" (targets set) | "regime" (out-of-cycle switch)
    assets: tuple[MarketAsset, ...]
    previous: tuple[str, ...]  # ids held before (the buffer rule)
    series: tuple[MarketPoint, ...]  # total market cap by day, up to market_day
    targets_bps: Mapping[str, int]  # symbol -> the targets the operator set
    regime: str  # "bull" | "bear", what the operator set

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SNAPSHOT_FORMAT, "version": SNAPSHOT_VERSION,
            "chain_id": self.chain_id, "vault": self.vault, "block": self.block,
            "timestamp": self.timestamp, "market_day": self.market_day, "kind": self.kind,
            "assets": [{"id": a.id, "symbol": a.symbol, "name": a.name,
                        "current_price": _d(a.current_price), "market_cap": _d(a.market_cap),
                        "total_volume": _d(a.total_volume),
                        "categories": list(a.categories)} for a in self.assets],
            "previous": list(self.previous),
            "series": [[p.day.isoformat(), _d(p.value)] for p in self.series],
            "targets_bps": dict(sorted((k, int(v)) for k, v in self.targets_bps.items())),
            "regime": self.regime,
        }

    def canonical_bytes(self) -> bytes:
        """The bytes that are stored and hashed: sorted keys, no spaces."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RebalanceSnapshot:
        if d.get("format") != SNAPSHOT_FORMAT or d.get("version") != SNAPSHOT_VERSION:
            raise SnapshotTampered("The recorded rebalance snapshot is not in a format this "
                                   "app reads.")
        try:
            assets = tuple(MarketAsset(
                id=a["id"], symbol=a["symbol"], name=a["name"],
                current_price=_dec(a["current_price"]), market_cap=_dec(a["market_cap"]),
                total_volume=_dec(a["total_volume"]),
                categories=tuple(a.get("categories") or ())) for a in d["assets"])
            series = tuple(MarketPoint(date.fromisoformat(day), Decimal(v))
                           for day, v in d["series"])
            return cls(chain_id=int(d["chain_id"]), vault=str(d["vault"]),
                       block=int(d["block"]), timestamp=int(d["timestamp"]),
                       market_day=str(d["market_day"]), kind=str(d["kind"]), assets=assets,
                       previous=tuple(str(x) for x in d["previous"]), series=series,
                       targets_bps={str(k): int(v) for k, v in d["targets_bps"].items()},
                       regime=str(d["regime"]))
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise SnapshotTampered(f"The recorded rebalance snapshot is incomplete "
                                   f"({type(exc).__name__}).") from None


def snapshot_hash(data: bytes) -> str:
    """``0x`` + keccak256 of the stored bytes (the same hash a contract would log)."""
    from eth_utils import keccak

    return "0x" + keccak(data).hex()


@dataclass(frozen=True)
class LogEntry:
    block: int
    timestamp: int
    market_day: str
    kind: str
    hash: str


def store_dir(paths: AppPaths, chain_id: int, vault: str) -> Path:
    """Where one vault's snapshots and their log live (see the module docstring)."""
    return paths.data_dir / "rebalance-snapshots" / str(int(chain_id)) / vault.lower()


def record(paths: AppPaths, snap: RebalanceSnapshot) -> LogEntry:
    """Store ``snap`` (its file first, fsynced, then its log line) and return the entry."""
    folder = store_dir(paths, snap.chain_id, snap.vault)
    folder.mkdir(parents=True, exist_ok=True)
    data = snap.canonical_bytes()
    digest = snapshot_hash(data)
    target = folder / f"{digest}.json"
    tmp = target.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    entry = LogEntry(snap.block, snap.timestamp, snap.market_day, snap.kind, digest)
    with open(folder / "log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry.__dict__, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return entry


def log_entries(paths: AppPaths, chain_id: int, vault: str) -> list[LogEntry]:
    """The vault's rebalance log, oldest first (a torn last line is skipped)."""
    path = store_dir(paths, chain_id, vault) / "log.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(line)
            out.append(LogEntry(int(d["block"]), int(d["timestamp"]), str(d["market_day"]),
                                str(d["kind"]), str(d["hash"])))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def load(paths: AppPaths, chain_id: int, vault: str, entry: LogEntry) -> RebalanceSnapshot:
    """The snapshot a log entry names, after checking its bytes hash to the logged value."""
    path = store_dir(paths, chain_id, vault) / f"{entry.hash}.json"
    if not path.is_file():
        raise SnapshotTampered(f"The snapshot of the rebalance at block {entry.block} "
                               f"({entry.hash}) is missing from {path.parent}.")
    data = path.read_bytes()
    got = snapshot_hash(data)
    if got != entry.hash:
        raise SnapshotTampered(
            f"The snapshot of the rebalance at block {entry.block} does not match its "
            f"recorded hash (logged {entry.hash}, the file hashes to {got}): it was changed "
            "after the rebalance, so it proves nothing.")
    try:
        return RebalanceSnapshot.from_dict(json.loads(data))
    except ValueError:
        raise SnapshotTampered("The recorded rebalance snapshot is not JSON.") from None


def assets_from_caps(rows: Iterable[tuple[str, str, Decimal, Decimal, Decimal]]
                     ) -> tuple[MarketAsset, ...]:
    """Market assets from ``(symbol, name, price, market cap, volume)`` rows, ids being the
    lower-case symbols (how the devnet's universe is named)."""
    return tuple(MarketAsset(id=s.lower(), symbol=s, name=n, current_price=p, market_cap=c,
                             total_volume=v) for s, n, p, c, v in rows)
