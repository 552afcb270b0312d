"""Signing: EIP-1559 transactions and EIP-712 permits, chain-id checks, cast cross-checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address
from keyring.backends import fail

from tests.test_keys_support import *  # noqa: F403 - fixtures
from tests.test_keys_support import (
    ANVIL_ADDRESSES,
    ANVIL_KEY0,
    ANVIL_MNEMONIC,
    PASSWORD,
    run_cast,
    unique_name,
)
from wallet_app.config import Settings
from wallet_app.keys import (
    ChainIdMismatch,
    InvalidTransaction,
    WalletLocked,
    WalletManager,
    permit_typed_data,
)
from wallet_app.paths import AppPaths

CHAIN = 31337
USDC = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
VAULT = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


@pytest.fixture
def wallet(app_home: AppPaths) -> Iterator[tuple[WalletManager, str]]:
    mgr = WalletManager(app_home, Settings(allow_file_keystore=True),
                        keyring_backend=fail.Keyring())
    name = unique_name("sign")
    mgr.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD, accounts=2, unlock=True)
    yield mgr, name
    mgr.close()


def tx(**over: Any) -> dict[str, Any]:
    base = {"type": 2, "chainId": CHAIN, "nonce": 7, "gas": 100_000,
            "maxFeePerGas": 30 * 10**9, "maxPriorityFeePerGas": 2 * 10**9,
            "to": VAULT, "value": 0, "data": "0xa9059cbb" + "00" * 64}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_signed_tx_recovers_and_decodes_with_cast(wallet: tuple[WalletManager, str],
                                                  cast_bin: Path) -> None:
    mgr, name = wallet
    signed = mgr.sign_transaction_full(name, 1, tx(), CHAIN)
    assert signed.raw[0] == 2  # EIP-2718 type byte
    assert Account.recover_transaction(signed.raw) == ANVIL_ADDRESSES[1] == signed.sender
    assert signed.nonce == 7 and signed.chain_id == CHAIN
    decoded = json.loads(run_cast(cast_bin, "decode-transaction", "0x" + signed.raw.hex()))
    if isinstance(decoded, str):  # cast prints the JSON as a JSON string
        decoded = json.loads(decoded)
    assert decoded["signer"].lower() == ANVIL_ADDRESSES[1].lower()
    assert int(decoded["chainId"], 16) == CHAIN and decoded["type"] == "0x2"
    assert decoded["hash"] == "0x" + signed.tx_hash.hex()
    assert mgr.sign_transaction(name, 0, tx(), CHAIN)[0] == 2


def test_refuses_another_chain_id(wallet: tuple[WalletManager, str]) -> None:
    mgr, name = wallet
    with pytest.raises(ChainIdMismatch) as ei:
        mgr.sign_transaction(name, 0, tx(chainId=1), CHAIN)
    assert "chain id 1" in str(ei.value) and f"chain id {CHAIN}" in str(ei.value)
    assert ei.value.exit_code == 22
    with pytest.raises(ChainIdMismatch):
        mgr.sign_transaction(name, 0, tx(), 1)
    with pytest.raises(ChainIdMismatch):
        mgr.sign_transaction(name, 0, tx(chainId=str(CHAIN)), CHAIN)
    mgr.lock()
    with pytest.raises(ChainIdMismatch):  # checked before the lock state: no key touched
        mgr.sign_transaction(name, 0, tx(chainId=5), CHAIN)
    with pytest.raises(WalletLocked):
        mgr.sign_transaction(name, 0, tx(), CHAIN)


@pytest.mark.parametrize(("over", "fragment"), [
    ({"chainId": None}, "no chainId"),
    ({"gasPrice": 10**9}, "Legacy"),
    ({"type": 1}, "type 2"),
    ({"type": 0}, "type 2"),
    ({"blobVersionedHashes": []}, "Unexpected"),
    ({"gas": None}, "lacks gas"),
    ({"gas": 0}, "gas limit is zero"),
    ({"nonce": -1}, "non-negative"),
    ({"value": 1.5}, "non-negative integer"),
    ({"maxPriorityFeePerGas": 31 * 10**9}, "above maxFeePerGas"),
    ({"to": "0x5fbdb2315678afecb367f032d93f642f64180aA3"}, "checksum"),
    ({"to": "0x1234"}, "not an address"),
    ({"from": ANVIL_ADDRESSES[2]}, "not the signing account"),
    ({"to": None, "data": None}, "contract code"),
    ({"data": "0xzz"}, "not hex"),
])
def test_malformed_transactions(wallet: tuple[WalletManager, str], over: dict[str, Any],
                                fragment: str) -> None:
    mgr, name = wallet
    with pytest.raises(InvalidTransaction, match=fragment):
        mgr.sign_transaction(name, 0, tx(**over), CHAIN)


def test_accepted_variants(wallet: tuple[WalletManager, str]) -> None:
    mgr, name = wallet
    for t in (tx(type=None), tx(data=b"\x01\x02"), tx(to=None, data="0x6080"),
              tx(**{"from": ANVIL_ADDRESSES[0]}), tx(to=VAULT.lower()),
              tx(accessList=[{"address": USDC, "storageKeys": []}])):
        assert Account.recover_transaction(mgr.sign_transaction(name, 0, t, CHAIN)) == \
            ANVIL_ADDRESSES[0]


def test_expected_chain_id_must_be_real(wallet: tuple[WalletManager, str]) -> None:
    mgr, name = wallet
    for bad in (0, -1, True):
        with pytest.raises(InvalidTransaction, match="no valid chain id"):
            mgr.sign_transaction(name, 0, tx(chainId=bad), bad)  # type: ignore[arg-type]


def permit(chain_id: int = CHAIN) -> dict[str, Any]:
    return permit_typed_data(token_name="USD Coin", version="2", chain_id=chain_id,
                             verifying_contract=USDC, owner=ANVIL_ADDRESSES[0],
                             spender=VAULT, value=1_000 * 10**6, nonce=0,
                             deadline=1_900_000_000)


def test_permit_signature_matches_cast(wallet: tuple[WalletManager, str], cast_bin: Path,
                                       tmp_path: Path) -> None:
    mgr, name = wallet
    data = permit()
    assert data["primaryType"] == "Permit" and data["domain"]["chainId"] == CHAIN
    sig = mgr.sign_typed_data(name, 0, data, CHAIN)
    assert len(sig.signature) == 65 and sig.v in (27, 28)
    assert sig.signature == sig.r_bytes + sig.s_bytes + bytes([sig.v])
    assert Account.recover_message(encode_typed_data(full_message=data),
                                   signature=sig.signature) == ANVIL_ADDRESSES[0]
    path = tmp_path / "permit.json"
    path.write_text(json.dumps(data))
    theirs = run_cast(cast_bin, "wallet", "sign", "--data", "--from-file", str(path),
                      "--private-key", ANVIL_KEY0)
    assert theirs == "0x" + sig.signature.hex()


def test_typed_data_chain_checks(wallet: tuple[WalletManager, str]) -> None:
    mgr, name = wallet
    with pytest.raises(ChainIdMismatch, match="signature request"):
        mgr.sign_typed_data(name, 0, permit(chain_id=1), CHAIN)
    no_chain = permit()
    del no_chain["domain"]["chainId"]
    no_chain["types"]["EIP712Domain"] = [f for f in no_chain["types"]["EIP712Domain"]
                                         if f["name"] != "chainId"]
    with pytest.raises(InvalidTransaction, match="no chainId"):
        mgr.sign_typed_data(name, 0, no_chain, CHAIN)
    unsigned_chain = permit()
    unsigned_chain["types"]["EIP712Domain"] = [f for f in unsigned_chain["types"]["EIP712Domain"]
                                               if f["name"] != "chainId"]
    with pytest.raises(InvalidTransaction, match="does not include chainId"):
        mgr.sign_typed_data(name, 0, unsigned_chain, CHAIN)
    broken = permit()
    broken["message"]["value"] = "lots"
    with pytest.raises(InvalidTransaction, match="malformed"):
        mgr.sign_typed_data(name, 0, broken, CHAIN)
    mgr.lock()
    with pytest.raises(WalletLocked):
        mgr.sign_typed_data(name, 0, permit(), CHAIN)


def test_permit_helper_validates() -> None:
    with pytest.raises(InvalidTransaction):
        permit_typed_data(token_name="USD Coin", version="2", chain_id=CHAIN,
                          verifying_contract=USDC, owner=ANVIL_ADDRESSES[0], spender=VAULT,
                          value=-1, nonce=0, deadline=1)
    for bad in ({"nonce": True}, {"deadline": 1.5}, {"chain_id": -1}):
        with pytest.raises(InvalidTransaction):
            permit_typed_data(**{**PERMIT_ARGS, **bad})
    # The manager's helper is the signer's (one definition), and what it builds is the
    # EIP-2612 Permit exactly: the domain and message as given, addresses checksummed.
    assert WalletManager.permit_typed_data is permit_typed_data
    data = WalletManager.permit_typed_data(**PERMIT_ARGS)
    assert data["primaryType"] == "Permit"
    assert [f["name"] for f in data["types"]["Permit"]] == [
        "owner", "spender", "value", "nonce", "deadline"]
    assert data["domain"] == {"name": "T", "version": "1", "chainId": 1,
                              "verifyingContract": to_checksum_address(USDC)}
    assert data["message"] == {"owner": to_checksum_address(VAULT),
                               "spender": to_checksum_address(ANVIL_ADDRESSES[0]),
                               "value": 1, "nonce": 0, "deadline": 1}


PERMIT_ARGS = {"token_name": "T", "version": "1", "chain_id": 1, "verifying_contract": USDC,
               "owner": VAULT, "spender": ANVIL_ADDRESSES[0], "value": 1, "nonce": 0,
               "deadline": 1}


def test_lock_zeroes_the_key_buffers(wallet: tuple[WalletManager, str]) -> None:
    """Plaintext keys live in bytearrays that are overwritten when the wallet locks."""
    mgr, name = wallet
    key0, _ = mgr._session.key(name, 0)
    key1, _ = mgr._session.key(name, 1)
    buffers = [key0.view(), key1.view()]
    assert all(any(b) for b in buffers)
    assert mgr.unlocked_names() == [name]
    mgr.lock(name)
    assert all(not any(b) for b in buffers)  # zeroed in place
    assert key0.wiped and key1.wiped
    with pytest.raises(RuntimeError):
        key0.reveal()
    assert mgr.unlocked_names() == []
