"""A depositor's checks on a real Anvil devnet: the timelock's pending changes, the in-kind
exit, and the rule verifier against the last rebalance's recorded snapshot.

The devnet's timelock has a minimum delay of 0, but ``schedule`` takes any delay at or
above it: a change scheduled here with a 31 h delay is a real pending operation of the
pinned timelock (chain time is never moved in this module)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from web3 import Web3
from web3.logs import DISCARD

from tests.wallet_support import PASSWORD, funded_wallet
from wallet_app.config import Settings
from wallet_app.devnet import artifacts
from wallet_app.devnet.embedded import Devnet
from wallet_app.facade import WalletService
from wallet_app.index import snapshot_record as store
from wallet_app.paths import AppPaths
from wallet_app.services.governance_view import buy_warning, time_left_text

pytestmark = [pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

DELAY_31H = 31 * 3600
ERC20 = [{"type": "function", "name": "balanceOf", "stateMutability": "view",
          "inputs": [{"name": "a", "type": "address"}],
          "outputs": [{"name": "", "type": "uint256"}]}]


@pytest.fixture(scope="module")
def svc(devnet: tuple[AppPaths, Devnet], tmp_path_factory: pytest.TempPathFactory,
        ) -> Iterator[WalletService]:
    with pytest.MonkeyPatch.context() as mp, funded_wallet(mp, devnet[0], "depositor") as s:
        yield s


@pytest.fixture(scope="module")
def w3(devnet: tuple[AppPaths, Devnet]) -> Web3:
    return Web3(Web3.HTTPProvider(devnet[1].node.rpc_url, request_kwargs={"timeout": 60}))


def _timelock(w3: Web3, dev: Devnet) -> Any:
    return w3.eth.contract(address=dev.deployment.timelock,
                           abi=artifacts.load("TimelockController").abi)


def _vault(w3: Web3, dev: Devnet) -> Any:
    return w3.eth.contract(address=dev.deployment.vault, abi=artifacts.load("IndexVault").abi)


def _send(w3: Web3, sender: str, fn: Any) -> Any:
    h = fn.transact({"from": sender, "gas": 2_000_000})
    r = w3.eth.wait_for_transaction_receipt(h, timeout=60)
    assert r["status"] == 1
    return r


def schedule_feed_change(w3: Web3, dev: Devnet, delay: int = DELAY_31H) -> bytes:
    """The owner schedules a new BTC price feed through the pinned timelock; returns the
    operation id."""
    tl, vault = _timelock(w3, dev), _vault(w3, dev)
    btc, eth = dev.deployment.token("BTC"), dev.deployment.token("ETH")
    data = vault.encode_abi("setFeed", [btc.address, eth.feed, 3600])
    salt = secrets.token_bytes(32)
    args = [dev.deployment.vault, 0, bytes.fromhex(data[2:]), b"\0" * 32, salt]
    _send(w3, dev.deployment.roles["owner"], tl.functions.schedule(*args, delay))
    return bytes(tl.functions.hashOperation(*args).call())


def test_time_left_text() -> None:
    assert time_left_text(DELAY_31H) == "in 31 h"
    assert time_left_text(DELAY_31H - 1) == "in 31 h"  # rounded up, never early
    assert time_left_text(125) == "in 3 min"
    assert time_left_text(5 * 86_400) == "in 5 days"
    assert time_left_text(0).startswith("now")


def test_pending_change_is_shown_then_cancelled(svc: WalletService, w3: Web3,
                                                devnet: tuple[AppPaths, Devnet]) -> None:
    _, dev = devnet
    assert svc.pending_governance() == []  # the deployment's own calls were executed
    op = schedule_feed_change(w3, dev)
    changes = svc.pending_governance()
    assert len(changes) == 1
    c = changes[0]
    assert c.op_id == "0x" + op.hex()
    assert c.calls[0].function == "setFeed" and c.summary == "BTC's price feed changes"
    assert c.when == "in 31 h" and not c.ready
    assert c.headline == "BTC's price feed changes in 31 h"
    ready = _timelock(w3, dev).functions.getTimestamp(op).call()
    assert int(c.ready_at.timestamp()) == ready
    warning = buy_warning(changes)
    assert "BTC's price feed changes in 31 h" in warning and "in-kind exit" in warning
    # Cancelled by the owner: the wallet stops showing it.
    _send(w3, dev.deployment.roles["owner"], _timelock(w3, dev).functions.cancel(op))
    assert svc.pending_governance() == []


def test_owner_list_and_depositor_notice_say_the_same(
        svc: WalletService, w3: Web3, devnet: tuple[AppPaths, Devnet],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """One scheduled operation: the owner's `governance list`, the depositor's
    `index changes`, the Index page notice's change and the buy warning give the same
    sentence and the same time of effect (one decoder, chain time)."""
    from wallet_app.cli.main import main

    paths, dev = devnet
    monkeypatch.setenv("G100_HOME", str(paths.data_dir.parent))
    op = "0x" + schedule_feed_change(w3, dev).hex()
    try:
        capsys.readouterr()
        assert main(["governance", "list", "--json"]) == 0
        owner = next(o for o in json.loads(capsys.readouterr().out) if o["id"] == op)
        assert main(["governance", "list"]) == 0
        owner_text = capsys.readouterr().out
        assert main(["index", "changes"]) == 0
        depositor_text = capsys.readouterr().out
        (change,) = svc.pending_governance()  # what the Index page notice shows
        assert owner["state"] == "pending" and change.op_id == op
        assert owner["summary"] == change.summary == "BTC's price feed changes"
        assert owner["when"] == change.when == "in 31 h"
        assert owner["ready_at"] == int(change.ready_at.timestamp())
        ready = _timelock(w3, dev).functions.getTimestamp(bytes.fromhex(op[2:])).call()
        assert owner["ready_at"] == ready
        at = f"{change.ready_at:%Y-%m-%d %H:%M} UTC"
        assert f"{op}  pending   effect {at} (in 31 h)\n    BTC's price feed changes\n" \
            in owner_text
        assert "      setFeed(token=" in owner_text  # the owner also sees the exact call
        assert f"BTC's price feed changes in 31 h (ready {at[:-4]} UTC, operation {op})" in \
            depositor_text
        assert "BTC's price feed changes in 31 h" in buy_warning([change])
    finally:
        _send(w3, dev.deployment.roles["owner"],
              _timelock(w3, dev).functions.cancel(bytes.fromhex(op[2:])))
    assert svc.pending_governance() == []


def test_exit_in_kind_paused(svc: WalletService, w3: Web3,
                             devnet: tuple[AppPaths, Devnet]) -> None:
    """Buy, then pause the vault: the in-kind exit still pays every holding; verified from
    the vault's RedeemedInKind and the balances; journaled as a redemption."""
    _, dev = devnet
    addr = svc.active_address()
    assert addr
    buy = svc.buy(svc.quote_buy(Decimal("1000")))
    assert buy.state == "settled"
    vault = _vault(w3, dev)
    shares = vault.functions.balanceOf(addr).call()
    assert shares > 0
    _send(w3, dev.deployment.roles["guardian"], vault.functions.pause())
    try:
        q = svc.quote_exit_in_kind("100%")
        assert q.paused and q.shares * 10**18 == shares
        assert len(q.lines) >= 90  # a slice of (nearly) every constituent
        btc = next(ln for ln in q.lines if ln.symbol == "BTC")
        before = {ln.token: w3.eth.contract(address=ln.token, abi=ERC20)
                  .functions.balanceOf(addr).call() for ln in q.lines}
        steps: list[str] = []
        res = svc.exit_in_kind(q, progress=steps.append)
        assert res.verified and res.kind == "redeem_in_kind", res.note
        assert vault.functions.balanceOf(addr).call() == 0
        receipt = w3.eth.get_transaction_receipt(res.tx_hash)
        ev = vault.events.RedeemedInKind().process_receipt(receipt, errors=DISCARD)
        assert len(ev) == 1 and ev[0]["args"]["shares"] == shares
        paid = dict(zip(ev[0]["args"]["tokens"], ev[0]["args"]["amounts"], strict=True))
        for token, b0 in before.items():
            now = w3.eth.contract(address=token, abi=ERC20).functions.balanceOf(addr).call()
            assert now - b0 == paid[token]
        # The preview simulated exactly what the chain then paid.
        assert paid[dev.deployment.token("BTC").address] == int(btc.amount.scaleb(8))
        trades = svc.my_trades()
        assert trades[0].kind == "redeem_in_kind" and trades[0].verified
        assert svc.journal.entry(res.tx_hash).kind == "redeem_in_kind"
    finally:
        _send(w3, dev.deployment.roles["guardian"], vault.functions.unpause())


def test_rebalance_verifies_and_a_wrong_target_is_named(
        svc: WalletService, w3: Web3, devnet: tuple[AppPaths, Devnet]) -> None:
    paths, dev = devnet
    svc.buy(svc.quote_buy(Decimal("5000")))  # something for the rebalance to move
    reports = []
    for _ in range(8):  # to the market calendar's next Monday (a weekly rebalance)
        reports.extend(svc.advance_market(1))
        if reports[-1].rebalanced is not None:
            break
    assert reports[-1].rebalanced is not None
    entries = store.log_entries(paths, dev.deployment.chain_id, dev.deployment.vault)
    assert entries and entries[-1].market_day == reports[-1].day
    report = svc.verify_rules()
    assert report.matches, report.differences
    assert report.headline == "Matches the rules"
    assert report.checked_targets == 100 and report.checked_holdings >= 90
    assert report.regime_rules == report.regime_vault

    # A hand-made wrong target weight: the operator moves 1 bp from ETH to BTC.
    snap = svc.session.snapshot()
    weights = [c.target_bps for c in snap.constituents]
    syms = [c.symbol for c in snap.constituents]
    i_btc, i_eth = syms.index("BTC"), syms.index("ETH")
    weights[i_btc] += 1
    weights[i_eth] -= 1
    _send(w3, dev.deployment.roles["operator"],
          _vault(w3, dev).functions.setTargetWeights(weights))
    bad = svc.verify_rules()
    assert not bad.matches
    named = {d.symbol for d in bad.differences if d.kind == "target"}
    assert named == {"BTC", "ETH"}
    btc = next(d for d in bad.differences if d.symbol == "BTC")
    want = report.targets_rules["BTC"]
    assert f"targets {Decimal(want + 1) / 100:.2f}%" in btc.text
    assert f"rules give {Decimal(want) / 100:.2f}%" in btc.text
    assert any(d.kind == "changed" for d in bad.differences)

    # A tampered snapshot (one price edited) no longer hashes to its logged value.
    path = store.store_dir(paths, dev.deployment.chain_id, dev.deployment.vault) / \
        f"{entries[-1].hash}.json"
    d = json.loads(path.read_bytes())
    d["assets"][0]["current_price"] = str(Decimal(d["assets"][0]["current_price"]) * 2)
    path.write_text(json.dumps(d, sort_keys=True, separators=(",", ":")))
    tampered = svc.verify_rules()
    assert not tampered.matches
    assert tampered.differences[0].kind == "snapshot"
    assert "does not match its recorded hash" in tampered.differences[0].text


def test_exit_mined_while_away_is_recorded_on_connect(
        svc: WalletService, devnet: tuple[AppPaths, Devnet],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The app dies after the exit's receipt, before recording it: the next connect finds
    it in the journal, verifies it from the receipt and records it, once."""
    paths, _ = devnet
    svc.buy(svc.quote_buy(Decimal("300")))
    q = svc.quote_exit_in_kind("50%")

    def died(*_a: Any, **_k: Any) -> None:
        raise KeyboardInterrupt  # nothing after the receipt runs

    monkeypatch.setattr(svc.inkind, "_record", died)
    with pytest.raises(KeyboardInterrupt):
        svc.exit_in_kind(q)
    monkeypatch.undo()
    mined = [t for t in svc.journal.transactions(sender=svc.active_address())
             if t.kind == "redeem_in_kind" and t.outcome is None]
    assert len(mined) == 1
    again = WalletService(paths, Settings())
    try:
        again.connect()
        rows = [t for t in again.my_trades() if t.tx_hash == mined[0].tx_hash]
        assert len(rows) == 1 and rows[0].verified and rows[0].kind == "redeem_in_kind"
        assert again.inkind.record_mined(svc.active_address()) == 0  # once only
    finally:
        again.close()


def test_ready_change_then_executed(svc: WalletService, w3: Web3,
                                    devnet: tuple[AppPaths, Devnet]) -> None:
    """A change past its delay is shown as ready; once executed it is no longer pending."""
    _, dev = devnet
    tl, vault = _timelock(w3, dev), _vault(w3, dev)
    data = bytes.fromhex(vault.encode_abi("setFees", [30, 40])[2:])
    args = [dev.deployment.vault, 0, data, b"\0" * 32, secrets.token_bytes(32)]
    owner = dev.deployment.roles["owner"]
    _send(w3, owner, tl.functions.schedule(*args, 0))
    (c,) = svc.pending_governance()
    assert c.ready and c.when.startswith("now")
    assert c.summary == "the fees change to 0.30% on buys and 0.40% on sells"
    _send(w3, owner, tl.functions.execute(*args))
    assert svc.pending_governance() == []
    assert vault.functions.buyFeeBps().call() == 30
    # Back to the devnet's fees, through the timelock again.
    back = [dev.deployment.vault, 0, bytes.fromhex(vault.encode_abi("setFees", [25, 25])[2:]),
            b"\0" * 32, secrets.token_bytes(32)]
    _send(w3, owner, tl.functions.schedule(*back, 0))
    _send(w3, owner, tl.functions.execute(*back))
    assert vault.functions.buyFeeBps().call() == 25


def test_cli_verify_and_exit_in_kind(svc: WalletService, devnet: tuple[AppPaths, Devnet],
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`index verify` exits 164 naming the tampered snapshot (left so by the test above);
    `exit --in-kind` redeems, verified, and says what arrived."""
    from wallet_app.cli.main import main

    paths, _ = devnet
    monkeypatch.setenv("G100_HOME", str(paths.data_dir.parent))
    monkeypatch.setenv("G100_WALLET_PASSWORD", PASSWORD)
    capsys.readouterr()
    assert main(["index", "verify"]) == 164
    assert "does not match its recorded hash" in capsys.readouterr().out
    svc.buy(svc.quote_buy(Decimal("200")))
    assert main(["exit", "--in-kind", "--yes", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "redeem_in_kind" and out["verified"] is True
    assert Decimal(out["shares"]) > 0
    assert main(["exit", "--in-kind", "--yes"]) == 33  # nothing left to redeem
