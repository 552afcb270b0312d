"""The operator service on a real Anvil devnet (module-scoped ``devnet`` fixture).

Market data comes from a local HTTP server speaking CoinGecko's ``/coins/markets`` format
(the public internet is the only thing faked). The operator signs with its own keystore
file (Anvil's published key for the devnet operator account, encrypted), never through
the node's unlocked accounts. Tests run in order on one devnet: dry run, a reconstitution
rebalance (one entrant, one leaver), a SIGKILL mid-rebalance then a restart, SIGTERM.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("web3")

from web3 import Web3  # noqa: E402

from wallet_app.chain.provider import ChainClient  # noqa: E402
from wallet_app.chain.registry import get_chain  # noqa: E402
from wallet_app.devnet.deploy import set_prices  # noqa: E402
from wallet_app.devnet.market_clock import MarketClock  # noqa: E402
from wallet_app.devnet.process import ANVIL_MNEMONIC  # noqa: E402
from wallet_app.devnet.reconstitution import (  # noqa: E402
    devnet_market_assets,
    provision_market,
)
from wallet_app.operator_chain_log import rebalance_summary  # noqa: E402
from wallet_app.operator_keys import write_keystore  # noqa: E402
from wallet_app.operator_service import OperatorConfig, service_dir, status  # noqa: E402
from wallet_app.paths import app_paths  # noqa: E402
from wallet_app.trust.record import DeploymentStore  # noqa: E402
from wallet_app.vault import VaultClient  # noqa: E402

from .market_server import CoinGeckoServer as _Markets  # noqa: E402

PASSWORD = "operator test password"


def _test_key(index: int) -> str:
    """Account ``index`` of the devnet's public test mnemonic (hex), derived by
    eth-account (not the code under test) for the service's keystores."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return bytes(Account.from_mnemonic(ANVIL_MNEMONIC,
                                       account_path=f"m/44'/60'/0'/0/{index}").key).hex()


#: The devnet's owner (account 1) and operator (account 2) keys.
DEVNET_KEYS = {"owner": _test_key(1), "operator": _test_key(2)}
CLI = [sys.executable, "-m", "wallet_app"]


@pytest.fixture(scope="module")
def env(devnet: tuple[Any, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    paths, dev = devnet
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url, request_kwargs={"timeout": 60}))
    folder = tmp_path_factory.mktemp("operator-cfg")
    n = 2 ** 4
    write_keystore(folder / "operator.json", DEVNET_KEYS["operator"], PASSWORD, n=n)
    write_keystore(folder / "owner.json", DEVNET_KEYS["owner"], PASSWORD, n=n)
    record = DeploymentStore(paths).load(dev.deployment.chain_id)
    (folder / "record.json").write_text(record.to_json())
    (folder / "password").write_text(PASSWORD)
    markets = _Markets()
    client = ChainClient(dataclasses.replace(get_chain("devnet"), rpc_url=dev.node.rpc_url))
    vault = VaultClient(client, dev.deployment.vault, dev.deployment.lens)
    # Pools trade back to the feeds (the seed's buys left them above the oracle), as every
    # market step does.
    clock = MarketClock.load(paths.devnet_dir / "market.json")
    set_prices(w3, dev.deployment, clock.prices(), refresh_nav=True)
    yield {"paths": paths, "dev": dev, "w3": w3, "folder": folder, "markets": markets,
           "vault": vault, "clock": clock}
    markets.server.shutdown()


def _config(env: dict[str, Any], **extra: Any) -> Path:
    cfg = {"rpc_url": env["dev"].node.rpc_url, "deployment": "record.json",
           "keystore": "operator.json", "password_file": "password",
           "governance_keystore": "owner.json",
           "market": {"source": "coingecko", "base_url": env["markets"].url},
           "batch_size": 20, "poll_s": 1, **extra}
    path = env["folder"] / "operator-config.json"
    path.write_text(json.dumps(cfg))
    return path


def _assets(env: dict[str, Any]) -> list[Any]:
    return devnet_market_assets(env["clock"])


def _journal_dir(env: dict[str, Any]) -> Path:
    dep = env["dev"].deployment
    return service_dir(app_paths().data_dir, dep.chain_id, dep.vault)


def _reconstitution_market(env: dict[str, Any]) -> tuple[list[Any], str, str]:
    """Today's devnet market with one bench asset lifted into the index (the entrant) and
    the smallest held member made ineligible (volume 0: the leaver)."""
    assets = _assets(env)
    members = {t.symbol for t in env["dev"].deployment.tokens}
    snap = env["vault"].snapshot()
    held = [c for c in snap.constituents if c.balance and c.target_bps > 0]
    leaver = min(held, key=lambda c: (c.target_bps, c.symbol)).symbol
    bench = sorted((a for a in assets if a.symbol not in members), key=lambda a: a.id)
    entrant = bench[0].symbol
    mid_cap = sorted(a.market_cap for a in assets if a.symbol in members)[60]
    out = []
    for a in assets:
        if a.symbol == entrant:
            a = dataclasses.replace(a, market_cap=mid_cap)
        elif a.symbol == leaver:
            a = dataclasses.replace(a, total_volume=Decimal(0))
        out.append(a)
    return out, entrant, leaver


def _run_cli(args: list[str], **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, capture_output=True, text=True, timeout=300, **kw)


def test_dry_run_prints_the_plan_and_signs_nothing(env: dict[str, Any]) -> None:
    assets, entrant, leaver = _reconstitution_market(env)
    env["markets"].set_assets(assets)
    w3, dep = env["w3"], env["dev"].deployment
    block, nonce = w3.eth.block_number, w3.eth.get_transaction_count(dep.roles["operator"])
    hits = env["markets"].hits
    res = _run_cli(["operator", "run", "--config", str(_config(env)), "--dry-run"])
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "nothing signed" in out
    assert f"entrants: {entrant}" in out and f"leavers: {leaver}" in out
    assert f"sell {leaver}" in out and "full exit (leaver)" in out
    assert "bp vs oracle" in out and "gas in all" in out and "setTargetWeights" in out
    assert env["markets"].hits > hits  # the plan came from the local CoinGecko server
    assert w3.eth.block_number == block
    assert w3.eth.get_transaction_count(dep.roles["operator"]) == nonce
    assert not (_journal_dir(env) / "journal.json").exists()


def test_reconstitution_rebalance_one_entrant_one_leaver(env: dict[str, Any]) -> None:
    from wallet_app.services.operator_run import build_service

    assets, entrant, leaver = _reconstitution_market(env)
    env["markets"].set_assets(assets)
    w3, dep = env["w3"], env["dev"].deployment
    price = next(a.current_price for a in assets if a.symbol == entrant)
    info = provision_market(w3, dep, None, entrant, entrant.title(), price)
    leaver_token = dep.token(leaver).address
    cfg = OperatorConfig.load(_config(env, candidates={
        entrant: {"token": info.address, "feed": info.feed, "heartbeat": 86_400}}))
    svc = build_service(cfg, app_paths())
    start = w3.eth.block_number
    svc.rebalance()
    s = rebalance_summary(w3, dep.vault, start + 1, usdc=dep.usdc)
    assert s["added"] == [info.address]
    assert s["removed"] == [leaver_token]
    keys = s["leg_keys"]
    assert any(t_out == info.address for _i, t_out, _a in keys)  # the entrant bought
    assert any(t_in == leaver_token for t_in, _o, _a in keys)  # the leaver sold
    snap = env["vault"].snapshot()
    tokens = {c.token: c for c in snap.constituents}
    assert leaver_token not in tokens and tokens[info.address].target_bps > 0
    assert sum(c.target_bps for c in snap.constituents) == 10_000
    hist = json.loads((_journal_dir(env) / "journal.json").read_text())["history"][-1]
    assert hist["status"] == "done" and hist["snapshot_hash"].startswith("0x")
    # The snapshot went where the rule verifier reads it, and it gives the vault's targets.
    from wallet_app.index.snapshot_record import load, log_entries
    from wallet_app.index.verify import recompute_targets

    entries = log_entries(app_paths(), snap.chain_id, dep.vault)
    assert entries, "the rebalance recorded no snapshot for the verifier"
    recorded = load(app_paths(), snap.chain_id, dep.vault, entries[-1])  # hash checked
    on_chain = {c.symbol.upper(): c.target_bps for c in snap.constituents}
    assert {k.upper(): v for k, v in recorded.targets_bps.items()} == on_chain
    assert {k.upper(): v for k, v in recompute_targets(recorded).items()} == on_chain
    svc.engine.sender.wipe()


def test_sigkill_mid_rebalance_then_restart_finishes_without_doubling(
        env: dict[str, Any]) -> None:
    # A reweighting with many legs: eight mid-sized members' market caps halved (sells),
    # eight others' doubled (buys).
    assets = _assets(env)
    members = sorted((a for a in assets if a.symbol in
                      {t.symbol for t in env["dev"].deployment.tokens}),
                     key=lambda a: a.market_cap)
    halved = {a.symbol for a in members[60:68]}
    doubled = {a.symbol for a in members[70:78]}
    env["markets"].set_assets([
        dataclasses.replace(a, market_cap=a.market_cap / 2) if a.symbol in halved else
        dataclasses.replace(a, market_cap=a.market_cap * 2) if a.symbol in doubled else a
        for a in assets])
    cfg = _config(env, batch_size=2)
    w3, dep = env["w3"], env["dev"].deployment
    start = w3.eth.block_number
    jfile = _journal_dir(env) / "journal.json"
    err = env["folder"] / "run1.err"
    with err.open("w") as fh:
        proc = subprocess.Popen(CLI + ["operator", "run", "--config", str(cfg), "--once",
                                       "--rebalance-now"], stdout=subprocess.DEVNULL,
                                stderr=fh, env={**os.environ,
                                                "G100_OPERATOR_TEST_HANG_AFTER": "4"})
        try:
            _wait(lambda: "test hook" in err.read_text() or proc.poll() is not None, 240)
            assert proc.poll() is None, err.read_text()
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
    plan = json.loads(jfile.read_text())["plan"]
    assert plan is not None and plan["status"] == "running"
    assert plan["kind"] == "rebalance"
    sent = [t for s in plan["steps"] for t in s["txs"]]
    assert len(sent) >= 3 and any(s["status"] != "done" for s in plan["steps"])
    killed_id = plan["plan_id"]

    res = _run_cli(["operator", "run", "--config", str(cfg), "--once"])
    assert res.returncode == 0, res.stderr
    state = json.loads(jfile.read_text())
    assert state["plan"] is None
    done = [h for h in state["history"] if h.get("plan_id") == killed_id]
    assert len(done) == 1 and done[0]["status"] == "done"
    planned_legs = sum(s["legs"] - len(s["dropped"]) for s in done[0]["steps"])
    rebalance_txs = [h for s in done[0]["steps"] if s["kind"] in ("sell", "buy")
                     for h in s["txs"]]
    s = rebalance_summary(w3, dep.vault, start + 1, usdc=dep.usdc)
    assert planned_legs >= 6
    assert s["legs"] == planned_legs  # every leg of the plan exactly once, none doubled
    assert s["batches"] == len(rebalance_txs) == len(set(rebalance_txs))
    assert max(Counter(s["leg_keys"]).values()) == 1
    assert s["weights_set"] == 1


def test_sigterm_stops_cleanly_and_status_says_so(env: dict[str, Any]) -> None:
    cfg = _config(env)
    folder = _journal_dir(env)
    err = env["folder"] / "run-term.err"
    with err.open("w") as fh:
        proc = subprocess.Popen(CLI + ["operator", "run", "--config", str(cfg)],
                                stdout=subprocess.DEVNULL, stderr=fh)
        try:
            _wait(lambda: status(folder).get("state") == "running"
                  or proc.poll() is not None, 120)
            assert proc.poll() is None, err.read_text()
            st = status(folder)
            assert st["running"] and st["pid"] == proc.pid
            res = _run_cli(["operator", "status", "--config", str(cfg)])
            assert res.returncode == 0 and f"running (pid {proc.pid})" in res.stdout
            second = _run_cli(["operator", "run", "--config", str(cfg), "--once"])
            assert second.returncode == 153 and "already running" in second.stderr
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(90) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    st = status(folder)
    assert not st["running"] and st["state"] == "stopped"
    log_text = (app_paths().log_dir / "operator.log").read_text()
    assert "operator stopped" in log_text and PASSWORD not in log_text
    assert PASSWORD not in err.read_text()
    assert DEVNET_KEYS["operator"] not in log_text


def _wait(cond: Any, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def test_entrant_prelisted_through_a_timelock_delay_is_live_at_the_rebalance(
        env: dict[str, Any]) -> None:
    """With a 1 h timelock delay the service schedules the entrant's listing before the
    Monday under the rebalance's salt; the rebalance waits for it, then lists and buys.
    (Chain time is moved here, so this runs last on the module's devnet.)"""
    from datetime import UTC, datetime

    from wallet_app.devnet import artifacts
    from wallet_app.devnet.deploy import TxBatch
    from wallet_app.index.schedule import next_rebalance
    from wallet_app.services.operator_run import build_service

    w3, dep = env["w3"], env["dev"].deployment
    tl = w3.eth.contract(address=dep.timelock, abi=artifacts.load("TimelockController").abi)
    salt = b"\x01" * 32
    call = tl.encode_abi("updateDelay", [3600])
    args = [dep.timelock, 0, bytes.fromhex(call[2:]), b"\x00" * 32, salt]
    tx = TxBatch(w3)
    tx.send("schedule", dep.roles["owner"], dep.timelock, tl.encode_abi("schedule", [*args, 0]),
            300_000)
    tx.send("execute", dep.roles["owner"], dep.timelock, tl.encode_abi("execute", args),
            300_000)
    tx.wait()
    assert tl.functions.getMinDelay().call() == 3600

    members = {c.symbol for c in env["vault"].snapshot().constituents}
    assets = _assets(env)
    bench = sorted((a for a in assets if a.symbol not in members
                    and a.symbol not in {t.symbol for t in dep.tokens}), key=lambda a: a.id)
    entrant = bench[-1]
    mid_cap = sorted(a.market_cap for a in assets if a.symbol in members)[70]
    smallest = min((a for a in assets if a.symbol in members), key=lambda a: a.market_cap)
    rows = [dataclasses.replace(a, market_cap=mid_cap) if a.symbol == entrant.symbol else
            dataclasses.replace(a, total_volume=Decimal(0)) if a.symbol == smallest.symbol
            else a for a in assets]
    env["markets"].set_assets(rows)
    info = provision_market(w3, dep, None, entrant.symbol, entrant.name, entrant.current_price)
    cfg = OperatorConfig.load(_config(env, candidates={
        entrant.symbol: {"token": info.address, "feed": info.feed, "heartbeat": 86_400}}))
    svc = build_service(cfg, app_paths())
    now = svc.engine.now()
    monday = next_rebalance(datetime.fromtimestamp(now, UTC))
    svc.prelist(int(monday.timestamp()) - 1800)  # half an hour before the delay runs out
    scheduled = tl.events.CallScheduled().get_logs(from_block=w3.eth.block_number)
    assert len(scheduled) == 1
    op_id = scheduled[0]["args"]["id"]
    assert tl.functions.getOperationState(op_id).call() == 1  # waiting for the delay

    plan_id = f"rebalance-{monday.date()}"
    on_chain = {c.symbol.upper(): c.token for c in env["vault"].snapshot().constituents}
    start = w3.eth.block_number
    plan = svc.engine.rebalance(svc.source.snapshot(), plan_id=plan_id)
    assert plan.status == "running" and plan.steps[0].status == "waiting"
    assert not plan.steps[0].txs  # the schedule was not sent again; execute must wait

    w3.provider.make_request("evm_increaseTime", [3601])
    w3.provider.make_request("evm_mine", [])
    svc.engine.resume()
    assert svc.journal.running_plan() is None
    s = rebalance_summary(w3, dep.vault, start + 1, usdc=dep.usdc)
    assert s["added"] == [info.address]
    assert any(t_out == info.address for _i, t_out, _a in s["leg_keys"])
    assert tl.functions.getOperationState(op_id).call() == 3  # done, once
    # The leaver was sold; its removal waits out the delay without holding up the plan
    # (or the keeper), and the keeper executes it once it is ready.
    leavers = plan.summary["leavers"]
    assert smallest.symbol in leavers
    def deferred() -> list:
        return [v for v in svc.journal.state.scheduled.values() if "call" in v]

    assert s["removed"] == [] and len(deferred()) == 1
    assert svc.engine.execute_due() == 0  # not ready yet
    w3.provider.make_request("evm_increaseTime", [3601])
    w3.provider.make_request("evm_mine", [])
    assert svc.engine.execute_due() == 1
    s = rebalance_summary(w3, dep.vault, start + 1, usdc=dep.usdc)
    assert sorted(s["removed"]) == sorted(on_chain[sym] for sym in leavers)
    assert not deferred()
    svc.engine.sender.wipe()
