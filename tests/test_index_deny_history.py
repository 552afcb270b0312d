"""The deny list against history: no pegged, wrapped or staked asset is ever selected.

Market snapshots of the past have no categories, only tickers, so the deny list alone has
to keep stablecoins out. Two checks on the real 2020-2025 data in ``../shared``:

1. **Monthly replay.** On the first day of every month from 2020-01 to 2025-10 the universe
   of that day (every ticker of the daily market-cap table) is composed by the methodology
   (top 100 by market cap); no selected ticker may be on a hand-checked list of pegged
   assets, and the pegged assets present that day (USDT in 2021, PAX in 2021, PAXG in 2025)
   must be excluded *by the deny list*.
2. **Price detectors** (``wallet_app.index.peg_detect``) run on the real daily closes: every
   asset they flag (dollar peg over 90 days, gold/fiat-like volatility, tracking another
   asset) must be on the deny list, and none may be selected in the replay.

The historical tables have no prices for some assets (USDT has market caps but no candles):
there the replay gives the asset a placeholder price of 1, since selection ranks by market
cap and the price only has to be valid. The 1M USD volume floor is off, as in the backtest
(the candle file's volume is one venue's).
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from wallet_app.index import (
    DenyList,
    MarketAsset,
    PriceDay,
    compose,
    default_deny_list,
    read_asset_table,
    read_price_table,
)
from wallet_app.index.eligibility import DENY_KINDS, DENY_LIST_PATH
from wallet_app.index.peg_detect import detect as detect_pegs
from wallet_app.index.peg_detect import dollar_peg, low_volatility, tracking
from wallet_app.index.rules import IndexRules

#: Checked by hand against issuers' pages and market-data listings: pegged, wrapped, staked
#: and tokenized assets that reached the top 300 since 2017, under every ticker they used.
HAND_CHECKED = [
    "USDT", "USDC", "DAI", "SAI", "USDS", "UST", "USTC", "HUSD", "BUSD", "TUSD", "USDP", "PAX",
    "GUSD", "SUSD", "USDN", "USDD", "FEI", "MIM", "LUSD", "FRXUSD", "EURS", "EURT", "EURC",
    "EUROC", "XAUT", "PAXG", "DGX", "WBTC", "RENBTC", "HBTC", "BTCB", "STETH", "WSTETH", "CBETH",
    "RETH", "WBETH", "BETH", "SFRXETH", "EZETH", "WEETH", "RSETH", "METH", "JITOSOL", "MSOL",
    "USDE", "SUSDE", "USDY", "BUIDL", "OUSG", "USD0", "PYUSD", "FDUSD", "RLUSD", "USD1",
    "CRVUSD", "GHO", "ALUSD", "DOLA", "OUSD", "USDK", "USDJ", "EOSDT", "XSGD", "TRYB", "BIDR",
    "IDRT", "KRT", "CUSD", "CEUR", "XCHF", "CDAI", "CUSDC", "CETH", "XSUSHI", "LBTC", "CBBTC",
    "TBTC", "WETH", "WBNB", "JLP", "SDAI", "SUSDS",
]
#: Tickers of eligible assets that look like pegged ones (governance tokens of stablecoin
#: and staking protocols, renamed chains): the deny list must not catch them.
ELIGIBLE_LOOKALIKES = [
    "BTC", "ETH", "SOL", "BNB", "LUNA", "LUNC", "RSR", "FXS", "ENA", "LDO", "RPL", "ETHFI",
    "JTO", "CRV", "CVX", "SUSHI", "AAVE", "MKR", "SKY", "ONDO", "PENDLE", "EIGEN", "T", "SNX",
    "COMP", "LQTY", "FLR", "XRP", "TRX", "HYPE", "S", "POL", "MATIC", "CRO", "OKB", "LEO",
]


def test_hand_checked_assets_are_denied() -> None:
    deny = default_deny_list()
    missing = [t for t in HAND_CHECKED if deny.match(t) is None]
    assert not missing, f"not on the deny list: {missing}"
    # Dead and renamed ones by their CoinGecko ids too.
    for asset_id in ("terrausd", "husd", "binance-usd", "paxos-standard", "neutrino", "fei-usd",
                     "frax", "sai", "wrapped-bitcoin", "staked-ether", "tether-gold"):
        assert deny.match(None, asset_id) is not None, asset_id
    caught = [t for t in ELIGIBLE_LOOKALIKES if deny.match(t) is not None]
    assert not caught, f"eligible assets caught by the deny list: {caught}"


def test_shipped_list_is_well_formed() -> None:
    raw = json.loads(DENY_LIST_PATH.read_text(encoding="utf-8"))
    deny = DenyList.from_json(raw)
    assert len(deny.entries) >= 250
    assert all(e.kind in DENY_KINDS and e.reason for e in deny.entries)
    assert {e.kind for e in deny.entries} == DENY_KINDS
    assert set(raw["kinds"]) == DENY_KINDS
    tickers = [t for e in deny.entries for t in e.tickers]
    assert len(tickers) == len(set(tickers)), "a ticker maps to two entries"
    ids = [i for e in deny.entries for i in e.all_ids]
    assert len(ids) == len(set(ids)), "an id maps to two entries"


def test_dated_ticker_frax() -> None:
    """FRAX was the Frax dollar until the governance token (ex FXS) took the ticker in 2025."""
    deny = default_deny_list()
    assert deny.match("FRAX", "frax") is not None  # live, by id
    assert deny.match("FRAX", "frax-share") is None  # live governance token
    assert deny.denies_symbol("FRAX", date(2022, 3, 1))  # history table, stablecoin era
    assert not deny.denies_symbol("FRAX", date(2025, 11, 3))
    assert not deny.denies_symbol("FRAX")  # undated: tickers alone cannot tell


def test_deny_list_rejects_bad_new_fields() -> None:
    from wallet_app.index import IndexDataError

    with pytest.raises(IndexDataError, match="kind"):
        DenyList.from_json({"entries": [{"symbol": "X", "kind": "nope", "reason": "r"}]})
    with pytest.raises(IndexDataError, match="aliases"):
        DenyList.from_json({"entries": [{"symbol": "X", "aliases": "Y", "reason": "r"}]})
    with pytest.raises(IndexDataError, match="tickers_until"):
        DenyList.from_json({"entries": [{"id": "x", "tickers_until": {"X": "soon"},
                                         "reason": "r"}]})


# --- real history ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prices(shared_market: Path) -> list[PriceDay]:
    return read_price_table(shared_market / "daily_ohlcv_2020-2025.csv")


@pytest.fixture(scope="module")
def detections(prices: list[PriceDay]):  # type: ignore[no-untyped-def]
    return detect_pegs(prices)


def test_detectors_find_the_pegged_assets_of_the_data(detections) -> None:  # type: ignore[no-untyped-def]
    flagged = {(d.symbol, d.detector) for d in detections}
    # What the data holds (checked by hand): DAI and Pax Dollar (USD), EURC (EUR), PAXG.
    assert {("DAI", "dollar-peg"), ("PAX", "dollar-peg"), ("EURC", "low-volatility"),
            ("PAXG", "low-volatility")} <= flagged
    # ... and no crypto asset: the detectors are not tuned to flag everything.
    assert {d.symbol for d in detections} == {"DAI", "PAX", "EURC", "PAXG"}
    deny = default_deny_list()
    for d in detections:
        assert deny.denies_symbol(d.symbol, d.first_day), d


def test_tracking_detector_catches_a_copy(prices: list[PriceDay]) -> None:
    """A wrapped copy follows its asset: a series of BTC's real closes times 0.998..1.004
    (a bridge's premium wobbling) is flagged; ETH against BTC is not."""
    btc = [(p.day, float(p.close)) for p in prices if p.symbol == "BTC"]
    eth = [(p.day, float(p.close)) for p in prices if p.symbol == "ETH"]
    copy = [(d, c * (1.001 + 0.003 * math.sin(i / 5))) for i, (d, c) in enumerate(btc)]
    hit = tracking("WBTC?", copy, {"BTC": btc, "ETH": eth})
    assert hit is not None and "BTC" in hit.detail
    assert tracking("ETH", eth, {"BTC": btc}) is None
    assert dollar_peg("BTC", btc) is None and low_volatility("BTC", btc) is None


def _first_days(caps_days: set[date]) -> list[date]:
    out = []
    for year in range(2020, 2026):
        for month in range(1, 13):
            d = date(year, month, 1)
            while d.month == month and d not in caps_days:
                d += timedelta(days=1)
            if d.month == month:
                out.append(d)
    return out


def test_monthly_replay_selects_no_pegged_asset(shared_market: Path, prices: list[PriceDay],
                                                detections) -> None:  # type: ignore[no-untyped-def]
    caps = read_asset_table(shared_market / "daily_market_caps_2020-2025.csv")
    by_day: dict[date, dict[str, Decimal]] = {}
    for r in caps:
        by_day.setdefault(r.day, {})[r.symbol] = r.market_cap
    close = {(p.day, p.symbol): p.close for p in prices}
    pegged = set(HAND_CHECKED) | {d.symbol for d in detections}
    rules = IndexRules(min_volume_usd=None)
    days = _first_days(set(by_day))
    assert len(days) >= 69  # 2020-01 .. 2025-10
    met: dict[str, int] = {}
    for d in days:
        universe = [MarketAsset(id=s.lower(), symbol=s, name=s,
                                current_price=close.get((d, s), Decimal(1)), market_cap=m,
                                total_volume=None)
                    for s, m in sorted(by_day[d].items())]
        comp = compose(universe, rules=rules, day=d)
        chosen = {c.symbol for c in comp.constituents}
        assert len(chosen) == min(100, len(universe) - len(set(by_day[d]) & pegged)), d
        assert not chosen & pegged, (d, sorted(chosen & pegged))
        for e in comp.excluded:
            if e.symbol in pegged:
                assert "deny-list" in e.codes, (d, e)
                met[e.symbol] = met.get(e.symbol, 0) + 1
    # The replay did meet pegged assets (it is not vacuous): USDT and PAX in 2021, PAXG in 2025.
    assert {"USDT", "PAX", "PAXG"} <= set(met), met
