"""The index's whole life-cycle on one fresh Anvil that has no unlocked account at all.

Anvil runs with ``--accounts 0``: every transaction is signed locally by a key this test
makes (the market maker that plays the chain's existing USDC/Uniswap market, the deployer,
the owner, the operator/keeper, and a user wallet in the real OS keyring through the
facade). The sequence follows issue 12: deploy from a config -> import the record in the
wallet -> a constituent change scheduled -> the wallet shows it -> executed after the
delay -> a weekly rebalance with one entrant and one leaver -> a user buys and sells
through requests and strikes -> a regime flip to Bear (all USDC) and back, each decided by
the operator service's own daily close from the market history a local CoinGecko-compatible
server serves (:mod:`tests.market_server`). Each step is checked on the chain (the pinned
contracts' events, balances, the vault's regime and holdings) and in what the wallet shows.
Chain time is moved in this module only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from wallet_app.config import Settings, save_settings
from wallet_app.deploy.bytecode import create_address, deploy_data
from wallet_app.deploy.signers import KeystoreSigner
from wallet_app.devnet import artifacts, process
from wallet_app.devnet.deploy import feed_answer, feed_decimals_for
from wallet_app.facade import WalletService
from wallet_app.index.inputs import MarketAsset
from wallet_app.index.regime import regime_from_csv
from wallet_app.models import Regime
from wallet_app.operator_chain_log import rebalance_summary
from wallet_app.operator_keys import write_keystore
from wallet_app.operator_service import OperatorConfig
from wallet_app.paths import AppPaths
from wallet_app.services.governance_view import buy_warning

from .market_server import CoinGeckoServer

pytestmark = [pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

PASSWORD = "lifecycle-Keystore-pass-41"
N = 8  # constituents at deploy; one more market exists for the entrant
DELAY = 3_600
MIN_AGE = 60
PRICES = ["30000", "2000", "1", "0.5", "150", "25", "7.5", "12", "3"]
ERC20 = [{"type": "function", "name": "balanceOf", "stateMutability": "view",
          "inputs": [{"name": "a", "type": "address"}],
          "outputs": [{"name": "", "type": "uint256"}]}]


class _LocalKey:
    """Signs and sends raw transactions with a key held here (the node holds none)."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.acct = Account.create()
        self.address = self.acct.address
        self.nonce = 0
        self.sent: list[bytes] = []

    def send(self, to: str | None, data: str, gas: int) -> bytes:
        base = int(self.w3.eth.get_block("latest")["baseFeePerGas"])
        tx = {"chainId": 31337, "nonce": self.nonce, "gas": gas, "value": 0,
              "maxFeePerGas": 2 * base + 10**9, "maxPriorityFeePerGas": 10**9,
              "data": data, "type": 2, **({"to": to} if to else {})}
        h = self.w3.eth.send_raw_transaction(self.acct.sign_transaction(tx).raw_transaction)
        self.nonce += 1
        self.sent.append(bytes(h))
        return bytes(h)

    def wait(self) -> list[Any]:
        out = []
        for h in self.sent:
            rec = self.w3.eth.wait_for_transaction_receipt(h, timeout=180)
            assert rec["status"] == 1, rec
            out.append(rec)
        self.sent = []
        return out


def _rpc(w3: Web3, method: str, *params: Any) -> Any:
    resp = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in resp, resp
    return resp.get("result")


def _warp(w3: Web3, seconds: int) -> None:
    _rpc(w3, "evm_increaseTime", seconds)
    _rpc(w3, "evm_mine")


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A fresh Anvil with no accounts, and a small USDC/Uniswap V2 market on it, deployed
    by a locally held key (the chain's "existing market" the config names)."""
    home = tmp_path_factory.mktemp("lifecycle-node")
    paths = AppPaths(home / "data", home / "config", home / "logs").ensure()
    info, _ = process.up(paths, port=process.free_port(), accounts=0)
    try:
        w3 = Web3(Web3.HTTPProvider(info.rpc_url, request_kwargs={"timeout": 60}))
        assert w3.eth.accounts == []  # nothing unlocked on this node
        mm = _LocalKey(w3)
        _rpc(w3, "anvil_setBalance", mm.address, hex(10**22))
        usdc, weth, factory, router, seeder = (create_address(mm.address, i) for i in range(5))
        mm.send(None, deploy_data("DevUSDC", mm.address), 3_000_000)
        mm.send(None, deploy_data("WETH9"), 2_000_000)
        mm.send(None, deploy_data("UniswapV2Factory", mm.address), 5_000_000)
        mm.send(None, deploy_data("UniswapV2Router02", factory, weth), 6_000_000)
        mm.send(None, deploy_data("DevMarketSeeder", factory, usdc, mm.address), 4_000_000)
        pool_usdc = 20_000_000 * 10**6
        specs = []
        for i, p in enumerate(PRICES):
            fd = feed_decimals_for(Decimal(p))
            answer = feed_answer(Decimal(p), fd)
            dec = (18, 8, 6)[i % 3]
            specs.append((f"Life Token {i}", f"LF{i}", dec, fd, answer,
                          pool_usdc * 10**dec * 10**fd // (answer * 10**6), pool_usdc))
        usdc_c = w3.eth.contract(address=usdc, abi=artifacts.load("DevUSDC").abi)
        seeder_c = w3.eth.contract(address=seeder, abi=artifacts.load("DevMarketSeeder").abi)
        mm.send(usdc, usdc_c.encode_abi("mint", [seeder, pool_usdc * len(specs)]), 200_000)
        for start in range(0, len(specs), 5):
            chunk = specs[start:start + 5]
            mm.send(seeder, seeder_c.encode_abi("createMarkets", [chunk, mm.address]),
                    5_000_000 * len(chunk))
        markets = []
        for rec in mm.wait():
            for ev in seeder_c.events.MarketCreated().process_receipt(rec, errors=DISCARD):
                markets.append({k: Web3.to_checksum_address(ev["args"][k])
                                for k in ("token", "feed", "pair")})
        assert len(markets) == len(specs)
        for m, s in zip(markets, specs, strict=True):
            m.update(symbol=s[1], name=s[0], price=Decimal(PRICES[specs.index(s)]))
        yield {"w3": w3, "rpc": info.rpc_url, "mm": mm, "usdc": usdc, "router": router,
               "usdc_c": usdc_c, "markets": markets, "start_block": w3.eth.block_number,
               "keys": {mm.address}, "state": {}}
    finally:
        process.down(paths)


def _keystore(c: dict[str, Any], folder: Path, name: str) -> tuple[Path, str]:
    acct = Account.create()
    path = folder / f"{name}.json"
    write_keystore(path, "0x" + acct.key.hex(), PASSWORD, n=2 ** 4)
    _rpc(c["w3"], "anvil_setBalance", acct.address, hex(10**21))
    c["keys"].add(acct.address)
    return path, acct.address


def _cap(i: int) -> Decimal:
    return Decimal(10_000_000_000 - i * 100_000_000)


def _assets(c: dict[str, Any], members: list[str], entrant: str | None = None,
            leaver: str | None = None, scale: Decimal = Decimal(1)) -> list[MarketAsset]:
    """A CoinGecko-format market: the members with near-equal caps (times ``scale``, the
    market's level); the entrant listed, the leaver with no volume (ineligible). A source's
    page holds at least 100 assets: the rest are small assets with no trading volume,
    ineligible under section 2.2."""
    out = [MarketAsset(id=f"pad-{i}", symbol=f"PAD{i}", name=f"Padding {i}",
                       current_price=Decimal(1), market_cap=Decimal(1_000_000 + i),
                       total_volume=Decimal(0)) for i in range(100)]
    for i, m in enumerate(c["markets"]):
        if m["symbol"] not in members and m["symbol"] != entrant:
            continue
        cap = _cap(i) * scale
        vol = Decimal(0) if m["symbol"] == leaver else cap / 20
        out.append(MarketAsset(id=m["symbol"].lower(), symbol=m["symbol"], name=m["name"],
                               current_price=m["price"], market_cap=cap, total_volume=vol))
    return out


def _finish(w3: Web3, opsvc: Any, plan: Any) -> Any:
    """Run a plan to its end; the vault's rebalance cooldown (300 s) may make a batch wait,
    so chain time moves on past it (this module alone moves time)."""
    for _ in range(6):
        if plan.status != "running":
            break
        _warp(w3, 301)
        nxt = opsvc.engine.resume()
        if nxt is None:  # finished (the journal has no running plan)
            assert opsvc.journal.running_plan() is None
            return plan
        plan = nxt
    assert plan.status == "done", [(st.kind, st.status) for st in plan.steps]
    return plan


def _day_start(t: int) -> int:
    return t - t % 86_400


def _warp_to(w3: Web3, t: int) -> None:
    _warp(w3, t - int(w3.eth.get_block("latest")["timestamp"]))


def _operator_pass(w3: Web3, opsvc: Any, markets: CoinGeckoServer) -> None:
    """One pass of the service as `operator run` makes it (lock, resume, keeper, daily
    close, calendar), then more passes while a plan waits out the vault's rebalance
    cooldown (chain time moved past it). The market server's present is the chain's."""
    for _ in range(6):
        markets.now = datetime.fromtimestamp(opsvc.engine.now(), UTC)
        assert opsvc.run(once=True) == 0
        if opsvc.journal.running_plan() is None:
            return
        _warp(w3, 301)
    raise AssertionError("the operator's plan did not finish")


def _balance_of(w3: Web3, token: str, owner: str) -> int:
    return int(w3.eth.contract(address=token, abi=ERC20).functions.balanceOf(owner).call())


def _vault_view(svc: WalletService) -> Any:
    assert svc.session.vault is not None
    return svc.session.vault.snapshot()


def test_life_cycle_on_a_chain_without_unlocked_accounts(
        chain: dict[str, Any], tmp_path: Path, app_home: AppPaths,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from wallet_app.services.operator_run import build_service

    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")
    c, w3 = chain, chain["w3"]

    def bal_of(token: str, owner: str) -> int:
        return _balance_of(w3, token, owner)

    members = [m["symbol"] for m in c["markets"][:N]]
    entrant, leaver = c["markets"][N], c["markets"][N - 1]
    # The calendar is pinned: chain time starts at the next Tuesday 01:00 UTC, so that the
    # weekly rebalance (step 6, made ahead of its Monday) and the operator's daily closes
    # (step 8, three days) fall in one week, before the next Monday, whatever day CI runs.
    now = int(w3.eth.get_block("latest")["timestamp"])
    tuesday = _day_start(now) + ((1 - datetime.fromtimestamp(now, UTC).weekday()) % 7) * 86_400
    _warp_to(w3, tuesday + 3600 if tuesday + 3600 > now else tuesday + 7 * 86_400 + 3600)

    # 1. Deploy from a config, signed by keystore keys (the CLI, as an operator would).
    deployer_ks, _deployer = _keystore(c, tmp_path, "deployer")
    owner_ks, owner = _keystore(c, tmp_path, "owner")
    op_ks, operator = _keystore(c, tmp_path, "operator")
    base, rest = divmod(10_000, N)
    cfg = {
        "label": "lifecycle", "chain_id": 31337, "usdc": c["usdc"], "router": c["router"],
        "fees": {"buy_bps": 30, "sell_bps": 20},
        "roles": {"guardian": Account.create().address, "operator": operator,
                  "fee_recipient": Account.create().address},
        "timelock": {"delay": DELAY, "proposers": [owner], "executors": [owner]},
        "keeper": {"strike_interval": 600, "min_request_age": MIN_AGE},
        # The vault's largest rolling loss budget: this test invests all cash, exits to
        # USDC and buys back within a few hours of chain time.
        "limits": {"loss_budget_bps": 200},
        "constituents": [
            {"symbol": m["symbol"], "token": m["token"], "feed": m["feed"],
             "heartbeat": 30 * 86_400, "weight_bps": base + (1 if i < rest else 0),
             "route": {"dex": "uniswap-v2", "pair": m["pair"]}}
            for i, m in enumerate(c["markets"][:N])]}
    (tmp_path / "deploy.json").write_text(json.dumps(cfg))
    env = {k: v for k, v in os.environ.items() if not k.startswith("G100_")}
    env.update(G100_HOME=str(tmp_path / "deployhome"), G100_KEYSTORE_PASSWORD=PASSWORD)
    res = subprocess.run([sys.executable, "-m", "wallet_app.cli.main", "deploy", "--config",
                          str(tmp_path / "deploy.json"), "--rpc", c["rpc"], "--keystore",
                          str(deployer_ks), "--json"], env=env, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout)
    record_file = Path(out["record_file"])
    vault_addr = out["record"]["addresses"]["vault"]
    timelock = out["record"]["addresses"]["timelock"]
    assert w3.eth.get_code(vault_addr) and w3.eth.get_code(timelock)

    # 2. The wallet imports and pins the record; a user wallet in the real keyring.
    save_settings(Settings(network="custom", rpc_url=c["rpc"], chain_id=31337), app_home)
    markets = CoinGeckoServer()  # the operator's market data: a local CoinGecko-format server
    svc = WalletService(app_home)
    name = f"life-{os.getpid()}"
    try:
        pinned = svc.import_deployment(record_file)
        assert pinned.vault == vault_addr
        svc.connect()
        svc.create_wallet(name, PASSWORD)
        user = svc.active_address()
        assert user
        c["keys"].add(user)
        _rpc(w3, "anvil_setBalance", user, hex(10**19))
        c["mm"].send(c["usdc"], c["usdc_c"].encode_abi("mint", [user, 10_000 * 10**6]),
                     200_000)
        c["mm"].wait()
        state = svc.index_state()
        assert sorted(h.symbol for h in state.holdings if h.token) == sorted(members)

        # 3. A constituent change scheduled by the owner through the timelock.
        target = c["markets"][0]
        op_id, _tx, ready_at = svc.governance_schedule(
            "set-feed", KeystoreSigner(owner_ks), lambda: PASSWORD, token=target["symbol"],
            feed=target["feed"], heartbeat=20 * 86_400)
        # 4. The wallet shows it, with its time of effect.
        pending = svc.pending_governance()
        assert [p.op_id for p in pending] == [op_id]
        assert int(pending[0].ready_at.timestamp()) == ready_at
        assert pending[0].when == "in 1 h" and not pending[0].ready
        assert pending[0].headline == f"{target['symbol']}'s price feed changes in 1 h"
        # ... and the buy preview's notice names it with its time of effect (chain time).
        assert buy_warning(pending).startswith(
            f"Governance change pending: {target['symbol']}'s price feed changes in 1 h "
            f"({pending[0].ready_at:%d %b %H:%M} UTC)")
        # 5. Executed after the delay (refused before), then gone from the wallet's list.
        with pytest.raises(Exception, match="pending"):
            svc.governance_execute(op_id, KeystoreSigner(owner_ks), lambda: PASSWORD)
        _warp(w3, DELAY)
        exec_tx = svc.governance_execute(op_id, KeystoreSigner(owner_ks), lambda: PASSWORD)
        tl = w3.eth.contract(address=timelock, abi=artifacts.load("TimelockController").abi)
        done = tl.events.CallExecuted().process_receipt(errors=DISCARD, txn_receipt=
            w3.eth.get_transaction_receipt(exec_tx))
        assert {Web3.to_hex(e["args"]["id"]) for e in done} == {op_id}
        assert svc.pending_governance() == []

        # 6. The weekly rebalance with one entrant and one leaver (the operator service
        #    with its own keys; market data from a local CoinGecko-format server).
        folder = tmp_path / "op"
        folder.mkdir()
        (folder / "password").write_text(PASSWORD)
        (folder / "operator.json").write_text(json.dumps({
            "rpc_url": c["rpc"], "deployment": str(record_file), "keystore": str(op_ks),
            "password_file": "password", "governance_keystore": str(owner_ks),
            "market": {"source": "coingecko", "base_url": markets.url}, "poll_s": 1,
            "candidates": {entrant["symbol"]: {"token": entrant["token"],
                                              "feed": entrant["feed"],
                                              "heartbeat": 30 * 86_400}}}))
        from wallet_app.index.schedule import next_rebalance

        opsvc = build_service(OperatorConfig.load(folder / "operator.json"), app_home)
        # The index has money in it before its first weekly rebalance, as at a real launch:
        # the first user's buy request (through the wallet), struck by the operator's
        # keeper, then invested by the operator at the launch composition, so that the
        # leaver is held and must be sold.
        first = svc.buy(svc.quote_buy(Decimal("5000")))
        assert first.state == "requested"
        _warp(w3, MIN_AGE + 1)
        assert opsvc.engine.keeper_tick() == "strike"
        settled = [r for r in svc.settle_requests() if r.tx_hash == first.tx_hash]
        assert settled and settled[0].state == "settled" and settled[0].verified
        markets.set_assets(_assets(c, members))
        launch = _finish(w3, opsvc, opsvc.engine.rebalance(opsvc.source.snapshot(),
                                                           plan_id="launch"))
        assert launch.status == "done"
        assert not launch.summary["entrants"]
        assert bal_of(leaver["token"], vault_addr) > 0
        markets.set_assets(_assets(c, members, entrant["symbol"], leaver["symbol"]))
        monday = next_rebalance(datetime.fromtimestamp(opsvc.engine.now(), UTC))
        start = w3.eth.block_number
        opsvc.prelist(int(monday.timestamp()) - 1800)  # the entrant's listing scheduled
        plan = opsvc.engine.rebalance(opsvc.source.snapshot(),
                                      plan_id=f"rebalance-{monday.date()}")
        assert plan.summary["entrants"] == [entrant["symbol"]]
        assert plan.summary["leavers"] == [leaver["symbol"]]
        assert plan.status == "running"  # the listing waits out the timelock's delay
        _warp(w3, DELAY + 1)
        _finish(w3, opsvc, opsvc.engine.resume())
        _warp(w3, DELAY + 1)
        assert opsvc.engine.execute_due() == 1  # the leaver's removal, after its delay
        s = rebalance_summary(w3, vault_addr, start + 1, usdc=c["usdc"])
        assert s["added"] == [entrant["token"]] and s["removed"] == [leaver["token"]]
        assert any(t_out == entrant["token"] for _i, t_out, _a in s["leg_keys"])
        assert any(t_in == leaver["token"] for t_in, _o, _a in s["leg_keys"])
        snap = _vault_view(svc)
        held = {x.token: x for x in snap.constituents}
        assert leaver["token"] not in held and held[entrant["token"]].target_bps > 0
        assert sum(x.target_bps for x in snap.constituents) == 10_000
        assert bal_of(entrant["token"], vault_addr) > 0
        assert bal_of(leaver["token"], vault_addr) == 0
        svc.connect()
        assert entrant["symbol"] in {h.symbol for h in svc.index_state().holdings}

        # 7. The user buys and sells through requests, struck by the operator's keeper.
        usdc_bal = c["usdc_c"].functions.balanceOf
        shares_of = w3.eth.contract(address=vault_addr, abi=ERC20).functions.balanceOf
        buy = svc.buy(svc.quote_buy(Decimal("1000")))
        assert buy.state == "requested" and buy.request_id is not None
        assert usdc_bal(user).call() == 4_000 * 10**6
        _warp(w3, MIN_AGE + 1)
        assert opsvc.engine.keeper_tick() == "strike"
        settled = [r for r in svc.settle_requests() if r.tx_hash == buy.tx_hash]
        assert settled and settled[0].state == "settled" and settled[0].verified
        shares = shares_of(user).call()
        assert shares > 0
        pos = svc.position()
        assert pos is not None and pos.shares == Decimal(shares).scaleb(-18)
        half = (Decimal(shares) / 2).scaleb(-18).quantize(Decimal("0.000001"))
        sell = svc.sell(svc.quote_sell(half))
        assert sell.state == "requested"
        _warp(w3, MIN_AGE + 1)
        assert opsvc.engine.keeper_tick() == "strike"
        settled = [r for r in svc.settle_requests() if r.tx_hash == sell.tx_hash]
        assert settled and settled[0].state == "settled" and settled[0].verified
        assert usdc_bal(user).call() > 4_000 * 10**6
        trades = svc.my_trades()
        assert len(trades) == 3 and all(t.verified for t in trades)

        pos = svc.position()
        assert pos is not None and pos.shares == Decimal(shares_of(user).call()).scaleb(-18)
        assert pos.usdc_balance == Decimal(usdc_bal(user).call()).scaleb(-6)

        # 8. A regime flip to Bear (the vault holds only USDC), then back to Bull, each
        #    decided by the operator service's own daily close from its market data: the
        #    CoinGecko-format server serves every member's daily market-cap chart (300 days:
        #    the methodology's 200-day average needs 200) and each close's /coins/markets.
        #    The market is flat, falls 12% over the three closes before today (the service
        #    has not closed a day yet: its first pass closes yesterday, the third of them,
        #    and flips), then stands 20% up: Bull only at the third close above +5%.
        vault_c = w3.eth.contract(address=vault_addr, abi=artifacts.load("IndexVault").abi)
        before_bear = w3.eth.block_number
        today = _day_start(opsvc.engine.now())
        day0 = datetime.fromtimestamp(today, UTC).date()
        held = [(i, m) for i, m in enumerate(c["markets"]) if m is not leaver]

        def level(d: Any) -> Decimal:  # the market's level at the close of day d
            k = (d - day0).days
            return Decimal(1) if k < -3 else Decimal("0.88") if k < 0 else Decimal("1.2")

        markets.set_charts({m["symbol"].lower(): [
            (d, _cap(i) * level(d)) for d in (day0 + timedelta(days=k) for k in range(-300, 3))]
            for i, m in held})
        now_members = [x.symbol for x in _vault_view(svc).constituents]

        def close_market(day_start: int) -> None:  # /coins/markets at the close of that day
            d = datetime.fromtimestamp(day_start, UTC).date()
            markets.set_assets(_assets(c, now_members, scale=level(d)))

        close_market(today - 86_400)
        invested = _vault_view(svc).total_assets
        _operator_pass(w3, opsvc, markets)  # closes yesterday: Bear, switched at once
        assert sorted({coin for coin, _ in markets.chart_hits}) == \
            sorted(m["symbol"].lower() for _i, m in held if m["symbol"] in now_members)
        assert opsvc.journal.state.last["close"] == today
        assert _vault_view(svc).regime is Regime.BEAR
        assert svc.index_state().regime is Regime.BEAR  # what the wallet shows
        for m in c["markets"]:  # every token the vault ever held, entrant and leaver too
            assert bal_of(m["token"], vault_addr) == 0, m["symbol"]
        bear = _vault_view(svc)
        assert bear.cash == bear.total_assets > invested * 98 // 100  # all of it in USDC
        tokens = {x.token for x in bear.constituents}
        legs = rebalance_summary(w3, vault_addr, before_bear + 1, usdc=c["usdc"])
        assert legs["buys"] == 0  # one sell per holding, each for USDC, nothing bought
        assert sorted(t_in for t_in, _o, _a in legs["leg_keys"]) == sorted(tokens)
        fetched = len(markets.chart_hits)
        for k in (1, 2, 3):  # the next three daily closes, one pass after each midnight
            _warp_to(w3, today + k * 86_400 + 30)
            before_bull = w3.eth.block_number
            close_market(today + (k - 1) * 86_400)
            _operator_pass(w3, opsvc, markets)
            assert opsvc.journal.state.last["close"] == today + k * 86_400
            assert _vault_view(svc).regime is (Regime.BEAR if k < 3 else Regime.BULL), k
        assert len(markets.chart_hits) == fetched  # later closes: the snapshot alone
        snap = _vault_view(svc)
        assert snap.regime is Regime.BULL and svc.index_state().regime is Regime.BULL
        assert all(bal_of(x.token, vault_addr) > 0 for x in snap.constituents
                   if x.target_bps > 0)
        assert snap.live_holdings_value * 100 > snap.total_assets * 95  # re-invested
        legs = rebalance_summary(w3, vault_addr, before_bull + 1, usdc=c["usdc"])
        assert legs["sells"] == 0 and sorted(t_out for _i, t_out, _a in legs["leg_keys"]) == \
            sorted(x.token for x in snap.constituents if x.target_bps > 0)
        flips = vault_c.events.RegimeChanged().get_logs(from_block=before_bear + 1)
        assert [(e["args"]["previous"], e["args"]["current"]) for e in flips] == \
            [(0, 1), (1, 0)]  # Bull -> Bear -> Bull, once each
        # The table the service kept, read by the index engine's own CSV path (what
        # `index-wallet index regime --history FILE` and the wallet's gauge run), flips on
        # the same two closes: one engine, no second implementation in the operator.
        kept = regime_from_csv(opsvc.source.history.path)
        assert [(f.day, f.to_state) for f in kept.flips] == [
            (day0 - timedelta(days=1), Regime.BEAR), (day0 + timedelta(days=2), Regime.BULL)]
        # Sent by the operator's key in the passes that closed the flipping days.
        for e, day in zip(flips, (today, today + 3 * 86_400), strict=True):
            assert w3.eth.get_transaction(e["transactionHash"])["from"] == operator
            assert _day_start(int(w3.eth.get_block(e["blockNumber"])["timestamp"])) == day
        opsvc.engine.sender.wipe()
    finally:
        markets.server.shutdown()
        svc.keys.delete(name, name)
        svc.close()

    # No unlocked account was used: every transaction on the chain came from a test key.
    senders = set()
    for b in range(1, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(b, full_transactions=True)["transactions"]:
            senders.add(tx["from"])
    assert senders <= c["keys"], senders - c["keys"]
    assert {owner, operator, user} <= senders
    assert w3.eth.accounts == []
