"""Cross-checks with a second implementation, Foundry's cast, through the WalletManager
on the real OS keyring: derived addresses, exported keystores, imported cast keystores."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from eth_account import Account

from tests.test_keys_support import *  # noqa: F403 - fixtures
from tests.test_keys_support import (
    PASSWORD,
    PASSWORD2,
    TrackingManager,
    run_cast,
    unique_name,
)
from wallet_app.keys import InvalidPassword

pytestmark = pytest.mark.keyring


def test_created_wallet_addresses_equal_cast(kr_manager: TrackingManager,
                                             cast_bin: Path) -> None:
    name = unique_name("castaddr")
    info, phrase = kr_manager.create(name, PASSWORD, words=24, passphrase="sea shell",
                                     accounts=3)
    kr_manager.add_account(name, PASSWORD)
    for acc in kr_manager.get(name).accounts:
        out = run_cast(cast_bin, "wallet", "address", "--mnemonic", phrase.phrase,
                       "--mnemonic-passphrase", "sea shell",
                       "--mnemonic-index", str(acc.index))
        assert out == acc.address, acc.path
    assert len(kr_manager.get(name).accounts) == 4


@pytest.mark.parametrize("cost", ["test", "production"])
def test_exported_keystore_decrypts_with_cast(kr_manager: TrackingManager, cast_bin: Path,
                                              tmp_path: Path, cost: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    name = unique_name("castexp")
    _, phrase = kr_manager.create(name, PASSWORD, words=12, accounts=2)
    if cost == "production":
        monkeypatch.delenv("G100_TEST_SCRYPT_N")  # n = 2**18, what users get
    exported = kr_manager.export_keystore(name, PASSWORD, account_index=1)
    folder = tmp_path / "keystores"
    folder.mkdir()
    (folder / "exported").write_text(exported)
    out = run_cast(cast_bin, "wallet", "decrypt-keystore", "-k", str(folder), "exported",
                   env={"CAST_UNSAFE_PASSWORD": PASSWORD})
    key = re.search(r"0x[0-9a-fA-F]{64}", out)
    assert key, "cast printed no key"
    expected = run_cast(cast_bin, "wallet", "private-key", "--mnemonic", phrase.phrase,
                        "--mnemonic-index", "1")
    assert key.group(0).lower() == expected.lower()
    assert Account.from_key(key.group(0)).address == kr_manager.get(name).addresses[1]


def test_cast_keystore_imports(kr_manager: TrackingManager, cast_bin: Path,
                               tmp_path: Path) -> None:
    folder = tmp_path / "ks"
    folder.mkdir()
    out = run_cast(cast_bin, "wallet", "new", str(folder), "fromcast",
                   env={"CAST_PASSWORD": "cast-side-password"})
    address = re.search(r"0x[0-9a-fA-F]{40}", out)
    assert address
    text = (folder / "fromcast").read_text()
    name = unique_name("castimp")
    with pytest.raises(InvalidPassword, match="keystore file"):
        kr_manager.import_keystore(name, text, "not-the-password", PASSWORD)
    assert kr_manager.list() == []
    info = kr_manager.import_keystore(name, text.encode(), "cast-side-password", PASSWORD2)
    assert info.kind == "private_key" and info.addresses == [address.group(0)]
    kr_manager.unlock(name, PASSWORD2)
    raw = kr_manager.sign_transaction(name, 0, {
        "chainId": 31337, "nonce": 0, "gas": 21000, "maxFeePerGas": 10**9,
        "maxPriorityFeePerGas": 1, "to": address.group(0), "value": 0}, 31337)
    assert Account.recover_transaction(raw) == address.group(0)
