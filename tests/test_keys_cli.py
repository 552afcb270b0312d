"""`index-wallet wallet ...` end to end (in process) on the real OS keyring."""

from __future__ import annotations

import io
import json
import random
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from eth_account import Account
from keyring.backend import KeyringBackend
from keyring.backends import fail

from tests.test_keys_support import *  # noqa: F403 - fixtures
from tests.test_keys_support import (
    ANVIL_ADDRESSES,
    ANVIL_KEY0,
    ANVIL_MNEMONIC,
    PASSWORD,
    PASSWORD2,
    purge_keyring,
    tree_snapshot,
    unique_name,
)
from wallet_app.book.store import BookStore
from wallet_app.cli.main import main
from wallet_app.hardening import forget_secret_env
from wallet_app.paths import AppPaths, app_paths

pytestmark = pytest.mark.keyring


@pytest.fixture
def names(secret_service: KeyringBackend) -> Iterator[list[str]]:
    created: list[str] = []
    yield created
    purge_keyring(secret_service, created)


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str,
        stdin: str | None = None, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    forget_secret_env()  # each command as a fresh process: exactly the environment given
    for var in ("G100_WALLET_PASSWORD", "G100_NEW_WALLET_PASSWORD", "G100_KEYSTORE_PASSWORD",
                "G100_WALLET_MNEMONIC", "G100_WALLET_PASSPHRASE", "G100_WALLET_PRIVATE_KEY"):
        monkeypatch.delenv(var, raising=False)
    for k, v in (env or {}).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin or ""))
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_create_list_unlock(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                            names: list[str]) -> None:
    name = unique_name("cli")
    names.append(name)
    code, out, err = run(monkeypatch, capsys, "wallet", "create", name, "--words", "12",
                         "--accounts", "2", "--json", env={"G100_WALLET_PASSWORD": PASSWORD})
    assert code == 0, err
    data = json.loads(out)
    assert len(data["mnemonic"]) == 12 and data["wallet"]["name"] == name
    assert len(data["wallet"]["accounts"]) == 2
    assert "shown once" in err

    code, out, _ = run(monkeypatch, capsys, "wallet", "list", "--json")
    assert code == 0 and [w["name"] for w in json.loads(out)["wallets"]] == [name]
    code, out, _ = run(monkeypatch, capsys, "wallet", "list")
    assert name in out and data["wallet"]["accounts"][1]["address"] in out

    code, out, _ = run(monkeypatch, capsys, "wallet", "unlock", name, "--password-stdin",
                       stdin=PASSWORD + "\n")
    assert code == 0 and "Password OK" in out
    code, _, err = run(monkeypatch, capsys, "wallet", "unlock", name, "--password-stdin",
                       stdin=PASSWORD2 + "\n")
    assert code == 11 and "password" in err and PASSWORD2 not in err
    code, _, err = run(monkeypatch, capsys, "wallet", "unlock", name)
    assert code == 24 and "--password-stdin" in err and "G100_WALLET_PASSWORD" in err
    code, out, _ = run(monkeypatch, capsys, "wallet", "lock")
    assert code == 0 and "Nothing to lock" in out

    code, out, err = run(monkeypatch, capsys, "wallet", "reveal", name, "--json",
                         "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0 and json.loads(out)["mnemonic"] == data["mnemonic"]
    assert "Anyone who sees" in err


def test_passwords_are_not_accepted_on_argv(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        run(monkeypatch, capsys, "wallet", "unlock", "x", "--password", PASSWORD)
    assert ei.value.code == 2


def test_imports(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                 names: list[str], tmp_path: Path, app_home: AppPaths) -> None:
    a, b, c = unique_name("m"), unique_name("k"), unique_name("ks")
    names += [a, b, c]
    code, out, err = run(monkeypatch, capsys, "wallet", "import", a, "--mnemonic",
                         "--accounts", "2", "--json", "--password-stdin",
                         stdin=f"{ANVIL_MNEMONIC}\n{PASSWORD}\n")
    assert code == 0, err
    assert [x["address"] for x in json.loads(out)["wallet"]["accounts"]] == ANVIL_ADDRESSES[:2]

    # A misspelled word: exit 12, the word is named, nothing is written.
    before = tree_snapshot(app_home.data_dir)
    code, _, err = run(monkeypatch, capsys, "wallet", "import", unique_name("x"), "--mnemonic",
                       "--password-stdin", stdin=ANVIL_MNEMONIC.replace("junk", "junc")
                       + f"\n{PASSWORD}\n")
    assert code == 12 and "Word 12 ('junc')" in err and "junk" in err
    assert tree_snapshot(app_home.data_dir) == before

    code, _, err = run(monkeypatch, capsys, "wallet", "import", b, "--private-key",
                       env={"G100_WALLET_PRIVATE_KEY": "0x" + "22" * 32,
                            "G100_WALLET_PASSWORD": PASSWORD})
    assert code == 0, err
    code, _, err = run(monkeypatch, capsys, "wallet", "import", unique_name("x"),
                       "--private-key", env={"G100_WALLET_PRIVATE_KEY": "0xnothex",
                                             "G100_WALLET_PASSWORD": PASSWORD})
    assert code == 13 and "64 hexadecimal" in err

    ks_file = tmp_path / "key.json"
    ks_file.write_text(json.dumps(Account.encrypt(ANVIL_KEY0, "file-pw", iterations=1024)))
    # Already imported as account 0 of wallet a: refused by name.
    code, _, err = run(monkeypatch, capsys, "wallet", "import", c, "--keystore", str(ks_file),
                       "--password-stdin", stdin=f"file-pw\n{PASSWORD}\n")
    assert code == 20 and a in err
    ks_file.write_text(json.dumps(Account.encrypt("0x" + "33" * 32, "file-pw",
                                                  iterations=1024)))
    code, out, err = run(monkeypatch, capsys, "wallet", "import", c, "--keystore", str(ks_file),
                         "--password-stdin", stdin=f"file-pw\n{PASSWORD}\n")
    assert code == 0, err
    assert Account.from_key("0x" + "33" * 32).address in out


def test_export_change_password_delete(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str], names: list[str],
                                       tmp_path: Path) -> None:
    name = unique_name("exp")
    names.append(name)
    assert run(monkeypatch, capsys, "wallet", "import", name, "--mnemonic",
               env={"G100_WALLET_MNEMONIC": ANVIL_MNEMONIC,
                    "G100_WALLET_PASSWORD": PASSWORD})[0] == 0
    out_file = tmp_path / "acct0.json"
    code, _, err = run(monkeypatch, capsys, "wallet", "export", name, "--out", str(out_file),
                       "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0, err
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    assert "0x" + bytes(Account.decrypt(out_file.read_text(), PASSWORD)).hex() == ANVIL_KEY0
    code, out, _ = run(monkeypatch, capsys, "wallet", "export", name, "--account", "0",
                       "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0 and json.loads(out)["version"] == 3

    code, _, err = run(monkeypatch, capsys, "wallet", "change-password", name,
                       "--password-stdin", stdin=f"{PASSWORD}\nshort\n")
    assert code == 21 and "at least 10" in err
    code, _, err = run(monkeypatch, capsys, "wallet", "change-password", name,
                       "--password-stdin", stdin=f"{PASSWORD}\n{PASSWORD2}\n")
    assert code == 0, err
    assert run(monkeypatch, capsys, "wallet", "unlock", name, "--password-stdin",
               stdin=PASSWORD2 + "\n")[0] == 0

    code, out, err = run(monkeypatch, capsys, "wallet", "add-account", name,
                         "--password-stdin", stdin=PASSWORD2 + "\n")
    assert code == 0 and ANVIL_ADDRESSES[1] in out, err

    code, _, err = run(monkeypatch, capsys, "wallet", "delete", name)
    assert code == 24 and "--confirm" in err
    code, _, err = run(monkeypatch, capsys, "wallet", "delete", name, "--confirm", "nope")
    assert code == 24
    book = BookStore(app_paths().data_dir)
    book.set_account_label(name, 1, "Savings")
    book.set_active_account(name, 1)
    code, out, _ = run(monkeypatch, capsys, "wallet", "delete", name, "--confirm", name)
    assert code == 0 and "Deleted" in out
    # A wallet made later under the same name starts without the old one's account names.
    assert book.account_labels(name) == {} and book.active_account(name) == 0
    code, _, err = run(monkeypatch, capsys, "wallet", "unlock", name,
                       env={"G100_WALLET_PASSWORD": PASSWORD2})
    assert code == 18 and "no wallet named" in err


def test_verify_backup(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                       names: list[str]) -> None:
    name = unique_name("bk")
    names.append(name)
    assert run(monkeypatch, capsys, "wallet", "import", name, "--mnemonic",
               env={"G100_WALLET_MNEMONIC": ANVIL_MNEMONIC,
                    "G100_WALLET_PASSWORD": PASSWORD})[0] == 0
    # Typed in to import it: the person holds the phrase, nothing is flagged.
    code, out, _ = run(monkeypatch, capsys, "wallet", "show", name)
    assert code == 0 and "backup checked" in out and "NOT CHECKED" not in out
    monkeypatch.setattr("wallet_app.keys.backup.secrets.SystemRandom",
                        lambda: random.Random(3))
    positions = sorted(random.Random(3).sample(range(1, 13), 3))
    words = ANVIL_MNEMONIC.split()
    answers = "\n".join(words[p - 1] for p in positions)
    code, out, _ = run(monkeypatch, capsys, "wallet", "verify-backup", name, "--json",
                       "--password-stdin", stdin=f"{PASSWORD}\n{answers}\n")
    assert code == 0 and json.loads(out) == {"name": name, "positions": positions, "ok": True,
                                             "wrong_positions": []}
    code, out, _ = run(monkeypatch, capsys, "wallet", "verify-backup", name,
                       "--password-stdin", stdin=f"{PASSWORD}\nzoo\nzoo\nzoo\n")
    assert code == 1 and "FAILED" in out
    assert "words " + ", ".join(f"#{p}" for p in positions) + " do not match" in out


def test_created_wallet_is_flagged_until_its_backup_check_passes(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        names: list[str]) -> None:
    """`wallet list`/`show` mark a new phrase wallet until `verify-backup` passes; a wrong
    word is named by its position, and the mark stays until every word is right."""
    name = unique_name("fresh")
    names.append(name)
    code, out, _ = run(monkeypatch, capsys, "wallet", "create", name, "--words", "12",
                       "--json", env={"G100_WALLET_PASSWORD": PASSWORD})
    assert code == 0
    created = json.loads(out)
    words = created["mnemonic"]
    assert created["wallet"]["needs_backup_check"] is True
    for cmd in (("wallet", "list"), ("wallet", "show", name)):
        out = run(monkeypatch, capsys, *cmd)[1]
        assert f"BACKUP NOT CHECKED: run `index-wallet wallet verify-backup {name}`" in out
    monkeypatch.setattr("wallet_app.keys.backup.secrets.SystemRandom",
                        lambda: random.Random(5))
    positions = sorted(random.Random(5).sample(range(1, 13), 3))
    given = [words[p - 1] for p in positions]
    given[1] = "zoo" if words[positions[1] - 1] != "zoo" else "abandon"
    code, out, _ = run(monkeypatch, capsys, "wallet", "verify-backup", name, "--json",
                       "--password-stdin", stdin=PASSWORD + "\n" + "\n".join(given) + "\n")
    assert code == 1 and json.loads(out)["wrong_positions"] == [positions[1]]
    out = run(monkeypatch, capsys, "wallet", "verify-backup", name, "--password-stdin",
              stdin=PASSWORD + "\n" + "\n".join(given) + "\n")[1]
    assert f"word #{positions[1]} does not match" in out and given[1] not in out
    assert run(monkeypatch, capsys, "wallet", "show", name, "--json")[1].count(
        '"needs_backup_check": true') == 1
    right = "\n".join(words[p - 1] for p in positions)
    code, out, _ = run(monkeypatch, capsys, "wallet", "verify-backup", name,
                       "--password-stdin", stdin=f"{PASSWORD}\n{right}\n")
    assert code == 0 and "Backup OK" in out
    out = run(monkeypatch, capsys, "wallet", "list")[1]
    assert "backup checked" in out and "NOT CHECKED" not in out


def test_trade_commands_warn_while_the_backup_is_unchecked(
        capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from wallet_app.cli.trade_cmds import _backup_notice
    from wallet_app.keys.metadata import AccountInfo, WalletInfo

    def info(checked: bool) -> WalletInfo:
        return WalletInfo("Savings", "mnemonic", (AccountInfo(0, ANVIL_ADDRESSES[0], None),),
                          datetime.now(UTC), "keyring", 24, backup_checked=checked)

    class Svc:  # the one method the notice reads
        def __init__(self, w: WalletInfo) -> None:
            self.w = w

        def active_wallet(self) -> WalletInfo:
            return self.w

    _backup_notice(Svc(info(False)))  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert err.startswith("warning: Wallet 'Savings'") and "verify-backup Savings" in err
    _backup_notice(Svc(info(True)))  # type: ignore[arg-type]
    assert capsys.readouterr().err == ""


def test_no_keyring_exit_code(monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        code, _, err = run(monkeypatch, capsys, "wallet", "create", unique_name("nokr"),
                           env={"G100_WALLET_PASSWORD": PASSWORD})
    finally:
        keyring.set_keyring(previous)
    assert code == 15
    assert "gnome-keyring" in err and "allow_file_keystore" in err
