"""Named errors of the market-data layer.

Messages say what failed and what to do; they never carry the API key nor raw response
text from the server (untrusted), only status codes, counts and field names.
"""

from __future__ import annotations

from ..errors import WalletError


class MarketDataError(WalletError):
    """Base class: market data could not be obtained or is unusable."""

    exit_code = 5


class MarketConfigError(MarketDataError):
    """The market-data settings are inconsistent (e.g. pro plan without a key)."""

    exit_code = 41


class MarketHTTPError(MarketDataError):
    """The server answered with an error status that retrying will not fix (4xx)."""

    exit_code = 42

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RateLimitedError(MarketDataError):
    """HTTP 429 persisted through every retry, or the server asked to wait too long."""

    exit_code = 43

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MarketUnavailableError(MarketDataError):
    """The server kept failing (5xx, timeouts, connection errors) past the retry budget."""

    exit_code = 44


class MalformedResponseError(MarketDataError):
    """The response is not the documented format (bad JSON, wrong types, missing fields)."""

    exit_code = 45


class PartialResponseError(MarketDataError):
    """The response is well-formed but incomplete (too few assets, a short page)."""

    exit_code = 46


class SnapshotError(MarketDataError):
    """The app's own snapshot (or a snapshot file given by the user) is unusable."""

    exit_code = 47
