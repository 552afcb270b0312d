"""The address book's core without a chain or Qt: address checks, the store, the contacts
CSV, the EIP-681 link, the QR drawing, known addresses, and the CLI on the real keyring.
"""

from __future__ import annotations

import io
import json
import secrets
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from eth_utils import to_checksum_address

from wallet_app.book.addresses import parse_address
from wallet_app.book.contacts_csv import export_csv, import_csv
from wallet_app.book.errors import (
    ContactExists,
    ContactNotFound,
    CsvImportError,
    InvalidAddress,
    InvalidLabel,
)
from wallet_app.book.receive import qr_matrix, terminal_qr, to_base_units, usdc_payment_link
from wallet_app.book.store import BookStore
from wallet_app.cli.main import main
from wallet_app.hardening import forget_secret_env
from wallet_app.paths import AppPaths

EIP55 = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own examples
EIP55_B = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"


def test_address_rules() -> None:
    assert parse_address(EIP55.lower()) == EIP55
    assert parse_address("0X" + EIP55[2:].upper()) == EIP55
    assert parse_address("  " + EIP55 + "\n") == EIP55
    for bad in (EIP55.replace("aA", "Aa", 1), EIP55[:-1], "0x" + "g" * 40, ""):
        with pytest.raises(InvalidAddress):
            parse_address(bad)
    with pytest.raises(InvalidAddress, match="checksum"):
        parse_address(EIP55.replace("aA", "Aa", 1))
    for i in range(20):  # our checksum is eth-utils' own
        raw = "0x" + secrets.token_hex(20)
        assert parse_address(raw) == to_checksum_address(raw), i


def test_store_duplicates_labels_and_atomic_file(app_home: AppPaths) -> None:
    store = BookStore(app_home.data_dir)
    store.add_contact("Alice", EIP55.lower(), "rent")
    with pytest.raises(ContactExists, match="Alice"):
        store.add_contact("Someone", EIP55)
    with pytest.raises(ContactExists, match="already exists"):
        store.add_contact("alice", EIP55_B)
    with pytest.raises(InvalidLabel):
        store.add_contact("  ", EIP55_B)
    with pytest.raises(InvalidLabel):
        store.add_contact("a\tb", EIP55_B)
    store.add_contact("Bob", EIP55_B)
    assert store.rename_contact("alice", "Alicia").address == EIP55
    with pytest.raises(ContactExists):
        store.rename_contact("Bob", "Alicia")
    assert store.remove_contact(EIP55_B.lower()).label == "Bob"
    with pytest.raises(ContactNotFound):
        store.remove_contact("Bob")
    doc = json.loads(store.path.read_text())
    assert doc["format"] == "g100-addressbook"
    assert [c["label"] for c in doc["contacts"]] == ["Alicia"]
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"
    assert not list(store.path.parent.glob(".addressbook.json.*.tmp"))

    # Two writers at once lose nothing (the file lock serialises read-modify-write).
    def add(i: int) -> None:
        BookStore(app_home.data_dir).add_contact(f"c{i}", "0x" + f"{i + 1:040x}")

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.contacts()) == 9


def test_csv_round_trip_and_bad_rows_named(app_home: AppPaths, tmp_path: Path) -> None:
    store = BookStore(app_home.data_dir)
    store.add_contact("Alice", EIP55, "=HYPERLINK(\"x\")")
    store.add_contact("Bob, the builder", EIP55_B, "line")
    out = tmp_path / "c.csv"
    assert export_csv(store.contacts(), out) == 2
    again = BookStore(tmp_path / "other")
    res = import_csv(again, out)
    assert [(c.label, c.address, c.note) for c in res.added] == \
        [(c.label, c.address, c.note) for c in store.contacts()]
    assert import_csv(again, out).unchanged == 2  # importing the same file twice adds nothing

    bad = tmp_path / "bad.csv"
    bad.write_text("\ufefflabel,address\nCarol,0x" + "cd" * 20 + "\n,0x" + "ee" * 20
                   + "\nDan,0x123\n\nCarol,0x" + "ab" * 20 + "\n")
    with pytest.raises(CsvImportError) as err:
        import_csv(again, bad)
    msg = str(err.value)
    assert "3 rows" in msg and "line 3" in msg and "line 4" in msg and "line 6" in msg
    assert "line 2:" not in msg and "nothing was imported" in msg
    assert len(again.contacts()) == 2

    clash = tmp_path / "clash.csv"
    clash.write_text(f"label,address\nNot Alice,{EIP55}\n")
    with pytest.raises(CsvImportError, match="already a contact named"):
        import_csv(again, clash)
    with pytest.raises(CsvImportError, match="first row"):
        (tmp_path / "nohead.csv").write_text(f"Alice,{EIP55}\n")
        import_csv(again, tmp_path / "nohead.csv")


def test_eip681_link_and_amounts() -> None:
    usdc = "0x" + "a0" * 20
    link = usdc_payment_link(usdc.lower(), 8453, EIP55.lower())
    assert link == f"ethereum:{to_checksum_address(usdc)}@8453/transfer?address={EIP55}"
    assert usdc_payment_link(usdc, 1, EIP55, 1).endswith("&uint256=1")
    assert to_base_units(Decimal("12.5"), 6) == 12_500_000
    assert to_base_units(Decimal("0.000001"), 6) == 1
    with pytest.raises(ValueError):
        to_base_units(Decimal("0.0000001"), 6)
    with pytest.raises(TypeError):
        to_base_units(1.5, 6)  # type: ignore[arg-type]
    for bad in (0, -1, True):
        with pytest.raises(ValueError):
            usdc_payment_link(usdc, 1, EIP55, bad)


def test_qr_matrix_and_terminal_drawing() -> None:
    m = qr_matrix(EIP55)
    assert m.size == len(m.rows[0]) and m.size >= 21 + 8
    assert not any(m.rows[0]) and not any(r[0] for r in m.rows)  # the quiet zone
    # The finder pattern's corner (top-left, inside the quiet zone) is dark.
    assert m.rows[4][4] and m.rows[4][10] and not m.rows[5][5]
    text = terminal_qr(m, ansi=False).splitlines()
    assert len(text) == (m.size + 1) // 2 and all(len(line) == m.size for line in text)
    assert "\x1b[" in terminal_qr(m, ansi=True)


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str,
        stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_contacts(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                      tmp_path: Path) -> None:
    assert run(monkeypatch, capsys, "contacts", "add", "Alice", EIP55.lower())[0] == 0
    code, _, err = run(monkeypatch, capsys, "contacts", "add", "Eve", EIP55.replace("aA", "Aa"))
    assert code == 100 and "checksum" in err
    code, _, err = run(monkeypatch, capsys, "contacts", "add", "Alice", EIP55_B)
    assert code == 101
    code, out, _ = run(monkeypatch, capsys, "contacts", "list", "--json")
    assert json.loads(out) == [{"label": "Alice", "address": EIP55, "note": ""}]
    f = tmp_path / "out.csv"
    assert run(monkeypatch, capsys, "contacts", "export", str(f))[0] == 0
    assert run(monkeypatch, capsys, "contacts", "remove", "alice")[0] == 0
    code, out, _ = run(monkeypatch, capsys, "contacts", "import", str(f))
    assert code == 0 and "Imported 1 contact" in out
    (tmp_path / "bad.csv").write_text("label,address\nX,nope\n")
    code, _, err = run(monkeypatch, capsys, "contacts", "import", str(tmp_path / "bad.csv"))
    assert code == 103 and "line 2" in err


@pytest.mark.keyring
def test_cli_accounts_watch_and_receive(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from eth_account import Account

    from tests.test_keys_support import ANVIL_ADDRESSES, ANVIL_MNEMONIC

    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")
    name = f"cli-{secrets.token_hex(4)}"
    pw = "orbit lantern velvet tundra 42"
    monkeypatch.setenv("G100_WALLET_MNEMONIC", ANVIL_MNEMONIC)
    monkeypatch.setenv("G100_WALLET_PASSWORD", pw)
    assert run(monkeypatch, capsys, "wallet", "import", name, "--mnemonic")[0] == 0
    # The CLI took the password out of the environment when it read it (hardening): drop
    # it from memory too, as a fresh process would not have it.
    monkeypatch.delenv("G100_WALLET_PASSWORD", raising=False)
    forget_secret_env()
    try:
        code, out, err = run(monkeypatch, capsys, "accounts", "add", "--label", "Savings",
                             "--password-stdin", stdin=pw + "\n")
        assert code == 0, err
        Account.enable_unaudited_hdwallet_features()
        second = Account.from_mnemonic(ANVIL_MNEMONIC, account_path="m/44'/60'/0'/0/1")
        assert second.address == ANVIL_ADDRESSES[1] and second.address in out
        assert run(monkeypatch, capsys, "accounts", "switch", "Savings")[0] == 0
        code, out, _ = run(monkeypatch, capsys, "accounts", "list", "--json")
        rows = json.loads(out)
        assert [(r["number"], r["label"], r["active"]) for r in rows] == \
            [(1, "Account 1", False), (2, "Savings", True)]
        code, _, err = run(monkeypatch, capsys, "accounts", "switch", "7")
        assert code == 107

        # Receive works without a node: address and QR code; the link says why it is missing.
        code, out, _ = run(monkeypatch, capsys, "receive", "--qr", "text", "--json")
        data = json.loads(out)
        assert code == 0 and data["address"] == second.address and data["link"] is None
        assert "No payment link" in data["note"]

        code, _, err = run(monkeypatch, capsys, "watch", "add", "Mine", ANVIL_ADDRESSES[0])
        assert code == 101 and "your own account" in err
        assert run(monkeypatch, capsys, "watch", "add", "Cold", EIP55)[0] == 0
        assert run(monkeypatch, capsys, "watch", "switch", "cold")[0] == 0
        code, out, _ = run(monkeypatch, capsys, "receive", "--qr", "none")
        assert EIP55 in out and "Cold (watch-only)" in out
        from wallet_app.facade import WalletService

        svc = WalletService()
        try:
            known = dict((a, label) for label, a in svc.known_addresses())
            assert known[EIP55] == "Cold (watch-only)"
            assert known[second.address] == f"{name} \u00b7 Savings"
            from wallet_app.book.errors import WatchOnlyCannotSign

            with pytest.raises(WatchOnlyCannotSign):
                svc.session.sign_fn(31337)
        finally:
            svc.close()
    finally:
        assert run(monkeypatch, capsys, "wallet", "delete", name, "--confirm", name)[0] == 0
