"""Simulation before signing and revert decoding, against a compiled contract on Anvil."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3.exceptions import ContractLogicError

from tests.test_chain_support import (
    REVERTER_SOURCE,
    Deployed,
    anvil_account,
    deploy,
    devnet_client,
)
from wallet_app.chain.errors import TransactionReverted
from wallet_app.chain.provider import ChainClient
from wallet_app.chain.simulate import (
    RevertDecoder,
    error_from_web3,
    estimate_gas,
    eth_call,
    simulate,
)
from wallet_app.devnet import process

SLIPPAGE_TEXT = "the price moved: you would get {out} shares, below your minimum of {minOut}."


@pytest.fixture(scope="module")
def reverter(anvil_node: process.NodeInfo) -> Deployed:
    return deploy(anvil_node.rpc_url, REVERTER_SOURCE, "Reverter")


@pytest.fixture
def client(anvil_node: process.NodeInfo) -> ChainClient:
    return devnet_client(anvil_node.rpc_url)


def _sel(sig: str) -> bytes:
    return keccak(text=sig)[:4]


def _call(c: Deployed, sig: str, types: list[str] | None = None,
          args: list[object] | None = None) -> dict[str, object]:
    data = _sel(sig) + (encode(types or [], args or []) if types else b"")
    return {"from": anvil_account(2).address, "to": c.address, "data": data}


# ----------------------------------------------------------------- pure decoding

def test_decode_error_string() -> None:
    d = RevertDecoder().decode(_sel("Error(string)") + encode(["string"], ["Too late"]))
    assert (d.kind, d.name) == ("error", "Error")
    assert d.message == 'the contract said "Too late".'


def test_error_string_is_sanitised_and_shortened() -> None:
    nasty = "line1\n\x1b[31mred\x00" + "x" * 500
    d = RevertDecoder().decode(_sel("Error(string)") + encode(["string"], [nasty]))
    assert "\n" not in d.message and "\x1b" not in d.message and "\x00" not in d.message
    assert len(d.message) < 200


def test_known_token_phrases_get_our_wording() -> None:
    data = _sel("Error(string)") + encode(["string"], ["ERC20: transfer amount exceeds balance"])
    assert RevertDecoder().decode(data).message == \
        "your token balance is too low for this amount."


@pytest.mark.parametrize(("code", "words"), [
    (0x01, "assert"), (0x11, "overflow"), (0x12, "division"), (0x32, "past its end"),
    (0x99, "internal error"),
])
def test_decode_panic_codes(code: int, words: str) -> None:
    d = RevertDecoder().decode(_sel("Panic(uint256)") + encode(["uint256"], [code]))
    assert d.kind == "panic" and words in d.message and f"0x{code:02x}" in d.message


def test_decode_custom_error_with_registered_abi_and_message() -> None:
    abi = [{"type": "error", "name": "SlippageExceeded",
            "inputs": [{"name": "minOut", "type": "uint256"},
                       {"name": "out", "type": "uint256"}]}]
    dec = RevertDecoder([abi], messages={"SlippageExceeded": SLIPPAGE_TEXT})
    data = _sel("SlippageExceeded(uint256,uint256)") + encode(["uint256", "uint256"], [10, 7])
    d = dec.decode(data)
    assert d.kind == "custom" and d.name == "SlippageExceeded"
    assert d.args == {"minOut": 10, "out": 7}
    assert d.message == "the price moved: you would get 7 shares, below your minimum of 10."
    # Without a message the name is shown; without the ABI the selector.
    assert RevertDecoder([abi]).decode(data).message == \
        "the contract rejected it (SlippageExceeded)."
    assert "0x" + _sel("SlippageExceeded(uint256,uint256)").hex() in \
        RevertDecoder().decode(data).message


def test_builtin_openzeppelin_errors() -> None:
    data = _sel("ERC20InsufficientAllowance(address,uint256,uint256)") + encode(
        ["address", "uint256", "uint256"], [anvil_account(1).address, 0, 5])
    d = RevertDecoder().decode(data)
    assert d.name == "ERC20InsufficientAllowance" and "approve" in d.message
    assert RevertDecoder().decode(_sel("EnforcedPause()")).message.startswith("this action is "
                                                                             "paused")


def test_empty_and_garbage_revert_data() -> None:
    assert RevertDecoder().decode(b"").kind == "empty"
    assert RevertDecoder().decode("0x").kind == "empty"
    bad = RevertDecoder().decode(_sel("Error(string)") + b"\x01\x02")
    assert bad.kind == "unknown"


def test_template_cannot_reach_attributes() -> None:
    abi = [{"type": "error", "name": "E", "inputs": [{"name": "a", "type": "uint256"}]}]
    dec = RevertDecoder([abi], messages={"E": "value {a.__class__} {a} {missing}"})
    msg = dec.decode(_sel("E(uint256)") + encode(["uint256"], [3])).message
    assert msg == "value {a.__class__} 3 {missing}"


# ----------------------------------------------------------------- against Anvil

def test_simulate_require_message(client: ChainClient, reverter: Deployed) -> None:
    with pytest.raises(TransactionReverted) as exc:
        simulate(client, _call(reverter, "requireFails()"))
    assert str(exc.value) == ('The transaction would fail: The contract said "Deadline '
                              'passed". Nothing was signed or sent.')
    assert exc.value.error_name == "Error"


def test_simulate_panic_division_by_zero(client: ChainClient, reverter: Deployed) -> None:
    with pytest.raises(TransactionReverted, match=r"division .* zero .*panic 0x12"):
        eth_call(client, _call(reverter, "divide(uint256)", ["uint256"], [0]))
    with pytest.raises(TransactionReverted, match=r"overflow.*panic 0x11"):
        eth_call(client, _call(reverter, "overflow(uint256)", ["uint256"], [2]))
    with pytest.raises(TransactionReverted, match=r"assert.*panic 0x01"):
        estimate_gas(client, _call(reverter, "assertFails()"))


def test_simulate_custom_error(client: ChainClient, reverter: Deployed) -> None:
    dec = RevertDecoder([reverter.abi], messages={"SlippageExceeded": SLIPPAGE_TEXT})
    with pytest.raises(TransactionReverted) as exc:
        simulate(client, _call(reverter, "slippage(uint256)", ["uint256"], [990]), decoder=dec)
    assert exc.value.error_name == "SlippageExceeded"
    assert "you would get 990 shares, below your minimum of 1000" in str(exc.value)
    # Registered ABI, no message: the error's name; bare revert(): no reason.
    with pytest.raises(TransactionReverted, match=r"rejected it \(Mystery\)"):
        simulate(client, _call(reverter, "mystery()"), decoder=dec)
    with pytest.raises(TransactionReverted, match="without giving a reason"):
        simulate(client, _call(reverter, "bare()"), decoder=dec)


def test_simulate_success_gives_gas_with_margin(client: ChainClient,
                                                reverter: Deployed) -> None:
    with client.provider.measure() as window:
        sim = simulate(client, _call(reverter, "divide(uint256)", ["uint256"], [4]))
    assert int.from_bytes(sim.return_data, "big") == 25
    assert sim.gas_limit == -(-sim.gas_expected * 12_000 // 10_000)  # +20 %
    assert window.requests == 2  # eth_call + eth_estimateGas
    transfer = simulate(client, {"from": anvil_account(2).address,
                                 "to": anvil_account(3).address, "value": 1})
    assert transfer.gas_expected == transfer.gas_limit == 21_000


def test_web3_contract_errors_are_mapped(client: ChainClient, reverter: Deployed) -> None:
    contract = client.w3.eth.contract(address=client.w3.to_checksum_address(reverter.address),
                                      abi=reverter.abi)
    dec = RevertDecoder([reverter.abi], messages={"SlippageExceeded": SLIPPAGE_TEXT})
    with pytest.raises(ContractLogicError) as raw:
        contract.functions.slippage(5).call()
    mapped = error_from_web3(raw.value, dec)
    assert isinstance(mapped, TransactionReverted) and mapped.error_name == "SlippageExceeded"
    assert error_from_web3(ValueError("x"), dec) is None
