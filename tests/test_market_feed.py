"""The wallet's opt-in market feed against a local CoinGecko-compatible server.

What is checked: off by default, the feed makes no request at all (the server counts
every one); on, its regime is exactly :func:`compute_regime` over the chain-linked series
of the caps the server served (the operator's and the devnet's engine); it refreshes at
most once per daily close and then reads only the new days; a rate limit or an API that
is down leaves the stored data (and so the gauge) as it was, says why, and waits before
trying again. No chain: the wallet on a chain lives in ``test_gui_market_feed.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from wallet_app.config import Settings, load_settings, save_settings
from wallet_app.errors import ConfigError
from wallet_app.index.history import AssetDay
from wallet_app.index.inputs import MarketAsset
from wallet_app.index.regime import RegimeResult, compute_regime, series_from_table
from wallet_app.market.coingecko import CoinGeckoClient
from wallet_app.market.feed import OFF_NOTE, RETRY_AFTER, MarketFeed
from wallet_app.market.http import RetryPolicy
from wallet_app.paths import AppPaths

from .market_server import CoinGeckoServer

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
COINS = [("bitcoin", "BTC"), ("ethereum", "ETH"), ("solana", "SOL"), ("ripple", "XRP"),
         ("cardano", "ADA"), ("dogecoin", "DOGE")]


def market_caps(last: date, days: int = 320) -> dict[str, list[tuple[date, Decimal]]]:
    """Caps that rise, fall hard, then recover (a Bull, a Bear and a flip back), each coin
    with its own drift so that the weights move; exact Decimals, whole dollars."""
    out: dict[str, list[tuple[date, Decimal]]] = {c: [] for c, _ in COINS}
    level = Decimal(1)
    first = last - timedelta(days=days - 1)
    for k in range(days):
        step = Decimal("1.004") if k < 150 else Decimal("0.990") if k < 240 \
            else Decimal("1.009")
        level *= step
        for i, (coin, _sym) in enumerate(COINS):
            drift = Decimal(1) + Decimal(i - 2) * Decimal(k) / Decimal(20_000)
            cap = Decimal(10 ** 11) / (i + 1) * level * drift
            out[coin].append((first + timedelta(days=k), cap.quantize(Decimal(1))))
    return out


def snapshot(caps: dict[str, list[tuple[date, Decimal]]]) -> list[MarketAsset]:
    """``/coins/markets``: the coins at their last cap, plus 100 small assets with no
    volume (ineligible) so that the page holds the 100 assets a snapshot needs."""
    sym = dict(COINS)
    assets = [MarketAsset(id=c, symbol=sym[c], name=c.title(), current_price=Decimal(1),
                          market_cap=rows[-1][1], total_volume=rows[-1][1] / 20)
              for c, rows in caps.items()]
    return assets + [MarketAsset(id=f"pad-{i}", symbol=f"PAD{i}", name=f"Pad {i}",
                                 current_price=Decimal(1), market_cap=Decimal(10 ** 6 + i),
                                 total_volume=Decimal(0)) for i in range(100)]


def expected(caps: dict[str, list[tuple[date, Decimal]]], before: date) -> RegimeResult:
    """The engine on the served data itself: chain-linked series, then the regime."""
    sym = dict(COINS)
    rows = [AssetDay(d, sym[c], v) for c, pts in caps.items() for d, v in pts if d < before]
    return compute_regime(series_from_table(rows))


@pytest.fixture
def server() -> Iterator[CoinGeckoServer]:
    srv = CoinGeckoServer()
    caps = market_caps(NOW.date() - timedelta(days=1))
    srv.set_assets(snapshot(caps))
    srv.set_charts(caps)
    srv.caps = caps  # type: ignore[attr-defined]
    yield srv
    srv.server.shutdown()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def feed_for(server: CoinGeckoServer, app_home: AppPaths, clock: Clock, *,
             on: bool = True) -> MarketFeed:
    settings = Settings(market_history=on, coingecko_base_url=server.url)
    # Retries without sleeping: the backoff is the client's, tested in test_market_client.
    client = CoinGeckoClient("", "demo", base_url=server.url, cache=None,
                             sleep=lambda _s: None, retry=RetryPolicy(max_retries=1))
    return MarketFeed(settings, app_home, client=client, clock=clock)


def test_off_by_default_makes_no_request(server: CoinGeckoServer, app_home: AppPaths) -> None:
    assert Settings().market_history is False
    feed = MarketFeed(Settings(coingecko_base_url=server.url), app_home, clock=Clock(NOW))
    assert not feed.enabled and not feed.due()
    assert feed.kick() is False
    status = feed.refresh()
    assert feed.regime() is None and feed.benchmarks() == {}
    assert status.note == OFF_NOTE and "Settings" in status.note
    assert server.hits == 0 and server.chart_hits == []
    assert not feed.folder.exists()  # not even a cache folder is made


def test_on_the_regime_is_the_engines_on_the_served_caps(server: CoinGeckoServer,
                                                         app_home: AppPaths) -> None:
    clock = Clock(NOW)
    feed = feed_for(server, app_home, clock)
    assert feed.due() and feed.regime() is None
    status = feed.refresh()
    assert status.error == "" and status.last_close == NOW.date() - timedelta(days=1)
    assert status.note == ""
    want = expected(server.caps, NOW.date())  # type: ignore[attr-defined]
    got = feed.regime()
    assert got is not None and got.latest is not None and want.latest is not None
    assert got.points == want.points and got.flips == want.flips
    assert got.latest.gauge == want.latest.gauge
    assert len(want.flips) >= 1  # the data has a switch: the check covers the hysteresis
    # One snapshot and one chart per eligible coin (the 100 padding assets are screened out).
    assert server.hits == 1 + len(COINS)
    assert sorted(c for c, _d in server.chart_hits) == sorted(c for c, _s in COINS)
    bench = feed.benchmarks()
    btc = dict(server.caps["bitcoin"])  # type: ignore[attr-defined]
    # The server serves one series as price, cap and volume: BTC's closes are its caps.
    assert bench["BTC"] == sorted(btc.items())
    flat = bench["Top 100, always invested"]  # from the first day the rules can run
    assert len(flat) > 100 and flat[-1][0] == NOW.date() - timedelta(days=1)

    # At most once per daily close: the same day asks nothing more, in any way.
    assert not feed.due() and feed.kick() is False
    assert server.hits == 1 + len(COINS)

    # The next close: only the new day is read (a chart of a few days per coin).
    nxt = NOW.date()
    for _coin, rows in server.caps.items():  # type: ignore[attr-defined]
        rows.append((nxt, rows[-1][1] * Decimal("1.01")))
    server.set_charts(server.caps)  # type: ignore[attr-defined]
    clock.now = NOW + timedelta(days=1)
    assert feed.due()
    server.chart_hits.clear()
    assert feed.kick() is True
    feed.wait(60)
    assert feed.status().last_close == nxt and feed.status().error == ""
    assert server.chart_hits and all(days <= 3 for _c, days in server.chart_hits)
    want = expected(server.caps, nxt + timedelta(days=1))  # type: ignore[attr-defined]
    got = feed.regime()
    assert got is not None and got.points == want.points and got.points[-1].day == nxt


def test_a_rate_limit_or_an_api_down_keeps_the_stored_data(server: CoinGeckoServer,
                                                           app_home: AppPaths) -> None:
    clock = Clock(NOW)
    feed = feed_for(server, app_home, clock)
    feed.refresh()
    before = feed.regime()
    assert before is not None and before.latest is not None

    # The next day the API's budget runs out after two charts: nothing of that day is
    # stored (no asset may miss it for good), the gauge stays, the status says why.
    nxt = NOW.date()
    for _coin, rows in server.caps.items():  # type: ignore[attr-defined]
        rows.append((nxt, rows[-1][1] * Decimal("0.5")))
    server.set_charts(server.caps)  # type: ignore[attr-defined]
    server.chart_limit = len(server.chart_hits) + 2
    clock.now = NOW + timedelta(days=1)
    status = feed.refresh()
    assert "rate-limited" in status.error and status.last_close == NOW.date() - timedelta(1)
    assert "could not be refreshed" in status.note and "Showing the data up to" in status.note
    assert feed.regime() == before
    # No new try before RETRY_AFTER: a rate limit is not hammered.
    assert not feed.due()
    clock.now += RETRY_AFTER + timedelta(minutes=1)
    assert feed.due()
    server.chart_limit = None
    status = feed.refresh()
    assert status.error == "" and status.last_close == nxt
    after = feed.regime()
    assert after is not None and after.points[-1].day == nxt
    assert after.points == expected(server.caps, nxt + timedelta(1)).points  # type: ignore[attr-defined]

    # The API goes away (offline): a clear message, the stored data still answers.
    server.server.shutdown()
    server.server.server_close()
    clock.now += timedelta(days=1)
    status = feed.refresh()
    assert status.error and "could not be refreshed" in status.note
    assert feed.regime() == after


def test_the_settings_round_trip_and_are_checked(app_home: AppPaths) -> None:
    save_settings(Settings(market_history=True, coingecko_base_url="http://127.0.0.1:9"),
                  app_home)
    back = load_settings(app_home)
    assert back.market_history is True and back.coingecko_base_url == "http://127.0.0.1:9"
    with pytest.raises(ConfigError, match="coingecko_base_url"):
        Settings(coingecko_base_url="ftp://example.org").validate()
    # The feed keeps one folder per API: one source's days never answer for another's.
    a = MarketFeed(Settings(coingecko_base_url="http://a.example"), app_home)
    b = MarketFeed(Settings(coingecko_base_url="http://b.example"), app_home)
    assert a.folder != b.folder and isinstance(a.folder, Path)


def test_cli_refreshes_only_when_on(app_home: AppPaths,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from wallet_app.cli.main import main

    # The CLI's calendar is the wall clock: caps up to its yesterday's close.
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    server = CoinGeckoServer()
    caps = market_caps(yesterday)
    server.set_assets(snapshot(caps))
    server.set_charts(caps)
    try:
        save_settings(Settings(coingecko_base_url=server.url), app_home)
        assert main(["index", "market", "--refresh", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["enabled"] is False and out["note"] == OFF_NOTE and out["gauge"] is None
        assert server.hits == 0  # --refresh does not override the user's choice

        save_settings(Settings(coingecko_base_url=server.url, market_history=True), app_home)
        assert main(["index", "market", "--refresh", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        want = expected(caps, yesterday + timedelta(days=1)).latest
        assert want is not None
        assert out["enabled"] is True and out["error"] is None
        assert out["last_close"] == yesterday.isoformat()
        assert out["gauge"] == {"day": want.day.isoformat(), "score": str(want.score),
                                "band": want.band, "state": want.state.value}
        assert server.hits == 1 + len(COINS)
    finally:
        server.server.shutdown()
