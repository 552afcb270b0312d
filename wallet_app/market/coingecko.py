"""CoinGecko-compatible market data: ``/coins/markets`` and ``/coins/{id}/market_chart``.

Plans and keys (CoinGecko API v3 documentation):

* no key: the public base ``https://api.coingecko.com/api/v3`` with no key header (lowest
  rate limits);
* demo: the same base, key in the ``x-cg-demo-api-key`` header;
* pro: ``https://pro-api.coingecko.com/api/v3``, key in ``x-cg-pro-api-key``.

The key comes from ``COINGECKO_API_KEY`` in the environment, else the settings file
(:attr:`Settings.effective_coingecko_key`); the plan from ``COINGECKO_PLAN`` or the settings;
``COINGECKO_BASE_URL`` points the client at any compatible server (a mirror, a test server).

Validation is all-or-nothing: every page of a ``/coins/markets`` read is checked before
anything is returned or cached, so a malformed or short page leaves the cache as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ..config import Settings, load_settings
from ..index.errors import IndexDataError
from ..index.inputs import MarketAsset, loads_exact, parse_assets, to_decimal
from ..index.regime import MarketPoint
from ..paths import AppPaths, app_paths
from .cache import ResponseCache, utcnow
from .errors import MalformedResponseError, MarketConfigError, PartialResponseError
from .http import JSONHTTPClient
from .snapshot import SOURCE_CACHE, SOURCE_LIVE, SOURCE_STALE_CACHE, MarketSnapshot

PUBLIC_BASE_URL = "https://api.coingecko.com/api/v3"
PRO_BASE_URL = "https://pro-api.coingecko.com/api/v3"
DEMO_HEADER = "x-cg-demo-api-key"
PRO_HEADER = "x-cg-pro-api-key"
MAX_PER_PAGE = 250
#: Fewer assets than this cannot yield 100 eligible constituents: treat as partial.
DEFAULT_MIN_ASSETS = 150


@dataclass(frozen=True)
class MarketChart:
    """``/coins/{id}/market_chart``: time series of price, market cap and volume."""

    coin_id: str
    vs_currency: str
    prices: tuple[tuple[datetime, Decimal | None], ...]
    market_caps: tuple[tuple[datetime, Decimal | None], ...]
    total_volumes: tuple[tuple[datetime, Decimal | None], ...]
    as_of: datetime
    source: str

    def daily_market_caps(self) -> list[MarketPoint]:
        """Last positive market cap of each UTC day, as a series for the regime signal."""
        by_day: dict[date, tuple[datetime, Decimal]] = {}
        for t, v in self.market_caps:
            if v is not None and v > 0 and (t.date() not in by_day or by_day[t.date()][0] <= t):
                by_day[t.date()] = (t, v)
        return [MarketPoint(d, v) for d, (_, v) in sorted(by_day.items())]


def _series(raw: Any, name: str, where: str) -> tuple[tuple[datetime, Decimal | None], ...]:
    if not isinstance(raw, list):
        raise MalformedResponseError(f"{where}: '{name}' is not a list.")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, list) or len(item) != 2:
            raise MalformedResponseError(f"{where}: '{name}'[{i}] is not a [time, value] pair.")
        ms = to_decimal(item[0])
        if ms is None or ms < 0:
            raise MalformedResponseError(f"{where}: '{name}'[{i}] has no valid timestamp.")
        if item[1] is not None and to_decimal(item[1]) is None:
            raise MalformedResponseError(f"{where}: '{name}'[{i}] has a value that is not a "
                                         "number.")
        out.append((datetime.fromtimestamp(float(ms) / 1000, UTC), to_decimal(item[1])))
    out.sort(key=lambda p: p[0])
    return tuple(out)


def parse_market_chart(text: str, coin_id: str, vs_currency: str, *, as_of: datetime,
                       source: str) -> MarketChart:
    """Validate a ``market_chart`` body; raise a named error on anything unexpected."""
    where = f"market_chart for {coin_id!r}"
    try:
        data = loads_exact(text)
    except ValueError:
        raise MalformedResponseError(f"{where}: the response is not valid JSON.") from None
    if not isinstance(data, dict):
        raise MalformedResponseError(f"{where}: expected a JSON object.")
    missing = [k for k in ("prices", "market_caps", "total_volumes") if k not in data]
    if missing:
        raise MalformedResponseError(f"{where}: missing field(s) {', '.join(missing)}.")
    chart = MarketChart(coin_id, vs_currency, _series(data["prices"], "prices", where),
                        _series(data["market_caps"], "market_caps", where),
                        _series(data["total_volumes"], "total_volumes", where), as_of, source)
    if not chart.prices:
        raise PartialResponseError(f"{where}: the response has no data points.")
    return chart


def parse_markets_pages(bodies: list[str] | tuple[str, ...], *, per_page: int,
                        min_assets: int) -> list[MarketAsset]:
    """Validate every page of a ``/coins/markets`` read; all pages or nothing."""
    assets: list[MarketAsset] = []
    for n, body in enumerate(bodies, start=1):
        try:
            data = loads_exact(body)
        except ValueError:
            raise MalformedResponseError(f"/coins/markets page {n}: the response is not valid "
                                         "JSON.") from None
        if not isinstance(data, list):
            raise MalformedResponseError(f"/coins/markets page {n}: expected a JSON array of "
                                         f"coins, got {type(data).__name__}.")
        if len(data) > per_page:
            raise MalformedResponseError(f"/coins/markets page {n}: {len(data)} entries for "
                                         f"per_page={per_page}.")
        if n < len(bodies) and len(data) < per_page:
            raise PartialResponseError(f"/coins/markets page {n} is short ({len(data)} of "
                                       f"{per_page}) but is not the last page.")
        try:
            assets.extend(parse_assets(data, f"/coins/markets page {n}"))
        except IndexDataError as exc:
            raise MalformedResponseError(str(exc)) from None
    if len(assets) < min_assets:
        raise PartialResponseError(f"/coins/markets returned {len(assets)} assets, fewer than "
                                   f"the {min_assets} needed to compose the index; the data is "
                                   "incomplete, try again later.")
    return assets


class CoinGeckoClient(JSONHTTPClient):
    """Typed client of the CoinGecko API (or any server that speaks its format)."""

    service = "the CoinGecko API"

    def __init__(self, api_key: str = "", plan: str = "demo", *, base_url: str | None = None,
                 cache: ResponseCache | None = None, clock: Callable[[], datetime] = utcnow,
                 **kwargs: Any) -> None:
        if plan not in ("demo", "pro"):
            raise MarketConfigError("coingecko_plan must be 'demo' or 'pro'.")
        if plan == "pro" and not api_key:
            raise MarketConfigError("The CoinGecko pro plan needs an API key: set "
                                    "COINGECKO_API_KEY or coingecko_api_key in the settings, "
                                    "or use the demo plan.")
        headers = {}
        if api_key:
            headers[PRO_HEADER if plan == "pro" else DEMO_HEADER] = api_key
        default = PRO_BASE_URL if plan == "pro" else PUBLIC_BASE_URL
        super().__init__(base_url or default, headers, **kwargs)
        self.plan = plan
        self.has_key = bool(api_key)
        self.cache = cache
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings | None = None, paths: AppPaths | None = None,
                      **kwargs: Any) -> CoinGeckoClient:
        """Client configured from the settings and the environment, cache in the data dir."""
        paths = paths or app_paths()
        settings = settings or load_settings(paths)
        plan = os.environ.get("COINGECKO_PLAN", "") or settings.coingecko_plan
        base = os.environ.get("COINGECKO_BASE_URL", "") or settings.coingecko_base_url or None
        kwargs.setdefault("cache", ResponseCache(paths.cache_dir / "coingecko"))
        return cls(settings.effective_coingecko_key, plan, base_url=base, **kwargs)

    # --- /coins/markets -------------------------------------------------------------------

    def _markets_key(self, vs_currency: str, pages: int, per_page: int) -> str:
        # The base URL is part of the key (data from a test server or mirror never answers
        # for the real API); the API key never is.
        return ResponseCache.key("coins/markets", {"base": self.base_url, "vs": vs_currency,
                                                   "pages": pages, "per_page": per_page})

    def coins_markets(self, *, pages: int = 2, per_page: int = MAX_PER_PAGE,
                      vs_currency: str = "usd", min_assets: int | None = None,
                      use_cache: bool = True) -> MarketSnapshot:
        """Top assets by market cap, ``pages`` pages of ``per_page``; cached for the TTL.

        Stops early at a short page (the end of the list). Raises
        :class:`PartialResponseError` when fewer than ``min_assets`` (default 150, capped at
        ``pages * per_page``) arrive, :class:`MalformedResponseError` on any format problem;
        in both cases nothing is cached.
        """
        if not 1 <= per_page <= MAX_PER_PAGE or pages < 1:
            raise MarketConfigError(f"per_page must be 1..{MAX_PER_PAGE} and pages >= 1.")
        need = min(DEFAULT_MIN_ASSETS if min_assets is None else min_assets, pages * per_page)
        key = self._markets_key(vs_currency, pages, per_page)
        if use_cache and self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                try:
                    assets = parse_markets_pages(hit.bodies, per_page=per_page, min_assets=need)
                    return MarketSnapshot(tuple(assets), hit.fetched_at, SOURCE_CACHE,
                                          fetched_at=hit.fetched_at)
                except (MalformedResponseError, PartialResponseError):
                    pass  # a bad cache entry is a miss; it is overwritten on success
        bodies: list[str] = []
        for page in range(1, pages + 1):
            body = self.get_text("/coins/markets", {
                "vs_currency": vs_currency, "order": "market_cap_desc",
                "per_page": per_page, "page": page, "sparkline": "false",
            })
            bodies.append(body)
            try:
                count = len(loads_exact(body))
            except (ValueError, TypeError):
                break  # parse_markets_pages reports it with the page number
            if count < per_page:
                break
        fetched_at = self.clock()
        assets = parse_markets_pages(bodies, per_page=per_page, min_assets=need)
        if self.cache is not None:
            self.cache.put(key, bodies, fetched_at)
        return MarketSnapshot(tuple(assets), fetched_at, SOURCE_LIVE, fetched_at=fetched_at)

    def cached_markets(self, *, pages: int = 2, per_page: int = MAX_PER_PAGE,
                       vs_currency: str = "usd") -> MarketSnapshot | None:
        """The last good ``/coins/markets`` read whatever its age (offline fallback)."""
        if self.cache is None:
            return None
        hit = self.cache.get(self._markets_key(vs_currency, pages, per_page), allow_stale=True)
        if hit is None:
            return None
        try:
            assets = parse_markets_pages(hit.bodies, per_page=per_page, min_assets=0)
        except (MalformedResponseError, PartialResponseError):
            return None
        return MarketSnapshot(tuple(assets), hit.fetched_at, SOURCE_STALE_CACHE,
                              fetched_at=hit.fetched_at)

    # --- /coins/{id}/market_chart ---------------------------------------------------------

    def market_chart(self, coin_id: str, *, days: int | str = 365, vs_currency: str = "usd",
                     interval: str | None = "daily", use_cache: bool = True) -> MarketChart:
        """Price, market cap and volume history of one coin."""
        if not coin_id or "/" in coin_id or coin_id.strip() != coin_id:
            raise MarketConfigError(f"{coin_id!r} is not a CoinGecko coin id.")
        params: dict[str, Any] = {"vs_currency": vs_currency, "days": days}
        if interval:
            params["interval"] = interval
        key = ResponseCache.key(f"coins/{coin_id}/market_chart",
                                {**params, "base": self.base_url})
        if use_cache and self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None and hit.bodies:
                try:
                    return parse_market_chart(hit.bodies[0], coin_id, vs_currency,
                                              as_of=hit.fetched_at, source=SOURCE_CACHE)
                except (MalformedResponseError, PartialResponseError):
                    pass
        body = self.get_text(f"/coins/{coin_id}/market_chart", params)
        fetched_at = self.clock()
        chart = parse_market_chart(body, coin_id, vs_currency, as_of=fetched_at,
                                   source=SOURCE_LIVE)
        if self.cache is not None:
            self.cache.put(key, [body], fetched_at)
        return chart
