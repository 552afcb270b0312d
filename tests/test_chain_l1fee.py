"""The OP-stack L1 data fee: previews on an Anvil in optimism mode with the GasPriceOracle
predeploy installed include exactly what the chain's oracle charges, and the balance check
counts it.

The node is Anvil 1.7 with ``--network optimism`` and Base's chain id (so the registry's
Base entry, marked OP-stack, is what the wallet resolves). Anvil installs no predeploys, so
the test deploys ``DevGasPriceOracle`` (the oracle's interface, Ecotone formula) and copies
its runtime code to 0x42...0F, as the issue allows.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.test_chain_support import anvil_account, fresh_account, rpc
from wallet_app.chain.errors import InsufficientFundsForGas
from wallet_app.chain.l1fee import GAS_PRICE_ORACLE, L1_HEADROOM, unsigned_payload
from wallet_app.chain.provider import ChainClient
from wallet_app.chain.registry import custom_chain
from wallet_app.chain.sender import Sender, TxRequest
from wallet_app.devnet import process
from wallet_app.devnet.artifacts import load
from wallet_app.journal import Journal
from wallet_app.paths import AppPaths
from wallet_app.toolchain import find_tool

BASE_CHAIN_ID = 8453
L1_BASE_FEE = 30 * 10**9  # 30 gwei on L1
BLOB_BASE_FEE = 2 * 10**9
BASE_FEE_SCALAR = 1_368  # Base mainnet's order of magnitude (6 decimals)
BLOB_SCALAR = 810_949
RECIPIENT = "0x000000000000000000000000000000000000dEaD"


def _wait_rpc(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.rpc_chain_id(url, timeout=0.5) == BASE_CHAIN_ID:
            return
        time.sleep(0.1)
    raise RuntimeError("anvil (optimism mode) did not start")


@pytest.fixture(scope="module")
def op_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Anvil in optimism mode with the L1 fee oracle at its predeploy address."""
    port = process.free_port()
    log = open(tmp_path_factory.mktemp("op-anvil") / "anvil.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(find_tool("anvil")), "--network", "optimism", "--host", "127.0.0.1",
         "--port", str(port), "--chain-id", str(BASE_CHAIN_ID)],
        stdout=log, stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin"})
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_rpc(url)
        owner = anvil_account(0).address
        art = load("DevGasPriceOracle")
        from eth_abi import encode

        ctor = encode(["address"], [owner]).hex()
        tx = rpc(url, "eth_sendTransaction", {"from": owner, "data": art.bytecode + ctor})
        deployed = rpc(url, "eth_getTransactionReceipt", tx)["contractAddress"]
        rpc(url, "anvil_setCode", GAS_PRICE_ORACLE, rpc(url, "eth_getCode", deployed, "latest"))
        from web3 import Web3

        w3 = Web3(Web3.HTTPProvider(url))
        oracle = w3.eth.contract(address=Web3.to_checksum_address(GAS_PRICE_ORACLE),
                                 abi=art.abi)
        oracle.functions.setL1Params(L1_BASE_FEE, BLOB_BASE_FEE, BASE_FEE_SCALAR,
                                     BLOB_SCALAR).transact({"from": owner})
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _ecotone_fee(payload: bytes) -> int:
    """The Ecotone L1 fee, computed here independently of the contract and the wallet."""
    gas = sum(4 if b == 0 else 16 for b in payload) + 68 * 16
    weighted = BASE_FEE_SCALAR * 16 * L1_BASE_FEE + BLOB_SCALAR * BLOB_BASE_FEE
    return gas * weighted // (16 * 10**6)


def _sender(url: str, home: AppPaths) -> tuple[Sender, Journal]:
    chain = custom_chain(url, BASE_CHAIN_ID)
    assert chain.op_stack, "chain id 8453 resolves to Base, an OP-stack chain"
    journal = Journal.for_paths(home)
    return Sender(ChainClient(chain).connect(), journal), journal


def test_preview_includes_the_oracles_l1_fee(op_node: str, app_home: AppPaths) -> None:
    sender, journal = _sender(op_node, app_home)
    try:
        acct = fresh_account(op_node)
        data = bytes(range(1, 200)) + b"\x00" * 40  # non-zero and zero bytes both priced
        prepared = sender.prepare(TxRequest(sender=acct.address, to=RECIPIENT, value_wei=1,
                                            data=data), eth_usd=Decimal("3000"))
        gas = prepared.gas
        expected_l1 = _ecotone_fee(unsigned_payload(prepared.tx))
        assert expected_l1 > 10**11, "the scenario must make the L1 part visible"
        assert gas.l1_fee_eth == Decimal(expected_l1) / Decimal(10**18)
        # The L2 part is unchanged by the L1 fee: expected - l1 is what to_gas_estimate gave.
        l2_expected = gas.expected_fee_eth - gas.l1_fee_eth
        l2_max = gas.max_fee_eth - gas.l1_fee_eth * L1_HEADROOM
        assert l2_expected > 0 and l2_max >= l2_expected
        assert l2_max == Decimal(gas.gas_limit * gas.max_fee_per_gas_wei) / Decimal(10**18)
        assert gas.expected_fee_usd == (gas.expected_fee_eth * 3000).quantize(
            Decimal("0.000001"))
    finally:
        journal.close()


def test_balance_check_counts_the_l1_fee(op_node: str, app_home: AppPaths) -> None:
    """An account that can pay the L2 gas but not the L1 data fee is refused before
    anything is signed."""
    sender, journal = _sender(op_node, app_home)
    try:
        acct = fresh_account(op_node)
        probe = sender.prepare(TxRequest(sender=acct.address, to=RECIPIENT, value_wei=0,
                                         data=b"\x01" * 300), check_funds=False)
        l2_max_wei = probe.tx["gas"] * probe.tx["maxFeePerGas"]
        l1_wei = int(probe.gas.l1_fee_eth * Decimal(10**18))
        assert l1_wei > 0
        rpc(op_node, "anvil_setBalance", acct.address, hex(l2_max_wei + l1_wei // 2))
        with pytest.raises(InsufficientFundsForGas):
            sender.prepare(TxRequest(sender=acct.address, to=RECIPIENT, value_wei=0,
                                     data=b"\x01" * 300))
    finally:
        journal.close()


def test_no_l1_fee_off_op_stack(op_node: str, app_home: AppPaths) -> None:
    """The same node under a chain entry that is not OP-stack: no oracle call, no L1 part."""
    from dataclasses import replace

    chain = replace(custom_chain(op_node, BASE_CHAIN_ID), op_stack=False)
    journal = Journal.for_paths(app_home)
    try:
        client = ChainClient(chain).connect()
        sender = Sender(client, journal)
        acct = fresh_account(op_node)
        with client.provider.measure() as plain:
            gas = sender.prepare(TxRequest(sender=acct.address, to=RECIPIENT, value_wei=1)).gas
        assert gas.l1_fee_eth == 0
        op_sender, op_journal = _sender(op_node, app_home)
        try:
            with op_sender.client.provider.measure() as op:
                op_gas = op_sender.prepare(TxRequest(sender=acct.address, to=RECIPIENT,
                                                     value_wei=1)).gas
        finally:
            op_journal.close()
        assert op_gas.l1_fee_eth > 0
        # exactly one more eth_call (the oracle) on the OP-stack chain, none elsewhere
        assert op.by_method["eth_call"] == plain.by_method["eth_call"] + 1
    finally:
        journal.close()


def test_payload_is_the_unsigned_eip1559_encoding() -> None:
    """The oracle is given 0x02 || rlp(unsigned fields), as the signed form minus v, r, s."""
    from eth_account import Account

    acct = Account.create()
    tx = {"type": 2, "chainId": BASE_CHAIN_ID, "nonce": 7, "gas": 50_000,
          "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 10**6, "to": RECIPIENT,
          "value": 5, "data": "0xabcdef"}
    signed = Account.sign_transaction(tx, acct.key)
    import rlp

    fields = rlp.decode(bytes(signed.raw_transaction)[1:])
    assert unsigned_payload(tx) == b"\x02" + rlp.encode(fields[:-3])
