"""Which wallets are unlocked, their plaintext keys, and the idle timeout.

This is the only place plaintext private keys live after unlock: one
:class:`~.sensitive.SecretBytes` per account, zeroed when the wallet locks (explicitly,
on delete, or after ``lock_timeout_minutes`` without activity). Mnemonic wallets keep
only their derived account keys, not the phrase or the seed: revealing the phrase or
adding an account asks for the password again anyway.

Idle timeout: one activity clock for the whole app (the person is either at the keyboard
or not). :meth:`Session.touch` records activity; every access first checks whether the
timeout has passed and, if so, locks everything before answering. Reading state
(:meth:`is_unlocked`) does not count as activity, so a GUI that polls it cannot keep a
wallet unlocked forever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import AccountNotFound, WalletLocked
from .sensitive import SecretBytes

log = logging.getLogger(__name__)

LockListener = Callable[[str, str], None]


@dataclass(repr=False)
class UnlockedWallet:
    """The keys of one unlocked wallet, by account index."""

    name: str
    keys: dict[int, SecretBytes] = field(default_factory=dict)
    addresses: dict[int, str] = field(default_factory=dict)

    def wipe(self) -> None:
        for key in self.keys.values():
            key.wipe()
        self.keys.clear()

    def __repr__(self) -> str:
        return f"<UnlockedWallet {self.name!r}: {len(self.keys)} account key(s), hidden>"


class Session:
    """Unlocked wallets plus the idle timer; thread-safe (signing runs on workers)."""

    def __init__(self, timeout_seconds: Callable[[], float], clock: Callable[[], float]) -> None:
        # A callable, so that a changed setting applies without restarting the session.
        self._timeout = timeout_seconds
        self._clock = clock
        self._last_activity = clock()
        self._wallets: dict[str, UnlockedWallet] = {}
        self._lock = threading.RLock()
        self._listeners: list[LockListener] = []

    def add_listener(self, callback: LockListener) -> None:
        """Call ``callback(name, reason)`` whenever a wallet locks (reason: "user",
        "idle", "deleted", "closed")."""
        self._listeners.append(callback)

    def touch(self) -> None:
        """Record activity (after checking that the timeout has not already passed)."""
        with self._lock:
            self.check_idle()
            self._last_activity = self._clock()

    def check_idle(self) -> list[str]:
        """Lock everything if idle too long; return the names that were locked."""
        with self._lock:
            if not self._wallets:
                return []
            if self._clock() - self._last_activity < self._timeout():
                return []
            names = list(self._wallets)
            self._lock_all("idle")
            return names

    def put(self, wallet: UnlockedWallet) -> None:
        """Store a freshly unlocked wallet (replacing and wiping any older copy)."""
        with self._lock:
            self.check_idle()
            old = self._wallets.pop(wallet.name, None)
            if old is not None:
                old.wipe()
            self._wallets[wallet.name] = wallet
            self._last_activity = self._clock()

    def is_unlocked(self, name: str) -> bool:
        with self._lock:
            self.check_idle()
            return name in self._wallets

    def key(self, name: str, index: int) -> tuple[SecretBytes, str]:
        """The key and address of an account; raises if locked or unknown."""
        with self._lock:
            locked_now = self.check_idle()
            wallet = self._wallets.get(name)
            if wallet is None:
                idle = "it locked itself after the idle timeout" if name in locked_now else ""
                raise WalletLocked(name, idle)
            if index not in wallet.keys:
                raise AccountNotFound(
                    f"Wallet '{name}' has no account {index}; its accounts are "
                    f"{sorted(wallet.keys)}. Add one first.")
            return wallet.keys[index], wallet.addresses[index]

    def add_key(self, name: str, index: int, key: SecretBytes, address: str) -> bool:
        """Add a newly derived account to an unlocked wallet; False if it is locked."""
        with self._lock:
            wallet = self._wallets.get(name)
            if wallet is None:
                key.wipe()
                return False
            wallet.keys[index] = key
            wallet.addresses[index] = address
            return True

    def lock(self, name: str | None = None, reason: str = "user") -> list[str]:
        """Wipe one wallet's keys (or all); return the names that were unlocked."""
        with self._lock:
            if name is None:
                return self._lock_all(reason)
            wallet = self._wallets.pop(name, None)
            if wallet is None:
                return []
            wallet.wipe()
        self._notify(name, reason)
        return [name]

    def _lock_all(self, reason: str) -> list[str]:
        names = list(self._wallets)
        for wallet in self._wallets.values():
            wallet.wipe()
        self._wallets.clear()
        for n in names:
            self._notify(n, reason)
        return names

    def _notify(self, name: str, reason: str) -> None:
        log.info("wallet %s locked (%s)", name, reason)
        for cb in list(self._listeners):
            try:
                cb(name, reason)
            except Exception:
                log.exception("lock listener failed")

    def unlocked_names(self) -> list[str]:
        with self._lock:
            self.check_idle()
            return sorted(self._wallets)
