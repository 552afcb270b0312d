"""Schedule (METHODOLOGY section 6): reconstitution every Monday 00:00 UTC.

Times are timezone-aware ``datetime`` objects; naive ones are rejected because guessing a
time zone for a money-moving schedule is how rebalances end up an hour off.

Choices: :func:`next_rebalance` is *strictly* after ``now`` (at exactly Monday 00:00 the
rebalance is due now, see :func:`is_rebalance_time`, and the next one is a week later);
:func:`previous_rebalance` is at or before ``now``. A daily close dated ``D`` happens at
``D + 1 day, 00:00 UTC`` (the end of that UTC day), so the close dated Sunday is the
"latest snapshot" a Monday 00:00 rebalance uses; :func:`is_rebalance_close` says so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

REBALANCE_WEEKDAY = 0  # Monday
WEEK = timedelta(days=7)


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("schedule times must be timezone-aware (use datetime.now(UTC)).")
    return now.astimezone(UTC)


def previous_rebalance(now: datetime) -> datetime:
    """The latest Monday 00:00 UTC at or before ``now``."""
    now = _utc(now)
    monday = now.date() - timedelta(days=(now.weekday() - REBALANCE_WEEKDAY) % 7)
    return datetime.combine(monday, time(0), tzinfo=UTC)


def next_rebalance(now: datetime) -> datetime:
    """The first Monday 00:00 UTC strictly after ``now``."""
    return previous_rebalance(now) + WEEK


def is_rebalance_time(t: datetime) -> bool:
    """True exactly at a Monday 00:00:00 UTC."""
    return previous_rebalance(t) == _utc(t)


def rebalance_times(start: datetime, end: datetime) -> list[datetime]:
    """Every rebalance instant in ``[start, end]``."""
    first = previous_rebalance(start)
    if first < _utc(start):
        first += WEEK
    out = []
    t = first
    while t <= _utc(end):
        out.append(t)
        t += WEEK
    return out


def close_time(day: date) -> datetime:
    """The instant the daily close dated ``day`` is final: the next 00:00 UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def is_rebalance_close(day: date) -> bool:
    """True for the close whose time is a rebalance instant (the close dated a Sunday)."""
    return is_rebalance_time(close_time(day))
