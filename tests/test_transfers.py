"""Transfers, approvals and the Signer interface in the core: the pre-sign check's new
rules on their own (no chain), then on the real devnet with the real keyring: ETH Max
leaves exactly the fee, a USDC transfer verified from the pinned token's event, the
recipient refusals, a look-alike blocked until confirmed, a revoke verified from the
Approval event, and a transfer killed right after its journal write that the user sends
from the recovery list (one transfer on chain)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from tests.test_chain_l1fee import (
    BASE_CHAIN_ID,
    _ecotone_fee,
    fresh_account,
    op_node,  # noqa: F401 - the module-scoped optimism-mode Anvil fixture
)
from wallet_app.config import Settings
from wallet_app.devnet.deploy import fund
from wallet_app.facade import WalletService
from wallet_app.keys.signer_api import KeyringSigner, Signer, primary_type
from wallet_app.models import TxStatus
from wallet_app.paths import AppPaths
from wallet_app.services.recipients import looks_alike, parse_recipient
from wallet_app.services.transfer_types import (
    ConfirmationRequired,
    InvalidRecipient,
    NothingToRevoke,
    RecipientRefused,
)
from wallet_app.trust import AddressGuard, Confirmed, DeploymentRecord, SigningRefused
from wallet_app.vault import VaultClient

PASSWORD = "orbit-Lantern-93-velvet"
VAULT = Web3.to_checksum_address("0x" + "11" * 20)
LENS = Web3.to_checksum_address("0x" + "22" * 20)
USDC = Web3.to_checksum_address("0x" + "33" * 20)
ME = Web3.to_checksum_address("0x" + "44" * 20)
FRIEND = Web3.to_checksum_address("0x" + "5a" * 20)
EVIL = Web3.to_checksum_address("0x" + "ee" * 20)


def _guard() -> AddressGuard:
    rec = DeploymentRecord(chain_id=31337, vault=VAULT, lens=LENS, usdc=USDC,
                           vault_code_hash="0x" + "aa" * 32, lens_code_hash="0x" + "bb" * 32,
                           deployment_block=1)
    return AddressGuard(rec, ME, VaultClient.signing_policies())


def _token(address: str) -> Any:
    from wallet_app.devnet import artifacts

    return Web3().eth.contract(address=address, abi=artifacts.load("DevUSDC").abi)


def _tx(to: str, data: bytes = b"", value: int = 0) -> dict[str, Any]:
    return {"to": to, "data": data, "value": value}


def _data(fn: Any) -> bytes:
    return bytes.fromhex(fn._encode_transaction_data()[2:])


# -- the pre-sign check: transfers only to the confirmed recipient ------------------------

def test_guard_allows_a_transfer_only_to_the_confirmed_recipient() -> None:
    g = _guard()
    pay = _data(_token(USDC).functions.transfer(FRIEND, 5))
    with pytest.raises(SigningRefused, match="confirmed"):
        g.check_transaction(_tx(USDC, pay))  # no confirmation: refused
    assert g.check_transaction(_tx(USDC, pay), Confirmed(recipient=FRIEND)) == "usdc"
    with pytest.raises(SigningRefused, match="recipient you confirmed"):
        g.check_transaction(_tx(USDC, pay), Confirmed(recipient=EVIL))
    shares = _data(_token(VAULT).functions.transfer(FRIEND, 5))
    assert g.check_transaction(_tx(VAULT, shares), Confirmed(recipient=FRIEND)) == "vault"
    # ETH: exactly the confirmed address, no calldata; a token not in the record is refused.
    assert g.check_transaction(_tx(FRIEND, value=10), Confirmed(recipient=FRIEND)) == \
        "recipient"
    with pytest.raises(SigningRefused):
        g.check_transaction(_tx(FRIEND, value=10))
    with pytest.raises(SigningRefused, match="data"):
        g.check_transaction(_tx(FRIEND, b"\x01\x02\x03\x04", 10), Confirmed(recipient=FRIEND))
    evil_token = Web3.to_checksum_address("0x" + "66" * 20)
    with pytest.raises(SigningRefused, match="recipient"):
        g.check_transaction(_tx(evil_token, _data(_token(evil_token).functions.transfer(
            FRIEND, 5))), Confirmed(recipient=evil_token))


def test_guard_revoke_is_zero_to_the_chosen_spender_only() -> None:
    g = _guard()
    revoke = _data(_token(USDC).functions.approve(EVIL, 0))
    with pytest.raises(SigningRefused, match="spender"):
        g.check_transaction(_tx(USDC, revoke))  # approving anyone but the vault: refused
    assert g.check_transaction(_tx(USDC, revoke), Confirmed(revoke_spender=EVIL)) == "usdc"
    grant = _data(_token(USDC).functions.approve(EVIL, 1))
    with pytest.raises(SigningRefused, match="amount"):
        g.check_transaction(_tx(USDC, grant), Confirmed(revoke_spender=EVIL))
    with pytest.raises(SigningRefused, match="spender"):
        g.check_transaction(_tx(VAULT, _data(_token(VAULT).functions.approve(EVIL, 0))),
                            Confirmed(revoke_spender=FRIEND))
    # The vault's normal approve path is unchanged: exact amounts to the vault only.
    assert g.check_transaction(_tx(USDC, _data(_token(USDC).functions.approve(VAULT, 9)))) \
        == "usdc"


def test_recipient_parsing_and_lookalikes() -> None:
    good = Account.create().address
    assert parse_recipient(good.lower()) == good  # all-lowercase: taken as typed
    assert parse_recipient(good) == good
    flipped = good[:2] + "".join(c.swapcase() if c.isalpha() else c for c in good[2:])
    if flipped[2:] != flipped[2:].upper():  # a mixed-case spelling with a bad checksum
        with pytest.raises(InvalidRecipient, match="checksum"):
            parse_recipient(flipped)
    with pytest.raises(InvalidRecipient):
        parse_recipient("0x1234")
    a = "0xabcd" + "1" * 32 + "ef01"
    assert looks_alike(a, "0xABCD" + "2" * 32 + "EF01")
    assert not looks_alike(a, a.upper().replace("0X", "0x"))  # the same address
    assert not looks_alike(a, "0xabce" + "1" * 32 + "ef01")


def test_primary_type_and_the_signer_protocol() -> None:
    from wallet_app.keys.signer import PERMIT_TYPES

    assert primary_type(PERMIT_TYPES) == "Permit"
    signer = KeyringSigner(object(), "w", 0, ME, 31337)
    assert isinstance(signer, Signer) and signer.address == ME


# -- on the devnet --------------------------------------------------------------------------

@pytest.fixture
def wallet(devnet: tuple[AppPaths, Any], monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[WalletService, str, str, Web3]]:
    """A wallet from a known private key (so the test can also act with that key
    elsewhere, e.g. grant an allowance), funded with ETH and USDC, unlocked."""
    paths, dev = devnet
    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")
    svc = WalletService(paths, Settings())
    key = "0x" + secrets.token_hex(32)
    name = f"t{secrets.token_hex(3)}"
    svc.import_private_key(name, key, PASSWORD)
    svc.select_wallet(name)
    addr = svc.active_address()
    assert addr
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    fund(w3, dev.deployment, addr, Decimal(3), Decimal(1_000))
    svc.connect()
    svc.unlock(PASSWORD)
    try:
        yield svc, addr, key, w3
    finally:
        svc.keys.delete(name, name)
        svc.close()


def test_eth_max_leaves_exactly_the_fee_and_usdc_is_verified(wallet) -> None:  # noqa: ANN001
    svc, addr, _, w3 = wallet
    friend = Account.create().address
    q = svc.quote_transfer("usdc", friend.lower(), "12.5")
    assert q.recipient == friend and q.amount == Decimal("12.5")
    assert q.check.first_transfer and not q.check.needs_confirmation
    r = svc.send_transfer(q)
    assert r.verified and r.status is TxStatus.CONFIRMED, r.note
    rec = svc.deployment()
    usdc = w3.eth.contract(address=rec.usdc, abi=_token(rec.usdc).abi)
    assert usdc.functions.balanceOf(friend).call() == 12_500_000
    again = svc.quote_transfer("usdc", friend, "1")
    assert not again.check.first_transfer  # it is in this wallet's history now

    before = w3.eth.get_balance(addr)
    mq = svc.quote_transfer("eth", friend, "max")
    reserve = mq.gas.gas_limit * mq.gas.max_fee_per_gas_wei
    assert mq.amount_base == before - reserve and mq.pinned_fees
    res = svc.send_transfer(mq)
    assert res.verified, res.note
    receipt = w3.eth.get_transaction_receipt(res.tx_hash)
    paid = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    # Exactly the network fee's reserve is left, less what the fee really cost.
    assert w3.eth.get_balance(addr) == reserve - paid
    assert w3.eth.get_balance(addr) == before - mq.amount_base - paid


def test_g100_shares_sent_with_max_verified_from_the_share_token(wallet) -> None:  # noqa: ANN001
    svc, addr, _, w3 = wallet
    bought = svc.buy(svc.quote_buy(Decimal("100")))
    assert bought.state == "settled" and bought.shares > 0
    friend = Account.create().address
    q = svc.quote_transfer("g100", friend, "max")
    assert q.symbol == "G100" and q.amount == bought.shares
    r = svc.send_transfer(q)
    assert r.verified, r.note
    vault = _token(svc.deployment().vault)
    shares = w3.eth.contract(address=vault.address, abi=vault.abi)
    assert shares.functions.balanceOf(friend).call() == q.amount_base
    assert shares.functions.balanceOf(addr).call() == 0


def test_recipient_refusals_contract_and_lookalike(wallet) -> None:  # noqa: ANN001
    svc, addr, _, w3 = wallet
    rec = svc.deployment()
    with pytest.raises(RecipientRefused, match="USDC token contract"):
        svc.quote_transfer("usdc", rec.usdc, "1")
    with pytest.raises(RecipientRefused, match="vault"):
        svc.quote_transfer("g100", rec.vault, "1")
    with pytest.raises(RecipientRefused, match="own address"):
        svc.quote_transfer("eth", addr, "1")
    # A contract that is not in the record (a constituent token) needs confirmation.
    code_addr = _any_contract(svc)
    q = svc.quote_transfer("usdc", code_addr, "1")
    assert q.check.is_contract and "contract" in q.check.needs_confirmation
    with pytest.raises(ConfirmationRequired, match="contract"):
        svc.send_transfer(q)
    # Poisoning: a real transfer to A, then a forged address with A's first/last 4 hex.
    real = Account.create().address
    assert svc.send_transfer(svc.quote_transfer("usdc", real, "2")).verified
    forged = _lookalike(real)
    lq = svc.quote_transfer("usdc", forged, "3")
    (w,) = [w for w in lq.check.warnings if w.code == "lookalike"]
    assert w.blocking and w.similar[0][1] == real
    with pytest.raises(ConfirmationRequired, match="lookalike"):
        svc.send_transfer(lq)
    assert svc.send_transfer(lq, confirmed=["lookalike"]).verified


def _any_contract(svc: WalletService) -> str:
    """A contract on the devnet that is not in the record: a constituent token."""
    snap = svc.session.snapshot(svc.active_address())
    return Web3.to_checksum_address(snap.constituents[0].token)


def _lookalike(address: str) -> str:
    """Another address with the same first four and last four hex characters."""
    while True:
        middle = secrets.token_hex(16)
        cand = "0x" + address[2:6].lower() + middle + address[-4:].lower()
        if cand.lower() != address.lower():
            return Web3.to_checksum_address(cand)


def test_revoke_is_verified_from_the_approval_event(wallet) -> None:  # noqa: ANN001
    svc, addr, key, w3 = wallet
    rec = svc.deployment()
    spender = Account.create().address
    usdc = w3.eth.contract(address=rec.usdc, abi=_token(rec.usdc).abi)
    # The same key used elsewhere granted an unlimited allowance to an unknown spender.
    tx = usdc.functions.approve(spender, 2 ** 256 - 1).build_transaction(
        {"from": addr, "nonce": w3.eth.get_transaction_count(addr), "gas": 80_000,
         "chainId": w3.eth.chain_id})
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(
        Account.sign_transaction(tx, key).raw_transaction))
    (a,) = [a for a in svc.approvals_list() if a.spender == spender]
    assert a.unlimited and a.symbol == "USDC" and a.label == "unknown address"
    r = svc.revoke_approval("USDC", spender)
    assert r.verified and r.state == "revoked", r.note
    assert usdc.functions.allowance(addr, spender).call() == 0
    assert [a for a in svc.approvals_list() if a.spender == spender] == []
    with pytest.raises(NothingToRevoke):
        svc.revoke_approval("USDC", spender)


def test_g100_share_allowance_listed_then_revoked_in_one_transaction(wallet) -> None:  # noqa: ANN001
    """A G100 (share token) allowance granted with the same key elsewhere is listed with its
    amount and label, revoked by one ``approve(spender, 0)`` on the share token, and gone."""
    svc, addr, key, w3 = wallet
    rec = svc.deployment()
    shares = w3.eth.contract(address=rec.vault, abi=_token(rec.vault).abi)
    spender = Account.create().address
    granted = 1_234_500_000_000_000_000  # 1.2345 G100
    tx = shares.functions.approve(spender, granted).build_transaction(
        {"from": addr, "nonce": w3.eth.get_transaction_count(addr), "gas": 80_000,
         "chainId": w3.eth.chain_id})
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(
        Account.sign_transaction(tx, key).raw_transaction))
    (a,) = [a for a in svc.approvals_list() if a.spender == spender]
    assert a.symbol == "G100" and a.token == rec.vault and not a.unlimited
    assert a.allowance == Decimal("1.2345") and a.allowance_base == granted
    assert a.label == "unknown address" and a.events == 1
    nonce = w3.eth.get_transaction_count(addr)
    r = svc.revoke_approval("G100", spender)
    assert r.verified and r.state == "revoked" and r.asset == "g100", r.note
    assert w3.eth.get_transaction_count(addr) == nonce + 1  # exactly one transaction
    sent = w3.eth.get_transaction(r.tx_hash)
    assert sent["to"] == rec.vault
    assert bytes(sent["input"]) == _data(shares.functions.approve(spender, 0))
    assert shares.functions.allowance(addr, spender).call() == 0
    assert [a for a in svc.approvals_list() if a.spender == spender] == []
    (gone,) = [a for a in svc.approvals_list(include_zero=True) if a.spender == spender]
    assert gone.allowance_base == 0 and gone.events == 2
    (row,) = [t for t in svc.transactions() if t.kind == "revoke"]
    assert row.tx_hash == r.tx_hash and svc.journal.entry(row.tx_hash).meta["outcome"] == \
        "verified"
    with pytest.raises(NothingToRevoke):
        svc.revoke_approval("G100", spender)


CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from wallet_app.config import Settings
    from wallet_app.facade import WalletService
    from wallet_app.paths import AppPaths
    home, name, password, to = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    svc = WalletService(AppPaths(home / "data", home / "config", home / "logs"), Settings())
    svc.select_wallet(name)
    svc.connect()
    svc.unlock(password)
    q = svc.quote_transfer("usdc", to, "7")
    real = svc.session.journal.record_signed
    def hooked(*a, **k):
        real(*a, **k)
        os.kill(os.getpid(), signal.SIGKILL)
    svc.session.journal.record_signed = hooked
    svc.send_transfer(q)
    print("not killed", flush=True)
""")


def test_kill_after_journal_then_send_from_the_recovery_list(
        devnet: tuple[AppPaths, Any], wallet) -> None:  # noqa: ANN001
    paths, _ = devnet
    svc, addr, _, w3 = wallet
    name = svc.active_wallet().name
    friend = Account.create().address
    env = dict(os.environ, G100_TEST_SCRYPT_N="1024")
    child = subprocess.run([sys.executable, "-c", CHILD, str(paths.data_dir.parent), name,
                            PASSWORD, friend], capture_output=True, text=True, timeout=120,
                           env=env)
    assert child.returncode == -signal.SIGKILL, child.stderr
    rec = svc.deployment()
    usdc = w3.eth.contract(address=rec.usdc, abi=_token(rec.usdc).abi)
    assert usdc.functions.balanceOf(friend).call() == 0  # never broadcast
    (item,) = svc.pending_list()
    assert item.state == "unsent" and item.kind == "transfer" and "7" in item.what
    with pytest.raises(Exception, match="unresolved"):
        svc.send_transfer(svc.quote_transfer("usdc", friend, "7"))  # no second transfer
    sent = svc.pending_send(item.tx_hash)
    assert sent.status is TxStatus.CONFIRMED
    assert usdc.functions.balanceOf(friend).call() == 7_000_000  # exactly one transfer
    entry = svc.journal.entry(item.tx_hash)
    assert entry.meta.get("outcome") == "verified"
    assert svc.pending_list() == []


# -- ETH Max on an OP-stack chain: the L1 data fee is left too -------------------------------



def test_eth_max_on_op_stack_leaves_the_l1_data_fee(op_node: str,  # noqa: F811
                                                    app_home: AppPaths) -> None:
    from wallet_app.chain.l1fee import max_l1_fee_wei, unsigned_payload
    from wallet_app.chain.provider import ChainClient
    from wallet_app.chain.registry import custom_chain
    from wallet_app.chain.sender import Sender
    from wallet_app.journal import Journal
    from wallet_app.services.transfers import eth_max

    chain = custom_chain(op_node, BASE_CHAIN_ID)
    journal = Journal.for_paths(app_home)
    try:
        sender = Sender(ChainClient(chain).connect(), journal)
        acct = fresh_account(op_node)
        balance = sender.client.get_balance(acct.address, "pending")
        value, reserve, prepared = eth_max(sender, acct.address, FRIEND, balance, "market")
        tx = prepared.tx
        # The L1 part, computed independently, for the costliest payload of the balance's
        # length (every value byte non-zero): the amount's own L1 fee is never above it.
        bound = (1 << (8 * ((balance.bit_length() + 7) // 8))) - 1
        l1 = _ecotone_fee(unsigned_payload(dict(tx, value=bound)))
        assert 0 < _ecotone_fee(unsigned_payload(tx)) <= l1
        assert reserve == tx["gas"] * tx["maxFeePerGas"] + max_l1_fee_wei(l1)
        assert value == balance - reserve and tx["value"] == value
        assert prepared.gas.l1_fee_eth > 0
    finally:
        journal.close()
