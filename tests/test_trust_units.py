"""The trust layer's pieces on their own: the record's strict parse and store, the
pre-sign address check over calldata and typed data, and the CLI's import/refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from wallet_app.keys.signer import permit_typed_data
from wallet_app.paths import AppPaths
from wallet_app.trust import (
    AddressGuard,
    DeploymentRecord,
    DeploymentStore,
    InvalidRecord,
    SigningRefused,
)
from wallet_app.vault import VaultClient

VAULT = Web3.to_checksum_address("0x" + "11" * 20)
LENS = Web3.to_checksum_address("0x" + "22" * 20)
USDC = Web3.to_checksum_address("0x" + "33" * 20)
ME = Web3.to_checksum_address("0x" + "44" * 20)
EVIL = Web3.to_checksum_address("0x" + "ee" * 20)


def _record(**kw: object) -> DeploymentRecord:
    base = dict(chain_id=31337, vault=VAULT, lens=LENS, usdc=USDC,
                vault_code_hash="0x" + "aa" * 32, lens_code_hash="0x" + "bb" * 32,
                deployment_block=7)
    base.update(kw)
    return DeploymentRecord(**base)  # type: ignore[arg-type]


def _guard() -> AddressGuard:
    return AddressGuard(_record(), ME, VaultClient.signing_policies())


def _vault() -> object:
    from wallet_app.devnet import artifacts

    return Web3().eth.contract(address=VAULT, abi=artifacts.load("IndexVault").abi)


def _usdc() -> object:
    from wallet_app.devnet import artifacts

    return Web3().eth.contract(address=USDC, abi=artifacts.load("DevUSDC").abi)


def test_record_round_trip_and_strict_parse() -> None:
    rec = _record(timelock=Web3.to_checksum_address("0x" + "55" * 20))
    assert DeploymentRecord.from_json(rec.to_json()) == rec
    d = rec.to_dict()
    for broken, msg in (({**d, "format": "x"}, "Not a deployment record"),
                        ({**d, "version": 2}, "version"),
                        ({**d, "chain_id": 0}, "chain_id"),
                        ({**d, "addresses": {**d["addresses"], "vault": "0x12"}},
                         "vault address"),
                        ({**d, "addresses": {**d["addresses"], "lens": VAULT}}, "two roles"),
                        ({**d, "code_hashes": {"vault": "0x12", "lens": "0x" + "bb" * 32}},
                         "vault code hash")):
        with pytest.raises(InvalidRecord, match=msg):
            DeploymentRecord.from_dict(broken)


def test_store_refuses_a_silent_repoint(app_home: AppPaths) -> None:
    store = DeploymentStore(app_home)
    store.save(_record())
    with pytest.raises(InvalidRecord, match="--replace"):
        store.save(_record(vault=EVIL))
    assert store.load(31337) == _record()
    store.save(_record(vault=EVIL), replace=True)
    assert store.load(31337).vault == EVIL  # type: ignore[union-attr]
    assert oct(store.path(31337).stat().st_mode & 0o777) == "0o600"


def _tx(to: str, data: bytes, value: int = 0) -> dict[str, object]:
    return {"to": to, "data": "0x" + data.hex(), "value": value}


def _data(fn: object) -> bytes:
    return bytes.fromhex(fn._encode_transaction_data()[2:])  # type: ignore[attr-defined]


def test_guard_accepts_what_the_wallet_signs() -> None:
    g, v, u = _guard(), _vault(), _usdc()
    assert g.check_transaction(_tx(VAULT, _data(v.functions.requestBuy(1, 0, 9)))) == "vault"
    assert g.check_transaction(_tx(VAULT, _data(v.functions.requestBuyWithPermit(
        1, 0, 9, 27, b"\x01" * 32, b"\x02" * 32)))) == "vault"
    assert g.check_transaction(_tx(VAULT, _data(v.functions.requestSell(1, 0, 9)))) == "vault"
    assert g.check_transaction(_tx(VAULT, _data(v.functions.cancel(2)))) == "vault"
    assert g.check_transaction(_tx(VAULT, _data(v.functions.redeemInKind(1, ME)))) == "vault"
    assert g.check_transaction(_tx(USDC, _data(u.functions.approve(VAULT, 5)))) == "usdc"
    assert g.check_transaction(_tx(ME, b"")) == "self"  # a cancel
    typed = permit_typed_data(token_name="USD Coin", version="2", chain_id=31337,
                              verifying_contract=USDC, owner=ME, spender=VAULT, value=5,
                              nonce=0, deadline=9)
    assert g.check_typed_data(typed) == "usdc"


@pytest.mark.parametrize("tx,field", [
    (lambda v, u: _tx(EVIL, _data(v.functions.requestBuy(1, 0, 9))), "recipient (to)"),
    (lambda v, u: _tx(VAULT, _data(v.functions.redeemInKind(1, EVIL))), "receiver"),
    (lambda v, u: _tx(VAULT, _data(v.functions.strike(10))), "function"),  # keeper's job
    # A token transfer is signed only to a recipient the user confirmed in a preview.
    (lambda v, u: _tx(VAULT, _data(v.functions.transfer(EVIL, 5))), "to"),
    (lambda v, u: _tx(VAULT, _data(v.functions.setFees(0, 0))), "function"),
    (lambda v, u: _tx(USDC, _data(u.functions.approve(EVIL, 5))), "spender"),
    (lambda v, u: _tx(USDC, _data(u.functions.transfer(EVIL, 5))), "to"),
    (lambda v, u: _tx(VAULT, _data(v.functions.approve(EVIL, 0))), "spender"),
    (lambda v, u: _tx(VAULT, _data(v.functions.requestSell(1, 0, 9)), value=1), "value"),
    (lambda v, u: _tx(LENS, b""), "recipient (to)"),
    (lambda v, u: _tx(ME, b"\x01"), "data"),
    (lambda v, u: {"to": None, "data": "0x", "value": 0}, "recipient (to)"),
])
def test_guard_refuses_naming_the_field(tx: object, field: str) -> None:
    with pytest.raises(SigningRefused) as err:
        _guard().check_transaction(tx(_vault(), _usdc()))  # type: ignore[operator]
    assert err.value.field == field and field in str(err.value)
    assert "nothing was signed" in str(err.value)


@pytest.mark.parametrize("change,field", [
    ({"verifying_contract": EVIL}, "verifying contract"),
    ({"spender": EVIL}, "spender"),
    ({"owner": EVIL}, "owner"),
    ({"chain_id": 1}, "domain chainId"),
])
def test_guard_refuses_typed_data_naming_the_field(change: dict[str, object],
                                                   field: str) -> None:
    args = dict(token_name="USD Coin", version="2", chain_id=31337, verifying_contract=USDC,
                owner=ME, spender=VAULT, value=5, nonce=0, deadline=9)
    args.update(change)
    with pytest.raises(SigningRefused) as err:
        _guard().check_typed_data(permit_typed_data(**args))  # type: ignore[arg-type]
    assert err.value.field == field


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, G100_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "wallet_app", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_cli_import_show_and_old_settings(tmp_path: Path) -> None:
    home = tmp_path / "home"
    f = tmp_path / "dep.json"
    f.write_text(_record(chain_id=8453).to_json())
    r = _cli(home, "deployment", "import", str(f), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["addresses"]["vault"] == VAULT
    shown = _cli(home, "deployment", "show", "--chain-id", "8453")
    assert VAULT in shown.stdout and "aa" * 32 in shown.stdout
    f.write_text(_record(chain_id=8453, vault=EVIL).to_json())
    again = _cli(home, "deployment", "import", str(f))
    assert again.returncode == InvalidRecord.exit_code and "--replace" in again.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert "not valid JSON" in _cli(home, "deployment", "import", str(bad)).stderr
    # An old settings file naming the vault directly is refused with what to do.
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.toml").write_text(
        f'network = "custom"\nrpc_url = "http://127.0.0.1:9"\nchain_id = 8453\n'
        f'vault_address = "{VAULT}"\nlens_address = "{LENS}"\n')
    from wallet_app.config import load_settings
    from wallet_app.services.session import Session

    paths = AppPaths(home / "data", home / "config", home / "logs")
    s = Session(paths, load_settings(paths))
    try:
        from wallet_app.chain.registry import resolve_chain

        with pytest.raises(Exception, match="deployment import") as err:
            s._pinned_record(resolve_chain(s.settings, paths))
        assert "vault_address" in str(err.value)
    finally:
        s.close()


def test_guard_checks_a_claim_token_with_its_verifier_only() -> None:
    """``claimInKind``'s token is not pinned: it is signed only when the verifier the
    claims service registered says the pinned vault owes it; no verifier, a False or an
    exception refuses, naming the field."""
    owed = "0x" + "7" * 40
    tx = _tx(VAULT, _data(_vault().functions.claimInKind(Web3.to_checksum_address(owed))))
    rec, policies = _record(), VaultClient.signing_policies()
    seen: list[str] = []

    def verifier(token: str) -> bool:
        seen.append(token)
        return token == Web3.to_checksum_address(owed)

    def broken(token: str) -> bool:
        raise RuntimeError("node down")

    assert AddressGuard(rec, ME, policies, {("claimInKind", "token"): verifier}) \
        .check_transaction(tx) == "vault"
    assert seen == [Web3.to_checksum_address(owed)]
    evil = _tx(VAULT, _data(_vault().functions.claimInKind(EVIL)))
    for verifiers, t in (({("claimInKind", "token"): verifier}, evil), ({}, tx),
                         ({("claimInKind", "token"): broken}, tx)):
        with pytest.raises(SigningRefused) as err:
            AddressGuard(rec, ME, policies, verifiers).check_transaction(t)
        assert err.value.field == "token" and "owes you" in str(err.value)
    # The verifier is for that argument only: other calls keep the pinned rules.
    with pytest.raises(SigningRefused, match="receiver"):
        AddressGuard(rec, ME, policies, {("claimInKind", "token"): lambda t: True}) \
            .check_transaction(_tx(VAULT, _data(_vault().functions.redeemInKind(1, EVIL))))
