"""Settings: defaults, round trip, and clear errors for bad values."""

from __future__ import annotations

import pytest

from wallet_app.config import Settings, load_settings, save_settings
from wallet_app.errors import ConfigError
from wallet_app.paths import app_paths


def test_defaults_when_absent() -> None:
    assert load_settings() == Settings()


def test_round_trip_keeps_unknown_keys() -> None:
    s = Settings(network="base", lock_timeout_minutes=15, theme="dark")
    s.extra["future_option"] = "kept"
    save_settings(s)
    back = load_settings()
    assert back.network == "base" and back.theme == "dark" and back.lock_timeout_minutes == 15
    assert back.extra == {"future_option": "kept"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [("theme = 'pink'", "theme must be one of"),
     ("lock_timeout_minutes = 0", "between 1 and 1440"),
     ("slippage_bps = 5000", "slippage_bps"),
     ("this is = not toml [", "not valid TOML")],
)
def test_bad_settings_are_named(text: str, needle: str) -> None:
    p = app_paths().ensure().settings_file
    p.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_settings()
    assert p.read_text() == text  # nothing overwritten


def test_invalid_settings_are_not_saved() -> None:
    with pytest.raises(ConfigError):
        save_settings(Settings(theme="neon"))
    assert not app_paths().settings_file.exists()
