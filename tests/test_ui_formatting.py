"""Decimal -> display strings: no float anywhere, half-up rounding, fixed separators."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC, datetime, timedelta, timezone  # noqa: E402
from decimal import Decimal as D  # noqa: E402

import pytest  # noqa: E402

from ui import formatting as fmt  # noqa: E402


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("0"), "$0.00"),
        (D("1234567.891"), "$1,234,567.89"),
        (D("0.005"), "$0.01"),  # half-up, not banker's
        (D("0.015"), "$0.02"),
        (D("-1234.565"), "-$1,234.57"),
        (D("-0.001"), "$0.00"),  # never "-$0.00"
        (D("1e3"), "$1,000.00"),
        (12, "$12.00"),
        (None, fmt.DASH),
        (D("NaN"), fmt.DASH),
        (D("Infinity"), fmt.DASH),
    ],
)
def test_format_usd(value: D | int | None, expected: str) -> None:
    assert fmt.format_usd(value) == expected


def test_floats_are_refused() -> None:
    for f in (fmt.format_usd, fmt.format_percent, fmt.format_compact_usd, fmt.format_price,
              fmt.format_token_amount, fmt.format_change, fmt.format_usdc, fmt.format_nav):
        with pytest.raises(TypeError):
            f(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fmt.to_decimal(True)  # type: ignore[arg-type]


def test_usdc_and_nav() -> None:
    assert fmt.format_usdc(D("2458317.4249")) == "2,458,317.42 USDC"
    assert fmt.format_nav(D("1.283471")) == "1.2835 USDC"
    assert fmt.format_nav(D("1234.5678")) == "1,234.57 USDC"
    assert fmt.format_number(D("1234.5"), 0) == "1,235"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("96421.374"), "$96,421.37"),
        (D("1"), "$1.00"),
        (D("0.5123"), "$0.5123"),
        (D("0.2917"), "$0.2917"),
        (D("0.00001377"), "$0.00001377"),
        (D("0.000000630149"), "$0.0000006301"),
        (D("0.99996"), "$1.00"),
        (D("0"), "$0.00"),
    ],
)
def test_format_price_keeps_significant_digits(value: D, expected: str) -> None:
    assert fmt.format_price(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("1234567890"), "$1.2B"),
        (D("950300000"), "$950.3M"),
        (D("12345"), "$12.3K"),
        (D("999"), "$999"),
        (D("999.6"), "$1.0K"),
        (D("999960"), "$1.0M"),  # rounding carries into the next unit
        (D("2187213391221"), "$2.2T"),
        (D("-2500000000"), "-$2.5B"),
        (D("0.4"), "$0"),
    ],
)
def test_format_compact_usd(value: D, expected: str) -> None:
    assert fmt.format_compact_usd(value) == expected


def test_percent_bps_and_change() -> None:
    assert fmt.format_percent(D("0.0312")) == "3.12%"
    assert fmt.format_percent(D("0.03125"), signed=True) == "+3.13%"
    assert fmt.format_percent(D("-0.00001"), signed=True) == "0.00%"
    assert fmt.format_percent(D("12.5")) == "1,250.00%"
    assert fmt.format_bps(1234) == "12.34%"
    assert fmt.format_bps(10_000) == "100.00%"
    assert fmt.format_bps(1) == "0.01%"
    assert fmt.format_change(D("0.0231")) == "\u25b2 2.31%"
    assert fmt.format_change(D("-0.0412")) == "\u25bc 4.12%"
    assert fmt.format_change(D("0.00004")) == "\u25c6 0.00%"
    assert fmt.format_change(None) == fmt.DASH
    assert [fmt.trend(x) for x in (D("0.01"), D("-0.01"), D("0.00004"), None)] == [
        "up", "down", "flat", "none"]


def test_token_amounts() -> None:
    assert fmt.format_token_amount(D("1234.500000"), "ETH") == "1,234.5 ETH"
    assert fmt.format_token_amount(D("0.123456789"), "BTC", max_places=8) == "0.12345679 BTC"
    assert fmt.format_token_amount(D("2"), "G100") == "2 G100"
    assert fmt.format_token_amount(D("0"), "ETH") == "0 ETH"
    assert fmt.format_token_amount(D("0.0000001"), "ETH") == "<0.000001 ETH"
    assert fmt.format_token_amount(D("-1200")) == "-1,200"


def test_age_countdown_and_timestamp() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert fmt.format_age(now - timedelta(seconds=20), now) == "just now"
    assert fmt.format_age(now - timedelta(minutes=2, seconds=30), now) == "2 min ago"
    assert fmt.format_age(now - timedelta(hours=3), now) == "3 h ago"
    assert fmt.format_age(now - timedelta(days=3), now) == "3 days ago"
    assert fmt.format_age(datetime(2026, 11, 25, 11, 55), now) == "5 min ago"  # naive = UTC
    assert fmt.format_countdown(timedelta(days=4, hours=12)) == "4d 12h 00m"
    assert fmt.format_countdown(timedelta(hours=5, minutes=7)) == "5h 07m"
    assert fmt.format_countdown(timedelta(minutes=42, seconds=7)) == "42m 07s"
    assert fmt.format_countdown(timedelta(seconds=-5)) == "now"
    assert fmt.format_timestamp(now, UTC) == "25 Nov 2026 12:00 UTC"
    plus_one = timezone(timedelta(hours=1), "CET")
    assert fmt.format_timestamp(now, plus_one) == "25 Nov 2026 13:00 CET"


def test_gas_text_names_the_l1_data_fee() -> None:
    """On an OP-stack chain the expected network fee says how much of it is L1 data."""
    from decimal import Decimal

    from ui.dialogs.trade_base import gas_text
    from wallet_app.models import GasEstimate

    base = dict(gas_limit=100_000, max_fee_per_gas_wei=2 * 10**9, max_priority_fee_wei=10**6,
                expected_fee_eth=Decimal("0.000150"), max_fee_eth=Decimal("0.000300"),
                expected_fee_usd=None, max_fee_usd=None, preset="market")
    assert "L1" not in gas_text(GasEstimate(**base), "expected")
    op = GasEstimate(**base, l1_fee_eth=Decimal("0.000050"))
    assert gas_text(op, "expected") == "0.00015 ETH, incl. L1 data 0.00005 ETH"
    assert "L1" not in gas_text(op, "max")
