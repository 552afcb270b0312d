"""On-disk cache of validated API responses, with a time-to-live.

One file per logical request (all pages of a ``/coins/markets`` read together), named by a
hash of the request. A file holds the raw response bodies, exactly as received, plus the
time they were fetched; readers re-validate them, so a damaged file is a miss, not a crash.

Writes are atomic (temporary file in the same folder, fsync, ``os.replace``): a reader
never sees half a file, and a failed fetch never touches what is there. Only data that
passed validation is ever written (the client calls :meth:`ResponseCache.put` last).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_VERSION = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CacheEntry:
    """What the cache holds for one request."""

    key: str
    fetched_at: datetime
    bodies: tuple[str, ...]

    def age(self, now: datetime) -> timedelta:
        return max(now - self.fetched_at, timedelta(0))


class ResponseCache:
    """A folder of cached responses."""

    def __init__(self, directory: Path, ttl: timedelta = timedelta(minutes=10),
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.directory = directory
        self.ttl = ttl
        self.clock = clock

    @staticmethod
    def key(name: str, params: dict[str, Any]) -> str:
        """Stable key for a request: a hash of its name and sorted parameters.

        The API key is never part of it (it is not a parameter here), so cache file names
        reveal nothing secret.
        """
        blob = json.dumps([CACHE_VERSION, name, params], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str, *, allow_stale: bool = False) -> CacheEntry | None:
        """The entry if present and readable, and fresh unless ``allow_stale``."""
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entry = CacheEntry(key, datetime.fromisoformat(data["fetched_at"]),
                               tuple(str(b) for b in data["bodies"]))
            if data.get("version") != CACHE_VERSION or entry.fetched_at.tzinfo is None:
                raise ValueError("unknown cache format")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable cache entry %s (%s)", path.name, type(exc).__name__)
            return None
        if not allow_stale and entry.age(self.clock()) > self.ttl:
            return None
        return entry

    def put(self, key: str, bodies: list[str] | tuple[str, ...],
            fetched_at: datetime | None = None) -> CacheEntry:
        """Store bodies atomically and return the entry."""
        entry = CacheEntry(key, fetched_at or self.clock(), tuple(bodies))
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = json.dumps({"version": CACHE_VERSION, "key": key,
                              "fetched_at": entry.fetched_at.isoformat(),
                              "bodies": list(entry.bodies)})
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._path(key))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return entry

    def clear(self) -> int:
        """Delete every cached response; returns how many were removed."""
        n = 0
        for p in self.directory.glob("*.json"):
            with contextlib.suppress(OSError):
                p.unlink()
                n += 1
        return n
