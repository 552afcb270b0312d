"""Inputs of the methodology (section 1): the assets of a ``/coins/markets`` snapshot.

A snapshot row becomes a :class:`MarketAsset` with exact ``Decimal`` numbers. Parsing is
split in two on purpose:

* *structural* problems (the document is not a list of objects, an entry has no string
  ``id`` or ``symbol``) make the whole input unusable and raise :class:`IndexDataError`:
  nothing is computed from half a file;
* *value* problems (``market_cap`` missing, ``null``, a string, NaN, zero or negative) are
  data the methodology itself handles (section 2.2: the asset is ineligible), so they are
  kept as ``None`` or as the bad number and reported as an exclusion reason later.

JSON documents should be decoded with :func:`loads_exact` (floats as ``Decimal``) so that
``123.45`` stays ``123.45``; Python floats given directly are converted through their
shortest ``repr``, which is deterministic.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import IndexDataError


@dataclass(frozen=True)
class MarketAsset:
    """One asset of a market snapshot, as the methodology reads it.

    ``current_price``, ``market_cap`` and ``total_volume`` are ``None`` when the field is
    missing or not a number; a number <= 0 is kept as it is (section 2.2 rejects both, with
    different reasons). ``symbol`` keeps the source's case; matching is case-insensitive.
    """

    id: str
    symbol: str
    name: str
    current_price: Decimal | None
    market_cap: Decimal | None
    total_volume: Decimal | None
    categories: tuple[str, ...] = ()
    last_updated: str | None = None

    @property
    def valid_market_cap(self) -> Decimal | None:
        """The market cap when it is a positive number, else ``None``."""
        m = self.market_cap
        return m if m is not None and m > 0 else None

    def canonical_key(self) -> tuple[Any, ...]:
        """A total order over every field, used to break ties without looking at row order."""
        def num(x: Decimal | None) -> tuple[int, Decimal]:
            return (0, Decimal(0)) if x is None else (1, x)

        return (
            num(self.valid_market_cap), num(self.total_volume), num(self.current_price),
            num(self.market_cap), self.symbol, self.name, self.categories,
            self.last_updated or "", self.id,
        )


def loads_exact(text: str | bytes) -> Any:
    """Decode JSON with floats as ``Decimal`` and NaN/Infinity rejected as numbers.

    ``NaN`` and ``Infinity`` are not JSON; Python accepts them by default. They decode here to
    the string ``"NaN"`` etc., which the asset parser then treats as "not a number".
    """
    return json.loads(text, parse_float=Decimal, parse_constant=lambda name: name)


def to_decimal(value: Any) -> Decimal | None:
    """A finite number as ``Decimal``; ``None`` for anything else (missing, bool, text, NaN).

    Strings are *not* parsed: the input format has numbers, and a string where a number
    belongs is exactly the "not a number" case of section 2.2.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        try:
            return Decimal(repr(value))
        except InvalidOperation:  # pragma: no cover - repr of a finite float always parses
            return None
    return None


def parse_asset(entry: Any, where: str = "entry") -> MarketAsset:
    """Build one :class:`MarketAsset` from a ``/coins/markets`` object (unknown keys ignored)."""
    if not isinstance(entry, Mapping):
        raise IndexDataError(f"{where} is not a JSON object; expected one asset per entry "
                             "in the /coins/markets format.")
    asset_id = entry.get("id")
    symbol = entry.get("symbol")
    if not isinstance(asset_id, str) or not asset_id.strip():
        raise IndexDataError(f"{where} has no asset id (a non-empty string 'id' is required).")
    if not isinstance(symbol, str) or not symbol.strip():
        raise IndexDataError(f"{where} ({asset_id!r}) has no 'symbol' string.")
    name = entry.get("name", "")
    if name is None:
        name = ""
    if not isinstance(name, str):
        raise IndexDataError(f"{where} ({asset_id!r}) has a 'name' that is not a string.")
    raw_categories = entry.get("categories")
    if raw_categories is None:
        categories: tuple[str, ...] = ()
    elif isinstance(raw_categories, list) and all(isinstance(c, str) for c in raw_categories):
        categories = tuple(sorted({c.strip().lower() for c in raw_categories if c.strip()}))
    else:
        raise IndexDataError(f"{where} ({asset_id!r}) has 'categories' that is not a list of "
                             "category id strings.")
    last_updated = entry.get("last_updated")
    if last_updated is not None and not isinstance(last_updated, str):
        last_updated = None
    return MarketAsset(
        id=asset_id.strip(),
        symbol=symbol.strip(),
        name=name.strip(),
        current_price=to_decimal(entry.get("current_price")),
        market_cap=to_decimal(entry.get("market_cap")),
        total_volume=to_decimal(entry.get("total_volume")),
        categories=categories,
        last_updated=last_updated,
    )


def parse_assets(raw: Any, source: str = "snapshot") -> list[MarketAsset]:
    """Parse a whole ``/coins/markets`` array; any structural problem rejects all of it."""
    if not isinstance(raw, list):
        raise IndexDataError(f"{source}: expected a JSON array of assets "
                             f"(the /coins/markets format), got {type(raw).__name__}.")
    return [parse_asset(e, f"{source}: entry {i}") for i, e in enumerate(raw)]


def assets_from_dicts(rows: Iterable[Mapping[str, Any]]) -> list[MarketAsset]:
    """Convenience for tests and scripts: parse already-decoded dicts."""
    return parse_assets(list(rows), "input")
