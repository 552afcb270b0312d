"""Output helpers shared by the command groups: JSON for scripts, text for people."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, bytes):
        return "0x" + obj.hex()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def to_json(data: Any) -> str:
    """Serialise with Decimals as strings (never floats: money stays exact)."""
    return json.dumps(data, default=_default, indent=2, sort_keys=False)


def emit(args: Any, data: Any, text: str | None = None) -> None:
    """Print ``data`` as JSON when ``--json`` was given, else ``text`` (or the JSON)."""
    if getattr(args, "json", False) or text is None:
        sys.stdout.write(to_json(data) + "\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")


def progress(message: str) -> None:
    """A progress line on stderr, so that ``--json`` output on stdout stays parseable."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
