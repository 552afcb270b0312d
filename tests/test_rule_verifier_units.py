"""The rule verifier's comparison and the snapshot record, without a chain: a snapshot that
the engine itself composes matches; a wrong target, a wrong regime, holdings off their
targets (Bull) or left in tokens (Bear) are each named; the stored bytes hash to the log;
and the timelock decoder's words for the owner calls a depositor cares about."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from wallet_app.index import snapshot_record as store
from wallet_app.index.regime import MarketPoint
from wallet_app.index.verify import Holding, compare, recompute_regime, recompute_targets
from wallet_app.paths import AppPaths
from wallet_app.services.governance_view import describe_vault_call

CAPS = {"BTC": Decimal(2_000), "ETH": Decimal(400), "SOL": Decimal(100), "ADA": Decimal(30)}
PRICES = {"BTC": Decimal(100_000), "ETH": Decimal(3_000), "SOL": Decimal(200),
          "ADA": Decimal(1)}
DECIMALS = {"BTC": 8, "ETH": 18, "SOL": 18, "ADA": 6}


def _series(rising: bool) -> tuple[MarketPoint, ...]:
    start = date(2024, 1, 1)
    out = []
    for i in range(260):
        v = Decimal(1000 + (i if rising else -i) * 3)
        out.append(MarketPoint(start + timedelta(days=i), v))
    return tuple(out)


def _snap(rising: bool = True, kind: str = "rebalance") -> store.RebalanceSnapshot:
    assets = store.assets_from_caps(
        (s, s.title(), PRICES[s], CAPS[s] * 10**9, Decimal(10**9)) for s in CAPS)
    return store.RebalanceSnapshot(
        chain_id=31337, vault="0x" + "ab" * 20, block=10, timestamp=1_700_000_000,
        market_day="2024-09-16", kind=kind, assets=assets,
        previous=tuple(s.lower() for s in CAPS), series=_series(rising),
        targets_bps={}, regime="bull" if rising else "bear")


def _holdings(targets: dict[str, int], value_usdc: Decimal = Decimal(100_000),
              skew: dict[str, Decimal] | None = None) -> list[Holding]:
    out = []
    for sym, bps in targets.items():
        usd = value_usdc * bps / 10_000 * (skew or {}).get(sym, Decimal(1))
        units = int((usd / PRICES[sym]).scaleb(DECIMALS[sym]))
        out.append(Holding(sym, bps, units, DECIMALS[sym]))
    return out


def test_engine_snapshot_matches() -> None:
    snap = _snap()
    targets = recompute_targets(snap)
    assert sum(targets.values()) == 10_000 and set(targets) == set(CAPS)
    assert recompute_regime(snap) == "bull"
    rep = compare(targets_snapshot=snap, latest=snap, vault_regime="bull",
                  holdings=_holdings(targets), cash=Decimal(500))
    assert rep.matches and rep.headline == "Matches the rules", rep.differences
    assert rep.checked_targets == 4 and rep.checked_holdings == 4


def test_wrong_target_regime_and_holdings_are_named() -> None:
    snap = _snap()
    targets = recompute_targets(snap)
    wrong = dict(targets)
    wrong["SOL"] += 100
    wrong["ADA"] -= 100
    rep = compare(targets_snapshot=snap, latest=snap, vault_regime="bear",
                  holdings=_holdings(wrong, skew={"ETH": Decimal("1.2")}), cash=Decimal(0))
    kinds = {(d.kind, d.symbol) for d in rep.differences}
    assert ("target", "SOL") in kinds and ("target", "ADA") in kinds
    sol = next(d for d in rep.differences if d.symbol == "SOL" and d.kind == "target")
    assert sol.text == (f"SOL: the vault targets {Decimal(wrong['SOL']) / 100:.2f}%, the "
                        f"rules give {Decimal(targets['SOL']) / 100:.2f}%")
    assert any(d.kind == "regime" and "Bear" in d.text and "Bull" in d.text
               for d in rep.differences)
    # In Bear the vault should hold no tokens: all of them is a difference.
    assert any(d.kind == "holding" and "USDC only" in d.text for d in rep.differences)
    # Bull with ETH 20% over its value: named with the held and target weights.
    bull = compare(targets_snapshot=snap, latest=snap, vault_regime="bull",
                   holdings=_holdings(targets, skew={"ETH": Decimal("1.5")}), cash=Decimal(0))
    eth = next(d for d in bull.differences if d.kind == "holding" and d.symbol == "ETH")
    assert "holds 33.33% of its holdings" in eth.text and "target is 25.00%" in eth.text


def test_bear_snapshot_and_empty_vault_match() -> None:
    snap = _snap(rising=False, kind="regime")
    assert recompute_regime(snap) == "bear"
    targets = recompute_targets(snap)
    empty = [Holding(s, targets[s], 0, DECIMALS[s]) for s in targets]
    rep = compare(targets_snapshot=None, latest=snap, vault_regime="bear", holdings=empty,
                  cash=Decimal(100_000))
    assert rep.matches and rep.notes  # says the targets were not checked


def test_record_load_and_tamper(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "d", tmp_path / "c", tmp_path / "l").ensure()
    snap = _snap()
    entry = store.record(paths, snap)
    (logged,) = store.log_entries(paths, snap.chain_id, snap.vault)
    assert logged == entry and entry.hash == store.snapshot_hash(snap.canonical_bytes())
    assert store.load(paths, snap.chain_id, snap.vault, entry) == snap
    f = store.store_dir(paths, snap.chain_id, snap.vault) / f"{entry.hash}.json"
    f.write_bytes(f.read_bytes().replace(b'"100000"', b'"200000"', 1))
    with pytest.raises(store.SnapshotTampered, match="does not match its recorded hash"):
        store.load(paths, snap.chain_id, snap.vault, entry)
    f.unlink()
    with pytest.raises(store.SnapshotTampered, match="missing"):
        store.load(paths, snap.chain_id, snap.vault, entry)


def test_owner_calls_in_words() -> None:
    btc, new = "0x" + "11" * 20, "0x" + "22" * 20
    symbols = {"0x1111111111111111111111111111111111111111": "BTC"}
    assert describe_vault_call("setFeed", {"token": btc}, symbols) == "BTC's price feed changes"
    assert describe_vault_call("removeConstituent", {"token": btc}, symbols) == \
        "BTC leaves the index"
    assert describe_vault_call("addConstituents", {"tokens": [btc]}, symbols) == \
        "BTC joins the index"
    many = describe_vault_call("addConstituents", {"tokens": [new] * 7}, symbols)
    assert many.endswith("and 2 more join the index") and "the token 0x22222222" in many
    assert describe_vault_call("setFees", {"newBuyFeeBps": 30, "newSellFeeBps": 40}, {}) == \
        "the fees change to 0.30% on buys and 0.40% on sells"
    assert describe_vault_call("setRole", {"role": 0, "account": new}, {}).startswith(
        "the operator changes to 0x2222")
