"""Readers for daily history tables (CSV): market caps and prices.

Two market-cap shapes are accepted (METHODOLOGY section 1):

* a total series ``date,market_cap`` (one row per UTC day);
* a per-asset table ``date,symbol,market_cap`` (other columns such as ``base`` ignored),
  like ``daily_market_caps_2020-2025.csv`` in ``../shared``.

And a price table ``date,symbol,close[,volume]`` (other columns ignored) such as the OHLCV
file, where ``symbol`` may be a pair like ``BTC/USD`` (the base before the slash is used,
or the ``base`` column when present) and ``volume`` is in base units.

Choices: rows are sorted by date (and symbol), so row order never matters. Dates are the
first 10 characters in ISO form (``YYYY-MM-DD``); a timestamp's time part is ignored. In a
per-asset table, a row whose market cap is empty, not a number or <= 0 is dropped (the
asset is simply absent that day); two rows with the same date and ticker are summed (a
ticker is not a unique id, and summing keeps the result independent of row order). In a
total series, a bad value or a repeated date is an error: that series *is* the signal.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .errors import IndexDataError


@dataclass(frozen=True)
class AssetDay:
    """One asset's market cap on one UTC day."""

    day: date
    symbol: str
    market_cap: Decimal


@dataclass(frozen=True)
class PriceDay:
    """One asset's daily close (USD) and its 24h volume in USD when known."""

    day: date
    symbol: str
    close: Decimal
    volume_usd: Decimal | None


def parse_day(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise IndexDataError(f"{where}: {text!r} is not a date (expected YYYY-MM-DD).") from None


def parse_number(text: str | None) -> Decimal | None:
    """A finite Decimal from CSV text, ``None`` when empty or not a number."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    try:
        fh = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise IndexDataError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    reader = csv.reader(fh)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        fh.close()
        raise IndexDataError(f"{path} is empty; expected a CSV with a header row.") from None

    def gen() -> Iterator[list[str]]:
        with fh:
            yield from reader

    return header, gen()


def detect_kind(path: Path) -> str:
    """``"per-asset"`` when the header has a symbol column, ``"total"`` otherwise."""
    header, rows = _rows(path)
    rows.close()
    if "date" not in header or "market_cap" not in header:
        raise IndexDataError(f"{path}: a market-cap history needs 'date' and 'market_cap' "
                             f"columns (found: {', '.join(header)}).")
    return "per-asset" if "symbol" in header else "total"


def read_total_series(path: Path) -> list[tuple[date, Decimal]]:
    """Read ``date,market_cap``; sorted by date; every value must be a number > 0."""
    header, rows = _rows(path)
    try:
        di, mi = header.index("date"), header.index("market_cap")
    except ValueError:
        rows.close()
        raise IndexDataError(f"{path}: expected columns date,market_cap.") from None
    out: dict[date, Decimal] = {}
    for n, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{path}, line {n}"
        if len(row) <= max(di, mi):
            raise IndexDataError(f"{where}: too few columns.")
        day = parse_day(row[di], where)
        value = parse_number(row[mi])
        if value is None or value <= 0:
            raise IndexDataError(f"{where}: market_cap {row[mi]!r} is not a number > 0.")
        if day in out:
            raise IndexDataError(f"{where}: the date {day} appears twice.")
        out[day] = value
    return sorted(out.items())


def read_asset_table(path: Path) -> list[AssetDay]:
    """Read a per-asset table ``date,symbol,market_cap``; bad caps dropped, dups summed."""
    header, rows = _rows(path)
    try:
        di, si, mi = header.index("date"), header.index("symbol"), header.index("market_cap")
    except ValueError:
        rows.close()
        raise IndexDataError(f"{path}: expected columns date,symbol,market_cap.") from None
    acc: dict[tuple[date, str], Decimal] = {}
    need = max(di, si, mi)
    for n, row in enumerate(rows, start=2):
        if len(row) <= need:
            if not row or all(not c.strip() for c in row):
                continue
            raise IndexDataError(f"{path}, line {n}: too few columns.")
        day = parse_day(row[di], f"{path}, line {n}")
        symbol = row[si].strip().upper()
        cap = parse_number(row[mi])
        if not symbol or cap is None or cap <= 0:
            continue
        key = (day, symbol)
        acc[key] = acc[key] + cap if key in acc else cap
    return [AssetDay(d, s, m) for (d, s), m in sorted(acc.items())]


def read_price_table(path: Path) -> list[PriceDay]:
    """Read daily closes (and base-unit volume, converted to USD with the close)."""
    header, rows = _rows(path)
    if "date" not in header or "close" not in header or not {"symbol", "base"} & set(header):
        rows.close()
        raise IndexDataError(f"{path}: a price table needs date, symbol (or base) and close "
                             "columns.")
    di, ci = header.index("date"), header.index("close")
    si = header.index("base") if "base" in header else header.index("symbol")
    vi = header.index("volume") if "volume" in header else None
    acc: dict[tuple[date, str], PriceDay] = {}
    for n, row in enumerate(rows, start=2):
        if len(row) <= max(di, ci, si, vi or 0):
            if not row or all(not c.strip() for c in row):
                continue
            raise IndexDataError(f"{path}, line {n}: too few columns.")
        day = parse_day(row[di], f"{path}, line {n}")
        symbol = row[si].strip().split("/")[0].upper()
        close = parse_number(row[ci])
        if not symbol or close is None or close <= 0:
            continue
        vol = parse_number(row[vi]) if vi is not None else None
        vol_usd = vol * close if vol is not None and vol >= 0 else None
        prev = acc.get((day, symbol))
        # Duplicate (day, symbol): keep the larger USD volume, then the larger close, so
        # the result does not depend on row order.
        cand = PriceDay(day, symbol, close, vol_usd)
        if prev is None or (prev.volume_usd or 0, prev.close) < (vol_usd or 0, close):
            acc[(day, symbol)] = cand
    return [acc[k] for k in sorted(acc)]
