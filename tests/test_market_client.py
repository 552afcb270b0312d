"""The CoinGecko-compatible client against servers that speak the API's format.

Most tests use ``httpx.MockTransport`` (a scripted server in-process); one runs a real HTTP
server on a local port in a thread, so the real transport, sockets and headers are used.
Sleeps are recorded instead of slept.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from wallet_app.config import Settings
from wallet_app.market import (
    CoinGeckoClient,
    MalformedResponseError,
    MarketConfigError,
    MarketHTTPError,
    MarketUnavailableError,
    PartialResponseError,
    RateLimitedError,
    ResponseCache,
    RetryPolicy,
)
from wallet_app.market.http import parse_retry_after
from wallet_app.paths import AppPaths

KEY = "CG-test-key-123"


def coin(i: int) -> dict[str, object]:
    return {"id": f"coin-{i}", "symbol": f"c{i}", "name": f"Coin {i}",
            "current_price": 1.5 + i, "market_cap": 10**12 - i * 10**9,
            "total_volume": 5e7, "market_cap_rank": i + 1,
            "last_updated": "2026-11-25T10:00:00.000Z", "image": "https://x/y.png"}


class FakeGecko:
    """A scripted /coins/markets + /market_chart server (used by both transports)."""

    def __init__(self, n_coins: int = 600) -> None:
        self.coins = [coin(i) for i in range(n_coins)]
        self.requests: list[httpx.Request] = []
        #: Queue of overrides: each is (status, body, headers) used for the next request.
        self.script: list[tuple[int, str, dict[str, str]]] = []
        self.page_bodies: dict[int, str] = {}

    def respond(self, method: str, url: str, headers: dict[str, str]) -> tuple[int, str, dict]:
        if self.script:
            return self.script.pop(0)
        u = urlparse(url)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if u.path.endswith("/coins/markets"):
            page, per = int(q["page"]), int(q["per_page"])
            if page in self.page_bodies:
                return 200, self.page_bodies[page], {}
            body = self.coins[(page - 1) * per: page * per]
            return 200, json.dumps(body), {"content-type": "application/json"}
        if u.path.endswith("/market_chart"):
            t0 = 1_700_000_000_000
            rows = {k: [[t0 + d * 86_400_000, 100 + d] for d in range(5)]
                    for k in ("prices", "market_caps", "total_volumes")}
            rows["market_caps"].append([t0 + 4 * 86_400_000 + 3_600_000, 999])
            return 200, json.dumps(rows), {}
        return 404, '{"error":"not found"}', {}

    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            status, body, headers = self.respond(request.method, str(request.url),
                                                 dict(request.headers))
            if status == -1:
                raise httpx.ReadTimeout("scripted timeout", request=request)
            return httpx.Response(status, text=body, headers=headers)
        return httpx.MockTransport(handler)


@pytest.fixture()
def gecko() -> FakeGecko:
    return FakeGecko()


@pytest.fixture()
def cache(app_home: AppPaths) -> ResponseCache:
    return ResponseCache(app_home.cache_dir / "coingecko", ttl=timedelta(minutes=10))


def make_client(gecko: FakeGecko, cache: ResponseCache | None = None, *, key: str = KEY,
                plan: str = "demo", retries: int = 3, clock: Callable[[], datetime] | None = None,
                ) -> tuple[CoinGeckoClient, list[float]]:
    sleeps: list[float] = []
    kwargs = {"clock": clock} if clock else {}
    client = CoinGeckoClient(key, plan, cache=cache, transport=gecko.transport(),
                             retry=RetryPolicy(max_retries=retries, base_delay=0.5),
                             sleep=sleeps.append, rng=random.Random(0), **kwargs)
    return client, sleeps


def cache_files(cache: ResponseCache) -> dict[str, bytes]:
    if not cache.directory.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(cache.directory.iterdir())}


# --- pagination and headers ---------------------------------------------------------------

def test_pagination_params_and_demo_header(gecko: FakeGecko, cache: ResponseCache) -> None:
    client, _ = make_client(gecko, cache)
    snap = client.coins_markets(pages=3, per_page=250)
    assert len(snap.assets) == 600
    assert [a.id for a in snap.assets[:2]] == ["coin-0", "coin-1"]
    assert len(gecko.requests) == 3
    for n, req in enumerate(gecko.requests, start=1):
        assert req.url.path == "/api/v3/coins/markets"
        assert req.url.host == "api.coingecko.com"
        q = dict(req.url.params)
        assert q == {"vs_currency": "usd", "order": "market_cap_desc", "per_page": "250",
                     "page": str(n), "sparkline": "false"}
        assert req.headers["x-cg-demo-api-key"] == KEY
        assert "x-cg-pro-api-key" not in req.headers
    assert snap.source == "coingecko" and snap.as_of == snap.fetched_at


def test_short_page_ends_paging(gecko: FakeGecko) -> None:
    gecko.coins = gecko.coins[:300]
    client, _ = make_client(gecko)
    snap = client.coins_markets(pages=4, per_page=250)
    assert len(snap.assets) == 300 and len(gecko.requests) == 2


def test_pro_plan_header_and_base(gecko: FakeGecko) -> None:
    client, _ = make_client(gecko, plan="pro")
    client.coins_markets(pages=1)
    req = gecko.requests[0]
    assert req.url.host == "pro-api.coingecko.com"
    assert req.headers["x-cg-pro-api-key"] == KEY and "x-cg-demo-api-key" not in req.headers


def test_no_key_sends_no_key_header(gecko: FakeGecko) -> None:
    client, _ = make_client(gecko, key="")
    client.coins_markets(pages=1)
    assert not any(h.startswith("x-cg-") for h in gecko.requests[0].headers)


def test_pro_without_key_is_a_config_error() -> None:
    with pytest.raises(MarketConfigError, match="pro plan needs an API key"):
        CoinGeckoClient("", "pro")


def test_from_settings_uses_environment(monkeypatch: pytest.MonkeyPatch,
                                        app_home: AppPaths) -> None:
    monkeypatch.setenv("COINGECKO_API_KEY", "env-key")
    monkeypatch.setenv("COINGECKO_PLAN", "pro")
    monkeypatch.setenv("COINGECKO_BASE_URL", "http://127.0.0.1:9/api/v3")
    client = CoinGeckoClient.from_settings(Settings(coingecko_api_key="file-key"), app_home)
    assert client.plan == "pro" and client.base_url == "http://127.0.0.1:9/api/v3"
    assert client._client.headers["x-cg-pro-api-key"] == "env-key"
    assert client.cache is not None and client.cache.directory.is_relative_to(app_home.cache_dir)


# --- retries ------------------------------------------------------------------------------

def test_429_then_success_honours_retry_after(gecko: FakeGecko) -> None:
    gecko.script = [(429, '{"status":{"error_code":429}}', {"Retry-After": "7"})]
    client, sleeps = make_client(gecko)
    snap = client.coins_markets(pages=1)
    assert len(snap.assets) == 250
    assert len(gecko.requests) == 2 and sleeps and sleeps[0] >= 7


def test_429_asking_too_long_fails_fast(gecko: FakeGecko) -> None:
    gecko.script = [(429, "", {"Retry-After": "3600"})]
    client, sleeps = make_client(gecko)
    with pytest.raises(RateLimitedError, match="3600") as err:
        client.coins_markets(pages=1)
    assert err.value.retry_after == 3600 and sleeps == []


def test_429_forever_is_rate_limited_error(gecko: FakeGecko) -> None:
    gecko.script = [(429, "", {})] * 10
    client, sleeps = make_client(gecko, retries=2)
    with pytest.raises(RateLimitedError):
        client.coins_markets(pages=1)
    assert len(gecko.requests) == 3 and len(sleeps) == 2


def test_500s_beyond_budget_clear_error_cache_untouched(gecko: FakeGecko,
                                                        cache: ResponseCache) -> None:
    # A good read first (fills the cache), then it expires and the server breaks.
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    cache.clock = lambda: now[0]
    client, sleeps = make_client(gecko, cache, clock=lambda: now[0], retries=3)
    client.coins_markets(pages=1)
    before = cache_files(cache)
    assert len(before) == 1
    now[0] += timedelta(hours=1)
    gecko.script = [(500, "oops", {}), (502, "", {}), (503, "", {}), (500, "", {}),
                    (500, "", {})]
    with pytest.raises(MarketUnavailableError, match=r"HTTP 500.*after 4 attempts") as err:
        client.coins_markets(pages=1)
    assert KEY not in str(err.value) and "oops" not in str(err.value)
    assert len(sleeps) == 3
    # Exponential with jitter: each delay within [d/2, d] for d = 0.5, 1, 2.
    for i, d in enumerate(sleeps):
        base = 0.5 * 2 ** i
        assert base / 2 <= d <= base
    assert cache_files(cache) == before


def test_timeouts_are_retried(gecko: FakeGecko) -> None:
    gecko.script = [(-1, "", {}), (-1, "", {})]
    client, sleeps = make_client(gecko)
    assert len(client.coins_markets(pages=1).assets) == 250
    assert len(sleeps) == 2
    gecko.script = [(-1, "", {})] * 10
    with pytest.raises(MarketUnavailableError, match="timed out"):
        client.coins_markets(pages=1, use_cache=False)


def test_401_is_final_and_never_shows_the_key(gecko: FakeGecko) -> None:
    gecko.script = [(401, f'{{"error":"bad key {KEY}"}}', {})]
    client, sleeps = make_client(gecko)
    with pytest.raises(MarketHTTPError, match="API key was rejected") as err:
        client.coins_markets(pages=1)
    assert err.value.status == 401 and sleeps == [] and KEY not in str(err.value)


def test_retry_after_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30
    assert parse_retry_after("12") == 12
    assert parse_retry_after("soon") is None


# --- malformed and partial responses -----------------------------------------------------

@pytest.mark.parametrize("body,match", [
    ("{not json", "not valid JSON"),
    ('{"status": {"error_code": 10002}}', "expected a JSON array"),
    ('[{"symbol": "x", "name": "no id"}]', "no asset id"),
    ('["just a string"]', "not a JSON object"),
])
def test_malformed_rejected_cache_untouched(gecko: FakeGecko, cache: ResponseCache, body: str,
                                            match: str) -> None:
    gecko.script = [(200, body, {})]
    client, _ = make_client(gecko, cache)
    with pytest.raises(MalformedResponseError, match=match):
        client.coins_markets(pages=1, min_assets=0)
    assert cache_files(cache) == {}


def test_bad_second_page_rejects_all_pages(gecko: FakeGecko, cache: ResponseCache) -> None:
    bad = [coin(i) for i in range(250, 500)]
    bad[17] = {"id": 5, "symbol": "x"}
    gecko.page_bodies[2] = json.dumps(bad)
    client, _ = make_client(gecko, cache)
    with pytest.raises(MalformedResponseError, match="page 2: entry 17"):
        client.coins_markets(pages=3)
    assert cache_files(cache) == {}


def test_partial_response_rejected(gecko: FakeGecko, cache: ResponseCache) -> None:
    gecko.coins = gecko.coins[:120]
    client, _ = make_client(gecko, cache)
    with pytest.raises(PartialResponseError, match="120 assets, fewer than the 150"):
        client.coins_markets(pages=2)
    assert cache_files(cache) == {}


def test_oversized_page_is_malformed(gecko: FakeGecko) -> None:
    gecko.page_bodies[1] = json.dumps([coin(i) for i in range(12)])
    client, _ = make_client(gecko)
    with pytest.raises(MalformedResponseError, match="12 entries for per_page=10"):
        client.coins_markets(pages=1, per_page=10)


def test_value_problems_are_not_malformed(gecko: FakeGecko) -> None:
    """Nulls and odd numbers are data for the eligibility rules, not format errors."""
    rows = [coin(i) for i in range(250)]
    rows[3]["market_cap"] = None
    rows[4]["current_price"] = "n/a"
    gecko.page_bodies[1] = json.dumps(rows)
    client, _ = make_client(gecko)
    snap = client.coins_markets(pages=1)
    assert snap.assets[3].market_cap is None and snap.assets[4].current_price is None


# --- cache --------------------------------------------------------------------------------

def test_cache_ttl_and_labels(gecko: FakeGecko, cache: ResponseCache) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    cache.clock = lambda: now[0]
    client, _ = make_client(gecko, cache, clock=lambda: now[0])
    live = client.coins_markets(pages=1)
    assert live.source == "coingecko" and len(gecko.requests) == 1
    now[0] += timedelta(minutes=5)
    cached = client.coins_markets(pages=1)
    assert cached.source == "coingecko (cached)" and len(gecko.requests) == 1
    assert cached.as_of == live.as_of and cached.assets == live.assets
    assert cached.age(now[0]) == timedelta(minutes=5)
    now[0] += timedelta(minutes=6)
    client.coins_markets(pages=1)
    assert len(gecko.requests) == 2
    stale = client.cached_markets(pages=1)
    assert stale is not None and stale.source == "coingecko (stale cache)"
    # No temp files are left behind by the atomic writes.
    assert all(name.endswith(".json") and not name.startswith(".") for name in cache_files(cache))


def test_corrupt_cache_is_a_miss(gecko: FakeGecko, cache: ResponseCache) -> None:
    client, _ = make_client(gecko, cache)
    client.coins_markets(pages=1)
    (path,) = cache.directory.glob("*.json")
    path.write_text("{garbage")
    client.coins_markets(pages=1)
    assert len(gecko.requests) == 2
    assert json.loads(path.read_text())["bodies"]


# --- market_chart -------------------------------------------------------------------------

def test_market_chart(gecko: FakeGecko, cache: ResponseCache) -> None:
    client, _ = make_client(gecko, cache)
    chart = client.market_chart("bitcoin", days=5)
    req = gecko.requests[0]
    assert req.url.path == "/api/v3/coins/bitcoin/market_chart"
    assert dict(req.url.params) == {"vs_currency": "usd", "days": "5", "interval": "daily"}
    assert len(chart.prices) == 5
    daily = chart.daily_market_caps()
    assert len(daily) == 5 and daily[-1].value == 999  # last value of the day wins
    client.market_chart("bitcoin", days=5)
    assert len(gecko.requests) == 1  # cached


def test_market_chart_malformed(gecko: FakeGecko) -> None:
    client, _ = make_client(gecko)
    gecko.script = [(200, '{"prices": [[1, 2]], "market_caps": []}', {})]
    with pytest.raises(MalformedResponseError, match="total_volumes"):
        client.market_chart("bitcoin")
    gecko.script = [(200, '{"prices": [[1]], "market_caps": [], "total_volumes": []}', {})]
    with pytest.raises(MalformedResponseError, match="pair"):
        client.market_chart("bitcoin")
    gecko.script = [(200, '{"prices": [], "market_caps": [], "total_volumes": []}', {})]
    with pytest.raises(PartialResponseError):
        client.market_chart("bitcoin")
    with pytest.raises(MarketConfigError):
        client.market_chart("../etc")


# --- a real HTTP server on a local port ---------------------------------------------------

@pytest.fixture()
def local_server(gecko: FakeGecko) -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            seen.append({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
            status, body, headers = gecko.respond("GET", self.path, dict(self.headers))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v3", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_real_server_pagination_and_429(local_server: tuple[str, list[dict[str, str]]],
                                        gecko: FakeGecko, tmp_path: Path) -> None:
    url, seen = local_server
    gecko.script = [(429, "{}", {"Retry-After": "1"})]
    sleeps: list[float] = []
    cache = ResponseCache(tmp_path / "cache")
    with CoinGeckoClient(KEY, "demo", base_url=url, cache=cache, sleep=sleeps.append,
                         timeout=5) as client:
        snap = client.coins_markets(pages=3)
    assert len(snap.assets) == 600
    assert len(seen) == 4 and sleeps and sleeps[0] >= 1
    assert all(h["x-cg-demo-api-key"] == KEY for h in seen)
    assert [parse_qs(urlparse(h["path"]).query)["page"] for h in seen] == [
        ["1"], ["1"], ["2"], ["3"]]
    assert len(list(cache.directory.glob("*.json"))) == 1
