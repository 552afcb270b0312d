"""History for taxes and the log's legs on a real Anvil devnet with the real keyring.

A scripted history (three buys at different NAVs, a partial sell, another sell) is
exported by the app; the expected CSV is computed here by hand from the chain itself:
the pinned vault's BuySettled/SellSettled/Struck events read with plain web3, the gas of
each request transaction from its receipt and the ETH feed's answer at its block, then
FIFO lots in a few lines of arithmetic. A scripted rebalance's legs must carry exactly
the amounts of the SwapExecuted events of its receipt.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from web3 import Web3
from web3.logs import DISCARD

from tests.wallet_support import forget_wallet, new_funded_wallet
from wallet_app.devnet import artifacts
from wallet_app.devnet.deploy import set_prices
from wallet_app.devnet.embedded import Devnet
from wallet_app.facade import WalletService
from wallet_app.operator import Operator
from wallet_app.paths import AppPaths

pytestmark = [pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

CENT = Decimal("0.01")
FEED_ABI = [
    {"type": "function", "name": "latestRoundData", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "a", "type": "uint80"}, {"name": "answer", "type": "int256"},
                 {"name": "b", "type": "uint256"}, {"name": "c", "type": "uint256"},
                 {"name": "d", "type": "uint80"}]}]


def c2(v: Decimal) -> Decimal:
    return v.quantize(CENT, rounding=ROUND_HALF_EVEN)


@pytest.fixture(scope="module")
def scripted(devnet: tuple[AppPaths, Devnet], tmp_path_factory: pytest.TempPathFactory,
             ) -> Iterator[tuple[WalletService, Devnet, Web3, list[str]]]:
    """A wallet with three buys at three NAVs, a partial sell and a second sell."""
    paths, dev = devnet
    mp = pytest.MonkeyPatch()
    svc, name = new_funded_wallet(mp, paths, "tax")
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    results = []

    def move(factor: str) -> None:
        snap = svc.session.snapshot()
        set_prices(w3, dev.deployment, {c.symbol: Decimal(c.price18).scaleb(-18)
                                        * Decimal(factor) for c in snap.constituents},
                   refresh_nav=True)

    try:
        for usdc, factor in (("1000", "1.03"), ("600", "0.97"), ("750", "1.03")):
            res = svc.buy(svc.quote_buy(Decimal(usdc)))
            assert res.state == "settled", res
            results.append(res.tx_hash)
            move(factor)
        pos = svc.position()
        assert pos is not None
        third = (pos.shares * Decimal("0.4")).quantize(Decimal("0.000001"))
        for shares in (third, (pos.shares - third) / 2):
            res = svc.sell(svc.quote_sell(shares.quantize(Decimal("0.000001"))))
            assert res.state == "settled", res
            results.append(res.tx_hash)
        yield svc, dev, w3, results
    finally:
        forget_wallet(svc, name)
        mp.undo()


def _expected_from_chain(w3: Web3, dev: Devnet, addr: str) -> list[dict[str, Decimal]]:
    """Each settled trade of ``addr`` with its USD values, from the chain alone."""
    vault = w3.eth.contract(address=dev.deployment.vault,
                            abi=artifacts.load("IndexVault").abi)
    feed = w3.eth.contract(address=dev.deployment.token("ETH").feed, abi=FEED_ABI)
    eth_dec = dev.deployment.token("ETH").feed_decimals
    rows = []
    for ev_name in ("BuySettled", "SellSettled"):
        ev = getattr(vault.events, ev_name)
        for log in ev.get_logs(from_block=0, argument_filters={"owner": addr}):
            a = log["args"]
            receipt = w3.eth.get_transaction_receipt(log["transactionHash"])
            struck = vault.events.Struck().process_receipt(receipt, errors=DISCARD)[0]["args"]
            nav = (Decimal(struck["totalAssets"]) / 10**6) / (
                Decimal(struck["totalSupply"]) / 10**18)
            req_ev = vault.events.BuyRequested if ev_name == "BuySettled" else \
                vault.events.SellRequested
            req = req_ev.get_logs(from_block=0, argument_filters={"id": a["id"]})[0]
            r_receipt = w3.eth.get_transaction_receipt(req["transactionHash"])
            gas_eth = Decimal(r_receipt["gasUsed"] * r_receipt["effectiveGasPrice"]) / 10**18
            eth_usd = Decimal(feed.functions.latestRoundData().call(
                block_identifier=r_receipt["blockNumber"])[1]) / 10**eth_dec
            shares = Decimal(a["shares"]) / 10**18
            usdc = Decimal(a["assets"] if ev_name == "BuySettled" else a["usdcOut"]) / 10**6
            rows.append({"kind": "buy" if ev_name == "BuySettled" else "sell",
                         "block": Decimal(log["blockNumber"]), "shares": shares,
                         "usdc": usdc, "fee": Decimal(a["fee"]) / 10**6, "nav": nav,
                         "gas_usd": gas_eth * eth_usd, "eth_usd": eth_usd})
    return sorted(rows, key=lambda r: r["block"])


def test_tax_csv_to_the_cent(scripted: tuple[WalletService, Devnet, Web3, list[str]],
                             tmp_path: Path) -> None:
    svc, dev, w3, _ = scripted
    addr = svc.active_address()
    assert addr
    expected = _expected_from_chain(w3, dev, addr)
    assert [r["kind"] for r in expected] == ["buy", "buy", "buy", "sell", "sell"]
    assert len({r["nav"] for r in expected[:3]}) == 3  # three different NAVs
    # FIFO by hand: lots (shares, basis); each sell eats the oldest first.
    lots: list[list[Decimal]] = []
    want = []
    for r in expected:
        if r["kind"] == "buy":
            basis = r["usdc"] + r["gas_usd"]
            lots.append([r["shares"], basis])
            want.append({"basis": c2(basis), "gain": None, "proceeds": None})
            continue
        left, proceeds = r["shares"], r["usdc"] - r["gas_usd"]
        basis_c = proceeds_c = Decimal("0.00")
        for lot in lots:
            if left == 0 or lot[0] == 0:
                continue
            take = min(left, lot[0])
            part = lot[1] if take == lot[0] else lot[1] * take / lot[0]
            basis_c += c2(part)
            proceeds_c += c2(proceeds * take / r["shares"])
            lot[0] -= take
            lot[1] -= part
            left -= take
        want.append({"basis": basis_c, "proceeds": proceeds_c,
                     "gain": proceeds_c - basis_c})

    out = tmp_path / "tax.csv"
    assert svc.export_tax_csv(out) == 5
    got = list(csv.DictReader(out.open()))
    for r, w, g in zip(expected, want, got, strict=True):
        assert g["type"] == r["kind"]
        assert Decimal(g["value_usd"]) == c2(r["shares"] * r["nav"])
        assert Decimal(g["shares"]) == r["shares"] and Decimal(g["usdc"]) == r["usdc"]
        assert Decimal(g["platform_fee_usd"]) == c2(r["fee"])
        assert Decimal(g["eth_usd"]) == r["eth_usd"]
        assert Decimal(g["network_fee_usd"]) == c2(r["gas_usd"])
        assert Decimal(g["cost_basis_usd"]) == w["basis"]
        if w["gain"] is not None:
            assert Decimal(g["proceeds_usd"]) == w["proceeds"]
            assert Decimal(g["realized_gain_usd"]) == w["gain"]
    assert got[3]["lots"].startswith("L1:") and got[3]["method"] == "fifo"

    year = int(got[0]["date_utc"][:4])
    rep_csv = tmp_path / "year.csv"
    rep = svc.tax_year_report(year, "hifo", rep_csv)
    assert rep.sells == 2 and rep.buys == 3 and rep.method == "hifo"
    lines = list(csv.DictReader(rep_csv.open()))
    assert sum(Decimal(x["gain_usd"]) for x in lines) == rep.gain_usd
    assert sum(Decimal(x["shares"]) for x in lines) == expected[3]["shares"] + \
        expected[4]["shares"]


def test_rebalance_legs_are_the_swap_events(
        scripted: tuple[WalletService, Devnet, Web3, list[str]]) -> None:
    svc, dev, w3, _ = scripted
    assert svc.session.vault is not None
    op = Operator(w3, dev.deployment, svc.session.vault)
    snap = svc.session.snapshot()
    # Move three prices apart so the rebalance has legs of both sides.
    syms = [c.symbol for c in snap.constituents[:3]]
    set_prices(w3, dev.deployment, {s: Decimal(c.price18).scaleb(-18) * f for s, c, f in zip(
        syms, snap.constituents[:3], (Decimal("1.03"), Decimal("0.97"), Decimal("1.03")),
        strict=True)}, refresh_nav=True)
    rep = op.rebalance()
    assert rep.legs > 0
    rebalances = [e for e in svc.index_events(limit=500) if e.kind == "rebalance"]
    latest = rebalances[0]
    vault = w3.eth.contract(address=dev.deployment.vault,
                            abi=artifacts.load("IndexVault").abi)
    receipt = w3.eth.get_transaction_receipt(latest.tx_hash)
    swaps = [x["args"] for x in
             vault.events.SwapExecuted().process_receipt(receipt, errors=DISCARD)]
    ls = svc.event_legs(latest)
    assert len(ls.legs) == len(swaps) > 0 and ls.oracle_checked is True
    usdc = dev.deployment.usdc.lower()
    tokens = {t.address.lower(): t for t in dev.deployment.tokens}
    for leg, s in zip(ls.legs, swaps, strict=True):
        buy = s["tokenIn"].lower() == usdc
        tok = tokens[(s["tokenOut"] if buy else s["tokenIn"]).lower()]
        assert leg.asset == tok.symbol and leg.side == ("buy" if buy else "sell")
        dec_in, dec_out = (6, tok.decimals) if buy else (tok.decimals, 6)
        assert leg.amount_in == Decimal(s["amountIn"]).scaleb(-dec_in)
        assert leg.amount_out == Decimal(s["amountOut"]).scaleb(-dec_out)
        assert leg.min_out == Decimal(s["minAmountOut"]).scaleb(-dec_out)
        assert leg.slippage_bps is not None and leg.slippage_bps < 100
    assert ls.gas_used == receipt["gasUsed"]
    assert ls.gas_eth == Decimal(receipt["gasUsed"] * receipt["effectiveGasPrice"]) / 10**18
    # The strike of the last sell opens to its settlement at the strike's NAV.
    strike = next(e for e in svc.index_events(limit=500) if e.kind == "strike"
                  and svc.event_legs(e).legs)
    sl = svc.event_legs(strike).legs
    assert {leg.asset for leg in sl} == {"G100"} and all(leg.oracle_price_usd for leg in sl)
