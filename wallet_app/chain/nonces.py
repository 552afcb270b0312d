"""Nonce choice that survives restarts: the node's pending count, walked past the journal.

Why both sources: the node's ``pending`` transaction count knows what is in its mempool
and mined, but not a transaction this wallet signed and journaled and then could not
broadcast (crash, network down), nor one the node has dropped. Those signed bytes still
exist and reconcile will re-broadcast them, so their nonce is *taken*. Using the node count
alone would reuse such a nonce (two signed transactions competing for one slot); jumping
to "max journal nonce + 1" could skip a slot and leave every later transaction stuck.

The rule: start at the node's pending count and step over every nonce the journal holds
a *pending* entry for. Pending journal nonces below the node's count are ignored (already
consumed; reconcile settles them). A per-account lock, held by the sender from choosing the
nonce until the signed transaction is journaled, stops two threads choosing the same one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..journal import Journal
from .provider import ChainClient


class NonceManager:
    """Chooses the next nonce for an account on the client's chain."""

    def __init__(self, client: ChainClient, journal: Journal) -> None:
        self.client = client
        self.journal = journal
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    def lock(self, address: str) -> threading.RLock:
        """The account's lock (re-entrant): hold it while choosing and journaling a nonce."""
        key = address.lower()
        with self._guard:
            return self._locks.setdefault(key, threading.RLock())

    @contextmanager
    def reserve(self, address: str) -> Iterator[int]:
        """Hold the account's lock and yield its next nonce.

        Journal the signed transaction before leaving the block: that row is what keeps
        the nonce taken once the lock is released.
        """
        with self.lock(address):
            yield self.next_nonce(address)

    def next_nonce(self, address: str) -> int:
        """The node's pending count, stepped past pending journal entries (one request).

        Never below a nonce this journal already saw mined: a node that under-reports the
        count cannot make the wallet sign a transaction that collides with its own past."""
        node_pending = self.client.get_transaction_count(address, "pending")
        floor = self.journal.highest_mined_nonce(self.client.chain_id, address)
        return self.choose(max(node_pending, floor + 1 if floor is not None else 0),
                           self.journal.pending_nonces(self.client.chain_id, address))

    @staticmethod
    def choose(node_pending: int, journal_pending: set[int]) -> int:
        """Pure rule (see module doc): first nonce >= node count not held in the journal."""
        n = node_pending
        while n in journal_pending:
            n += 1
        return n


__all__ = ["NonceManager"]
