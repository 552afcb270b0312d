"""The devnet on a node with no unlocked account: every transaction it sends is signed
locally and goes out with ``eth_sendRawTransaction``.

Anvil starts with ``--accounts 0``; the devnet's four accounts (derived from the public test
mnemonic here, by eth-account, not by the code under test) get test ETH through
``anvil_setBalance``. The node's record then points at a recording JSON-RPC proxy, so that
every call the app makes passes through it. The embedded devnet runs as ``make demo`` does:
deploy and seed, a price step of the demo market, a user's buy request with the devnet's
immediate keeper strike, the operator's NAV refresh, an out-of-cycle switch to Bear by the
operator engine at a daily close and back to Bull by the devnet operator (both rebalance).
The proxy must never have seen ``eth_sendTransaction``; every raw transaction must recover
to a devnet account or the user. Code that asks the node to sign fails at the deploy
(the node has no account to sign with).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from wallet_app.config import Settings
from wallet_app.devnet import process
from wallet_app.models import Regime
from wallet_app.paths import AppPaths

from .hostile_rpc import HostileProxy

pytestmark = [pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

PASSWORD = "signed here 4 lantern"


def _test_accounts(n: int = 4) -> list[str]:
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(process.ANVIL_MNEMONIC,
                                  account_path=f"m/44'/60'/0'/0/{i}").address
            for i in range(n)]


@pytest.fixture
def node(app_home: AppPaths) -> Iterator[tuple[Web3, HostileProxy]]:
    """Anvil without accounts, its record pointing at a recording proxy."""
    info, _ = process.up(app_home, port=process.free_port(), accounts=0)
    proxy = HostileProxy(info.rpc_url)
    try:
        w3 = Web3(Web3.HTTPProvider(info.rpc_url))
        assert w3.eth.accounts == []  # nothing unlocked on this node
        for addr in _test_accounts():
            w3.provider.make_request("anvil_setBalance",  # type: ignore[arg-type]
                                     [addr, hex(10**24)])
        # The app finds the node by its record: from now on it talks to the proxy.
        rec = process.NodeInfo(proxy.url, info.port, info.pid, info.chain_id, info.started_at)
        (app_home.devnet_dir / "node.json").write_text(rec.to_json())
        yield w3, proxy
    finally:
        proxy.close()
        process.down(app_home)


def _selector(vault: Any, fn: str, *args: Any) -> bytes:
    return bytes.fromhex(vault.encode_abi(fn, list(args))[2:10])


def test_the_devnet_runs_on_a_node_without_unlocked_accounts(
        app_home: AppPaths, node: tuple[Web3, HostileProxy]) -> None:
    from wallet_app.devnet import artifacts
    from wallet_app.devnet.driver import MarketDriver
    from wallet_app.devnet.embedded import ensure_devnet
    from wallet_app.facade import WalletService

    w3, proxy = node
    dev = ensure_devnet(app_home)  # deploy the market and the index, seed it
    assert dev.node.rpc_url == proxy.url and dev.deployed
    dep = dev.deployment
    svc = WalletService(app_home, Settings(network="devnet"))
    try:
        svc.import_private_key(f"nu{secrets.token_hex(3)}", "0x" + secrets.token_hex(32),
                               PASSWORD)
        user = svc.active_address()
        assert user is not None
        svc.connect()
        assert svc.session.vault.snapshot().live_holdings_value > 0  # the seed invested
        svc.faucet(Decimal(1), Decimal(5_000))  # the devnet's faucet (account 0)

        driver = MarketDriver(app_home, proxy.url, dep, hold=svc.session.trade_lock)
        driver.set_speed(30, 6)
        before = proxy.count("eth_sendRawTransaction")
        assert driver.step() is None  # a price step: feeds, pool arbitrage, NAV, keeper
        assert proxy.count("eth_sendRawTransaction") - before > len(dep.tokens)

        # The user's buy request; the devnet's keeper strikes it at once.
        result = svc.buy(svc.quote_buy(Decimal(500), slippage_bps=1000))
        assert result.status.value == "confirmed" and result.shares > 0

        vault = w3.eth.contract(address=dep.vault, abi=artifacts.load("IndexVault").abi)
        nav_at = vault.functions.navUpdatedAt().call()
        driver.operator.refresh_nav()  # the devnet operator's NAV refresh
        assert vault.functions.navUpdatedAt().call() >= nav_at

        bear = driver.operate(Regime.BEAR)  # the operator engine at a daily close
        assert bear is not None and bear.sells > 0
        bull = driver.operator.switch_regime(Regime.BULL)  # the devnet operator
        assert bull.buys > 0 and bull.regime is Regime.BULL
    finally:
        svc.close()

    # Nothing asked the node to sign; everything it mined was signed here.
    assert proxy.count("eth_sendTransaction") == 0
    assert w3.eth.accounts == []
    sent = proxy.decoded()
    deployer, _owner, operator, _guardian = _test_accounts()
    senders = {d["from"] for d in sent}
    assert senders <= {*_test_accounts(), user}
    assert {deployer, operator, user} <= senders
    by_op = {bytes(d["data"][:4]) for d in sent if d["from"] == operator and d["to"]
             and Web3.to_checksum_address(d["to"]) == dep.vault}
    for fn, args in (("updateNav", ()), ("strike", (50,)), ("setRegime", (0,))):
        assert _selector(vault, fn, *args) in by_op, fn
    assert any(d["data"][:4] == _selector(vault, "rebalance", [], 0, 0) for d in sent
               if d["from"] == operator)
    assert len(sent) > 3 * len(dep.tokens)  # deploy, seed, step, buy, strike, rebalances


def test_a_refused_transaction_names_its_label_never_the_key(
        anvil_node: process.NodeInfo, caplog: pytest.LogCaptureFixture) -> None:
    """A key without ETH: the node refuses the raw transaction; the error says which
    transaction and why, and neither it, the log nor any repr shows the key."""
    import logging

    from wallet_app.deploy.signers import KeySigner
    from wallet_app.devnet.keys import DevnetKeys
    from wallet_app.devnet.tx_batch import TxBatch
    from wallet_app.errors import DevnetError
    from wallet_app.keys.sensitive import SecretBytes

    key_hex = secrets.token_hex(32)
    addr = Account.from_key(key_hex).address
    signer = KeySigner(SecretBytes(bytes.fromhex(key_hex)), addr)
    w3 = Web3(Web3.HTTPProvider(anvil_node.rpc_url))
    caplog.set_level(logging.DEBUG)
    tx = TxBatch(w3, signers=[signer])
    tx.send("unfunded call", addr, addr, "0x", 21_000)
    with pytest.raises(DevnetError) as err:
        tx.wait()
    assert "'unfunded call'" in str(err.value) and "funds" in str(err.value).lower()
    with pytest.raises(DevnetError) as unknown:
        TxBatch(w3).send("stranger", Account.create().address, addr, "0x", 21_000)
    assert "holds no key" in str(unknown.value)
    shown = " ".join([str(err.value), repr(err.value), str(unknown.value), repr(tx),
                      repr(signer), repr(DevnetKeys()), caplog.text])
    assert key_hex not in shown.lower() and addr in repr(signer)


def test_two_threads_sending_from_one_account_never_share_a_nonce(
        anvil_node: process.NodeInfo) -> None:
    """A price step's big batch and faucet-sized batches from the same devnet account at
    once (the demo market's thread and the GUI's worker): every transaction is mined,
    each nonce used once."""
    import threading

    from wallet_app.devnet.keys import devnet_keys
    from wallet_app.devnet.tx_batch import TxBatch

    w3 = Web3(Web3.HTTPProvider(anvil_node.rpc_url))
    sender = devnet_keys().address(9)
    start = w3.eth.get_transaction_count(sender)
    errors: list[BaseException] = []
    mined: list[Any] = []

    def run(batches: int, size: int) -> None:
        try:
            for _ in range(batches):
                tx = TxBatch(Web3(Web3.HTTPProvider(anvil_node.rpc_url)))
                for _ in range(size):
                    tx.send("transfer", sender, Account.create().address, "0x", 21_000, 1)
                mined.extend(tx.wait(timeout=60))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(2, 150)),
               threading.Thread(target=run, args=(15, 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert len(mined) == 330 and len({r["transactionHash"] for r in mined}) == 330
    assert w3.eth.get_transaction_count(sender) == start + 330
