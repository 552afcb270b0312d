"""Token Metrics API adapter: index holdings as a second, independent source.

Speaks the documented format of ``GET https://api.tokenmetrics.com/v2/indices-holdings``
(developers.tokenmetrics.com, "Indices Holdings"): the key goes in the ``x-api-key`` header,
the index is chosen with the ``id`` query parameter, and the body is an object whose
``data`` is a list of holdings with ``TOKEN_ID``, ``TOKEN_NAME``, ``TOKEN_SYMBOL``,
``WEIGHT``, ``MARKET_CAP``, ``PRICE`` and ``DATE`` (other fields ignored); ``success`` is
``false`` when the request failed.

What is *not* pinned down by the documentation, and how it is handled:

* ``WEIGHT`` is described as "a percentage or ratio". The scale is inferred from the sum:
  about 100 means percent, about 1 means fractions; anything else is rejected as
  malformed rather than guessed.
* This adapter has only been checked against a local server speaking that format, never
  against the live service (no key was available while writing it).

Use: compare a live Token Metrics index with :func:`wallet_app.index.compose`, or show it
as a reference in the strategy view. It never feeds the methodology itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..hardening import secret_env
from ..index.inputs import loads_exact, to_decimal
from .cache import utcnow
from .errors import MalformedResponseError, MarketConfigError, MarketDataError
from .http import JSONHTTPClient
from .snapshot import parse_time

TM_BASE_URL = "https://api.tokenmetrics.com/v2"
TM_HEADER = "x-api-key"


@dataclass(frozen=True)
class IndexHolding:
    symbol: str
    name: str
    weight: Decimal  # fraction of 1
    token_id: int | None = None
    market_cap: Decimal | None = None
    price: Decimal | None = None


@dataclass(frozen=True)
class IndexHoldings:
    index_id: int
    holdings: tuple[IndexHolding, ...]
    as_of: datetime
    source: str = "token metrics"


def parse_indices_holdings(text: str, index_id: int, fetched_at: datetime) -> IndexHoldings:
    """Validate an ``indices-holdings`` body (see the module docstring)."""
    where = f"Token Metrics indices-holdings for index {index_id}"
    try:
        data = loads_exact(text)
    except ValueError:
        raise MalformedResponseError(f"{where}: the response is not valid JSON.") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise MalformedResponseError(f"{where}: expected an object with a 'data' list.")
    if data.get("success") is False:
        raise MarketDataError(f"{where}: the API reported a failure (check the index id and "
                              "the API key's plan).")
    rows: list[tuple[str, str, Decimal, Any, Any, Any, Any]] = []
    for i, e in enumerate(data["data"]):
        if not isinstance(e, dict):
            raise MalformedResponseError(f"{where}: entry {i} is not an object.")
        sym, name, w = e.get("TOKEN_SYMBOL"), e.get("TOKEN_NAME", ""), to_decimal(e.get("WEIGHT"))
        if not isinstance(sym, str) or not sym or w is None or w < 0:
            raise MalformedResponseError(f"{where}: entry {i} lacks TOKEN_SYMBOL or a numeric "
                                         "WEIGHT.")
        tid = e.get("TOKEN_ID")
        rows.append((sym, name if isinstance(name, str) else "", w,
                     tid if isinstance(tid, int) and not isinstance(tid, bool) else None,
                     to_decimal(e.get("MARKET_CAP")), to_decimal(e.get("PRICE")), e.get("DATE")))
    total = sum((r[2] for r in rows), Decimal(0))
    if rows and Decimal(99) <= total <= Decimal(101):
        scale = Decimal(100)
    elif not rows or Decimal("0.99") <= total <= Decimal("1.01"):
        scale = Decimal(1)
    else:
        raise MalformedResponseError(f"{where}: weights sum to {total}, neither ~100 (percent) "
                                     "nor ~1 (fractions).")
    dates = [t for r in rows if isinstance(r[6], str) and (t := parse_time(r[6]))]
    holdings = tuple(sorted((IndexHolding(s, n, w / scale, tid, mc, px)
                             for s, n, w, tid, mc, px, _ in rows),
                            key=lambda h: (-h.weight, h.symbol)))
    return IndexHoldings(index_id, holdings, max(dates) if dates else fetched_at)


class TokenMetricsClient(JSONHTTPClient):
    """Minimal Token Metrics client: index holdings only."""

    service = "the Token Metrics API"

    def __init__(self, api_key: str | None = None, *, base_url: str | None = None,
                 clock: Callable[[], datetime] = utcnow, **kwargs: Any) -> None:
        api_key = api_key if api_key is not None else (secret_env("TOKENMETRICS_API_KEY") or "")
        if not api_key:
            raise MarketConfigError("The Token Metrics API needs a key: set "
                                    "TOKENMETRICS_API_KEY.")
        super().__init__(base_url or os.environ.get("TOKENMETRICS_BASE_URL", "") or TM_BASE_URL,
                         {TM_HEADER: api_key}, **kwargs)
        self.clock = clock

    def indices_holdings(self, index_id: int) -> IndexHoldings:
        body = self.get_text("/indices-holdings", {"id": index_id})
        return parse_indices_holdings(body, index_id, self.clock())
