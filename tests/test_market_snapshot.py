"""The app's own snapshot, snapshot files, the offline fallbacks, Token Metrics adapter."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from wallet_app.config import Settings
from wallet_app.index import compose
from wallet_app.market import (
    CoinGeckoClient,
    MalformedResponseError,
    MarketDataService,
    MarketSnapshot,
    ResponseCache,
    RetryPolicy,
    SnapshotError,
    TokenMetricsClient,
    app_snapshot_path,
    load_app_snapshot,
    load_snapshot_file,
)
from wallet_app.market.errors import MarketConfigError, MarketDataError
from wallet_app.paths import AppPaths


def test_app_snapshot_is_dated_and_big_enough() -> None:
    path = app_snapshot_path()
    snap = load_app_snapshot()
    assert path.name == f"snapshot-{snap.as_of.date().isoformat()}.json"
    assert snap.source == "app snapshot" and snap.note
    assert len(snap.assets) >= 150
    assert snap.age(snap.as_of + timedelta(days=3)) == timedelta(days=3)
    assert "days old" in snap.describe(snap.as_of + timedelta(days=3))
    comp = compose(snap.assets)
    assert len(comp.constituents) == 100 and comp.eligible_count >= 100
    symbols = {c.symbol.upper() for c in comp.constituents}
    assert not symbols & {"USDT", "USDC", "DAI", "USDE", "WBTC", "WETH", "STETH", "WSTETH",
                          "WEETH", "CBBTC", "BUIDL", "XAUT", "PAXG", "FDUSD", "USDS"}
    assert comp.constituents[0].symbol.upper() == "BTC" and comp.constituents[0].weight_bps == 2500
    # Tagged categories and the deny list agree on the snapshot's own excluded assets.
    excluded = {e.id: e.codes for e in comp.excluded}
    assert "category" in excluded["tether"] and "deny-list" in excluded["tether"]
    raw = json.loads(path.read_text())
    assert {"as_of", "source", "note", "coins"} <= set(raw)
    assert all({"id", "symbol", "name", "current_price", "market_cap", "total_volume"}
               <= set(c) for c in raw["coins"])


def test_snapshot_file_shapes(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps([{"id": "a", "symbol": "a", "name": "A", "current_price": 1,
                                  "market_cap": 5, "total_volume": 9,
                                  "last_updated": "2025-03-01T10:00:00Z"}]))
    snap = load_snapshot_file(plain)
    assert snap.as_of == datetime(2025, 3, 1, 10, tzinfo=UTC) and snap.source == "file"
    undated = tmp_path / "undated.json"
    undated.write_text('[{"id": "a", "symbol": "a"}]')
    snap = load_snapshot_file(undated)
    assert "modification time" in snap.note and snap.as_of.tzinfo is not None
    for text, match in [("{", "not valid JSON"), ('{"as_of": "x", "coins": []}', "not a date"),
                        ('{"foo": 1}', "as_of"), ('[{"symbol": "a"}]', "asset id")]:
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(SnapshotError, match=match):
            load_snapshot_file(bad)
    with pytest.raises(SnapshotError, match="Cannot read"):
        load_snapshot_file(tmp_path / "missing.json")


# --- service fallbacks --------------------------------------------------------------------

def failing_client(paths: AppPaths, status: int = 503) -> CoinGeckoClient:
    transport = httpx.MockTransport(lambda req: httpx.Response(status, text="down"))
    return CoinGeckoClient("k", "demo", transport=transport, sleep=lambda s: None,
                           retry=RetryPolicy(max_retries=1),
                           cache=ResponseCache(paths.cache_dir / "coingecko"))


def test_service_offline_default_is_app_snapshot(app_home: AppPaths) -> None:
    snap = MarketDataService(Settings(), app_home).markets()
    assert snap.source == "app snapshot" and snap.warning is None


def test_service_falls_back_to_stale_cache_then_snapshot(app_home: AppPaths) -> None:
    settings = Settings(market_source="coingecko")
    client = failing_client(app_home)
    snap = MarketDataService(settings, app_home, client).markets()
    assert snap.source == "app snapshot"
    assert snap.warning and "live data unavailable" in snap.warning and "503" in snap.warning
    # Put an old good read in the cache: it is preferred to the bundled snapshot.
    coins = [{"id": f"c{i}", "symbol": f"c{i}", "name": "C", "current_price": 1,
              "market_cap": 10**9 - i, "total_volume": 10**7} for i in range(200)]
    key = client._markets_key("usd", 2, 250)
    old = datetime.now(UTC) - timedelta(days=2)
    client.cache.put(key, [json.dumps(coins)], old)  # type: ignore[union-attr]
    snap = MarketDataService(settings, app_home, client).markets()
    assert snap.source == "coingecko (stale cache)" and snap.as_of == old
    assert len(snap.assets) == 200 and "last cached data" in (snap.warning or "")
    assert snap.age() >= timedelta(days=2)


def test_snapshot_dataclass_age_text() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    s = MarketSnapshot((), t, "x")
    assert s.age_text(t + timedelta(seconds=30)) == "30 seconds"
    assert s.age_text(t + timedelta(minutes=30)) == "30 minutes"
    assert s.age_text(t + timedelta(hours=5)) == "5 hours"
    assert s.age_text(t - timedelta(hours=5)) == "0 seconds"


# --- Token Metrics ------------------------------------------------------------------------

def tm_transport(body: object, seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, text=json.dumps(body))
    return httpx.MockTransport(handler)


def test_token_metrics_holdings_percent_and_ratio() -> None:
    seen: list[httpx.Request] = []
    body = {"success": True, "message": "ok", "data": [
        {"TOKEN_ID": 3375, "TOKEN_NAME": "Bitcoin", "TOKEN_SYMBOL": "BTC", "WEIGHT": 60.5,
         "MARKET_CAP": 2e12, "PRICE": 100000, "DATE": "2026-11-24T00:00:00Z"},
        {"TOKEN_ID": 3306, "TOKEN_NAME": "Ethereum", "TOKEN_SYMBOL": "ETH", "WEIGHT": 39.5},
    ]}
    client = TokenMetricsClient("tm-key", transport=tm_transport(body, seen))
    h = client.indices_holdings(1)
    assert seen[0].headers["x-api-key"] == "tm-key"
    assert seen[0].url.path == "/v2/indices-holdings" and seen[0].url.params["id"] == "1"
    assert [x.symbol for x in h.holdings] == ["BTC", "ETH"]
    assert sum(x.weight for x in h.holdings) == 1
    assert h.as_of == datetime(2026, 11, 24, tzinfo=UTC)
    body["data"][0]["WEIGHT"], body["data"][1]["WEIGHT"] = 0.605, 0.395
    h = TokenMetricsClient("k", transport=tm_transport(body, [])).indices_holdings(1)
    assert sum(x.weight for x in h.holdings) == 1


@pytest.mark.parametrize("body,err", [
    ({"data": [{"TOKEN_SYMBOL": "BTC", "WEIGHT": 42}]}, MalformedResponseError),
    ({"data": [{"TOKEN_SYMBOL": "BTC"}]}, MalformedResponseError),
    ({"result": []}, MalformedResponseError),
    ({"success": False, "message": "bad", "data": []}, MarketDataError),
])
def test_token_metrics_rejects_bad_bodies(body: object, err: type[Exception]) -> None:
    with pytest.raises(err):
        TokenMetricsClient("k", transport=tm_transport(body, [])).indices_holdings(1)


def test_token_metrics_needs_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENMETRICS_API_KEY", raising=False)
    with pytest.raises(MarketConfigError):
        TokenMetricsClient()


def test_service_config_problem_falls_back_with_reason(app_home: AppPaths,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COINGECKO_API_KEY", raising=False)
    monkeypatch.delenv("COINGECKO_PLAN", raising=False)
    service = MarketDataService(Settings(coingecko_plan="pro"), app_home)
    snap = service.markets(live=True)
    assert snap.source == "app snapshot" and "pro plan needs an API key" in (snap.warning or "")
