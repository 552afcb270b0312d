"""The devnet deployer against a real Anvil: a 100-constituent market deployed fast with
OpenZeppelin's TimelockController as the vault's owner, real buy and sell requests settled
at the keeper's strike, the all-cash instant paths, the lens, the faucet and price moves."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from wallet_app.devnet import artifacts, process
from wallet_app.devnet.deploy import (
    ConstituentSpec,
    Deployment,
    contract,
    deploy_market,
    deployment_path,
    fund,
    pool_price,
    refresh,
    set_price,
    set_prices,
    strike,
    synthetic_constituents,
    token_contract,
)
from wallet_app.errors import DevnetError
from wallet_app.paths import AppPaths

pytestmark = pytest.mark.chain

DEPLOY_BUDGET_SECONDS = 30.0


@pytest.fixture(scope="module")
def w3(anvil_node: process.NodeInfo) -> Web3:
    return Web3(Web3.HTTPProvider(anvil_node.rpc_url, request_kwargs={"timeout": 120}))


@pytest.fixture(scope="module")
def dep100(w3: Web3) -> Deployment:
    """The full-size market: 100 constituents, deployed once for the module."""
    return deploy_market(w3, synthetic_constituents(100))


@pytest.fixture()
def user(w3: Web3, dep100: Deployment) -> Iterator[str]:
    """A fresh funded account: an unlocked Anvil account above the devnet's role accounts."""
    addr = Web3.to_checksum_address(w3.eth.accounts[5])
    fund(w3, dep100, addr, Decimal(1), Decimal(50_000))
    yield addr


def _send(w3: Web3, sender: str, fn: Any, gas: int | None = None) -> Any:
    """Send a contract call from an unlocked account and return its (successful) receipt.

    Gas is the estimate plus 30%, as the wallet does: an estimate made in the same second
    as the last block skips Uniswap's price-accumulator writes (no time elapsed), which the
    mined transaction then pays for, so a bare estimate fails now and then.
    """
    gas = gas or fn.estimate_gas({"from": sender}) * 13 // 10
    tx_hash = fn.transact({"from": sender, "gas": gas})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.01)
    assert receipt["status"] == 1
    return receipt


def _deadline(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"]) + 600


def test_deploys_100_constituents_well_under_30_seconds(
    w3: Web3, dep100: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        print(f"\n[devnet] 100-constituent deploy took {dep100.deploy_seconds:.2f} s")
    assert dep100.deploy_seconds < DEPLOY_BUDGET_SECONDS
    vault = contract(w3, dep100, "IndexVault")
    assert vault.functions.constituentCount().call() == 100
    assert vault.functions.symbol().call() == "G100"
    assert vault.functions.name().call() == "TM Global 100"
    # The owner is OpenZeppelin's TimelockController (min delay 0 on the devnet); the
    # owner account may propose and execute, nobody administers it but itself.
    assert dep100.timelock and vault.functions.owner().call() == dep100.timelock
    tl = contract(w3, dep100, "TimelockController")
    assert tl.functions.getMinDelay().call() == 0
    proposer, executor, admin = (tl.functions.PROPOSER_ROLE().call(),
                                 tl.functions.EXECUTOR_ROLE().call(),
                                 tl.functions.DEFAULT_ADMIN_ROLE().call())
    assert tl.functions.hasRole(proposer, dep100.roles["owner"]).call()
    assert tl.functions.hasRole(executor, dep100.roles["owner"]).call()
    assert not tl.functions.hasRole(admin, dep100.roles["deployer"]).call()
    assert tl.functions.hasRole(admin, dep100.timelock).call()
    # The devnet limits went through the timelock: a short cut-off, no rebalance cooldown.
    assert vault.functions.minRequestAge().call() == 5
    assert vault.functions.operatorLimits().call()[3] == 0
    assert vault.functions.operator().call() == dep100.roles["operator"]
    assert vault.functions.keeper().call() == dep100.roles["operator"]
    assert vault.functions.guardian().call() == dep100.roles["guardian"]
    # Mixed decimals as the issue asks: 6, 8 and 18 all present; USDC has 6.
    assert {t.decimals for t in dep100.tokens} == {6, 8, 18}
    assert contract(w3, dep100, "USDC").functions.decimals().call() == 6
    # Pools open exactly at the feed price.
    for t in dep100.tokens[:8]:
        assert abs(pool_price(w3, dep100, t.symbol) / t.initial_price_usd - 1) < Decimal("1e-6")
    # Multicall3 is live.
    mc = contract(w3, dep100, "Multicall3")
    assert mc.functions.getChainId().call() == 31337


def _struck(w3: Web3, dep: Deployment, receipt: Any) -> Any:
    """Strike once the request in ``receipt`` is past its cut-off; the strike's receipt."""
    at = int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    return strike(w3, dep, not_before=at + 5)


def test_real_buy_through_the_vault(w3: Web3, dep100: Deployment, user: str) -> None:
    vault = contract(w3, dep100, "IndexVault")
    usdc = contract(w3, dep100, "USDC")
    assert vault.functions.instantOpen().call()  # nothing invested yet: NAV is exact cash
    amount = 1_000 * 10**6
    _send(w3, user, usdc.functions.approve(dep100.vault, 2 * amount))
    # The all-cash instant path (ERC-4626 deposit) while NAV is exact.
    quote = vault.functions.previewDeposit(amount).call()
    shares_before = vault.functions.balanceOf(user).call()
    receipt = _send(w3, user, vault.functions.deposit(amount, user))
    assert vault.functions.balanceOf(user).call() - shares_before == quote
    deposit = vault.events.Deposit().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert deposit["assets"] == amount and deposit["shares"] == quote
    fee = vault.events.FeeCharged().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert fee["amount"] == amount * 25 // 10_000 and fee["onBuy"] is True
    # A buy request: USDC escrowed now, shares minted at the keeper's strike.
    receipt = _send(w3, user, vault.functions.requestBuy(amount, 1, _deadline(w3)))
    req = vault.events.BuyRequested().process_receipt(receipt, errors=DISCARD)[0]["args"]
    assert req["id"] % 2 == 0 and req["assets"] == amount
    held = vault.functions.balanceOf(user).call()
    expected = vault.functions.previewDeposit(amount).call()
    sr = _struck(w3, dep100, receipt)
    settled = vault.events.BuySettled().process_receipt(sr, errors=DISCARD)[0]["args"]
    assert settled["id"] == req["id"] and settled["owner"] == user
    assert settled["shares"] == expected == vault.functions.balanceOf(user).call() - held
    # A sell request: shares escrowed now, USDC paid at the strike.
    usdc_before = usdc.functions.balanceOf(user).call()
    out_quote = vault.functions.previewRedeem(settled["shares"]).call()
    receipt = _send(w3, user, vault.functions.requestSell(settled["shares"], out_quote,
                                                          _deadline(w3)))
    assert vault.functions.balanceOf(user).call() == held
    sr = _struck(w3, dep100, receipt)
    paid = vault.events.SellSettled().process_receipt(sr, errors=DISCARD)[0]["args"]
    assert paid["usdcOut"] == out_quote
    assert usdc.functions.balanceOf(user).call() - usdc_before == out_quote


def test_buy_with_permit_one_signature_one_transaction(w3: Web3, dep100: Deployment) -> None:
    Account.enable_unaudited_hdwallet_features()
    acct = Account.from_mnemonic(process.ANVIL_MNEMONIC, account_path="m/44'/60'/0'/0/6")
    assert acct.address == w3.eth.accounts[6]
    fund(w3, dep100, acct.address, Decimal(0), Decimal(2_000))
    usdc = contract(w3, dep100, "USDC")
    vault = contract(w3, dep100, "IndexVault")
    amount = 2_000 * 10**6
    deadline = _deadline(w3)
    _, name, version, chain_id, verifying, _, _ = usdc.functions.eip712Domain().call()
    signed = Account.sign_typed_data(
        acct.key,
        domain_data={
            "name": name,
            "version": version,
            "chainId": chain_id,
            "verifyingContract": verifying,
        },
        message_types={
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ]
        },
        message_data={
            "owner": acct.address,
            "spender": dep100.vault,
            "value": amount,
            "nonce": usdc.functions.nonces(acct.address).call(),
            "deadline": deadline,
        },
    )
    quote = vault.functions.previewDeposit(amount).call()
    r = signed.r.to_bytes(32, "big")
    s = signed.s.to_bytes(32, "big")
    receipt = _send(
        w3,
        acct.address,
        vault.functions.requestBuyWithPermit(amount, quote, deadline, signed.v, r, s),
    )
    # One signature, one user transaction: the USDC is escrowed, no approval was sent.
    assert w3.eth.get_transaction_count(acct.address) == 1
    assert usdc.functions.balanceOf(acct.address).call() == 0
    assert usdc.functions.nonces(acct.address).call() == 1
    _struck(w3, dep100, receipt)
    assert vault.functions.balanceOf(acct.address).call() == quote


def test_lens_returns_consistent_state(w3: Web3, dep100: Deployment, user: str) -> None:
    vault = contract(w3, dep100, "IndexVault")
    usdc = contract(w3, dep100, "USDC")
    lens = w3.eth.contract(address=dep100.lens, abi=artifacts.load("IndexLens").abi,
                           decode_tuples=True)
    _send(w3, user, usdc.functions.approve(dep100.vault, 2**256 - 1))
    _send(w3, user, vault.functions.deposit(500 * 10**6, user))
    _send(w3, user, vault.functions.requestBuy(200 * 10**6, 0, _deadline(w3)))
    snap = lens.functions.snapshot(dep100.vault, user).call()
    v, u, cs = snap.vault, snap.user, snap.constituents
    assert snap.chainId == 31337 and snap.blockNumber >= dep100.block_number
    assert v.vault == dep100.vault and v.asset == dep100.usdc and v.router == dep100.router
    assert (v.name, v.symbol, v.decimals, v.assetDecimals) == ("TM Global 100", "G100", 18, 6)
    assert v.totalAssets == vault.functions.totalAssets().call() == v.cash + v.holdingsValue
    assert v.totalSupply == vault.functions.totalSupply().call()
    assert v.sharePrice == vault.functions.convertToAssets(10**18).call()
    assert v.liveHoldingsValue == v.holdingsValue and v.strikeReady is True
    assert (v.buyFeeBps, v.sellFeeBps, v.maxBuyFeeBps, v.maxSellFeeBps) == (25, 25, 100, 100)
    assert v.feeRecipient == dep100.roles["fee_recipient"]
    assert (v.regime, v.paused) == (0, False)
    assert (v.owner, v.timelockMinDelay, v.operator, v.keeper, v.guardian) == (
        dep100.timelock, 0, dep100.roles["operator"], dep100.roles["operator"],
        dep100.roles["guardian"])
    assert v.minRequestAge == 5 and v.pendingBuyAssets >= 200 * 10**6
    assert u.account == user
    assert u.shares == vault.functions.balanceOf(user).call() > 0
    assert u.shareValue == vault.functions.convertToAssets(u.shares).call()
    assert u.usdcBalance == usdc.functions.balanceOf(user).call()
    assert u.usdcAllowance == usdc.functions.allowance(user, dep100.vault).call()
    assert u.usdcPermitNonce == 0 and u.ethBalance > 0
    (req,) = u.requests  # the pending buy request, cancellable before its cut-off
    assert (req.isSell, req.amount, req.minOut) == (False, 200 * 10**6, 0)
    assert req.eligibleAt == req.requestedAt + 5 and req.deadline > req.requestedAt
    assert len(cs) == 100
    for view, info in zip(cs, dep100.tokens, strict=True):
        assert (view.token, view.symbol, view.decimals, view.feed, view.targetWeightBps) == (
            info.address,
            info.symbol,
            info.decimals,
            info.feed,
            info.weight_bps,
        )
        assert view.heartbeat == 86_400 and view.priceFresh is True and view.withinBand
        assert view.price > 0  # USD with 18 decimals
    assert sum(view.targetWeightBps for view in cs) == 10_000
    # Leave no pending request behind for the other tests: cancel it (before the cut-off,
    # or, if the machine was slow, let a strike settle it).
    try:
        _send(w3, user, vault.functions.cancel(req.id))
    except Exception:  # noqa: BLE001 - past the cut-off: the strike settles it instead
        strike(w3, dep100)


def test_set_price_moves_feed_and_pool(w3: Web3, dep100: Deployment) -> None:
    t = dep100.tokens[1]  # 3,000 USD, 8 decimals
    feed = w3.eth.contract(address=t.feed, abi=artifacts.load("DevPriceFeed").abi)
    up = Decimal("3300")
    spot = set_price(w3, dep100, t.symbol, up)
    assert feed.functions.latestRoundData().call()[1] == 3300 * 10**8
    assert abs(spot / up - 1) < Decimal("0.0001")
    assert abs(pool_price(w3, dep100, t.symbol) / up - 1) < Decimal("0.0001")
    down = Decimal("2700.5")
    spot = set_price(w3, dep100, t.symbol, down)
    assert feed.functions.latestRoundData().call()[1] == 270_050_000_000
    assert abs(spot / down - 1) < Decimal("0.0001")
    # A sub-cent asset uses an 18-decimal feed and still lands on its price.
    tiny = dep100.tokens[5]
    assert tiny.feed_decimals == 18
    spot = set_price(w3, dep100, tiny.symbol, Decimal("0.00031"))
    assert abs(spot / Decimal("0.00031") - 1) < Decimal("0.0001")
    # Put them back so other tests see the snapshot prices.
    set_prices(w3, dep100, {t.symbol: t.initial_price_usd, tiny.symbol: tiny.initial_price_usd})


def test_invest_then_sell_past_cash_and_refresh(w3: Web3) -> None:
    """A small market end to end: operator invests, prices move, keeper refreshes; a sell
    request larger than the cash waits at the strike until the operator raises cash, then
    settles at the strike's NAV; the in-kind exit needs no price at all."""
    from wallet_app.chain.provider import ChainClient
    from wallet_app.chain.registry import get_chain
    from wallet_app.operator import Operator
    from wallet_app.vault import VaultClient

    specs = [
        ConstituentSpec("BTCX", "Bitcoin X", 8, Decimal("60000"), 5_000),
        ConstituentSpec("ETHX", "Ether X", 18, Decimal("3000"), 3_000),
        ConstituentSpec("SOLX", "Sol X", 6, Decimal("150"), 2_000),
    ]
    dep = deploy_market(w3, specs, pool_depth_usdc=Decimal(30_000_000))
    vault = contract(w3, dep, "IndexVault")
    usdc = contract(w3, dep, "USDC")
    holder = Web3.to_checksum_address(w3.eth.accounts[7])
    fund(w3, dep, holder, Decimal(0), Decimal(100_000))
    _send(w3, holder, usdc.functions.approve(dep.vault, 2**256 - 1))
    _send(w3, holder, vault.functions.deposit(100_000 * 10**6, holder))
    cash = vault.functions.cash().call()
    legs = [(t.address, True, cash * t.weight_bps // 10_000, 0) for t in dep.tokens]
    # A fixed gas limit: three first-in-block pool writes are more than the 30% margin.
    receipt = _send(w3, dep.roles["operator"], vault.functions.rebalance(legs, 100, _deadline(w3)),
                    gas=2_000_000)
    assert len(vault.events.SwapExecuted().process_receipt(receipt, errors=DISCARD)) == 3
    assert vault.functions.cash().call() <= 3  # rounding dust only
    assert not vault.functions.instantOpen().call()  # invested: requests only
    nav_before = vault.functions.totalAssets().call()
    set_prices(w3, dep, {"BTCX": Decimal("63000"), "ETHX": Decimal("3150")}, refresh_nav=True)
    assert vault.functions.totalAssets().call() > nav_before
    shares = vault.functions.balanceOf(holder).call()
    lens = contract(w3, dep, "IndexLens")
    fee, quote, cash_ok, ready = lens.functions.quoteSell(dep.vault, shares // 2).call()
    assert not cash_ok and ready and fee > 0
    receipt = _send(w3, holder, vault.functions.requestSell(shares // 2, quote * 99 // 100,
                                                            _deadline(w3)))
    sr = _struck(w3, dep, receipt)
    assert not vault.events.SellSettled().process_receipt(sr, errors=DISCARD)  # waits for cash
    before = usdc.functions.balanceOf(holder).call()
    chain = get_chain("devnet")
    client = ChainClient(type(chain)(**{**chain.__dict__, "rpc_url": w3.provider.endpoint_uri}))
    op = Operator(w3, dep, VaultClient(client, dep.vault, dep.lens))
    sr = op.strike()  # raises the cash first (pro-rata sells), then strikes
    (paid,) = vault.events.SellSettled().process_receipt(sr, errors=DISCARD)
    got = usdc.functions.balanceOf(holder).call() - before
    assert got == paid["args"]["usdcOut"] >= quote * 99 // 100
    refresh(w3, dep)
    btc = token_contract(w3, dep, "BTCX")
    assert btc.functions.balanceOf(dep.vault).call() > 0
    # The exit of last resort: a slice of every token, no price read.
    rest = vault.functions.balanceOf(holder).call()
    r = _send(w3, holder, vault.functions.redeemInKind(rest, holder))
    assert vault.events.RedeemedInKind().process_receipt(r, errors=DISCARD)
    assert btc.functions.balanceOf(holder).call() > 0


def test_fund_is_a_faucet(w3: Web3, dep100: Deployment) -> None:
    who = Web3.to_checksum_address("0x" + "ab" * 20)
    fund(w3, dep100, who, Decimal("0.5"), Decimal("123.456789"))
    assert w3.eth.get_balance(who) == 5 * 10**17
    assert contract(w3, dep100, "USDC").functions.balanceOf(who).call() == 123_456_789
    with pytest.raises(ValueError):
        fund(w3, dep100, who, Decimal(0), Decimal("0.0000001"))


def test_deployment_saves_and_loads(dep100: Deployment, tmp_path: Path, app_home: AppPaths) -> None:
    path = deployment_path(app_home)
    assert path.parent == app_home.devnet_dir
    dep100.save(path)
    again = Deployment.load(path)
    assert again == dep100
    assert again.token("t001").address == dep100.tokens[1].address
    assert isinstance(again.tokens[0].initial_price_usd, Decimal)
    assert path.read_text() == again.to_json()
    with pytest.raises(DevnetError):
        dep100.token("NOPE")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DevnetError):
        Deployment.load(bad)
    with pytest.raises(DevnetError):
        Deployment.load(tmp_path / "missing.json")


def test_invalid_specs_are_refused(w3: Web3) -> None:
    with pytest.raises(ValueError, match="sum"):
        deploy_market(w3, [ConstituentSpec("A", "A", 18, Decimal(1), 9_999)])
    with pytest.raises(ValueError, match="unique"):
        deploy_market(
            w3,
            [
                ConstituentSpec("A", "A", 18, Decimal(1), 5_000),
                ConstituentSpec("a", "A", 18, Decimal(1), 5_000),
            ],
        )
    with pytest.raises(ValueError, match="positive"):
        deploy_market(w3, [ConstituentSpec("A", "A", 18, Decimal(0), 10_000)])
