"""wallet_app.governance: timelock calls in words, operation ids, calldata round trips.
Pure functions, no chain (the chain path is in tests/test_deploy_index.py)."""

from __future__ import annotations

from eth_abi import decode as abi_decode
from eth_utils import keccak

from wallet_app import governance as gov

VAULT = "0x" + "11" * 20
TL = "0x" + "22" * 20
BTC = "0x" + "33" * 20
FEED = "0x" + "44" * 20
NAMES = {BTC: "BTC"}


def _say(target: str, data: bytes) -> str:
    return gov.describe_call(target, data, vault=VAULT, timelock=TL, names=NAMES)


def test_owner_changes_read_as_sentences() -> None:
    f = "0x4444444444444444444444444444444444444444"
    assert _say(VAULT, gov.set_feed(VAULT, BTC, FEED, 3600)[2]) == "BTC's price feed changes"
    assert _say(VAULT, gov.add_constituent(VAULT, BTC, FEED, 86_400)[2]) == \
        "BTC joins the index"
    assert _say(VAULT, gov.remove_constituent(VAULT, BTC)[2]) == "BTC leaves the index"
    assert _say(VAULT, gov.set_fees(VAULT, 30, 5)[2]) == \
        "the fees change to 0.30% on buys and 0.05% on sells"
    assert _say(VAULT, gov.calldata("setRole", 3, FEED)) == \
        f"the fee recipient changes to {f}"
    assert _say(TL, gov.calldata("updateDelay", 172_800)) == \
        "the timelock's delay changes to 2 d"
    assert _say(TL, gov.calldata("grantRole", keccak(text="PROPOSER_ROLE"), FEED)) == \
        f"{f} becomes a timelock proposer"
    unknown_token = "0x" + "55" * 20
    assert _say(VAULT, gov.calldata("removeConstituent", unknown_token)).startswith(
        "the token 0x555555")
    # The owner also sees the exact call, argument by argument (from the vault's ABI).
    call = gov.decoded_call(VAULT, gov.set_feed(VAULT, BTC, FEED, 3600)[2], vault=VAULT,
                            timelock=TL, names=NAMES)
    assert call.function == "setFeed" and call.args["heartbeat"] == 3600
    assert call.detail == f"setFeed(token={gov.to_checksum_address(BTC)}, feed={f}, " \
        "heartbeat=3600)"


def test_unknown_calls_and_other_targets_are_never_guessed() -> None:
    assert _say(VAULT, bytes.fromhex("deadbeef") + b"\x00" * 32).startswith(
        "unrecognised call deadbeef")
    other = "0x" + "66" * 20
    assert _say(other, gov.set_fees(VAULT, 1, 1)[2]).startswith("unrecognised call")
    assert "undecodable" in _say(VAULT, gov.calldata("setFees", 1, 1)[:10])
    # A vault selector sent to the timelock is not read as the vault's function.
    assert _say(TL, gov.set_fees(VAULT, 1, 1)[2]).startswith("unrecognised call")
    assert gov.decoded_call(other, b"", vault=VAULT, timelock=TL).function == ""


def test_operation_id_and_calldata_match_the_timelock_encoding() -> None:
    salt = "0x" + "ab" * 32
    one = [gov.set_fees(VAULT, 10, 20)]
    two = [*one, gov.remove_constituent(VAULT, BTC)]
    assert gov.operation_id(one, gov.ZERO32, salt) != gov.operation_id(two, gov.ZERO32, salt)
    data = gov.schedule_data(two, salt, 3600)
    assert data[:4] == keccak(
        text="scheduleBatch(address[],uint256[],bytes[],bytes32,bytes32,uint256)")[:4]
    targets, values, payloads, pred, s, delay = abi_decode(
        ["address[]", "uint256[]", "bytes[]", "bytes32", "bytes32", "uint256"], data[4:])
    assert [p for p in payloads] == [c[2] for c in two] and delay == 3600
    assert s == bytes.fromhex(salt[2:]) and values == (0, 0)
    op = gov.TimelockOperation(
        gov.operation_id(one, gov.ZERO32, salt),
        tuple(gov.OperationCall(t, v, d, "") for t, v, d in one), gov.ZERO32, salt, 3600,
        1, 1_000, 4_600, "pending")
    ex = gov.execute_data(op)
    assert ex[:4] == keccak(text="execute(address,uint256,bytes,bytes32,bytes32)")[:4]
    assert op.when(1_000) == "in 1 h" and op.when(1_001) == "in 60 min"  # rounded up
    assert op.when(4_600).startswith("now")
    assert gov.TimelockOperation("0x", (), gov.ZERO32, salt, 0, 1, 0, 0, "done").when(9) == \
        "executed"
