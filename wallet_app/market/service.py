"""Where market data comes from, in order, with the age and origin always attached.

``MarketDataService.markets()`` answers with a :class:`MarketSnapshot` from, in order:

1. the app's own dated snapshot when the settings say ``market_source = "snapshot"`` (the
   default: the app works offline out of the box) or ``offline=True``;
2. otherwise a fresh cache entry (younger than the TTL);
3. otherwise the live API (the result is cached);
4. if the API fails: the last good cached read, however old, marked stale;
5. and last the app's snapshot.

In cases 4 and 5 the snapshot's ``warning`` says why, and ``as_of`` says how old the data
is, so the GUI and CLI can show "data from 3 days ago: live data unavailable".
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ..config import Settings, load_settings
from ..paths import AppPaths, app_paths
from .coingecko import CoinGeckoClient
from .errors import MarketDataError
from .snapshot import MarketSnapshot, load_app_snapshot

log = logging.getLogger(__name__)


class MarketDataService:
    """Market snapshot provider with offline fallbacks."""

    def __init__(self, settings: Settings | None = None, paths: AppPaths | None = None,
                 client: CoinGeckoClient | None = None) -> None:
        self.paths = paths or app_paths()
        self.settings = settings or load_settings(self.paths)
        self._client = client

    @property
    def client(self) -> CoinGeckoClient:
        if self._client is None:
            self._client = CoinGeckoClient.from_settings(self.settings, self.paths)
        return self._client

    def markets(self, *, offline: bool = False, live: bool = False) -> MarketSnapshot:
        """The best market snapshot available now (see the module docstring).

        ``live=True`` asks the API even when the settings say "snapshot" (the CLI's
        ``--live``); the fallbacks still apply. A configuration problem (pro plan without a
        key, bad base URL) is a fallback reason too, so the app keeps working.
        """
        if offline or (self.settings.market_source == "snapshot" and not live):
            return load_app_snapshot()
        try:
            return self.client.coins_markets()
        except MarketDataError as exc:
            log.warning("live market data unavailable: %s", type(exc).__name__)
            reason = f"live data unavailable: {exc}"
            stale = self._client.cached_markets() if self._client is not None else None
            if stale is not None:
                return replace(stale, warning=reason + " Showing the last cached data.")
            snap = load_app_snapshot()
            return replace(snap, warning=reason + " Showing the app's bundled snapshot.")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
