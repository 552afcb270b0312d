"""Keystore v3: round trips, interoperability with eth-account, and damaged files."""

from __future__ import annotations

import json
import time

import pytest
from eth_account import Account

from tests.test_keys_support import *  # noqa: F403 - fixtures
from tests.test_keys_support import ANVIL_ADDRESSES, ANVIL_KEY0, TEST_SCRYPT_N
from wallet_app.keys import CorruptKeystore, InvalidPassword
from wallet_app.keys import keystore as ks

KEY = bytes.fromhex(ANVIL_KEY0[2:])
PW = "correct horse battery staple"


def test_round_trip_standard_and_fields() -> None:
    doc = ks.encrypt(KEY, PW, address=ANVIL_ADDRESSES[0])
    assert doc["version"] == 3 and doc["crypto"]["kdf"] == "scrypt"
    params = doc["crypto"]["kdfparams"]
    assert (params["n"], params["r"], params["p"], params["dklen"]) == (TEST_SCRYPT_N, 8, 1, 32)
    assert doc["address"] == ANVIL_ADDRESSES[0].lower()[2:]
    assert ks.EXTENSION not in doc
    assert bytes(ks.decrypt(ks.parse(ks.dumps(doc)), PW)) == KEY
    assert KEY.hex() not in ks.dumps(doc)


def test_salt_and_iv_are_fresh() -> None:
    a, b = ks.encrypt(KEY, PW), ks.encrypt(KEY, PW)
    assert a["crypto"]["kdfparams"]["salt"] != b["crypto"]["kdfparams"]["salt"]
    assert a["crypto"]["cipherparams"]["iv"] != b["crypto"]["cipherparams"]["iv"]
    assert a["crypto"]["ciphertext"] != b["crypto"]["ciphertext"]


def test_our_keystore_decrypts_with_eth_account() -> None:
    doc = ks.encrypt(KEY, PW, address=ANVIL_ADDRESSES[0])
    assert bytes(Account.decrypt(ks.dumps(doc), PW)) == KEY


@pytest.mark.parametrize("kdf", ["scrypt", "pbkdf2"])
def test_eth_account_keystores_decrypt_here(kdf: str) -> None:
    doc = Account.encrypt(KEY, PW, kdf=kdf, iterations=1024 if kdf == "scrypt" else 2000)
    assert bytes(ks.decrypt(ks.parse(json.dumps(doc)), PW)) == KEY


def test_wrong_password_is_told_apart_from_damage() -> None:
    doc = ks.encrypt(KEY, PW)
    with pytest.raises(InvalidPassword) as ei:
        ks.decrypt(doc, PW + "x", what="the keystore file")
    assert "password for the keystore file is wrong" in str(ei.value)
    assert PW not in str(ei.value)


def test_unicode_passwords_round_trip() -> None:
    pw = "pässwörd-日本語-🔑"
    assert bytes(ks.decrypt(ks.encrypt(KEY, pw), pw)) == KEY
    assert bytes(Account.decrypt(ks.dumps(ks.encrypt(KEY, pw)), pw)) == KEY


#: A valid keystore made before any test patches hashlib.
_STANDARD_DOC = json.loads(ks.dumps(ks.encrypt(KEY, PW, n=1024)))


def _damaged(mutate) -> dict:  # noqa: ANN001
    doc = json.loads(ks.dumps(ks.encrypt(KEY, PW)))
    mutate(doc)
    return doc


@pytest.mark.parametrize(("mutate", "fragment"), [
    (lambda d: d.update(version=4), "version 4"),
    (lambda d: d.pop("crypto"), "no 'crypto'"),
    (lambda d: d["crypto"].pop("mac"), "lacks 'mac'"),
    (lambda d: d["crypto"].update(cipher="aes-256-gcm"), "cipher"),
    (lambda d: d["crypto"].update(kdf="argon2"), "key derivation"),
    (lambda d: d["crypto"].update(mac="zz"), "not hexadecimal"),
    (lambda d: d["crypto"].update(mac="00" * 16), "expected 32"),
    (lambda d: d["crypto"]["cipherparams"].update(iv="00"), "expected 16"),
    (lambda d: d["crypto"].update(ciphertext=""), "empty"),
    (lambda d: d["crypto"]["kdfparams"].update(n=2**24), "MiB"),
    (lambda d: d["crypto"]["kdfparams"].update(n=1000), "power of two"),
    (lambda d: d["crypto"]["kdfparams"].update(r=-1), "'r'"),
    (lambda d: d["crypto"]["kdfparams"].update(dklen=16), "dklen"),
    # 128 * r * n * p is exactly 1 GiB, the B buffer (128 * r * p) tips it over the ceiling:
    # the guard counts it, so nothing is allocated (the old 128 * r * n * p let it through).
    (lambda d: d["crypto"]["kdfparams"].update(n=2**20, r=8, p=1), "1025 MiB"),
    # Within the memory ceiling but refused by the library (OpenSSL wants n < 2**(16 r)):
    # its ValueError is the named corrupt-keystore error, not a crash.
    (lambda d: d["crypto"]["kdfparams"].update(n=2**17, r=1, p=1), "derivation refused"),
    (lambda d: d["crypto"]["kdfparams"].update(n=2, r=1, p=2**29), "MiB"),
    (lambda d: d["crypto"].update(kdf="pbkdf2", kdfparams={
        "prf": "hmac-sha256", "c": 2**40, "dklen": 32, "salt": "00"}), "rounds"),
])
def test_corrupt_keystores(mutate, fragment: str) -> None:  # noqa: ANN001
    with pytest.raises(CorruptKeystore) as ei:
        ks.decrypt(ks.parse(json.dumps(_damaged(mutate))), PW)
    assert fragment in str(ei.value)


def test_scrypt_memory_is_the_rfc_bound() -> None:
    assert ks.scrypt_memory(2**18, 8, 1) == 128 * 8 * 2**18 + 128 * 8
    assert ks.scrypt_memory(2**10, 8, 4) == 128 * 8 * 2**10 * 4 + 128 * 8 * 4


def test_kdf_library_errors_become_corrupt_keystore(monkeypatch: pytest.MonkeyPatch) -> None:
    """MemoryError (or any refusal) from hashlib.scrypt is the named error, with no trace of
    the library's own text."""
    def no_memory(*_a: object, **_k: object) -> bytes:
        raise MemoryError("cannot allocate 262144 kB")

    monkeypatch.setattr(ks.hashlib, "scrypt", no_memory)
    with pytest.raises(CorruptKeystore) as ei:
        ks.decrypt(_STANDARD_DOC, PW)
    assert "refused" in str(ei.value) and "kB" not in str(ei.value)


def test_tampered_ciphertext_fails_the_mac() -> None:
    doc = ks.encrypt(KEY, PW)
    ct = doc["crypto"]["ciphertext"]
    doc["crypto"]["ciphertext"] = ("0" if ct[0] != "0" else "1") + ct[1:]
    with pytest.raises(InvalidPassword):
        ks.decrypt(doc, PW)


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "not valid JSON"),
    ('{"version": 3, "crypto": {"cipher"', "not valid JSON"),
    ("[1, 2]", "not an object"),
    ("x" * 70_000, "64 KiB"),
    (b"\xff\xfe\x00", "not valid JSON"),
])
def test_unparseable(text: str | bytes, fragment: str) -> None:
    with pytest.raises(CorruptKeystore, match=fragment):
        ks.parse(text)


def test_truncated_real_keystore() -> None:
    text = ks.dumps(ks.encrypt(KEY, PW))
    with pytest.raises(CorruptKeystore):
        ks.parse(text[: len(text) // 2])


def test_mnemonic_payload_layout() -> None:
    entropy = bytes(range(32))
    buf = ks.encode_mnemonic_payload(entropy, "cafe\u0301")
    assert buf[0] == 1 and buf[1] == 32 and bytes(buf[2:34]) == entropy
    back, passphrase = ks.decode_mnemonic_payload(buf)
    assert bytes(back) == entropy and passphrase == "cafe\u0301"
    for bad in (b"", b"\x02\x10" + bytes(16), b"\x01\x11" + bytes(17), b"\x01\x20" + bytes(5)):
        with pytest.raises(CorruptKeystore):
            ks.decode_mnemonic_payload(bad)


def test_test_scrypt_switch_only_works_inside_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ks.scrypt_n() == TEST_SCRYPT_N
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert ks.scrypt_n() == 2**18
    monkeypatch.delenv("G100_TEST_SCRYPT_N")
    assert ks.scrypt_n() == ks.SCRYPT_N == 2**18


def test_production_cost_measured(monkeypatch: pytest.MonkeyPatch,
                                  record_property) -> None:  # noqa: ANN001
    """One real n=2**18 keystore: encrypt + decrypt time is reported (and bounded)."""
    monkeypatch.delenv("G100_TEST_SCRYPT_N")
    t0 = time.perf_counter()
    doc = ks.encrypt(KEY, PW)
    t1 = time.perf_counter()
    assert bytes(ks.decrypt(doc, PW)) == KEY
    t2 = time.perf_counter()
    assert doc["crypto"]["kdfparams"]["n"] == 2**18
    record_property("scrypt_n18_encrypt_s", round(t1 - t0, 3))
    record_property("scrypt_n18_decrypt_s", round(t2 - t1, 3))
    print(f"\nscrypt n=2**18: encrypt {t1 - t0:.3f}s, decrypt {t2 - t1:.3f}s")
    assert t1 - t0 < 10 and t2 - t1 < 10
