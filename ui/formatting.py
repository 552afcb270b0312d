"""Decimal -> display strings for every number the GUI shows.

Money never passes through ``float`` here: a float cannot hold 0.1 exactly, and a value
formatted through one can show a cent the user does not have. Every function quantizes a
``Decimal`` (``int`` is accepted as an exact value) and formats it with ``Decimal``'s own
``__format__``, which groups thousands without converting. Passing a ``float`` is a bug in
the caller, so it raises ``TypeError`` instead of silently rounding.

The display locale is fixed (``,`` thousands, ``.`` decimals) so that numbers look the same
in screenshots, tests and on every machine; rounding is half-up, the way people round.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DASH = "\u2014"  # shown for a value that is unknown (None, NaN, infinite)
ARROW_UP = "\u25b2"
ARROW_DOWN = "\u25bc"
ARROW_FLAT = "\u25c6"

Number = Decimal | int


def to_decimal(value: Number) -> Decimal:
    """Return ``value`` as a Decimal, refusing floats (they are inexact for money)."""
    if isinstance(value, bool):
        raise TypeError("a bool is not an amount")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    raise TypeError(f"expected Decimal or int, got {type(value).__name__}")


def _finite(value: Number | None) -> Decimal | None:
    """The Decimal for ``value``, or None when it cannot be shown as a number."""
    if value is None:
        return None
    d = to_decimal(value)
    return d if d.is_finite() else None


def quantize(value: Number, places: int) -> Decimal:
    """Round half-up to ``places`` decimals (0 for whole numbers)."""
    d = to_decimal(value)
    try:
        return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        # The quantized value has more digits than the context precision allows: only
        # for absurd magnitudes; show them in scientific form rather than crash a paint.
        return d


def group(value: Number, places: int) -> str:
    """Thousands-grouped fixed-point text without sign handling, e.g. ``1,234.50``."""
    q = quantize(value, places)
    if q == 0:
        q = abs(q)  # never show "-0.00"
    return f"{q:,.{places}f}"


def format_number(value: Number | None, places: int = 2) -> str:
    """A plain grouped number, ``1,234.57``; the dash when unknown."""
    d = _finite(value)
    return DASH if d is None else group(d, places)


def format_usd(value: Number | None, places: int = 2) -> str:
    """US dollars, ``$1,234.57`` / ``-$12.00``: the sign goes before the symbol."""
    d = _finite(value)
    if d is None:
        return DASH
    q = quantize(d, places)
    sign = "-" if q < 0 else ""
    return f"{sign}${group(abs(q), places)}"


def format_usdc(value: Number | None, places: int = 2) -> str:
    """An USDC amount with its unit, ``1,234.57 USDC``."""
    d = _finite(value)
    return DASH if d is None else f"{group(d, places)} USDC"


def nav_places(nav: Number) -> int:
    """Decimals to show for a NAV per share: 4 below 100 (a fresh index starts at ~1)."""
    return 4 if abs(to_decimal(nav)) < 100 else 2


def format_nav(nav: Number | None) -> str:
    """NAV per share in USDC, with enough decimals that a small NAV still moves."""
    d = _finite(nav)
    return DASH if d is None else format_usdc(d, nav_places(d))


def format_price(value: Number | None) -> str:
    """A token price: cents from $1 up, four significant digits below.

    A $0.00001234 token needs its significant digits; a $64,000 one does not need more
    than cents.
    """
    d = _finite(value)
    if d is None:
        return DASH
    if d == 0:
        return "$0.00"
    if abs(d) >= 1:
        return format_usd(d, 2)
    # adjusted() is the exponent of the leading digit: 0.001234 -> -3, so 6 places.
    places = max(2, 4 - 1 - d.adjusted())
    q = quantize(d, places)
    if abs(q) >= 1:  # 0.99996 rounds up to 1.0000: show it as a whole-dollar price
        return format_usd(d, 2)
    text = f"{abs(q):.{places}f}"
    return f"{'-' if q < 0 else ''}${text}"


_COMPACT = (
    (Decimal(10) ** 12, "T"),
    (Decimal(10) ** 9, "B"),
    (Decimal(10) ** 6, "M"),
    (Decimal(10) ** 3, "K"),
)


def format_compact_usd(value: Number | None, places: int = 1) -> str:
    """Dollars in short form for tight spaces: ``$1.2B``, ``$950.3M``, ``$12.3K``, ``$999``.

    The unit is the largest one not above the value; if rounding then reaches 1000 of it
    (``$999.96K``), the next unit up is used instead (``$1.0M``), never ``$1000.0K``.
    """
    d = _finite(value)
    if d is None:
        return DASH
    sign = "-" if d < 0 else ""
    a = abs(d)
    units = [(Decimal(1), "")] + list(reversed(_COMPACT))  # ascending: 1, K, M, B, T
    i = max(k for k, (size, _) in enumerate(units) if k == 0 or a >= size)
    while True:
        size, suffix = units[i]
        digits = 0 if i == 0 else places
        q = quantize(a / size, digits)
        if q >= 1000 and i + 1 < len(units):
            i += 1
            continue
        if q == 0:
            return "$0"
        return f"{sign}${q:,.{digits}f}{suffix}"


def format_percent(fraction: Number | None, places: int = 2, signed: bool = False) -> str:
    """A fraction as a percent: ``Decimal("0.0312")`` -> ``3.12%`` (``+3.12%`` if signed)."""
    d = _finite(fraction)
    if d is None:
        return DASH
    q = quantize(d * 100, places)
    if q == 0:
        q = abs(q)
    sign = "+" if signed and q > 0 else ""
    return f"{sign}{q:,.{places}f}%"


def format_bps(bps: int | None, places: int = 2) -> str:
    """Basis points as a percent: ``1234`` -> ``12.34%``."""
    if bps is None:
        return DASH
    return format_percent(Decimal(to_decimal(bps)) / 10_000, places)


def format_change(fraction: Number | None, places: int = 2) -> str:
    """A signed change with an arrow: ``▲ 3.12%``, ``▼ 1.05%``, ``◆ 0.00%``.

    The arrow repeats the sign so the direction does not depend on colour alone.
    """
    d = _finite(fraction)
    if d is None:
        return DASH
    q = quantize(d * 100, places)
    if q > 0:
        arrow = ARROW_UP
    elif q < 0:
        arrow = ARROW_DOWN
    else:
        arrow = ARROW_FLAT
    return f"{arrow} {abs(q):,.{places}f}%"


def trend(fraction: Number | None, places: int = 2) -> str:
    """``"up"``, ``"down"`` or ``"flat"`` as the displayed change rounds; ``"none"`` if unknown.

    Decided on the rounded value so that the colour always agrees with the text.
    """
    d = _finite(fraction)
    if d is None:
        return "none"
    q = quantize(d * 100, places)
    return "up" if q > 0 else "down" if q < 0 else "flat"


def format_token_amount(amount: Number | None, symbol: str = "", max_places: int = 6) -> str:
    """A token quantity: grouped, trailing zeros dropped, at most ``max_places`` decimals.

    ``1234.500000 ETH`` reads better as ``1,234.5 ETH``; the precision a token carries
    (6, 8 or 18 decimals) is not the precision a person needs to read.
    """
    d = _finite(amount)
    if d is None:
        return DASH
    q = quantize(d, max_places)
    text = group(q, max_places)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if q == 0 and d != 0:
        # Non-zero but below the shown precision: say so instead of printing a false 0.
        text = f"{'-' if d < 0 else ''}<{Decimal(1).scaleb(-max_places):f}"
    return f"{text} {symbol}".rstrip()


def format_age(as_of: datetime, now: datetime) -> str:
    """How old the data is, in words: ``just now``, ``2 min ago``, ``3 h ago``, ``2 days ago``."""
    delta = _aware(now) - _aware(as_of)
    if delta < timedelta(seconds=60):
        return "just now"
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h ago"
    return f"{hours // 24} days ago"


def format_timestamp(when: datetime, tz: object | None = None) -> str:
    """A moment as ``25 Nov 2026 14:02 UTC`` in ``tz`` (the local zone when None); the zone
    is spelled out because "data from 14:02" is ambiguous across zones."""
    aware = _aware(when)
    local = aware.astimezone(tz) if tz is not None else aware.astimezone()  # type: ignore[arg-type]
    return local.strftime("%d %b %Y %H:%M %Z").rstrip()


def format_countdown(remaining: timedelta) -> str:
    """Time left until an event: ``2d 05h 13m``; seconds appear in the last hour."""
    total = int(remaining.total_seconds())
    if total <= 0:
        return "now"
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s"


def _aware(when: datetime) -> datetime:
    """Naive datetimes from the core are UTC; make them comparable with aware ones."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
