"""After exercising everything, no key, phrase, seed, passphrase or password is found in
plaintext: not in the data dir, config, logs (raw records before redaction, and the
written log file), any journal file, the keyring entries, error messages or reprs.

Named ``zz`` so that it runs last among the key tests; it uses freshly generated secrets
so that a match can only be a leak.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from keyring.backend import KeyringBackend
from keyring.backends import fail

from tests.test_keys_support import *  # noqa: F403 - fixtures
from tests.test_keys_support import TrackingManager, keyring_entries, unique_name
from wallet_app.cli.main import main
from wallet_app.config import Settings
from wallet_app.keys import CustodyError, RecoveryPhrase, WalletManager, permit_typed_data
from wallet_app.keys.derivation import derive_account_key
from wallet_app.logs import JsonFormatter
from wallet_app.paths import AppPaths

pytestmark = pytest.mark.keyring


class RawCapture(logging.Handler):
    """Keeps every record's full text *before* the redaction filter, to judge the code
    itself rather than the safety net."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.args!r} {record.exc_text or ''}")


@pytest.fixture
def captured_logs(app_home: AppPaths) -> Iterator[RawCapture]:
    logger = logging.getLogger("wallet_app")
    raw = RawCapture()
    file_handler = logging.FileHandler(app_home.log_dir / "app.log", encoding="utf-8")
    file_handler.setFormatter(JsonFormatter())
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(raw)
    logger.addHandler(file_handler)
    try:
        yield raw
    finally:
        logger.removeHandler(raw)
        logger.removeHandler(file_handler)
        file_handler.close()
        logger.setLevel(old_level)


def needles_for_phrase(phrase: RecoveryPhrase) -> list[bytes]:
    words = phrase.words
    out = [" ".join(words).encode(), bytes(phrase.entropy()), phrase.entropy().hex().encode(),
           phrase.seed().reveal().hex().encode(), phrase.seed().reveal()]
    out += [" ".join(words[i:i + 3]).encode() for i in range(len(words) - 2)]
    if phrase.passphrase:
        out.append(phrase.passphrase.encode())
    return out


def needles_for_key(key: bytes) -> list[bytes]:
    h = key.hex()
    return [key, h.encode(), h.upper().encode(), ("0x" + h).encode()]


def run_cli(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "",
            **env: str) -> int:
    """One command, as its own process would get it: the CLI takes secret variables out of
    the environment when it starts, so each call is given its own."""
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(argv))


def test_no_secret_in_plaintext_anywhere(kr_manager: TrackingManager, app_home: AppPaths,
                                         secret_service: KeyringBackend,
                                         captured_logs: RawCapture,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    needles: list[bytes] = []
    messages: list[str] = []
    pw1 = "Scan-" + secrets.token_urlsafe(12)
    pw2 = "Scan-" + secrets.token_urlsafe(12)
    needles += [pw1.encode(), pw2.encode()]

    # A phrase wallet with a passphrase: create, back up, reveal, add, unlock, sign, export.
    a = unique_name("scan")
    passphrase = "pp-" + secrets.token_hex(8)
    info, phrase = kr_manager.create(a, pw1, passphrase=passphrase, accounts=2)
    needles += needles_for_phrase(phrase)
    seed = phrase.seed()
    for i in range(3):
        needles += needles_for_key(derive_account_key(seed, i).reveal())
    positions = kr_manager.backup_challenge(a)
    assert kr_manager.verify_backup(a, {p: phrase.words[p - 1] for p in positions}, pw1)
    assert kr_manager.reveal_mnemonic(a, pw1) == phrase
    kr_manager.add_account(a, pw1)
    kr_manager.unlock(a, pw1)
    messages.append(repr(kr_manager._session._wallets))
    raw = kr_manager.sign_transaction(a, 1, {
        "chainId": 31337, "nonce": 0, "gas": 21000, "maxFeePerGas": 10**9,
        "maxPriorityFeePerGas": 1, "to": info.addresses[0], "value": 5}, 31337)
    assert Account.recover_transaction(raw) == info.addresses[1]
    sig = kr_manager.sign_typed_data(a, 0, permit_typed_data(
        token_name="USD Coin", version="2", chain_id=31337,
        verifying_contract=info.addresses[1], owner=info.addresses[0],
        spender=info.addresses[1], value=1, nonce=0, deadline=2**32), 31337)
    messages.append(repr(sig))
    exported = kr_manager.export_keystore(a, pw1, 1)
    (app_home.data_dir / "export.json").write_text(exported)  # what a user might save
    kr_manager.change_password(a, pw1, pw2)
    kr_manager.lock()

    # A private-key wallet and a keystore import.
    b, c = unique_name("scank"), unique_name("scanks")
    key_b, key_c = secrets.token_bytes(32), secrets.token_bytes(32)
    needles += needles_for_key(key_b) + needles_for_key(key_c)
    kr_manager.import_private_key(b, "0x" + key_b.hex(), pw1, unlock=True)
    kr_manager.import_keystore(c, json.dumps(Account.encrypt(key_c, "ks-" + pw2,
                                                             iterations=1024)), "ks-" + pw2, pw1)
    kr_manager.export_keystore(c, pw1)

    # Bad inputs: each error message is kept for the scan.
    words = phrase.words
    bad_calls = [
        lambda: kr_manager.unlock(a, pw1),
        lambda: kr_manager.import_mnemonic(unique_name("x"), " ".join(words[:-1]), pw1),
        lambda: kr_manager.import_mnemonic(unique_name("x"), " ".join(words[1:] + words[:1]),
                                           pw1),
        lambda: kr_manager.import_private_key(unique_name("x"), key_b.hex()[:-1] + "z", pw1),
        lambda: kr_manager.import_private_key(unique_name("x"), "0x" + key_b.hex(), pw1),
        lambda: kr_manager.reveal_mnemonic(a, pw1),
        lambda: kr_manager.change_password(a, pw2, pw1[:5]),
        lambda: kr_manager.import_keystore(unique_name("x"), exported[:-9], pw1, pw2),
        lambda: kr_manager.sign_transaction(a, 0, {"chainId": 1}, 31337),
    ]
    for call in bad_calls:
        with pytest.raises(CustodyError) as ei:
            call()
        messages.append(str(ei.value))
        messages.append(repr(ei.value))

    # The CLI too (it prints the phrase to stdout on purpose; files must stay clean).
    d = unique_name("scancli")
    kr_manager.created.append(d)
    assert run_cli(monkeypatch, "wallet", "create", d, "--json", G100_WALLET_PASSWORD=pw1) == 0
    cli_words = json.loads(capsys.readouterr().out)["mnemonic"]
    needles += needles_for_phrase(RecoveryPhrase.from_phrase(" ".join(cli_words)))
    assert run_cli(monkeypatch, "wallet", "reveal", d, G100_WALLET_PASSWORD=pw1) == 0
    assert run_cli(monkeypatch, "wallet", "unlock", d, G100_WALLET_PASSWORD=pw1) == 0

    # The encrypted-file fallback in the same home.
    file_mgr = WalletManager(app_home, Settings(allow_file_keystore=True),
                             keyring_backend=fail.Keyring())
    e = unique_name("scanfile")
    _, file_phrase = file_mgr.create(e, pw1, words=12)
    needles += needles_for_phrase(file_phrase)
    file_mgr.unlock(e, pw1)
    file_mgr.change_password(e, pw1, pw2)
    file_mgr.close()
    messages += [repr(kr_manager), repr(phrase), repr(file_phrase), repr(info)]
    capsys.readouterr()

    # ------------------------------------------------------------------ the scan
    files = [p for p in Path(app_home.data_dir).parent.rglob("*") if p.is_file()]
    assert app_home.wallets_file in files
    assert any(p.suffix == ".json" and "keystores" in p.parts for p in files)
    log_file = app_home.log_dir / "app.log"
    assert log_file in files and log_file.stat().st_size > 0, "nothing was logged"
    assert len(captured_logs.lines) >= 10
    journal = app_home.journal_file
    blobs = {str(p): p.read_bytes() for p in files}
    if journal.exists():
        blobs["journal"] = journal.read_bytes()
    blobs["raw log records"] = "\n".join(captured_logs.lines).encode()
    blobs["messages and reprs"] = "\n".join(messages).encode()
    for name in kr_manager.created:
        for entry, value in keyring_entries(secret_service, name).items():
            blobs[f"keyring:{entry}"] = value.encode()
    assert any(k.startswith("keyring:") for k in blobs)

    leaks = [(where, needle[:12]) for where, blob in blobs.items() for needle in needles
             if needle and needle in blob]
    assert not leaks, f"plaintext secret material found: {leaks[:5]}"
