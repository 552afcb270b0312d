"""Section 4 weights, and compose() determinism, as properties (hypothesis)."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from wallet_app.index import MarketAsset, capped_weights, compose, round_to_bps, weights_bps

CAP = Fraction(1, 4)

# Market caps from 1 USD to ~1e13 USD with up to 4 decimals, as exact Decimals.
caps_values = st.builds(lambda units, scale: Decimal(units).scaleb(-scale),
                        st.integers(min_value=1, max_value=10**16), st.integers(0, 4))
caps_maps = st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,11}", fullmatch=True), caps_values,
                            min_size=1, max_size=140)


@settings(max_examples=300, deadline=None)
@given(caps_maps)
def test_bps_sum_cap_floor(caps: dict[str, Decimal]) -> None:
    bps = weights_bps(caps, CAP)
    assert set(bps) == set(caps)
    assert sum(bps.values()) == 10_000
    assert all(v >= 1 for v in bps.values())
    if len(caps) >= 4:
        assert max(bps.values()) <= 2_500  # capped weights never exceed the cap after rounding


@settings(max_examples=200, deadline=None)
@given(caps_maps)
def test_exact_weights_are_capped_and_proportional(caps: dict[str, Decimal]) -> None:
    w = capped_weights(caps, CAP)
    assert sum(w.values()) == 1
    if len(caps) < 4:
        assert set(w.values()) == {Fraction(1, len(caps))}
        return
    assert all(0 < x <= CAP for x in w.values())
    free = [k for k, x in w.items() if x < CAP]
    # Uncapped weights stay proportional to market cap.
    for a in free:
        for b in free:
            assert w[a] * Fraction(caps[b]) == w[b] * Fraction(caps[a])
    # A capped asset is never smaller than an uncapped one.
    if free:
        assert min(Fraction(caps[k]) for k, x in w.items() if x == CAP) >= \
            max(Fraction(caps[k]) for k in free)


@settings(max_examples=200, deadline=None)
@given(caps_maps, st.randoms(use_true_random=False))
def test_order_of_input_does_not_matter(caps: dict[str, Decimal], rnd: random.Random) -> None:
    items = list(caps.items())
    rnd.shuffle(items)
    assert weights_bps(dict(items), CAP) == weights_bps(caps, CAP)


#: Two assets far below 1 bp among capped ones: the minimum bumps happen on every run.
TINY = {"big": Decimal(10**12), "x1": Decimal(1), "x2": Decimal(1), "mid1": Decimal(10**11),
        "mid2": Decimal(10**11), "mid3": Decimal(10**11)}


@settings(max_examples=200, deadline=None)
@example(TINY)
@example({f"a{i}": Decimal(10**6 + i) for i in range(40)})  # no asset under 1 bp
@given(caps_maps)
def test_rounding_error_under_one_bp_except_min_bumps(caps: dict[str, Decimal]) -> None:
    """Without assets under 1 bp every weight is within 1 bp of its exact value. With them,
    each such asset gets exactly 1 bp and the bumps are paid by other assets, each paying
    at most one bp per bump, on top of its rounding."""
    w = capped_weights(caps, CAP)
    bps = round_to_bps(w, caps)
    bumped = [k for k in bps if w[k] * 10_000 < 1]
    assert sum(bps.values()) == 10_000
    if not bumped:
        assert all(abs(bps[k] - w[k] * 10_000) < 1 for k in bps)
        return
    assert all(bps[k] == 1 for k in bumped)
    others = [k for k in bps if k not in bumped]
    assert all(-1 - len(bumped) < bps[k] - w[k] * 10_000 < 1 for k in others)


def test_largest_remainder_ties_go_to_larger_cap_then_id() -> None:
    # Three equal exact weights of 1/3: 3333.33 each; one bp left over.
    w = {"b": Fraction(1, 3), "a": Fraction(1, 3), "c": Fraction(1, 3)}
    assert round_to_bps(w, {"a": 5, "b": 5, "c": 6}) == {"a": 3333, "b": 3333, "c": 3334}
    assert round_to_bps(w, {"a": 5, "b": 5, "c": 5}) == {"a": 3334, "b": 3333, "c": 3333}


def test_zero_weight_gets_one_bp_from_the_largest() -> None:
    caps = {"big": Decimal(10**12), "x1": Decimal(1), "x2": Decimal(1), "mid1": Decimal(10**11),
            "mid2": Decimal(10**11), "mid3": Decimal(10**11)}
    bps = weights_bps(caps, CAP)
    assert bps["x1"] == bps["x2"] == 1
    assert sum(bps.values()) == 10_000
    # Exact: big 25% (capped), mids 25% each, xs ~0: the 2 bp come from the largest weights,
    # ties on weight broken by the larger market cap ("big" first), then by id.
    assert bps["big"] == 2_499
    assert sorted([bps["mid1"], bps["mid2"], bps["mid3"]]) == [2_499, 2_500, 2_500]
    assert bps["mid1"] == 2_499


def test_fewer_than_four_assets_equal_weights() -> None:
    assert weights_bps({"a": Decimal(100), "b": Decimal(1)}) == {"a": 5_000, "b": 5_000}
    assert sum(weights_bps({"a": 9, "b": 5, "c": 1}).values()) == 10_000


def test_four_assets_all_capped() -> None:
    assert weights_bps({"a": 100, "b": 1, "c": 1, "d": 1}) == dict.fromkeys("abcd", 2_500)


# --- compose() as a whole -----------------------------------------------------------------

def _asset(i: int, cap: Decimal, vol: Decimal) -> MarketAsset:
    return MarketAsset(f"coin-{i:04d}", f"C{i}", f"Coin {i}", Decimal("1.5"), cap, vol)


assets_lists = st.lists(
    st.tuples(caps_values, st.sampled_from([Decimal(0), Decimal(999_999), Decimal(5_000_000)])),
    min_size=1, max_size=160,
).map(lambda rows: [_asset(i, c, v) for i, (c, v) in enumerate(rows)])


@settings(max_examples=80, deadline=None)
@given(assets_lists, st.randoms(use_true_random=False))
def test_compose_same_bytes_any_order(assets: list[MarketAsset], rnd: random.Random) -> None:
    first = compose(assets).to_json()
    shuffled = assets[:]
    rnd.shuffle(shuffled)
    assert compose(shuffled).to_json() == first
    assert compose(list(assets)).to_json() == first
    comp = compose(assets)
    if comp.constituents:
        assert sum(c.weight_bps for c in comp.constituents) == 10_000
        assert all(c.weight_bps >= 1 for c in comp.constituents)
    assert len(comp.constituents) == min(100, comp.eligible_count)
    assert len(comp.constituents) + len(comp.excluded) + max(0, comp.eligible_count - 100) \
        == len(assets)


@settings(max_examples=40, deadline=None)
@given(assets_lists, st.randoms(use_true_random=False))
def test_compose_with_previous_is_order_independent(assets: list[MarketAsset],
                                                     rnd: random.Random) -> None:
    prev = [a.id for a in assets[::3]]
    first = compose(assets, prev).to_json()
    shuffled, prev2 = assets[:], prev[:]
    rnd.shuffle(shuffled)
    rnd.shuffle(prev2)
    assert compose(shuffled, prev2).to_json() == first
