"""The wallet engine end to end on a real Anvil devnet with the real OS keyring.

Create wallet -> fund -> quote -> buy request (one transaction) -> keeper strike -> settled
shares -> operator rebalance -> regime switch to Bear and back -> sell request -> strike ->
USDC payout at the user's address; a request refunded below its minimum; a cancel.
Numbers are checked against the chain (balanceOf, USDC balances), not against the quote.
Then the failure paths, each with nothing lost and a message a person can act on.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from web3 import Web3

from tests.wallet_support import PASSWORD, funded_wallet
from wallet_app.chain.errors import (
    InsufficientFundsForGas,
    RpcUnavailable,
    TransactionReverted,
    WrongNetwork,
)
from wallet_app.chain.sender import TxRequest
from wallet_app.config import Settings
from wallet_app.devnet import process
from wallet_app.devnet.deploy import set_prices
from wallet_app.devnet.embedded import Devnet, ensure_devnet
from wallet_app.facade import (
    DEADLINE_S,
    InsufficientBalance,
    InvalidAmount,
    QuoteExpired,
    WalletService,
)
from wallet_app.models import Regime, TxStatus
from wallet_app.operator import Operator
from wallet_app.paths import AppPaths

pytestmark = [pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

ERC20_ABI = [
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "a", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]},
]


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppPaths, Devnet]]:
    """One deployed and seeded devnet (100 constituents) for the module."""
    home = tmp_path_factory.mktemp("wallet-flow")
    paths = AppPaths(home / "data", home / "config", home / "logs").ensure()
    t0 = time.perf_counter()
    dev = ensure_devnet(paths, port=process.free_port())
    print(f"\n[devnet] up, deployed and seeded in {time.perf_counter() - t0:.2f} s")
    try:
        yield paths, dev
    finally:
        process.down(paths)


@pytest.fixture
def w3(devnet: tuple[AppPaths, Devnet]) -> Web3:
    return Web3(Web3.HTTPProvider(devnet[1].node.rpc_url))


def _service(paths: AppPaths, settings: Settings | None = None) -> WalletService:
    return WalletService(paths, settings or Settings())


@pytest.fixture
def svc(devnet: tuple[AppPaths, Devnet], monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[WalletService]:
    """A fresh funded wallet (real keyring entry) on the shared devnet."""
    with funded_wallet(monkeypatch, devnet[0], "flow") as s:
        yield s


def _usdc(w3: Web3, dev: Devnet, addr: str) -> int:
    return w3.eth.contract(address=dev.deployment.usdc, abi=ERC20_ABI) \
        .functions.balanceOf(addr).call()


def _shares(w3: Web3, dev: Devnet, addr: str) -> int:
    return w3.eth.contract(address=dev.deployment.vault, abi=ERC20_ABI) \
        .functions.balanceOf(addr).call()


def _operator(svc: WalletService, w3: Web3, dev: Devnet) -> Operator:
    assert svc.session.vault is not None
    return Operator(w3, dev.deployment, svc.session.vault)


def test_full_journey(svc: WalletService, devnet: tuple[AppPaths, Devnet], w3: Web3) -> None:
    _, dev = devnet
    addr = svc.active_address()
    assert addr
    usdc0 = _usdc(w3, dev, addr)
    assert usdc0 == 20_000 * 10**6

    state = svc.index_state()
    assert state.name == "TM Global 100" and state.share_symbol == "G100"
    assert len([h for h in state.holdings if h.token]) == 100
    assert sum(h.target_bps for h in state.holdings if h.token) == 10_000

    q = svc.quote_buy(Decimal("1500"))
    assert q.uses_permit and q.simulated  # unlocked: the exact permit+request was simulated
    assert q.fee_usdc == Decimal("3.75") and q.min_shares_out < q.expected_shares
    assert q.gas.expected_fee_eth <= q.gas.max_fee_eth
    assert q.min_request_age == 5 and q.next_strike_at >= svc.session.snapshot().timestamp
    steps: list[str] = []
    buy = svc.buy(q, progress=steps.append)
    assert buy.status is TxStatus.CONFIRMED
    # Requested, then settled at the devnet keeper's strike, verified from BuySettled.
    assert any(m.startswith(f"Requested (#{buy.request_id})") for m in steps)
    assert buy.state == "settled" and buy.verified and buy.request_id % 2 == 0
    assert svc.requests() == []
    # Against the chain: exactly 1500 USDC left, the minted shares are in balanceOf.
    assert usdc0 - _usdc(w3, dev, addr) == 1500 * 10**6
    onchain = _shares(w3, dev, addr)
    assert Decimal(onchain).scaleb(-18) == buy.shares >= q.min_shares_out
    # One signature, one transaction: the user's account sent exactly one tx.
    assert w3.eth.get_transaction_count(addr) == 1

    pos = svc.position()
    assert pos is not None and pos.shares == buy.shares
    assert pos.cost_basis_usdc == Decimal("1500") and pos.fees_paid_usdc == Decimal("3.75")

    op = _operator(svc, w3, dev)
    rep = op.rebalance()
    assert rep.regime is Regime.BULL
    events = svc.index_events()
    assert {"buy_request", "strike", "buy", "rebalance"} <= {e.kind for e in events}
    assert all(e.timestamp is not None for e in events)  # block times, one batched read

    bear = op.switch_regime(Regime.BEAR)
    assert bear.sells == 100 and bear.buys == 0
    st = svc.index_state()
    assert st.regime is Regime.BEAR
    held = [h for h in st.holdings if h.token and h.value_usd > Decimal("0.01")]
    assert held == []  # everything is USDC now
    assert st.cash_usdc > 0 and any(e.kind == "regime" for e in svc.index_events())

    bull = op.switch_regime(Regime.BULL)
    assert bull.buys > 90
    st = svc.index_state()
    assert st.regime is Regime.BULL
    assert len([h for h in st.holdings if h.token and h.value_usd > 0]) > 90

    shares_now = _shares(w3, dev, addr)
    usdc_before = _usdc(w3, dev, addr)
    sq = svc.quote_sell(Decimal(shares_now).scaleb(-18))
    assert sq.cash_sufficient is False  # Bull again: the cash is invested; the keeper raises it
    sell = svc.sell(sq)
    assert sell.state == "settled" and sell.request_id % 2 == 1
    received = _usdc(w3, dev, addr) - usdc_before
    assert received > 0 and Decimal(received).scaleb(-6) == sell.usdc
    assert sell.usdc >= sq.min_usdc_out and sell.receiver == addr
    assert _shares(w3, dev, addr) == 0
    pos = svc.position()
    assert pos is not None and pos.shares == 0 and pos.cost_basis_usdc == 0
    assert pos.realized_pnl_usdc == (sell.usdc - Decimal(1500)).quantize(Decimal("0.000001"))
    statuses = {(t.kind, t.status) for t in svc.transactions()}
    assert statuses == {("buy", TxStatus.CONFIRMED), ("sell", TxStatus.CONFIRMED)}


def test_shares_received_by_transfer_are_not_counted_as_profit(
        svc: WalletService, devnet: tuple[AppPaths, Devnet], w3: Web3) -> None:
    """Shares no recorded buy explains (here: sent by the devnet's seed holder, Anvil's
    account 0) have no known cost: their value is in the holding, not in the P&L."""
    from eth_account import Account

    from tests.test_keys_support import ANVIL_KEY0

    _, dev = devnet
    addr = svc.active_address()
    assert addr
    buy = svc.buy(svc.quote_buy(Decimal("1000")))
    assert buy.state == "settled"
    gift = 400 * 10**18
    holder = Account.from_key(ANVIL_KEY0)
    assert _shares(w3, dev, holder.address) >= gift
    vault = w3.eth.contract(address=dev.deployment.vault, abi=[{
        "type": "function", "name": "transfer", "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "v", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}]}])
    tx = vault.functions.transfer(addr, gift).build_transaction({
        "from": holder.address, "nonce": w3.eth.get_transaction_count(holder.address),
        "chainId": w3.eth.chain_id, "gas": 100_000})
    raw = holder.sign_transaction(tx).raw_transaction
    assert w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw)).status == 1

    pos = svc.position()
    assert pos is not None and pos.shares == buy.shares + 400
    assert pos.shares_without_basis == Decimal(400)
    assert pos.cost_basis_usdc == Decimal("1000")
    # Unrealised P&L over the bought shares only: within the fee and a price step of zero,
    # never the gift's value (about 400 USDC).
    assert abs(pos.unrealized_pnl_usdc) < Decimal(50)


def test_price_moves_past_slippage(svc: WalletService, devnet: tuple[AppPaths, Devnet],
                                   w3: Web3) -> None:
    """Prices jump 3% between quote and strike: the request is refunded at the strike
    (below the minimum), the USDC comes back, nothing counts as a trade."""
    _, dev = devnet
    addr = svc.active_address()
    assert addr
    q = svc.quote_buy(Decimal("800"), slippage_bps=50)
    before = _usdc(w3, dev, addr)
    snap = svc.session.snapshot()
    moved = {c.symbol: Decimal(c.price18).scaleb(-18) * Decimal("1.03")
             for c in snap.constituents}
    set_prices(w3, dev.deployment, moved, refresh_nav=True)
    try:
        res = svc.buy(q)
        assert res.state == "refunded" and res.note == "below your minimum"
        assert res.verified and res.shares == 0
        assert _usdc(w3, dev, addr) == before and _shares(w3, dev, addr) == 0
        assert svc.my_trades() == []  # not a trade: no cost basis, no P&L
        pos = svc.position()
        assert pos is not None and pos.cost_basis_usdc == 0 and pos.fees_paid_usdc == 0
        assert [(t.kind, t.status) for t in svc.transactions()] == [("buy", TxStatus.CONFIRMED)]
        assert any(e.kind == "refund" and f"#{res.request_id}" in e.summary
                   for e in svc.index_events())
        # A fresh quote at the new NAV settles.
        again = svc.buy(svc.quote_buy(Decimal("800")))
        assert again.state == "settled" and again.shares > 0
        assert len(svc.my_trades()) == 1
    finally:
        back = {s: p / Decimal("1.03") for s, p in moved.items()}
        set_prices(w3, dev.deployment, back, refresh_nav=True)


def test_cancel_before_cutoff(svc: WalletService, devnet: tuple[AppPaths, Devnet],
                              w3: Web3) -> None:
    """A request waits for the strike; cancelled before its cut-off, its USDC comes back."""
    _, dev = devnet
    addr = svc.active_address()
    assert addr
    before = _usdc(w3, dev, addr)
    svc.trading.auto_strike = False
    try:
        res = svc.buy(svc.quote_buy(Decimal("400")))
        assert res.state == "requested" and res.request_id is not None
        assert _usdc(w3, dev, addr) == before - 400 * 10**6  # escrowed in the vault
        rows = svc.requests()
        assert [(r.request_id, r.kind, r.amount, r.cancellable) for r in rows] == [
            (res.request_id, "buy", Decimal("400"), True)]
        done = svc.cancel_request(res.request_id)
        assert done.state == "cancelled" and done.verified
        assert _usdc(w3, dev, addr) == before and svc.requests() == []
        with pytest.raises(InvalidAmount, match="not pending"):
            svc.cancel_request(res.request_id)
        assert svc.my_trades() == []
        kinds = sorted(t.kind for t in svc.transactions())
        assert kinds == ["buy", "cancel_request"]
    finally:
        svc.trading.auto_strike = True


def test_deadline_passed(svc: WalletService, devnet: tuple[AppPaths, Devnet],
                         w3: Web3) -> None:
    _, dev = devnet
    addr = svc.active_address()
    assert addr
    q = svc.quote_buy(Decimal("100"))
    before = _usdc(w3, dev, addr)
    w3.provider.make_request("evm_increaseTime", [DEADLINE_S + 60])
    w3.provider.make_request("evm_mine", [])
    Operator(w3, dev.deployment, svc.session.vault).refresh_nav()  # type: ignore[arg-type]
    with pytest.raises(QuoteExpired, match="quote has expired"):
        svc.buy(q)
    # The vault's own check, if a stale deadline ever reached it: a decoded, plain reason.
    assert svc.session.sender is not None and svc.session.vault is not None
    data = svc.session.vault.request_buy_data(10**8, 0, q.deadline)
    with pytest.raises(TransactionReverted, match="deadline is in the past"):
        svc.session.sender.prepare(TxRequest(sender=addr, to=dev.deployment.vault, data=data))
    assert _usdc(w3, dev, addr) == before


def test_insufficient_usdc_and_eth(svc: WalletService, devnet: tuple[AppPaths, Devnet],
                                   w3: Web3) -> None:
    _, dev = devnet
    addr = svc.active_address()
    with pytest.raises(InsufficientBalance, match="You have 20000.000000 USDC"):
        svc.quote_buy(Decimal("20000.01"))
    with pytest.raises(InvalidAmount, match="more than 6 decimal places"):
        svc.quote_buy("1.0000001")
    with pytest.raises(InvalidAmount, match="not a number"):
        svc.quote_buy("12abc")
    w3.provider.make_request("anvil_setBalance", [addr, "0x0"])
    with pytest.raises(InsufficientFundsForGas) as err:
        svc.quote_buy(Decimal("100"))
    assert "ETH" in str(err.value)
    assert _usdc(w3, dev, addr) == 20_000 * 10**6


def test_wrong_chain_id(devnet: tuple[AppPaths, Devnet]) -> None:
    paths, dev = devnet
    settings = Settings(network="custom", rpc_url=dev.node.rpc_url, chain_id=1)
    s = _service(paths, settings)
    try:
        with pytest.raises(WrongNetwork) as err:
            s.connect()
        assert "31337" in str(err.value) and "Traceback" not in str(err.value)
        assert not s.network_status().connected
        # Settings pointing at the wrong chain are refused and not saved.
        before = paths.settings_file.read_text() if paths.settings_file.exists() else None
        good = _service(paths)
        with pytest.raises(WrongNetwork):
            good.save_settings(settings)
        after = paths.settings_file.read_text() if paths.settings_file.exists() else None
        assert before == after
        good.close()
    finally:
        s.close()


class _Proxy:
    """A JSON-RPC forwarder that can be cut and restored, to take the RPC down mid-flow."""

    def __init__(self, upstream: str) -> None:
        proxy = self
        self.up = True

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not proxy.up:
                    self.close_connection = True
                    self.connection.close()
                    return
                r = httpx.post(upstream, content=body,
                               headers={"Content-Type": "application/json"})
                self.send_response(r.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_rpc_down_mid_flow(svc: WalletService, devnet: tuple[AppPaths, Devnet],
                           w3: Web3) -> None:
    paths, dev = devnet
    proxy = _Proxy(dev.node.rpc_url)
    try:
        svc.disconnect()
        svc.settings = dataclasses.replace(svc.settings, rpc_url=proxy.url)
        svc.connect()
        addr = svc.active_address()
        assert addr
        q = svc.quote_buy(Decimal("250"))
        proxy.up = False
        with pytest.raises(RpcUnavailable) as err:
            svc.buy(q)
        assert "cannot reach" in str(err.value).lower() or "network" in str(err.value).lower()
        assert not [t for t in svc.transactions() if t.kind == "buy"
                    and t.status in (TxStatus.PENDING, TxStatus.CONFIRMED)]
        assert _shares(w3, dev, addr) == 0
        proxy.up = True
        done = svc.buy(svc.quote_buy(Decimal("250")))
        assert done.status is TxStatus.CONFIRMED
        assert w3.eth.get_transaction_count(addr) == 1  # exactly one buy went out
    finally:
        proxy.close()


CHILD = textwrap.dedent("""
    import sys
    from decimal import Decimal
    from wallet_app.config import Settings
    from wallet_app.facade import WalletService
    from wallet_app.paths import AppPaths
    from pathlib import Path
    p = Path(sys.argv[1])
    svc = WalletService(AppPaths(p / "data", p / "config", p / "logs"), Settings())
    svc.select_wallet(sys.argv[2])
    svc.connect()
    svc.unlock(sys.argv[3])
    q = svc.quote_buy(Decimal("300"))
    print("quoted", flush=True)
    svc.buy(q)  # automine is off: waits for a receipt that never comes before the kill
""")


def test_killed_after_broadcast_then_restarted(svc: WalletService,
                                               devnet: tuple[AppPaths, Devnet],
                                               w3: Web3) -> None:
    """SIGKILL between broadcast and receipt; the restart reconciles without a resend."""
    paths, dev = devnet
    name = svc.active_wallet().name  # type: ignore[union-attr]
    addr = svc.active_address()
    assert addr
    w3.provider.make_request("evm_setAutomine", [False])
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(paths.data_dir.parent), name, PASSWORD],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pend = [t for t in svc.journal.transactions(sender=addr)
                    if t.kind == "buy" and t.status is TxStatus.PENDING]
            if pend and w3.eth.get_transaction_count(addr, "pending") == 1:
                break
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            time.sleep(0.05)
        else:
            pytest.fail("the child never broadcast its buy")
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    w3.provider.make_request("evm_mine", [])

    restarted = _service(paths)
    try:
        restarted.select_wallet(name)
        restarted.connect()
        client = restarted.session.client
        assert client is not None
        assert client.provider.send_count == 0  # reconcile found it mined: no resend
        txs = [t for t in restarted.transactions() if t.kind == "buy"]
        assert len(txs) == 1 and txs[0].status is TxStatus.CONFIRMED
        assert w3.eth.get_transaction_count(addr) == 1  # the same nonce, no second send
        # Requested, not settled yet (the child died before the keeper's strike): no trade.
        pos = restarted.position()
        assert pos is not None and pos.shares == 0 and pos.cost_basis_usdc == 0
        rows = restarted.requests()
        assert [(r.kind, r.amount) for r in rows] == [("buy", Decimal("300"))]
        assert restarted.session.vault is not None
        Operator(w3, dev.deployment, restarted.session.vault).strike(
            not_before=int(rows[0].eligible_at.timestamp()))
        assert [r.state for r in restarted.settle_requests()] == ["settled"]
        pos = restarted.position()
        assert pos is not None and pos.shares == Decimal(_shares(w3, dev, addr)).scaleb(-18)
        assert pos.shares > 0
        assert pos.cost_basis_usdc == Decimal("300")  # the trade entered the journal
    finally:
        restarted.close()


def test_dashboard_refresh_is_two_requests(svc: WalletService) -> None:
    client = svc.session.client
    assert client is not None
    svc.index_state()
    svc.sync_events()
    svc.position()  # the first look at the address's own events (a full scan, once)
    with client.provider.measure() as m:
        svc.index_state()
        svc.sync_events()
        svc.position()
        svc.my_trades()
    # The lens snapshot for the index screen and one getLogs for new events; the position
    # and the trade list reuse the index screen's lens read (it carries the user's
    # balances), and the address's events are not read again while those balances stand.
    assert m.requests <= 2
    with client.provider.measure() as m2:
        svc.index_state()
        svc.sync_events()
    assert m2.requests <= 2
    # Once the balances moved (USDC arrived), the refresh reads the address's events
    # again, incrementally: three eth_getLogs from the last block read (plus one batched
    # block read when they found something).
    svc.faucet(eth=Decimal(0), usdc=Decimal(5))
    svc.session.forget_snapshot()
    with client.provider.measure() as m3:
        svc.index_state()
        svc.sync_events()
        svc.position()
        svc.my_trades()
    assert m3.by_method["eth_getLogs"] == 1 + 3 and m3.requests <= 2 + 3 + 1


def _cli(paths: AppPaths, *args: str, password: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    env = os.environ.copy()
    env["G100_HOME"] = str(paths.data_dir.parent)
    if password is not None:
        env["G100_WALLET_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "wallet_app", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def test_cli_quote_buy_holdings_sell(svc: WalletService, devnet: tuple[AppPaths, Devnet],
                                     w3: Web3) -> None:
    """The same journey through `index-wallet`, JSON parsed, checked against the chain."""
    import json

    paths, dev = devnet
    name = svc.active_wallet().name  # type: ignore[union-attr]
    addr = svc.active_address()
    assert addr
    q = _cli(paths, "quote", "buy", "400", "--wallet", name, "--json")
    assert q.returncode == 0, q.stderr
    quote = json.loads(q.stdout)
    assert quote["usdc_in"] == "400.000000" and Decimal(quote["min_shares_out"]) > 0
    b = _cli(paths, "buy", "400", "--wallet", name, "--json", "--yes", password=PASSWORD)
    assert b.returncode == 0, b.stderr
    bought = json.loads(b.stdout)
    assert "Confirmed" in b.stderr  # progress on stderr, JSON on stdout
    assert Decimal(bought["shares"]) == Decimal(_shares(w3, dev, addr)).scaleb(-18)
    h = json.loads(_cli(paths, "holdings", "--wallet", name, "--json").stdout)
    assert Decimal(h["shares"]) == Decimal(bought["shares"])
    assert Decimal(h["cost_basis_usdc"]) == Decimal("400")
    bad = _cli(paths, "buy", "400", "--wallet", name, "--yes", password="wrong-password-1")
    assert bad.returncode == 11 and "password" in bad.stderr.lower()
    assert "Traceback" not in bad.stderr
    s = _cli(paths, "sell", "100%", "--wallet", name, "--json", "--yes", password=PASSWORD)
    assert s.returncode == 0, s.stderr
    assert _shares(w3, dev, addr) == 0 and Decimal(json.loads(s.stdout)["usdc"]) > 390
    log = json.loads(_cli(paths, "log", "--wallet", name, "--json").stdout)
    assert {t["kind"] for t in log["transactions"]} == {"buy", "sell"}
    broke = _cli(paths, "quote", "buy", "99999999", "--wallet", name)
    assert broke.returncode == InsufficientBalance.exit_code and "USDC" in broke.stderr
