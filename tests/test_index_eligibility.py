"""Section 2 eligibility and section 3 selection."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from wallet_app.index import (
    DenyList,
    IndexDataError,
    MarketAsset,
    compose,
    default_deny_list,
    is_excluded_category,
    loads_exact,
    parse_assets,
    rank_eligible,
    screen,
    select,
)
from wallet_app.index.eligibility import DENY_LIST_PATH
from wallet_app.index.rules import IndexRules

REQUIRED_DENIED = ["USDT", "USDC", "DAI", "USDe", "PYUSD", "USD1", "FDUSD", "TUSD", "USDS",
                   "sUSDe", "WBTC", "WETH", "stETH", "wstETH", "weETH", "cbBTC", "BUIDL", "XAUt",
                   "PAXG", "rETH", "mETH", "BETH", "WBETH", "JitoSOL", "EURC", "JLP"]


def a(asset_id: str, cap: object = 10**9, *, symbol: str | None = None, price: object = 1,
      vol: object = 10**7, cats: list[str] | None = None) -> MarketAsset:
    row = {"id": asset_id, "symbol": symbol or asset_id[:5], "name": asset_id.title(),
           "current_price": price, "market_cap": cap, "total_volume": vol}
    if cats is not None:
        row["categories"] = cats
    return parse_assets([row])[0]


def test_shipped_deny_list_is_valid_and_complete() -> None:
    raw = json.loads(DENY_LIST_PATH.read_text())
    deny = DenyList.from_json(raw)
    assert len(deny.entries) >= 100
    assert all(e.reason for e in deny.entries)
    for sym in REQUIRED_DENIED:
        assert deny.match(sym) is not None, sym
    # Eligible tickers that look similar must not be caught.
    for sym in ["BTC", "ETH", "SOL", "BNB", "WBT", "SKY", "ENA", "ONDO", "LDO", "EIGEN", "T"]:
        assert deny.match(sym) is None, sym
    # FRAX (stablecoin) is denied by id only: the Frax governance token shares the ticker.
    assert deny.match("FRAX", "frax") is not None
    assert deny.match("FRAX", "frax-share") is None


def test_deny_list_validation_errors() -> None:
    with pytest.raises(IndexDataError, match="reason"):
        DenyList.from_json({"entries": [{"symbol": "X"}]})
    with pytest.raises(IndexDataError, match="symbol"):
        DenyList.from_json({"entries": [{"reason": "r"}]})
    with pytest.raises(IndexDataError):
        DenyList.from_json({"entries": "nope"})


@pytest.mark.parametrize("cat,excluded", [
    ("stablecoins", True), ("wrapped-tokens", True), ("bridged-tokens", True),
    ("liquid-staking-tokens", True), ("liquid-restaking-tokens", True),
    ("tokenized-gold", True), ("tokenized-assets", True), ("eur-stablecoins", True),
    ("yield-bearing-stablecoins", True), ("Stablecoins", True), ("layer-1", False),
    ("liquid-staking-governance-tokens", False), ("meme-token", False),
])
def test_categories(cat: str, excluded: bool) -> None:
    assert is_excluded_category(cat) is excluded


def test_each_rule_gives_its_reason() -> None:
    assets = [
        a("good"),
        a("stable", cats=["stablecoins"], symbol="ZZZ"),
        a("tether", symbol="USDT"),
        a("nocap", cap=None), a("strcap", cap="123"), a("nancap", cap=Decimal("NaN")),
        a("zerocap", cap=0), a("negprice", price=-1), a("noprice", price=None),
        a("thin", vol=999_999), a("novol", vol=None), a("edge", vol=1_000_000),
        a("boolcap", cap=True),
    ]
    s = screen(assets)
    assert {x.id for x in s.eligible} == {"good", "edge"}
    codes = {e.id: e.codes for e in s.excluded}
    assert codes["stable"] == ("category",)
    assert codes["tether"] == ("deny-list",)
    for bad in ("nocap", "strcap", "nancap", "zerocap", "boolcap"):
        assert codes[bad] == ("bad-market-cap",), bad
    assert codes["negprice"] == codes["noprice"] == ("bad-price",)
    assert codes["thin"] == codes["novol"] == ("low-volume",)
    assert all(e.reasons and len(e.reasons) == len(e.codes) for e in s.excluded)


def test_nan_in_json_is_not_a_number() -> None:
    rows = loads_exact('[{"id":"x","symbol":"x","name":"X","current_price":NaN,'
                       '"market_cap":1e9,"total_volume":5e6}]')
    assert screen(parse_assets(rows)).excluded[0].codes == ("bad-price",)


def test_duplicate_ids_keep_larger_cap_whatever_the_order() -> None:
    small = a("dup", cap=10**9, symbol="D1")
    big = a("dup", cap=2 * 10**9, symbol="D2")
    bad = a("dup", cap=None, symbol="D3")
    for order in ([small, big, bad], [bad, big, small], [big, small, bad]):
        s = screen(order)
        assert [x.symbol for x in s.eligible] == ["D2"]
        assert sorted(e.symbol for e in s.excluded) == ["D1", "D3"]
        assert all(e.codes == ("duplicate-id",) for e in s.excluded)


def test_structural_errors_reject_the_whole_input() -> None:
    with pytest.raises(IndexDataError, match="array"):
        parse_assets({"id": "x"})
    with pytest.raises(IndexDataError, match="asset id"):
        parse_assets([{"symbol": "x"}])
    with pytest.raises(IndexDataError, match="symbol"):
        parse_assets([{"id": "x", "symbol": 3}])
    with pytest.raises(IndexDataError, match="categories"):
        parse_assets([{"id": "x", "symbol": "x", "categories": "stablecoins"}])


def test_default_deny_list_cached() -> None:
    assert default_deny_list() is default_deny_list()


# --- selection ----------------------------------------------------------------------------

def universe(n: int) -> list[MarketAsset]:
    # caps n, n-1, ... 1 (billions): rank i has id c{i:03d}
    return [a(f"c{i:03d}", cap=(n + 1 - i) * 10**9) for i in range(1, n + 1)]


def test_rank_ties_by_id() -> None:
    ranked = rank_eligible([a("b", cap=5), a("a", cap=5), a("c", cap=7)])
    assert [(r.rank, r.asset.id) for r in ranked] == [(1, "c"), (2, "a"), (3, "b")]


def test_top_n_without_previous() -> None:
    sel = select(rank_eligible(universe(130)))
    assert [r.rank for r in sel] == list(range(1, 101))


def test_buffer_rule_keeps_members_up_to_rank_110() -> None:
    ranked = rank_eligible(universe(130))
    prev = [f"c{i:03d}" for i in range(11, 111)] + ["c125"]  # 100 old members + 1 stale
    sel = select(ranked, prev)
    ids = [r.asset.id for r in sel]
    assert len(sel) == 100
    # Members ranked 11..110 all stay (100 seats), so no newcomer from ranks 1..10 fits.
    assert ids == [f"c{i:03d}" for i in range(11, 111)]
    assert all(r.buffered == (r.rank > 100) for r in sel)
    # Rank 111+ members leave; free seats go to the best-ranked non-members.
    prev2 = [f"c{i:03d}" for i in range(21, 121)]
    ids2 = [r.asset.id for r in select(ranked, prev2)]
    assert ids2 == [f"c{i:03d}" for i in range(1, 11)] + [f"c{i:03d}" for i in range(21, 111)]


def test_fewer_than_n_eligible_holds_all() -> None:
    comp = compose(universe(37))
    assert len(comp.constituents) == 37
    assert sum(comp.weights().values()) == 10_000


def test_smaller_index_size_rule() -> None:
    comp = compose(universe(30), rules=IndexRules(size=10, buffer_rank=12))
    assert [c.id for c in comp.constituents] == [f"c{i:03d}" for i in range(1, 11)]
