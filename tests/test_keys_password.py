"""Password policy: what is refused, why, and that the estimate ranks sensibly."""

from __future__ import annotations

import pytest

from wallet_app.keys import WeakPassword
from wallet_app.keys.password import MIN_BITS, estimate, require_acceptable


@pytest.mark.parametrize(("password", "reason"), [
    ("short", "at least 10"),
    ("Abc!1234x", "at least 10"),
    ("password123", "common password"),
    ("P@ssw0rd2024!", "common password"),
    ("!!Bitcoin2021", "common password"),
    ("aaaaaaaaaaaaaaaa", "repeated word or run"),
    ("qwertyuiop123456", "keyboard walk"),
    ("1qaz2wsx3edc4rfv", "keyboard walk"),
    ("asdfghjkl;'zxcv", "keyboard walk"),
    ("zxcvbnm,./asdfg", "keyboard walk"),
    ("1234567890123", "keyboard walk"),  # the number row
    ("hunter2hunter2", "repeated word"),
    ("horsehorsehorse1", "repeated word"),
    ("correct horse correct horse correct horse", "repeated word"),
    ("Purple tractor purple tractor", "repeated word"),
    ("abcdefghijklmnop", "built on a sequence"),
    ("Zebra1987Giraffe", "too easy to guess"),
    ("savingsvault-k2", "wallet name"),
])
def test_refused_with_reason(password: str, reason: str) -> None:
    result = estimate(password, ["SavingsVault"])
    assert not result.acceptable
    assert reason in (result.reason or "")
    with pytest.raises(WeakPassword) as ei:
        require_acceptable(password, ["SavingsVault"])
    assert reason in str(ei.value) and ei.value.reason == result.reason
    assert password not in str(ei.value)


@pytest.mark.parametrize("password", [
    "correct horse battery staple",
    "Tr0ub4dor&3x",
    "zx9!Lm#q2T",
    "kqzmtrwbxpalf",
    "my cat eats 7 limes daily",
])
def test_accepted(password: str) -> None:
    result = require_acceptable(password)
    assert result.acceptable and result.reason is None and result.bits >= MIN_BITS
    assert result.score >= 3
    assert password not in repr(result)


def test_a_walk_or_repeat_inside_a_strong_password_is_fine() -> None:
    """Only a password that is *mostly* a walk or a repeat is refused on that ground."""
    assert estimate("qwerty lantern velvet tundra").acceptable
    assert estimate("correct horse battery correct").acceptable


def test_estimate_is_monotonic_in_obvious_cases() -> None:
    assert estimate("aaaaaaaaaaaa").bits < estimate("akqzmtrwbxpl").bits
    assert estimate("kqzmtrwbxpal").bits < estimate("kqzmtrwbxpal-Q7#").bits
    assert estimate("passwordpassword").bits < estimate("purple-tractor-bends").bits


def test_labels_and_scores() -> None:
    assert estimate("").label == "very weak"
    assert estimate("correct horse battery staple").label == "strong"
