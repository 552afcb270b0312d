"""Market data: CoinGecko-compatible client, on-disk cache, the app's dated snapshot.

Public API::

    CoinGeckoClient(api_key, plan, ...).coins_markets() -> MarketSnapshot
    CoinGeckoClient.market_chart(coin_id, days=...)       -> MarketChart
    CoinGeckoClient.from_settings(settings, paths)        # keys from env or settings
    MarketDataService(settings, paths).markets()          -> MarketSnapshot (with fallbacks)
    load_app_snapshot() / load_snapshot_file(path)        -> MarketSnapshot
    TokenMetricsClient(api_key).indices_holdings(id)      -> IndexHoldings

Every snapshot carries ``as_of`` and ``source``: the age of the data is always known.
"""

from .cache import CacheEntry, ResponseCache
from .coingecko import CoinGeckoClient, MarketChart, parse_market_chart, parse_markets_pages
from .errors import (
    MalformedResponseError,
    MarketConfigError,
    MarketDataError,
    MarketHTTPError,
    MarketUnavailableError,
    PartialResponseError,
    RateLimitedError,
    SnapshotError,
)
from .http import JSONHTTPClient, RetryPolicy
from .service import MarketDataService
from .snapshot import MarketSnapshot, app_snapshot_path, load_app_snapshot, load_snapshot_file
from .tokenmetrics import IndexHolding, IndexHoldings, TokenMetricsClient

__all__ = [
    "CacheEntry", "CoinGeckoClient", "IndexHolding", "IndexHoldings", "JSONHTTPClient",
    "MalformedResponseError", "MarketChart", "MarketConfigError", "MarketDataError",
    "MarketDataService", "MarketHTTPError", "MarketSnapshot", "MarketUnavailableError",
    "PartialResponseError", "RateLimitedError", "ResponseCache", "RetryPolicy",
    "SnapshotError", "TokenMetricsClient", "app_snapshot_path", "load_app_snapshot",
    "load_snapshot_file", "parse_market_chart", "parse_markets_pages",
]
