"""BIP-32 test vectors, BIP-44 Ethereum addresses, and a cross-check with Foundry's cast."""

# ruff: noqa: E501 - official test vectors are kept on one line each, as published
from __future__ import annotations

import pytest

from tests.test_keys_bip39 import decode_xprv
from tests.test_keys_support import *  # noqa: F403 - fixtures
from tests.test_keys_support import ANVIL_ADDRESSES, ANVIL_KEY0, ANVIL_MNEMONIC, run_cast
from wallet_app.keys import InvalidPrivateKey, RecoveryPhrase
from wallet_app.keys.derivation import (
    account_path,
    address_of,
    derive,
    derive_account_key,
    parse_path,
    parse_private_key,
)

# BIP-32 "Test vector 1" and "Test vector 2" (bitcoin/bips bip-0032.mediawiki): ext prv.
TV1_SEED = "000102030405060708090a0b0c0d0e0f"
TV1 = [
    ("m", "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi"),
    ("m/0'", "xprv9uHRZZhk6KAJC1avXpDAp4MDc3sQKNxDiPvvkX8Br5ngLNv1TxvUxt4cV1rGL5hj6KCesnDYUhd7oWgT11eZG7XnxHrnYeSvkzY7d2bhkJ7"),
    ("m/0'/1", "xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboyZQaXwTCg8MSY3H2EU4pWcQDnRnrVA1xe8fs"),
    ("m/0'/1/2'", "xprv9z4pot5VBttmtdRTWfWQmoH1taj2axGVzFqSb8C9xaxKymcFzXBDptWmT7FwuEzG3ryjH4ktypQSAewRiNMjANTtpgP4mLTj34bhnZX7UiM"),
    ("m/0'/1/2'/2", "xprvA2JDeKCSNNZky6uBCviVfJSKyQ1mDYahRjijr5idH2WwLsEd4Hsb2Tyh8RfQMuPh7f7RtyzTtdrbdqqsunu5Mm3wDvUAKRHSC34sJ7in334"),
    ("m/0'/1/2'/2/1000000000", "xprvA41z7zogVVwxVSgdKUHDy1SKmdb533PjDz7J6N6mV6uS3ze1ai8FHa8kmHScGpWmj4WggLyQjgPie1rFSruoUihUZREPSL39UNdE3BBDu76"),
]
TV2_SEED = ("fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a87"
            "84817e7b7875726f6c696663605d5a5754514e4b484542")
TV2 = [
    ("m", "xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2emdEXVYsCzC2U"),
    ("m/0", "xprv9vHkqa6EV4sPZHYqZznhT2NPtPCjKuDKGY38FBWLvgaDx45zo9WQRUT3dKYnjwih2yJD9mkrocEZXo1ex8G81dwSM1fwqWpWkeS3v86pgKt"),
    ("m/0/2147483647'", "xprv9wSp6B7kry3Vj9m1zSnLvN3xH8RdsPP1Mh7fAaR7aRLcQMKTR2vidYEeEg2mUCTAwCd6vnxVrcjfy2kRgVsFawNzmjuHc2YmYRmagcEPdU9"),
    ("m/0/2147483647'/1", "xprv9zFnWC6h2cLgpmSA46vutJzBcfJ8yaJGg8cX1e5StJh45BBciYTRXSd25UEPVuesF9yog62tGAQtHjXajPPdbRCHuWS6T8XA2ECKADdw4Ef"),
    ("m/0/2147483647'/1/2147483646'", "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc"),
    ("m/0/2147483647'/1/2147483646'/2", "xprvA2nrNbFZABcdryreWet9Ea4LvTJcGsqrMzxHx98MMrotbir7yrKCEXw7nadnHM8Dq38EGfSh6dqA9QWTyefMLEcBYJUuekgW4BYPJcr9E7j"),
]


@pytest.mark.parametrize(("seed", "path", "xprv"),
                         [(TV1_SEED, p, x) for p, x in TV1] + [(TV2_SEED, p, x) for p, x in TV2])
def test_bip32_vectors(seed: str, path: str, xprv: str) -> None:
    node = derive(bytes.fromhex(seed), path)
    chain, key = decode_xprv_any(xprv)
    assert node.chain_code == chain
    assert node.key == key
    assert "hidden" in repr(node) and key.hex() not in repr(node)


def decode_xprv_any(xprv: str) -> tuple[bytes, bytes]:
    """Like decode_xprv but for any depth (the depth byte is not checked here)."""
    import hashlib

    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n = 0
    for c in xprv:
        n = n * 58 + alphabet.index(c)
    raw = n.to_bytes(82, "big")
    payload = raw[:-4]
    assert hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == raw[-4:]
    return payload[13:45], payload[46:78]


def test_decoders_agree_on_master() -> None:
    assert decode_xprv(TV1[0][1]) == decode_xprv_any(TV1[0][1])


def test_bip44_anvil_accounts() -> None:
    """The well-known Anvil/Hardhat dev accounts of 'test test ... junk'."""
    phrase = RecoveryPhrase.from_phrase(ANVIL_MNEMONIC)
    seed = phrase.seed()
    keys = [derive_account_key(seed, i) for i in range(len(ANVIL_ADDRESSES))]
    assert [address_of(k) for k in keys] == ANVIL_ADDRESSES
    assert "0x" + keys[0].reveal().hex() == ANVIL_KEY0


def test_bip44_abandon_about() -> None:
    """The first account of the all-zero 12-word phrase (MetaMask/Ledger documentation)."""
    phrase = RecoveryPhrase.from_phrase("abandon " * 11 + "about")
    key = derive_account_key(phrase.seed(), 0)
    assert address_of(key) == "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"


def test_paths() -> None:
    assert account_path(7) == "m/44'/60'/0'/0/7"
    assert parse_path("m/44'/60'/0'/0/1") == [0x8000002C, 0x8000003C, 0x80000000, 0, 1]
    for bad in ("44'/60'", "m/x", "m/2147483648", "m//1"):
        with pytest.raises(ValueError):
            parse_path(bad)


@pytest.mark.parametrize(("text", "fragment"), [
    ("0x1234", "has 4"),
    ("zz" * 32, "0-9 and a-f"),
    ("0x" + "g" * 64, "0-9 and a-f"),
    ("0x" + "00" * 32, "outside the valid secp256k1 range"),
    ("0x" + "ff" * 32, "outside the valid secp256k1 range"),
    ("abandon " * 11 + "about", "recovery phrase"),
    ("", "has 0"),
])
def test_bad_private_keys(text: str, fragment: str) -> None:
    with pytest.raises(InvalidPrivateKey) as ei:
        parse_private_key(text)
    assert fragment in str(ei.value)
    if len(text) > 8:
        assert text not in str(ei.value)


def test_private_key_parsing_variants() -> None:
    for text in (ANVIL_KEY0, ANVIL_KEY0[2:], "  " + ANVIL_KEY0.upper().replace("0X", "0x") + "\n"):
        assert address_of(parse_private_key(text)) == ANVIL_ADDRESSES[0]


# ---------------------------------------------------------------- cross-check with cast

def test_addresses_match_cast(cast_bin) -> None:  # noqa: ANN001
    """A fresh 24-word phrase, with and without passphrase, accounts 0..3, equals cast."""
    phrase = RecoveryPhrase.generate(24)
    for passphrase in ("", "correct horse"):
        seed = RecoveryPhrase(phrase.entropy(), passphrase).seed()
        for i in range(4):
            ours = address_of(derive_account_key(seed, i))
            args = ["wallet", "address", "--mnemonic", phrase.phrase, "--mnemonic-index", str(i)]
            if passphrase:
                args += ["--mnemonic-passphrase", passphrase]
            assert run_cast(cast_bin, *args) == ours


def test_twelve_word_addresses_match_cast(cast_bin) -> None:  # noqa: ANN001
    phrase = RecoveryPhrase.generate(12)
    seed = phrase.seed()
    ours = address_of(derive_account_key(seed, 5))
    theirs = run_cast(cast_bin, "wallet", "address", "--mnemonic", phrase.phrase,
                      "--mnemonic-index", "5")
    assert theirs == ours
