"""One trading process per wallet and chain: an OS-level file lock.

Why a file lock: two windows, or the app and the CLI, each have their own nonce manager
and journal connection. Without a lock shared between processes both can pick the same
nonce, or two buys can sign the same USDC permit nonce (the second fails on-chain and
burns gas). ``fcntl.flock`` on ``<data dir>/locks/<chain id>-<address>.lock`` is held from
before the nonce is chosen, through journaling and broadcast, to the recorded outcome;
the kernel releases it when the process dies (even by SIGKILL), so a crash never leaves a
stale lock. The holder writes its pid into the file, so the second process can say whom it
is waiting for, and changes nothing.

Within one process the lock is re-entrant (a count): a trade that approves and then buys
takes it once, and the user may speed up or cancel the transaction a trade of this very
process is waiting for. Trades inside one process are serialised by the session's
in-process trade lock, and a new trade is refused while a transaction is unresolved.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType

from eth_utils import to_checksum_address

from ..errors import WalletError
from ..paths import AppPaths


class TradeInProgress(WalletError):
    """Another process (or thread) holds this wallet's trade lock on this chain."""

    exit_code = 55

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"Another trade is in progress ({who}) for this wallet on this network. "
            "Nothing was signed or changed. Wait for it to finish (or close the other "
            "window), then try again.")


_registry_guard = threading.Lock()
#: path -> [fd, depth] for locks this process holds.
_held: dict[str, list[int]] = {}


class WalletTradeLock:
    """``with WalletTradeLock(paths, chain_id, address):`` around every signing path."""

    def __init__(self, paths: AppPaths, chain_id: int, address: str) -> None:
        self.path = paths.data_dir / "locks" / (
            f"{int(chain_id)}-{to_checksum_address(address).lower()}.lock")

    @staticmethod
    def holder_pid(path: Path) -> int | None:
        try:
            text = path.read_text(encoding="ascii").strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    @property
    def held_here(self) -> bool:
        """True when this process holds this lock."""
        with _registry_guard:
            return str(self.path) in _held

    def acquire(self) -> None:
        """Take the lock without waiting; :class:`TradeInProgress` when another process
        holds it (nothing is changed then)."""
        key = str(self.path)
        with _registry_guard:
            rec = _held.get(key)
            if rec is not None:
                rec[1] += 1
                return
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise TradeInProgress(self.holder_pid(self.path)) from None
            except BaseException:
                os.close(fd)
                raise
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
            _held[key] = [fd, 1]

    def release(self) -> None:
        key = str(self.path)
        with _registry_guard:
            rec = _held.get(key)
            if rec is None:
                return
            rec[1] -= 1
            if rec[1] > 0:
                return
            del _held[key]
            fd = rec[0]
            try:
                os.ftruncate(fd, 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def __enter__(self) -> WalletTradeLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
