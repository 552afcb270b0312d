"""The operator's plan, journal and key handling without a chain (real OS keyring)."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from wallet_app.index.inputs import MarketAsset
from wallet_app.operator_journal import (
    JournalPlan,
    JournalStep,
    JournalTx,
    OperatorJournal,
    OperatorJournalError,
)
from wallet_app.operator_plan import (
    MarketView,
    OperatorDataError,
    check_plausible,
    reconstitute,
    target_weights,
)


def _asset(i: int, cap: int, volume: int = 50_000_000) -> MarketAsset:
    return MarketAsset(id=f"coin{i}", symbol=f"C{i}", name=f"Coin {i}",
                       current_price=Decimal(1), market_cap=Decimal(cap),
                       total_volume=Decimal(volume))


def _view(assets: list[MarketAsset]) -> MarketView:
    return MarketView(tuple(assets), "2026-11-30T00:00:00+00:00", "test")


def test_reconstitution_finds_entrant_and_leaver_and_keeps_the_buffer() -> None:
    assets = [_asset(i, 10_000_000_000 - i * 10_000_000) for i in range(120)]
    members = [f"C{i}" for i in range(100)]
    # C105 rises to rank 1; C99 becomes ineligible (volume under the floor); C100..C104
    # stay outside (the buffer keeps members, not newcomers, at ranks 101-110).
    assets[105] = _asset(105, 20_000_000_000)
    assets[99] = _asset(99, assets[99].market_cap, volume=10)
    recon = reconstitute(_view(assets), members)
    assert recon.entrants == ("C105",) and recon.leavers == ("C99",)
    assert sum(recon.weights.values()) == 10_000 and len(recon.weights) == 100
    order = members[:99] + ["C99"]
    w = target_weights(order, recon.weights)
    assert w[-1] == 0 and sum(w) == 10_000  # leaver 0, unlisted entrant's weight parked
    check_plausible(recon, members)


def test_snapshot_hash_is_stable_and_content_bound() -> None:
    a = [_asset(i, 1_000_000_000 + i) for i in range(5)]
    assert _view(a).snapshot_hash == _view(list(reversed(a))).snapshot_hash
    assert _view(a).snapshot_hash != _view(a[:4]).snapshot_hash


def test_implausible_snapshots_are_refused() -> None:
    members = [f"C{i}" for i in range(100)]
    with pytest.raises(OperatorDataError):
        check_plausible(reconstitute(_view([]), members), members)
    shifted = [_asset(i, 10_000_000_000 - i) for i in range(200, 300)]
    with pytest.raises(OperatorDataError, match="remove 100 of 100"):
        check_plausible(reconstitute(_view(shifted), members), members)


def test_journal_round_trip_and_refuses_a_corrupt_file(tmp_path: Path) -> None:
    j = OperatorJournal(tmp_path / "op")
    step = JournalStep("sell", "sell legs", [{"label": "b1", "to": "0x" + "11" * 20,
                                               "fn": "rebalance", "legs": [], "gas": 1}])
    step.txs.append(JournalTx("b1", "0x" + "11" * 20, "0x", 1, 7, "0x" + "ab" * 32, "0x02"))
    j.start(JournalPlan("p1", "rebalance", 100, "0xhash", {}, [step]))
    again = OperatorJournal(tmp_path / "op")
    plan = again.running_plan()
    assert plan is not None and plan.steps[0].txs[0].nonce == 7
    assert again.state.last["rebalance"] == 100
    with pytest.raises(OperatorJournalError):
        j.start(JournalPlan("p2", "rebalance", 101, "", {}, []))
    again.finish("done")
    assert OperatorJournal(tmp_path / "op").state.history[-1]["plan_id"] == "p1"
    (tmp_path / "op" / "journal.json").write_text("{not json")
    with pytest.raises(OperatorJournalError):
        OperatorJournal(tmp_path / "op")


def test_operator_key_from_keystore_file_and_from_the_os_keyring(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wallet_app.operator_keys import (
        KEYRING_SERVICE,
        KeySource,
        OperatorKeyError,
        load_key,
        store_in_keyring,
        write_keystore,
    )

    key_hex = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
    path = tmp_path / "op.json"
    addr = write_keystore(path, key_hex, "pw-operator", n=16)
    assert key_hex not in path.read_text()
    with pytest.raises(OperatorKeyError, match="G100_OPERATOR_PASSWORD"):
        load_key(KeySource(keystore_path=path))
    monkeypatch.setenv("G100_OPERATOR_PASSWORD", "pw-operator")
    got, key = load_key(KeySource(keystore_path=path))
    assert got == addr and key.reveal().hex() == key_hex
    entry = f"test-{tmp_path.name}"
    import keyring

    try:
        store_in_keyring(entry, path.read_text())
        got2, _ = load_key(KeySource(keyring_entry=entry))
        assert got2 == addr
        assert json.loads(keyring.get_password(KEYRING_SERVICE, entry))["crypto"]
    finally:
        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            keyring.delete_password(KEYRING_SERVICE, entry)
