"""The wallet against a hostile node: a real HTTP JSON-RPC proxy in front of a real Anvil.

Each scenario makes the node lie in one way (lens fields, ``eth_call`` results, code,
chain id, receipts and logs, gas estimates, fee history, nonces) or misbehave with sends
(withheld, duplicated, delayed), then asserts two things: what was signed and broadcast
(the raw transactions the proxy saw, decoded) and what the user was told. The rule under
test: the node can lie about what it shows, never about whom the wallet signs for, and a
trade counts only when the pinned vault's own events and the balances agree.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from web3 import Web3

from tests.hostile_rpc import HostileProxy
from wallet_app.chain.errors import (
    GasEstimateRose,
    InsufficientFundsForGas,
    ReceiptTimeout,
    WrongNetwork,
)
from wallet_app.config import Settings, save_settings
from wallet_app.devnet import artifacts
from wallet_app.devnet.deploy import fund
from wallet_app.devnet.embedded import Devnet
from wallet_app.facade import UnresolvedTransactions, WalletService
from wallet_app.models import TxStatus
from wallet_app.paths import AppPaths
from wallet_app.trust import CodeHashMismatch, UntrustedAnswer
from wallet_app.trust.guard import _types_of

pytestmark = [pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

PASSWORD = "orbit-Lantern-93-velvet"
ATTACKER = "0x000000000000000000000000000000000000dEaD"
BALANCE_OF = "0x70a08231"
_LENS_FN = next(f for f in artifacts.load("IndexLens").abi if f.get("name") == "snapshot")
_LENS_TYPES = _types_of(_LENS_FN["outputs"])
_SNAPSHOT_SEL = "0x" + Web3.keccak(text="snapshot(address,address)").hex().removeprefix("0x")[:8]
_VAULT = Web3().eth.contract(abi=artifacts.load("IndexVault").abi)
_REQUEST_TOPIC = "0x" + Web3.keccak(
    text="BuyRequested(uint256,address,uint256,uint256,uint256)").hex().removeprefix("0x")
_SETTLED_TOPIC = "0x" + Web3.keccak(
    text="BuySettled(uint256,address,uint256,uint256,uint256,uint256)").hex().removeprefix("0x")


@dataclass
class Hostile:
    svc: WalletService
    proxy: HostileProxy
    w3: Web3  # straight to Anvil, for the test's own reads
    dev: Devnet
    addr: str
    paths: AppPaths

    def restart(self) -> WalletService:
        """A new process's view: a fresh service on the same home."""
        s = WalletService(self.paths)
        s.select_wallet(self.svc.active_wallet().name)  # type: ignore[union-attr]
        return s

    def shares(self) -> int:
        return _balance(self.w3, self.dev.deployment.vault, self.addr)

    def requests(self) -> list[Any]:
        """BuyRequested events of the real vault for this owner (from Anvil, not the
        proxy)."""
        logs = self.w3.eth.get_logs({"address": self.dev.deployment.vault, "fromBlock": 0,
                                     "topics": [_REQUEST_TOPIC]})
        owner = self.addr.lower()[2:]
        return [lg for lg in logs if lg["topics"][2].hex().endswith(owner)]


def _balance(w3: Web3, token: str, owner: str) -> int:
    data = BALANCE_OF + owner.lower()[2:].rjust(64, "0")
    return int.from_bytes(w3.eth.call({"to": token, "data": data}), "big")


@pytest.fixture
def hostile(devnet: tuple[AppPaths, Devnet], tmp_path: Any,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Hostile]:
    """A fresh funded wallet whose every RPC request goes through the hostile proxy."""
    paths, dev = devnet
    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")
    proxy = HostileProxy(dev.node.rpc_url)
    home = AppPaths(tmp_path / "data", tmp_path / "config", tmp_path / "logs").ensure()
    import shutil

    shutil.copytree(paths.devnet_dir, home.devnet_dir, dirs_exist_ok=True)
    (home.devnet_dir / "node.json").unlink(missing_ok=True)
    shutil.copytree(paths.data_dir / "deployments", home.data_dir / "deployments")
    save_settings(Settings(network="devnet", rpc_url=proxy.url), home)
    svc = WalletService(home)
    name = f"h{secrets.token_hex(3)}"
    svc.create_wallet(name, PASSWORD)
    addr = svc.active_address()
    assert addr
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    fund(w3, dev.deployment, addr, Decimal(5), Decimal(5_000))
    svc.connect()
    svc.session.receipt_timeout_s = 4.0
    try:
        yield Hostile(svc, proxy, w3, dev, addr, home)
    finally:
        svc.keys.delete(name, name)
        svc.close()
        proxy.close()


def _rewrite_lens(h: Hostile, change: Any) -> None:
    """Rewrite the lens snapshot answer (an eth_call to the lens) with ``change(s)``."""
    lens = h.dev.deployment.lens.lower()

    def rw(params: list[Any], result: str) -> str:
        data = str(params[0].get("data", params[0].get("input", "")))
        if str(params[0].get("to", "")).lower() != lens or not data.startswith(_SNAPSHOT_SEL):
            return result
        (s,) = abi_decode(_LENS_TYPES, bytes.fromhex(result[2:]))
        s = [list(x) if isinstance(x, tuple) else x for x in s]
        change(s)
        s = [tuple(x) if isinstance(x, list) and i in (3, 4) else x for i, x in enumerate(s)]
        return "0x" + abi_encode(_LENS_TYPES, [tuple(s)]).hex()

    h.proxy.rewrite["eth_call"] = rw


def _mine(h: Hostile) -> list[dict[str, Any]]:
    """The raw transactions the wallet broadcast, decoded. The devnet keeper's strike
    right after a request goes through the same node, signed locally with the devnet
    operator's key: it is not the wallet's."""
    return [tx for tx in h.proxy.decoded() if tx["from"] == h.addr]


def _calls(h: Hostile) -> list[tuple[str, dict[str, Any]]]:
    """The vault calls the wallet broadcast, decoded from the raw bytes."""
    out = []
    for tx in _mine(h):
        if tx["to"] and tx["to"].lower() == h.dev.deployment.vault.lower():
            fn, args = _VAULT.decode_function_input(tx["data"])
            out.append((fn.fn_name, dict(args)))
        else:
            out.append(("to:" + str(tx["to"]), {}))
    return out


# --------------------------------------------------------------------------- 1-3: lens lies


def test_lens_names_another_vault(hostile: Hostile) -> None:
    """The lens says the vault is the attacker's: refused before anything is signed."""
    _rewrite_lens(hostile, lambda s: s[3].__setitem__(0, ATTACKER))
    with pytest.raises(UntrustedAnswer, match="pinned vault"):
        hostile.svc.quote_buy(Decimal("100"))
    hostile.svc.unlock(PASSWORD)
    with pytest.raises(UntrustedAnswer):
        hostile.svc.quote_buy(Decimal("100"))
    assert hostile.proxy.sent == [] and hostile.svc.transactions() == []


def test_lens_names_another_usdc(hostile: Hostile) -> None:
    """A rewritten asset (the permit's verifying contract) is refused the same way."""
    hostile.svc.unlock(PASSWORD)
    _rewrite_lens(hostile, lambda s: s[3].__setitem__(1, ATTACKER))
    with pytest.raises(UntrustedAnswer, match="USDC"):
        hostile.svc.quote_buy(Decimal("100"))
    assert hostile.proxy.sent == []


def test_lens_lies_about_permit_nonce_and_allowance(hostile: Hostile) -> None:
    """Allowance and permit nonce are read from the pinned USDC, not the lens: a lying
    lens changes nothing that is signed; the buy is for the pinned vault and the owner."""
    hostile.svc.unlock(PASSWORD)

    def lie(s: list[Any]) -> None:
        s[4][5] = 10**30  # "unlimited allowance": would skip the permit
        s[4][6] = 41  # wrong permit nonce: would make the permit invalid

    _rewrite_lens(hostile, lie)
    q = hostile.svc.quote_buy(Decimal("200"))
    res = hostile.svc.buy(q)
    assert res.verified and res.status is TxStatus.CONFIRMED and res.state == "settled"
    (call,) = _calls(hostile)
    # The real allowance was 0: a permit was signed, in the one request transaction.
    assert call[0] == "requestBuyWithPermit" and call[1]["assets"] == 200 * 10**6
    assert hostile.proxy.decoded()[0]["from"] == hostile.addr  # the wallet's, first
    assert Decimal(hostile.shares()).scaleb(-18) == res.shares


# --------------------------------------------------------------------------- 4-5: code, chain


def test_code_hash_mismatch_refuses_connect(hostile: Hostile) -> None:
    """The node serves other code at the pinned vault: the connection is refused."""
    real = hostile.dev.deployment.vault.lower()
    hostile.proxy.rewrite["eth_getCode"] = lambda p, r: (r[:-2] + "00") \
        if p[0].lower() == real else r
    again = hostile.restart()
    try:
        with pytest.raises(CodeHashMismatch) as err:
            again.connect()
        assert "vault" in str(err.value) and "code hash" in str(err.value)
        assert not again.network_status().connected
    finally:
        again.close()
    assert hostile.proxy.sent == []


def test_chain_id_lie_between_quote_and_signature(hostile: Hostile) -> None:
    hostile.svc.unlock(PASSWORD)
    q = hostile.svc.quote_buy(Decimal("100"))
    hostile.proxy.answer["eth_chainId"] = lambda p: "0x1"
    with pytest.raises(WrongNetwork) as err:
        hostile.svc.buy(q)
    assert "31337" in str(err.value)
    assert hostile.proxy.sent == [] and hostile.shares() == 0


# --------------------------------------------------------------------------- 6-9: receipts


def _fake_success_receipt(h: Hostile, logs: list[dict[str, Any]] | None = None) -> None:
    def fake(params: list[Any]) -> dict[str, Any]:
        block = h.w3.eth.block_number
        return {"transactionHash": params[0], "status": "0x1", "blockNumber": hex(block),
                "blockHash": "0x" + "11" * 32, "gasUsed": "0x30000",
                "effectiveGasPrice": "0x3b9aca00", "from": h.addr,
                "to": h.dev.deployment.vault, "logs": logs or [], "transactionIndex": "0x0"}

    h.proxy.answer["eth_getTransactionReceipt"] = fake


def test_withheld_send_with_fake_receipt_is_unverified(hostile: Hostile) -> None:
    """The node swallows the buy and invents a 'status 1' receipt: never 'confirmed' in
    the position; the user is told it is unverified."""
    hostile.svc.unlock(PASSWORD)
    q = hostile.svc.quote_buy(Decimal("300"))
    hostile.proxy.send_mode = "withhold"
    _fake_success_receipt(hostile)
    res = hostile.svc.buy(q)
    assert not res.verified and "BuyRequested" in (res.note or "")
    assert res.state == "unverified"
    assert len(hostile.proxy.sent) == 1 and _calls(hostile)[0][0] == "requestBuyWithPermit"
    (rec,) = hostile.svc.transactions()
    assert rec.outcome == "unverified" and rec.status_text == "confirmed (unverified)"
    pos = hostile.svc.position()
    assert pos is not None and pos.cost_basis_usdc == 0 and hostile.shares() == 0
    assert hostile.svc.my_trades() == []  # an unverified request is never a trade


def test_settlement_with_inflated_shares_is_unverified(hostile: Hostile) -> None:
    """The real BuySettled event with 10x the shares: the balances read at the strike's
    block disagree, so the settlement is unverified and never counts."""
    hostile.svc.unlock(PASSWORD)
    vault = hostile.dev.deployment.vault.lower()

    def inflate(params: list[Any], r: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for lg in r or []:
            if lg["address"].lower() == vault and lg["topics"][0] == _SETTLED_TOPIC:
                assets, fee, shares = abi_decode(["uint256", "uint256", "uint256"],
                                                 bytes.fromhex(lg["data"][2:]))
                lg["data"] = "0x" + abi_encode(["uint256", "uint256", "uint256"],
                                               [assets, fee, shares * 10]).hex()
        return r

    hostile.proxy.rewrite["eth_getLogs"] = inflate
    res = hostile.svc.buy(hostile.svc.quote_buy(Decimal("250")))
    assert not res.verified and "balances" in (res.note or "")
    assert hostile.shares() > 0  # the buy really settled...
    pos = hostile.svc.position()
    assert pos is not None and pos.cost_basis_usdc == 0  # ...but nothing unverified counts
    assert hostile.svc.my_trades() == []


def test_receipt_request_for_another_owner_is_unverified(hostile: Hostile) -> None:
    hostile.svc.unlock(PASSWORD)
    vault = hostile.dev.deployment.vault.lower()

    def steal(params: list[Any], r: dict[str, Any]) -> dict[str, Any]:
        if r:
            for lg in r["logs"]:
                if lg["address"].lower() == vault and lg["topics"][0] == _REQUEST_TOPIC:
                    lg["topics"][2] = "0x" + ATTACKER.lower()[2:].rjust(64, "0")
        return r

    hostile.proxy.rewrite["eth_getTransactionReceipt"] = steal
    res = hostile.svc.buy(hostile.svc.quote_buy(Decimal("120")))
    assert not res.verified and "0 BuyRequested events" in (res.note or "")
    assert hostile.svc.transactions()[0].outcome == "unverified"


def test_balance_reads_that_disagree_are_unverified(hostile: Hostile) -> None:
    """The receipt and the settlement are real but the share balance read at the strike's
    block is rewritten."""
    hostile.svc.unlock(PASSWORD)
    vault = hostile.dev.deployment.vault.lower()

    def lie(params: list[Any], r: str) -> str:
        call, block = params[0], params[1] if len(params) > 1 else "latest"
        if str(call.get("to", "")).lower() == vault and \
                str(call.get("data", call.get("input", ""))).startswith(BALANCE_OF) and \
                block not in ("latest", "pending"):
            # A different lie per block, so the change between two blocks is off by one.
            return "0x" + (int(r, 16) + int(block, 16)).to_bytes(32, "big").hex()
        return r

    hostile.proxy.rewrite["eth_call"] = lie
    res = hostile.svc.buy(hostile.svc.quote_buy(Decimal("90")))
    assert not res.verified and "balances" in (res.note or "")


def test_invented_event_about_the_address_never_counts(hostile: Hostile) -> None:
    """The node adds an instant ``Deposit`` of 1,000 G100 for this address to the logs a
    keyed wallet reads to rebuild what its journal lacks (the same key used on another
    computer). The events then no longer add up to the G100 balance the lens shows: the
    invented trade is listed as unverified and never enters the cost basis."""
    vault, me = hostile.dev.deployment.vault, hostile.addr.lower()[2:].rjust(64, "0")
    deposit = "0x" + Web3.keccak(text="Deposit(address,address,uint256,uint256)").hex() \
        .removeprefix("0x")

    def invent(params: list[Any], r: list[dict[str, Any]]) -> list[dict[str, Any]]:
        q = params[0]
        topics = q.get("topics") or []
        addrs = q["address"] if isinstance(q["address"], list) else [q["address"]]
        if len(topics) == 3 and str(topics[2]).endswith(me) and \
                vault.lower() in {a.lower() for a in addrs}:
            r = list(r or []) + [{
                "address": vault.lower(), "topics": [deposit, "0x" + me, "0x" + me],
                "data": "0x" + abi_encode(["uint256", "uint256"],
                                          [1_000 * 10**6, 1_000 * 10**18]).hex(),
                "blockNumber": q["toBlock"], "transactionHash": "0x" + "ab" * 32,
                "transactionIndex": "0x0", "blockHash": "0x" + "11" * 32,
                "logIndex": "0x0", "removed": False}]
        return r

    hostile.proxy.rewrite["eth_getLogs"] = invent
    pos = hostile.svc.position()
    assert pos is not None and pos.cost_basis_usdc == 0 and pos.shares == 0
    (row,) = hostile.svc.my_trades()
    assert row.kind == "buy" and row.tx_hash == "0x" + "ab" * 32 and not row.verified


# --------------------------------------------------------------------------- 10-12: sends


def test_withheld_send_is_listed_on_restart_and_sent_only_when_the_user_says(
        hostile: Hostile) -> None:
    hostile.svc.unlock(PASSWORD)
    q = hostile.svc.quote_buy(Decimal("400"))
    hostile.proxy.send_mode = "withhold"
    with pytest.raises(ReceiptTimeout):
        hostile.svc.buy(q)
    assert len(hostile.proxy.sent) == 1 and hostile.shares() == 0
    hostile.svc.close()
    hostile.proxy.send_mode = "forward"
    before = hostile.proxy.count("eth_sendRawTransaction")
    again = hostile.restart()
    try:
        again.connect()
        (item,) = again.pending_list()
        assert item.state == "unsent" and item.can_send
        assert "buy request: 400.00 usdc" in item.what.lower()
        assert hostile.proxy.count("eth_sendRawTransaction") == before  # nothing re-sent
        again.unlock(PASSWORD)
        again.session.receipt_timeout_s = 30.0
        with pytest.raises(UnresolvedTransactions, match="pending send"):
            again.buy(again.quote_buy(Decimal("10")))
        assert hostile.proxy.count("eth_sendRawTransaction") == before
        rec = again.pending_send(item.tx_hash)
        assert rec.status is TxStatus.CONFIRMED and rec.outcome == "requested"
        sent = hostile.proxy.decoded()
        assert len(sent) == 2 and sent[0]["hash"] == sent[1]["hash"] == item.tx_hash
        assert len(hostile.requests()) == 1
        pos = again.position()
        assert pos is not None and pos.cost_basis_usdc == 0  # requested, not settled yet
        (row,) = again.requests()
        assert again.session.vault is not None
        from wallet_app.operator import Operator

        Operator(hostile.w3, hostile.dev.deployment, again.session.vault).strike(
            not_before=int(row.eligible_at.timestamp()))
        assert [r.state for r in again.settle_requests()] == ["settled"]
        pos = again.position()
        assert pos is not None and pos.cost_basis_usdc == Decimal("400")
    finally:
        again.close()


def test_duplicated_send_is_one_trade(hostile: Hostile) -> None:
    hostile.svc.unlock(PASSWORD)
    hostile.proxy.send_mode = "duplicate"
    res = hostile.svc.buy(hostile.svc.quote_buy(Decimal("150")))
    assert res.verified
    assert len(_mine(hostile)) == 1 and len(hostile.requests()) == 1
    assert hostile.w3.eth.get_transaction_count(hostile.addr) == 1


def test_delayed_send_is_one_trade(hostile: Hostile) -> None:
    hostile.svc.unlock(PASSWORD)
    hostile.proxy.send_mode = "delay"
    hostile.proxy.delay_s = 2.0
    t0 = time.monotonic()
    res = hostile.svc.buy(hostile.svc.quote_buy(Decimal("175")))
    assert time.monotonic() - t0 >= 2.0 and res.verified
    assert len(_mine(hostile)) == 1 and len(hostile.requests()) == 1


# --------------------------------------------------------------------------- 13-15: fees, nonce


def test_gas_estimate_raised_after_the_quote_is_refused(hostile: Hostile) -> None:
    hostile.svc.unlock(PASSWORD)
    q = hostile.svc.quote_buy(Decimal("100"))
    hostile.proxy.answer["eth_estimateGas"] = lambda p: hex(5_000_000)
    with pytest.raises(GasEstimateRose) as err:
        hostile.svc.buy(q)
    assert "5,000,000" in str(err.value) or "6,000,000" in str(err.value)
    assert hostile.proxy.sent == [] and hostile.svc.transactions() == []


def test_absurd_fee_history_is_refused_before_signing(hostile: Hostile) -> None:
    hostile.svc.unlock(PASSWORD)

    def absurd(params: list[Any], r: dict[str, Any]) -> dict[str, Any]:
        r["baseFeePerGas"] = [hex(10**16) for _ in r["baseFeePerGas"]]  # 10 M gwei
        return r

    hostile.proxy.rewrite["eth_feeHistory"] = absurd
    with pytest.raises(InsufficientFundsForGas) as err:
        hostile.svc.quote_buy(Decimal("100"))
    assert "ETH" in str(err.value)
    assert hostile.proxy.sent == []


def test_under_reported_nonce_never_reuses_a_mined_nonce(hostile: Hostile) -> None:
    hostile.svc.unlock(PASSWORD)
    assert hostile.svc.buy(hostile.svc.quote_buy(Decimal("100"))).verified
    hostile.proxy.rewrite.clear()
    # "Nothing sent yet" for the user's address (the devnet keeper's own account, which
    # strikes through the same node, is answered truthfully).
    me = hostile.addr.lower()
    hostile.proxy.rewrite["eth_getTransactionCount"] = \
        lambda p, r: "0x0" if str(p[0]).lower() == me else r
    res = hostile.svc.sell(hostile.svc.quote_sell(Decimal(hostile.shares()).scaleb(-18)))
    assert res.verified
    assert [tx["nonce"] for tx in _mine(hostile)] == [0, 1]
    assert [c[0] for c in _calls(hostile)] == ["requestBuyWithPermit", "requestSell"]
    # Everything else through the node is the devnet keeper's strikes (its own key).
    keeper = hostile.dev.deployment.roles["operator"]
    assert {tx["from"] for tx in hostile.proxy.decoded()} == {hostile.addr, keeper}
    assert res.state == "settled" and hostile.shares() == 0


# --------------------------------------------------------------------------- claims


_OWED_TOPIC = "0x" + Web3.keccak(
    text="InKindOwed(address,address,uint256)").hex().removeprefix("0x")


def _freeze_token(h: Hostile, token: str) -> bytes:
    """Make ``token`` refuse every transfer, as a paused token does: its code is swapped for
    the forge suite's FreezableToken (the same OpenZeppelin ERC-20 storage) and frozen.
    Returns the original code, to thaw it with ``anvil_setCode``."""
    import json
    from pathlib import Path

    art = Path(__file__).resolve().parent.parent / "contracts" / "out" / "HostileTokens.sol" \
        / "FreezableToken.json"
    code = json.loads(art.read_text())["deployedBytecode"]["object"]
    original = bytes(h.w3.eth.get_code(token))
    h.w3.provider.make_request("anvil_setCode", [token, code])
    h.w3.eth.send_transaction({"from": h.w3.eth.accounts[0], "to": token,
                               "data": Web3.keccak(text="setFrozen(bool)")[:4]
                               + (1).to_bytes(32, "big")})
    return original


def test_in_kind_claim_token_is_checked_against_the_vaults_own_credit(hostile: Hostile
                                                                      ) -> None:
    """An in-kind exit while one constituent is frozen leaves that token owed; the wallet
    lists it and claims it. A node that rewrites the credit's token to another address gets
    nothing signed: not listed, refused by the service, refused by the guard."""
    from wallet_app.services.claims import NothingToClaim
    from wallet_app.trust.guard import SigningRefused

    h = hostile
    h.svc.unlock(PASSWORD)
    assert h.svc.buy(h.svc.quote_buy(Decimal("1000"))).state == "settled"
    vault = h.w3.eth.contract(address=h.dev.deployment.vault,
                              abi=artifacts.load("IndexVault").abi)
    token = Web3.to_checksum_address(vault.functions.getConstituents().call()[0][0])
    original = _freeze_token(h, token)
    h.w3.provider.make_request("anvil_impersonateAccount", [h.addr])
    h.w3.eth.send_transaction({"from": h.addr, "to": h.dev.deployment.vault,
                               "data": vault.encode_abi("redeemInKind",
                                                        [h.shares() // 2, h.addr])})
    h.w3.provider.make_request("anvil_stopImpersonatingAccount", [h.addr])
    h.w3.provider.make_request("anvil_setCode", [token, "0x" + original.hex()])
    owed = vault.functions.owedInKind(h.addr, token).call()
    assert owed > 0 and _balance(h.w3, token, h.addr) == 0

    (row,) = h.svc.claims()
    assert (row.kind, row.token, row.raw) == ("in_kind", token, owed)

    # The node rewrites the credit's token (topic 2 of InKindOwed) to the attacker's address.
    def swap_token(params: list[Any], r: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for lg in r or []:
            if lg["topics"] and lg["topics"][0] == _OWED_TOPIC:
                lg["topics"][2] = "0x" + ATTACKER.lower()[2:].rjust(64, "0")
        return r

    h.proxy.rewrite["eth_getLogs"] = swap_token
    assert h.svc.claims() == []  # the pinned vault owes nothing of the attacker's token
    with pytest.raises(NothingToClaim):
        h.svc.claim_in_kind(ATTACKER)
    with pytest.raises(NothingToClaim):
        h.svc.claim_in_kind(token)
    guard = h.svc.session.guard()
    for t in (ATTACKER, token):
        tx = {"to": h.dev.deployment.vault,
              "data": vault.encode_abi("claimInKind", [t]), "value": 0}
        with pytest.raises(SigningRefused, match="token"):
            guard.check_transaction(tx)
    # USDC itself (pinned, never an in-kind constituent) is refused too.
    with pytest.raises(SigningRefused, match="token"):
        guard.check_transaction({"to": h.dev.deployment.vault, "value": 0, "data":
                                 vault.encode_abi("claimInKind", [h.dev.deployment.usdc])})
    assert h.proxy.sent == [] or all(c[0] != "claimInKind" for c in _calls(h))

    # An honest node again: claimed, verified from InKindClaimed, the tokens arrive.
    del h.proxy.rewrite["eth_getLogs"]
    sent_before = len(h.proxy.sent)
    res = h.svc.claim_in_kind(token)
    assert res.verified and res.kind == "in_kind"
    assert _balance(h.w3, token, h.addr) == owed
    assert vault.functions.owedInKind(h.addr, token).call() == 0
    assert len(h.proxy.sent) == sent_before + 1
    assert _calls(h)[-1] == ("claimInKind", {"token": token})
    assert h.svc.claims() == []
    assert any(t.kind == "claim" for t in h.svc.transactions())
