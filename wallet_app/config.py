"""User settings, stored as TOML in the config dir.

Only non-secret preferences live here (network, RPC URL, lock timeout, theme, market data
source). API keys may be given here or, preferably, through the environment; wallet secrets
never are: they live in the OS keyring.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from .errors import ConfigError
from .paths import AppPaths, app_paths

THEMES = ("light", "dark")


@dataclass
class Settings:
    """Preferences the user can change in the Settings screen or the TOML file."""

    #: Key of the chain registry ("devnet", "ethereum", "base", "arbitrum", "custom").
    network: str = "devnet"
    #: RPC URL for "custom" (or an override for a named network); empty means default.
    rpc_url: str = ""
    #: Chain id expected from a custom RPC (checked on connect and before signing).
    chain_id: int = 0
    #: Minutes of inactivity after which an unlocked wallet locks itself.
    lock_timeout_minutes: int = 5
    theme: str = "light"
    #: Market data: "snapshot" (offline, the app's dated snapshot) or "coingecko".
    market_source: str = "snapshot"
    coingecko_api_key: str = ""
    coingecko_plan: str = "demo"
    #: Base URL of the CoinGecko-compatible API (a mirror, a proxy); empty: the plan's
    #: default (``COINGECKO_BASE_URL`` in the environment wins).
    coingecko_base_url: str = ""
    #: Off a devnet, the regime gauge, its history and the performance benchmarks need
    #: daily market caps from that API (about 100 chart requests on the first day, one
    #: snapshot and 100 small ones per daily close after). Contacting a third party tells
    #: it your IP address and when the app runs: off until the user turns it on.
    market_history: bool = False
    #: Slippage default for trades, in basis points (50 = 0.5%).
    slippage_bps: int = 50
    #: Name of the wallet last used.
    active_wallet: str = ""
    #: Allow the encrypted-file fallback when no OS keyring is usable.
    allow_file_keystore: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise :class:`ConfigError` with a precise reason when a value is out of range."""
        if self.lock_timeout_minutes < 1 or self.lock_timeout_minutes > 24 * 60:
            raise ConfigError("lock_timeout_minutes must be between 1 and 1440 minutes.")
        if self.theme not in THEMES:
            raise ConfigError(f"theme must be one of {', '.join(THEMES)}, not {self.theme!r}.")
        if not 0 < self.slippage_bps <= 1000:
            raise ConfigError("slippage_bps must be between 1 (0.01%) and 1000 (10%).")
        if self.market_source not in ("snapshot", "coingecko"):
            raise ConfigError("market_source must be 'snapshot' or 'coingecko'.")
        if self.coingecko_plan not in ("demo", "pro"):
            raise ConfigError("coingecko_plan must be 'demo' or 'pro'.")
        if self.coingecko_base_url and not self.coingecko_base_url.startswith(
                ("https://", "http://")):
            raise ConfigError("coingecko_base_url must be an http(s):// URL (or empty for "
                              "the API's default).")
        if not isinstance(self.market_history, bool):
            raise ConfigError("market_history must be true or false.")

    @property
    def effective_coingecko_key(self) -> str:
        """The API key from the environment, else the settings file."""
        from .hardening import secret_env

        return secret_env("COINGECKO_API_KEY") or self.coingecko_api_key


def load_settings(paths: AppPaths | None = None) -> Settings:
    """Read the settings file; a missing file gives the defaults."""
    paths = paths or app_paths()
    path = paths.settings_file
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The settings file {path} is not valid TOML ({exc}). "
                          "Fix or delete it; defaults are used when it is absent.") from None
    known = {f.name for f in fields(Settings)}
    unknown = set(raw) - known
    settings = Settings(**{k: v for k, v in raw.items() if k in known})
    settings.extra.update({k: raw[k] for k in unknown})
    try:
        settings.validate()
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return settings


def save_settings(settings: Settings, paths: AppPaths | None = None) -> Path:
    """Validate and write the settings atomically (write a temp file, then rename)."""
    settings.validate()
    paths = (paths or app_paths()).ensure()
    data = asdict(settings)
    extra = data.pop("extra")
    data.update(extra)
    path = paths.settings_file
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
    return path


def settings_path_for_display(paths: AppPaths | None = None) -> Path:
    return (paths or app_paths()).settings_file


__all__ = ["Settings", "load_settings", "save_settings", "settings_path_for_display", "Path"]
