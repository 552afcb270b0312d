"""Market snapshots: a set of assets plus *when* they were true and *where* they came from.

Every snapshot the app uses carries ``as_of`` and ``source``, so the age of the data can be
shown next to anything computed from it (a composition made from a ten-month-old
snapshot must say so).

Files come in two shapes:

* the plain ``/coins/markets`` array (what the API returns, what ``--markets`` accepts);
* the app's wrapper ``{"as_of": ..., "source": ..., "note": ..., "coins": [...]}`` used by
  the shipped snapshot ``assets/market/snapshot-<date>.json``.

For a plain array, ``as_of`` is the latest ``last_updated`` of its entries, else the file's
modification time (stated in ``note``): never unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..index.errors import IndexDataError
from ..index.inputs import MarketAsset, loads_exact, parse_assets
from ..paths import ASSETS_DIR
from .errors import SnapshotError

SNAPSHOT_DIR = ASSETS_DIR / "market"
_SNAPSHOT_NAME = re.compile(r"^snapshot-(\d{4}-\d{2}-\d{2})\.json$")

SOURCE_LIVE = "coingecko"
SOURCE_CACHE = "coingecko (cached)"
SOURCE_STALE_CACHE = "coingecko (stale cache)"
SOURCE_APP_SNAPSHOT = "app snapshot"
SOURCE_FILE = "file"


@dataclass(frozen=True)
class MarketSnapshot:
    """Assets of one market snapshot, with their date and origin."""

    assets: tuple[MarketAsset, ...]
    as_of: datetime
    source: str
    fetched_at: datetime | None = None
    note: str = ""
    #: Why this snapshot was used instead of fresher data (offline fallback), if it was.
    warning: str | None = None

    def age(self, now: datetime | None = None) -> timedelta:
        """How old the data is (never negative)."""
        now = now or datetime.now(UTC)
        return max(now - self.as_of, timedelta(0))

    def age_text(self, now: datetime | None = None) -> str:
        """The age in words for people: "4 minutes", "3 hours", "212 days"."""
        secs = int(self.age(now).total_seconds())
        if secs < 120:
            return f"{secs} seconds"
        if secs < 2 * 3600:
            return f"{secs // 60} minutes"
        if secs < 2 * 86400:
            return f"{secs // 3600} hours"
        return f"{secs // 86400} days"

    def describe(self, now: datetime | None = None) -> str:
        text = f"{self.source}, as of {self.as_of.isoformat(timespec='minutes')} " \
               f"({self.age_text(now)} old)"
        return text + (f"; {self.warning}" if self.warning else "")


def parse_time(text: str) -> datetime | None:
    """ISO-8601 timestamp or date (``Z`` allowed) as an aware UTC datetime."""
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return (t.replace(tzinfo=UTC) if t.tzinfo is None else t).astimezone(UTC)


def latest_update(assets: tuple[MarketAsset, ...]) -> datetime | None:
    times = [t for a in assets if a.last_updated and (t := parse_time(a.last_updated))]
    return max(times) if times else None


def snapshot_from_json(data: Any, *, source: str, fallback_time: datetime | None = None,
                       where: str = "snapshot") -> MarketSnapshot:
    """Build a snapshot from decoded JSON in either shape."""
    note = ""
    as_of: datetime | None = None
    coins = data
    if isinstance(data, dict):
        if "coins" not in data:
            raise SnapshotError(f"{where}: expected a /coins/markets array or an object with "
                                "'as_of' and 'coins'.")
        coins = data["coins"]
        if data.get("as_of") is not None:
            as_of = parse_time(str(data["as_of"]))
            if as_of is None:
                raise SnapshotError(f"{where}: 'as_of' {data['as_of']!r} is not a date.")
        source = str(data.get("source") or source)
        note = str(data.get("note") or "")
    try:
        assets = tuple(parse_assets(coins, where))
    except IndexDataError as exc:
        raise SnapshotError(str(exc)) from None
    if as_of is None:
        as_of = latest_update(assets)
    if as_of is None:
        if fallback_time is None:
            raise SnapshotError(f"{where}: the data has no date (no 'as_of' and no "
                                "'last_updated'); its age would be unknown.")
        as_of = fallback_time
        note = (note + " " if note else "") + "as_of taken from the file's modification time"
    return MarketSnapshot(assets, as_of, source, note=note)


def load_snapshot_file(path: Path, source: str = SOURCE_FILE) -> MarketSnapshot:
    """Read a snapshot file (either shape)."""
    try:
        raw = path.read_bytes()
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as exc:
        raise SnapshotError(f"Cannot read the market snapshot {path}: "
                            f"{exc.strerror or exc}.") from None
    try:
        data = loads_exact(raw)
    except ValueError as exc:
        raise SnapshotError(f"{path} is not valid JSON ({exc}).") from None
    return snapshot_from_json(data, source=source, fallback_time=mtime, where=str(path))


def app_snapshot_path(directory: Path | None = None) -> Path:
    """The newest ``snapshot-<date>.json`` shipped in ``assets/market``."""
    directory = directory or SNAPSHOT_DIR
    found = sorted(p for p in directory.glob("snapshot-*.json") if _SNAPSHOT_NAME.match(p.name))
    if not found:
        raise SnapshotError(f"No market snapshot found in {directory}; reinstall the app.")
    return found[-1]


def load_app_snapshot(directory: Path | None = None) -> MarketSnapshot:
    """The app's own dated snapshot: the offline default and the last-resort fallback."""
    path = app_snapshot_path(directory)
    snap = load_snapshot_file(path, SOURCE_APP_SNAPSHOT)
    return MarketSnapshot(snap.assets, snap.as_of, SOURCE_APP_SNAPSHOT, note=snap.note)
