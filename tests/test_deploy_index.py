"""Deploy the index from a config file onto a real Anvil, signed by a keystore key (never
an unlocked account), and govern it through its timelock.

Reuses the module's devnet (its USDC, Uniswap V2 router, tokens, feeds and pools play the
chain's existing market); the deployer and the owner are fresh keystore keys funded with
``anvil_setBalance`` only. Covers: a dry run prints the plan and signs nothing; a deploy
SIGKILLed mid-way with a transaction signed but lost resumes to exactly one of each
contract; the record imports and the wallet pins it (code hashes checked on connect); a
feed change scheduled, listed as pending with its time of effect, refused before the
delay, executed after it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from wallet_app.config import Settings, save_settings
from wallet_app.deploy import runner
from wallet_app.deploy.config import config_from_dict
from wallet_app.deploy.plan import book_address, build_plan
from wallet_app.deploy.signers import KeystoreSigner
from wallet_app.facade import WalletService
from wallet_app.paths import AppPaths
from wallet_app.services.governance import GovernanceError

pytestmark = [pytest.mark.chain]

PASSWORD = "keystore-Password-for-tests-7"
N = 10
DELAY = 3_600


def _rpc(w3: Web3, method: str, *params: Any) -> Any:
    resp = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in resp, resp
    return resp.get("result")


def _keystore(tmp: Path, w3: Web3, name: str) -> tuple[Path, str]:
    acct = Account.create()
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(Account.encrypt(acct.key, PASSWORD, kdf="pbkdf2",
                                               iterations=2_000)))
    _rpc(w3, "anvil_setBalance", acct.address, hex(10**21))
    return path, acct.address


def _config(dep: Any, owner: str, tmp: Path, name: str) -> Path:
    base, rest = divmod(10_000, N)
    cfg = {
        "label": "test-chain", "chain_id": 31337, "usdc": dep.usdc, "router": dep.router,
        "fees": {"buy_bps": 30, "sell_bps": 20},
        "roles": {"guardian": Account.create().address, "operator": Account.create().address,
                  "fee_recipient": Account.create().address},
        "timelock": {"delay": DELAY, "proposers": [owner], "executors": [owner]},
        "keeper": {"strike_interval": 600, "min_request_age": 60},
        "constituents": [
            {"symbol": t.symbol, "token": t.address, "feed": t.feed, "heartbeat": 30 * 86_400,
             "weight_bps": base + (1 if i < rest else 0),
             "route": {"dex": "uniswap-v2", "pair": t.pair}}
            for i, t in enumerate(dep.tokens[:N])],
    }
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(cfg, indent=1))
    return path


def _cli(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("G100_")}
    e.update({"G100_HOME": str(home), "G100_KEYSTORE_PASSWORD": PASSWORD, **(env or {})})
    return subprocess.Popen([sys.executable, "-m", "wallet_app.cli.main", *args], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def chain(devnet: tuple[AppPaths, Any]) -> tuple[Web3, Any, str]:
    _paths, dev = devnet
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url, request_kwargs={"timeout": 60}))
    return w3, dev.deployment, dev.node.rpc_url


def test_dry_run_prints_every_step_and_signs_nothing(chain: Any, tmp_path: Path) -> None:
    w3, dep, rpc = chain
    ks, deployer = _keystore(tmp_path, w3, "deployer")
    cfg_path = _config(dep, Account.create().address, tmp_path, "cfg")
    block_before = w3.eth.block_number
    p = _cli(tmp_path / "home", "deploy", "--config", str(cfg_path), "--rpc", rpc,
             "--dry-run", "--keystore", str(ks), "--json")
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    data = json.loads(out)
    plan = build_plan(config_from_dict(json.loads(cfg_path.read_text())), deployer, 0,
                      book_exists=bool(w3.eth.get_code(book_address())))
    assert [s["label"] for s in data["steps"]] == [s.label for s in plan.steps]
    assert all(s["gas"] >= 21_000 and s["tx_hash"] is None for s in data["steps"])
    assert data["total_gas"] == sum(s["gas"] for s in data["steps"]) > 10_000_000
    assert [s["creates"] for s in data["steps"][1:4]] == [plan.lens, plan.timelock,
                                                         plan.vault]
    # Nothing signed or sent: the deployer's nonce and the chain did not move.
    assert w3.eth.get_transaction_count(deployer, "pending") == 0
    assert w3.eth.block_number == block_before
    assert not w3.eth.get_code(plan.vault)
    # The text form names each step with its target and gas, and the total.
    p = _cli(tmp_path / "home", "deploy", "--config", str(cfg_path), "--rpc", rpc,
             "--dry-run", "--keystore", str(ks))
    text, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert "nothing was signed" in text and f"new {plan.vault}" in text
    assert f"Total: {len(plan.steps)} transactions" in text


def _journal(home: Path) -> dict[str, Any] | None:
    files = list((home / "data" / "deploys").glob("*.journal.json"))
    if not files:
        return None
    try:
        return json.loads(files[0].read_text())
    except ValueError:  # never: the journal is replaced atomically
        raise AssertionError("the journal was seen half-written") from None


def test_sigkill_mid_deploy_resumes_to_one_of_each_then_pins_and_governs(
        chain: Any, tmp_path: Path, app_home: AppPaths) -> None:
    w3, dep, rpc = chain
    ks, deployer = _keystore(tmp_path, w3, "deployer")
    owner_ks, owner = _keystore(tmp_path, w3, "owner")
    cfg_path = _config(dep, owner, tmp_path, "cfg")
    home = tmp_path / "deployhome"
    start_block = w3.eth.block_number
    child = _cli(home, "deploy", "--config", str(cfg_path), "--rpc", rpc,
                 "--keystore", str(ks))
    try:
        # Let three steps mine, then stop mining: the next step is signed, journaled and
        # broadcast but never mined; kill the deployer right there.
        end = time.monotonic() + 120
        while time.monotonic() < end:
            j = _journal(home)
            if j and sum(s["mined"] for s in j["steps"].values()) >= 3:
                break
            time.sleep(0.01)
        _rpc(w3, "evm_setAutomine", False)
        while time.monotonic() < end:
            j = _journal(home)
            if j and any(not s["mined"] for s in j["steps"].values()):
                break
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        _rpc(w3, "anvil_dropAllTransactions")  # the node lost the broadcast too
        _rpc(w3, "evm_setAutomine", True)
    j = _journal(home)
    assert j is not None
    lost = [s for s in j["steps"].values() if not s["mined"]]
    assert len(lost) == 1
    nonce_at_crash = w3.eth.get_transaction_count(deployer, "latest")
    assert nonce_at_crash == lost[0]["nonce"]

    resumed = _cli(home, "deploy", "--config", str(cfg_path), "--rpc", rpc,
                   "--keystore", str(ks), "--json")
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    data = json.loads(out)
    assert sum(s["resumed"] for s in data["steps"]) == nonce_at_crash
    # The lost step went out again as the same bytes (same hash), not a new signature.
    lost_step = next(s for s in data["steps"] if s["label"] == lost[0]["label"])
    assert lost_step["tx_hash"] == lost[0]["hash"]
    # Exactly one of each: the deployer sent one transaction per step, four creations.
    plan = build_plan(config_from_dict(json.loads(cfg_path.read_text())), deployer, 0)
    assert w3.eth.get_transaction_count(deployer) == len(plan.steps)
    creations = []
    for b in range(start_block + 1, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(b, full_transactions=True)["transactions"]:
            if tx["from"] == deployer and tx["to"] is None:
                creations.append(w3.eth.get_transaction_receipt(tx["hash"])["contractAddress"])
    assert creations == [plan.lens, plan.timelock, plan.vault]
    assert w3.eth.get_code(plan.book)  # the library, through the CREATE2 factory
    record = data["record"]
    assert record["addresses"]["vault"] == plan.vault
    assert record["addresses"]["timelock"] == plan.timelock
    # A third run changes nothing.
    again = _cli(home, "deploy", "--config", str(cfg_path), "--rpc", rpc,
                 "--keystore", str(ks), "--json")
    out3, err3 = again.communicate(timeout=300)
    assert again.returncode == 0, err3
    assert all(s["resumed"] for s in json.loads(out3)["steps"])
    assert w3.eth.get_transaction_count(deployer) == len(plan.steps)

    # The wallet imports and pins the record, then connects with its code hashes checked.
    save_settings(Settings(network="custom", rpc_url=rpc, chain_id=31337), app_home)
    svc = WalletService(app_home)
    try:
        pinned = svc.import_deployment(Path(data["record_file"]))
        assert pinned.vault == plan.vault and pinned.abi == "v2"
        svc.connect()
        assert len(svc.index_state().holdings) == N

        # Governance: a feed change through the timelock, with its delay.
        token = dep.tokens[0]
        new_feed = dep.tokens[N].feed
        signer = KeystoreSigner(owner_ks)
        op_id, _tx, ready_at = svc.governance_schedule(
            "set-feed", signer, lambda: PASSWORD, token=token.symbol, feed=new_feed,
            heartbeat=7_200)
        ops = svc.governance_operations()
        op = next(o for o in ops if o.id == op_id)
        assert op.state == "pending" and op.ready_at == ready_at
        assert op.ready_at - op.scheduled_at == DELAY
        assert op.summary == f"{token.symbol}'s price feed changes"
        assert op.calls[0].detail == f"setFeed(token={token.address}, feed={new_feed}, " \
            "heartbeat=7200)"
        assert op.when(op.scheduled_at) == "in 1 h" and op.when(op.scheduled_at + 1) == \
            "in 60 min"
        # The deploy's own setup batches are there too, executed.
        assert sum(o.state == "done" for o in ops) == 2  # setup batch and hand-over
        with pytest.raises(GovernanceError, match="pending"):
            svc.governance_execute(op_id, KeystoreSigner(owner_ks), lambda: PASSWORD)
        _rpc(w3, "evm_increaseTime", DELAY)
        _rpc(w3, "evm_mine")
        assert next(o for o in svc.governance_operations() if o.id == op_id).state == "ready"
        svc.governance_execute(op_id, KeystoreSigner(owner_ks), lambda: PASSWORD)
        assert next(o for o in svc.governance_operations() if o.id == op_id).state == "done"
        vault = w3.eth.contract(address=plan.vault, abi=[{
            "type": "function", "name": "getConstituents", "stateMutability": "view",
            "inputs": [], "outputs": [{"type": "tuple[]", "components": [
                {"name": "token", "type": "address"}, {"name": "feed", "type": "address"}],
                "name": ""}]}])
        raw = w3.eth.call({"to": plan.vault, "data": vault.encode_abi("getConstituents", [])})
        assert new_feed.lower()[2:] in raw.hex()
    finally:
        svc.close()


def test_deploy_refuses_a_zero_delay_off_devnet_and_a_shifted_nonce(
        chain: Any, tmp_path: Path) -> None:
    w3, dep, _rpc_url = chain
    d = json.loads(_config(dep, Account.create().address, tmp_path, "c").read_text())
    d["timelock"]["delay"] = 0
    with pytest.raises(Exception, match="devnet only"):
        config_from_dict({**d, "chain_id": 8453}).check_chain(8453)
    cfg = config_from_dict(d)
    cfg.check_chain(31337)  # a devnet may use 0
    # The read-only checks name the constituent whose pool or feed is wrong.
    wrong = json.loads(json.dumps(d))
    wrong["constituents"][2]["route"]["pair"] = dep.tokens[3].pair
    with pytest.raises(runner.DeployError, match=f"{dep.tokens[2].symbol}: route.pair"):
        runner.preflight(w3, config_from_dict(wrong))
    wrong = json.loads(json.dumps(d))
    wrong["constituents"][4]["feed"] = dep.tokens[4].address  # a token, not a feed
    with pytest.raises(runner.DeployError, match=f"{dep.tokens[4].symbol}: its feed"):
        runner.preflight(w3, config_from_dict(wrong))
    assert runner.preflight(w3, cfg) == []
    # A key used outside the journaled deploy: the next step is refused, nothing signed.
    ks, deployer = _keystore(tmp_path, w3, "k")
    signer = KeystoreSigner(ks)
    signer.open(PASSWORD)
    jpath = tmp_path / "j.json"
    plan = build_plan(cfg, deployer, 0)
    from wallet_app.deploy.journal import DeployJournal

    DeployJournal.open(jpath, digest=cfg.digest(), chain_id=31337, deployer=deployer,
                       start_nonce=0)
    tx = {"chainId": 31337, "nonce": 0, "gas": 21_000, "maxFeePerGas": 10**10,
          "maxPriorityFeePerGas": 10**9, "to": deployer, "value": 0, "data": b"", "type": 2}
    w3.eth.send_raw_transaction(signer.sign(tx, 31337).raw)
    with pytest.raises(runner.DeployError, match="used outside this deploy"):
        runner.deploy(w3, cfg, signer, jpath)
    signer.close()
    assert w3.eth.get_transaction_count(deployer) == 1
    assert not w3.eth.get_code(plan.lens)


FORGE = Path(__file__).resolve().parents[1] / "contracts" / "node_modules" / "@foundry-rs" / \
    "forge-linux-amd64" / "bin" / "forge"


def test_forge_script_deploys_the_same_code_as_the_python_deployer(
        chain: Any, tmp_path: Path) -> None:
    """The same config, deployer and nonce: `forge script` and `index-wallet deploy` put the
    same contracts (same code hashes) at the same addresses. The chain is reverted between
    the two to give both the same start."""
    import uuid

    from eth_utils import keccak

    w3, dep, rpc = chain
    ks, deployer = _keystore(tmp_path, w3, "both")
    key = "0x" + bytes(Account.decrypt(json.loads(ks.read_text()), PASSWORD)).hex()
    cfg_dir = FORGE.parents[4] / "cache" / "deploy-script-test"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    cfg_path = cfg_dir / f"{uuid.uuid4().hex}.json"
    cfg_path.write_text(_config(dep, Account.create().address, tmp_path, "cfg").read_text())
    cfg = config_from_dict(json.loads(cfg_path.read_text()))
    plan = build_plan(cfg, deployer, 0)
    snap = _rpc(w3, "evm_snapshot")
    try:
        signer = KeystoreSigner(ks)
        signer.open(PASSWORD)
        runner.deploy(w3, cfg, signer, tmp_path / "journal.json")
        signer.close()
        addrs = [plan.book, plan.lens, plan.timelock, plan.vault]
        py_hashes = [keccak(bytes(w3.eth.get_code(a))) for a in addrs]
        assert all(w3.eth.get_code(a) for a in addrs)
        assert _rpc(w3, "evm_revert", snap)
        assert w3.eth.get_transaction_count(deployer) == 0 and not w3.eth.get_code(plan.vault)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("G100_")},
               "G100_DEPLOY_CONFIG": str(cfg_path)}
        proc = subprocess.run(
            [str(FORGE), "script", "script/DeployIndex.s.sol:DeployIndex", "--rpc-url", rpc,
             "--private-key", key, "--broadcast", "--slow"],
            cwd=FORGE.parents[4], env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        # Forge deploys the library through the same CREATE2 factory (or skips it when an
        # earlier deploy put it there); the other three by CREATE, as its broadcast says.
        bc = json.loads((FORGE.parents[4] / "broadcast" / "DeployIndex.s.sol" / "31337" /
                         "run-latest.json").read_text())
        made = {t["contractName"]: Web3.to_checksum_address(t["contractAddress"])
                for t in bc["transactions"] if t["transactionType"] in ("CREATE", "CREATE2")}
        forge_addrs = [plan.book, made["IndexLens"], made["TimelockController"],
                       made["IndexVault"]]
        forge_hashes = [keccak(bytes(w3.eth.get_code(a))) for a in forge_addrs]
        assert forge_hashes == py_hashes
        # The same end state as the Python deployer checks after its own run.
        import dataclasses

        runner.verify_deployed(w3, cfg, dataclasses.replace(
            plan, lens=forge_addrs[1], timelock=forge_addrs[2], vault=forge_addrs[3]))
    finally:
        cfg_path.unlink(missing_ok=True)


def test_example_config_parses_the_same_as_json_and_toml(tmp_path: Path) -> None:
    """The README's example (TOML) and contracts/script/deploy.example.json are one config."""
    from wallet_app.deploy.config import DeployConfigError, load_config

    example = FORGE.parents[4] / "script" / "deploy.example.json"
    cfg = load_config(example)
    assert cfg.delay == 172_800 and len(cfg.constituents) == 2 and cfg.weights == [6000, 4000]
    assert cfg.keeper_address != cfg.operator and cfg.sequencer_feed
    readme = (FORGE.parents[5] / "README.md").read_text()
    toml = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "c.toml").write_text(toml)
    assert load_config(tmp_path / "c.toml").digest() == cfg.digest()
    bad = json.loads(example.read_text())
    bad["constituents"][0]["weight_bps"] = 5000
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(DeployConfigError, match="sum to 9000"):
        load_config(tmp_path / "bad.json")


@pytest.mark.keyring
def test_deploy_with_a_keyring_wallet_key(chain: Any, tmp_path: Path, app_home: AppPaths,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``--key-from keyring:NAME``: account 0 of a wallet in the real OS keyring signs."""
    import secrets

    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")
    w3, dep, rpc = chain
    acct = Account.create()
    _rpc(w3, "anvil_setBalance", acct.address, hex(10**21))
    cfg_path = _config(dep, Account.create().address, tmp_path, "cfg")
    name = f"deployer-{secrets.token_hex(3)}"
    svc = WalletService(app_home)
    try:
        svc.import_private_key(name, "0x" + acct.key.hex(), PASSWORD)
        out = svc.deploy_index(cfg_path, rpc, key_from=f"keyring:{name}",
                               password=lambda: PASSWORD)
        assert out.record_path is not None and out.record_path.is_file()
        assert out.run.plan.deployer == acct.address
        assert w3.eth.get_transaction_count(acct.address) == len(out.run.steps)
        assert not svc.session.keys.is_unlocked(name)  # locked again after the deploy
        with pytest.raises(Exception, match="keyring:WALLET"):
            svc.deploy_index(cfg_path, rpc, key_from=f"vault:{name}")
    finally:
        svc.close()
