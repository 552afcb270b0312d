"""A small JSON-over-HTTP client with bounded, jittered retries (httpx).

Why a wrapper: every market source needs the same discipline, and getting it wrong costs
either a banned API key (hammering a 429) or a frozen screen (no timeout).

* Timeouts on connect and read (httpx default is none for some cases; we always set one).
* Retries only on what retrying can fix: HTTP 429, HTTP 5xx, timeouts and connection
  errors; at most ``max_retries`` after the first attempt.
* Delay before retry ``n`` (0-based): ``min(max_delay, base_delay * 2**n)``, with "equal
  jitter" (half fixed, half uniform random) so that many clients do not retry in lockstep.
* ``Retry-After`` (seconds or an HTTP date) is honoured: the delay is at least that long.
  If the server asks for more than ``max_retry_after`` seconds we stop at once with
  :class:`RateLimitedError` saying how long to wait, instead of blocking the caller.
* Other 4xx are final and reported with a hint (bad key, unknown id).
* Error messages contain status codes and the endpoint path, never the API key, never the
  server's own text.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from .errors import (
    MalformedResponseError,
    MarketConfigError,
    MarketHTTPError,
    MarketUnavailableError,
    RateLimitedError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up."""

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Jittered exponential delay before retry number ``attempt`` (0-based)."""
        d = min(self.max_delay, self.base_delay * (2 ** attempt))
        return d / 2 + rng.uniform(0, d / 2)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class JSONHTTPClient:
    """GET requests returning response text, with the retry discipline above."""

    #: Name used in error messages ("the CoinGecko API ...").
    service = "the market data API"

    def __init__(self, base_url: str, headers: Mapping[str, str] | None = None, *,
                 timeout: float = 10.0, retry: RetryPolicy | None = None,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()  # jitter only, not cryptography
        self._client = httpx.Client(
            base_url=self.base_url, headers={"accept": "application/json", **(headers or {})},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), transport=transport,
            follow_redirects=False,
        )
        #: Delays actually slept, for tests and diagnostics.
        self.slept: list[float] = []

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> JSONHTTPClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _final_error(self, path: str, status: int) -> MarketHTTPError:
        if status in (401, 403):
            hint = ("the API key was rejected or lacks access: check the key and the plan "
                    "(demo keys work on the public base URL, pro keys on the pro one)")
        elif status == 404:
            hint = "not found: check the id in the request"
        elif status == 400 or status == 422:
            hint = "the request was rejected as invalid"
        else:
            hint = "the request failed"
        return MarketHTTPError(f"{self.service} answered HTTP {status} for {path}: {hint}.",
                               status)

    def get_text(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """GET ``path`` and return the body of a 2xx response as text."""
        attempts = self.retry.max_retries + 1
        problem = ""
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                resp = self._client.get(path, params=dict(params or {}))
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.UnsupportedProtocol:
                raise MarketConfigError(f"{self.base_url} is not an http(s) URL; check the "
                                        "base URL setting.") from None
            except httpx.TransportError as exc:
                problem = f"could not be reached ({type(exc).__name__})"
            else:
                status = resp.status_code
                if 200 <= status < 300:
                    try:
                        return resp.content.decode("utf-8")
                    except UnicodeDecodeError:
                        raise MalformedResponseError(
                            f"{self.service} sent a body for {path} that is not UTF-8 text."
                        ) from None
                if status == 429:
                    retry_after = parse_retry_after(resp.headers.get("retry-after"))
                    if retry_after is not None and retry_after > self.retry.max_retry_after:
                        raise RateLimitedError(
                            f"{self.service} is rate-limiting requests and asks to wait "
                            f"{retry_after:.0f} s: try again later or use an API key with a "
                            "higher limit.", retry_after)
                    problem = "rate-limited (HTTP 429)"
                elif status >= 500:
                    problem = f"failing (HTTP {status})"
                else:
                    raise self._final_error(path, status)
            if attempt + 1 >= attempts:
                break
            delay = self.retry.backoff(attempt, self._rng)
            if retry_after is not None:
                delay = max(delay, retry_after)
            log.info("%s %s %s; retry %d/%d in %.2f s", self.service, path, problem,
                     attempt + 1, self.retry.max_retries, delay)
            self.slept.append(delay)
            self._sleep(delay)
        msg = (f"{self.service} kept {problem} for {path} after {attempts} attempts. "
               "Check the network connection, or try again later; the app falls back to "
               "cached or bundled data meanwhile.")
        if "429" in problem:
            raise RateLimitedError(msg)
        raise MarketUnavailableError(msg)
