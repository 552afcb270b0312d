"""History for taxes with an in-kind exit and G100 share transfers, on a real Anvil devnet
with the real keyring, checked to the cent.

A scripted history of account 1 (A): two buys at two NAVs, shares sent to its own account
2 (B), shares sent to a stranger, shares received from another holder (the devnet's seed
depositor), then an in-kind exit. The expected CSV is computed here from the chain with
plain web3, independently of the app: the settlement and ``Struck`` events, the request
and exit receipts' gas, the ETH feed at their blocks, the vault's share ``Transfer`` logs,
the NAV at a block as the vault's own ``totalAssets() / totalSupply()`` read there, and the
exit's basket as the ``RedeemedInKind`` amounts times each constituent's feed answer at
the exit's block; then FIFO lots by hand.
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from wallet_app.config import Settings
from wallet_app.devnet import artifacts
from wallet_app.devnet.deploy import set_prices
from wallet_app.devnet.embedded import Devnet
from wallet_app.facade import WalletService
from wallet_app.paths import AppPaths
from wallet_app.reports.tax_csv import year_text

pytestmark = [pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

PASSWORD = "orbit-Lantern-93-velvet"
CENT = Decimal("0.01")
ZERO = "0x" + "00" * 20
FEED_ABI = [
    {"type": "function", "name": "latestRoundData", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "a", "type": "uint80"}, {"name": "answer", "type": "int256"},
                 {"name": "b", "type": "uint256"}, {"name": "c", "type": "uint256"},
                 {"name": "d", "type": "uint80"}]}]


def c2(v: Decimal) -> Decimal:
    return v.quantize(CENT, rounding=ROUND_HALF_EVEN)


Scripted = tuple[WalletService, Devnet, Web3, dict[str, Any]]


@pytest.fixture(scope="module")
def scripted(devnet: tuple[AppPaths, Devnet]) -> Iterator[Scripted]:
    paths, dev = devnet
    mp = pytest.MonkeyPatch()
    mp.setenv("G100_TEST_SCRYPT_N", "1024")
    svc = WalletService(paths, Settings())
    name = f"taxfix-{secrets.token_hex(3)}"
    svc.create_wallet(name, PASSWORD)
    svc.connect()
    svc.faucet(eth=Decimal(5), usdc=Decimal(20_000))
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    vault = w3.eth.contract(address=dev.deployment.vault,
                            abi=artifacts.load("IndexVault").abi)
    a = svc.active_address()
    b = svc.add_account(PASSWORD, "Savings").address
    stranger = Account.create().address
    seed = dev.deployment.roles["deployer"]

    def move(factor: str) -> None:
        snap = svc.session.snapshot()
        set_prices(w3, dev.deployment, {c.symbol: Decimal(c.price18).scaleb(-18)
                                        * Decimal(factor) for c in snap.constituents},
                   refresh_nav=True)

    try:
        for usdc, factor in (("1000", "1.04"), ("600", "0.95")):
            res = svc.buy(svc.quote_buy(Decimal(usdc)))
            assert res.state == "settled", res
            move(factor)
        first = svc.session.journal.trades(a, w3.eth.chain_id)[0].shares
        quarter = (first / 4).quantize(Decimal("0.000001"))
        sent = {}
        for who, to in (("own", b), ("stranger", stranger)):
            r = svc.send_transfer(svc.quote_transfer("g100", to, str(quarter)))
            assert r.verified, r.note
            sent[who] = r.tx_hash
        move("1.02")
        got = w3.eth.send_transaction({"from": seed, "to": dev.deployment.vault,
                                       "data": vault.encode_abi("transfer", [a, 3 * 10**18]),
                                       "gas": 120_000})
        assert w3.eth.wait_for_transaction_receipt(got)["status"] == 1
        move("1.03")
        # The exit: the rest of the first lot and part of the second (FIFO).
        exit_shares = (first * 3 / 4).quantize(Decimal("0.000001"))
        ex = svc.exit_in_kind(svc.quote_exit_in_kind(exit_shares))
        assert ex.verified, ex.note
        move("1.05")  # later prices must not leak into the values of earlier blocks
        yield svc, dev, w3, {"a": a, "b": b, "stranger": stranger, "seed": seed,
                             "sent": sent, "exit": ex.tx_hash, "quarter": quarter}
    finally:
        svc.keys.delete(name, name)
        svc.close()
        mp.undo()


def _gas_usd(w3: Web3, dev: Devnet, tx_hash: Any) -> tuple[Decimal, int]:
    r = w3.eth.get_transaction_receipt(tx_hash)
    gas = Decimal(r["gasUsed"] * r["effectiveGasPrice"]) / 10**18
    return gas * _price(w3, dev, "ETH", r["blockNumber"]), r["blockNumber"]


def _price(w3: Web3, dev: Devnet, symbol: str, block: int) -> Decimal:
    t = dev.deployment.token(symbol)
    feed = w3.eth.contract(address=t.feed, abi=FEED_ABI)
    return Decimal(feed.functions.latestRoundData().call(block_identifier=block)[1]) \
        / 10**t.feed_decimals


def _nav(vault: Any, block: int) -> Decimal:
    assets = vault.functions.totalAssets().call(block_identifier=block)
    supply = vault.functions.totalSupply().call(block_identifier=block)
    return (Decimal(assets) / 10**6) / (Decimal(supply) / 10**18)


def _events_from_chain(w3: Web3, dev: Devnet, s: dict[str, Any]) -> list[dict[str, Any]]:
    """A's buys, transfers and in-kind exit with their USD values, from the chain alone."""
    a = s["a"]
    vault = w3.eth.contract(address=dev.deployment.vault,
                            abi=artifacts.load("IndexVault").abi)
    rows: list[dict[str, Any]] = []
    for log in vault.events.BuySettled.get_logs(from_block=0, argument_filters={"owner": a}):
        x = log["args"]
        receipt = w3.eth.get_transaction_receipt(log["transactionHash"])
        struck = vault.events.Struck().process_receipt(receipt, errors=DISCARD)[0]["args"]
        nav = (Decimal(struck["totalAssets"]) / 10**6) / (Decimal(struck["totalSupply"])
                                                          / 10**18)
        req = vault.events.BuyRequested.get_logs(from_block=0,
                                                 argument_filters={"id": x["id"]})[0]
        gas_usd, _ = _gas_usd(w3, dev, req["transactionHash"])
        rows.append({"kind": "buy", "key": (log["blockNumber"], 0),
                     "shares": Decimal(x["shares"]) / 10**18, "nav": nav,
                     "cost": Decimal(x["assets"]) / 10**6 + gas_usd})
    for flt in ({"from": a}, {"to": a}):
        for log in vault.events.Transfer.get_logs(from_block=0, argument_filters=flt):
            x = log["args"]
            if {x["from"], x["to"]} & {ZERO, dev.deployment.vault}:
                continue  # mints, burns and escrows are the trades themselves
            out = x["from"] == a
            block = log["blockNumber"]
            gas_usd = _gas_usd(w3, dev, log["transactionHash"])[0] if out else Decimal(0)
            rows.append({"kind": "transfer_out" if out else "transfer_in",
                         "key": (block, log["logIndex"]),
                         "shares": Decimal(x["value"]) / 10**18, "nav": _nav(vault, block),
                         "to": x["to"] if out else x["from"], "gas_usd": gas_usd})
    (log,) = vault.events.RedeemedInKind.get_logs(from_block=0,
                                                  argument_filters={"caller": a})
    x, block = log["args"], log["blockNumber"]
    by_addr = {t.address: t for t in dev.deployment.tokens}
    tokens = sum((Decimal(amt) / 10**by_addr[tok].decimals
                  * _price(w3, dev, by_addr[tok].symbol, block)
                  for tok, amt in zip(x["tokens"], x["amounts"], strict=True) if amt),
                 Decimal(0))
    gas_usd, _ = _gas_usd(w3, dev, log["transactionHash"])
    rows.append({"kind": "in_kind_exit", "key": (block, log["logIndex"]),
                 "shares": Decimal(x["shares"]) / 10**18, "nav": _nav(vault, block),
                 "usdc": Decimal(x["usdcOut"]) / 10**6, "tokens": tokens,
                 "gas_usd": gas_usd})
    return sorted(rows, key=lambda r: r["key"])


def _fifo(lots: list[list[Any]], shares: Decimal) -> list[tuple[str, Decimal, Decimal]]:
    """Take ``shares`` oldest first; (lot, shares, exact basis) per lot taken."""
    out, left = [], shares
    for lot in lots:
        if left == 0 or lot[1] == 0:
            continue
        take = min(left, lot[1])
        part = lot[2] if take == lot[1] else lot[2] * take / lot[1]
        out.append((lot[0], take, part))
        lot[1] -= take
        lot[2] -= part
        left -= take
    assert left == 0
    return out


def test_in_kind_exit_and_share_transfers_to_the_cent(scripted: Scripted,
                                                      tmp_path: Path) -> None:
    svc, dev, w3, s = scripted
    expected = _events_from_chain(w3, dev, s)
    assert [r["kind"] for r in expected] == ["buy", "buy", "transfer_out", "transfer_out",
                                             "transfer_in", "in_kind_exit"]
    assert expected[2]["to"] == s["b"] and expected[3]["to"] == s["stranger"]
    assert expected[4]["to"] == s["seed"] and expected[5]["tokens"] > 0

    out = tmp_path / "tax.csv"
    assert svc.export_tax_csv(out) == 6
    got = list(csv.DictReader(out.open()))
    assert [g["type"] for g in got] == [r["kind"] for r in expected]

    lots: list[list[Any]] = []
    moved_to_b: list[tuple[str, Decimal, Decimal]] = []
    for r, g in zip(expected, got, strict=True):
        assert Decimal(g["shares"]) == r["shares"]
        assert Decimal(g["value_usd"]) == c2(r["shares"] * r["nav"]), g
        if r["kind"] == "buy" or r["kind"] == "transfer_in":
            basis = r["cost"] if r["kind"] == "buy" else r["shares"] * r["nav"]
            lots.append([f"L{len(lots) + 1}", r["shares"], basis])
            assert (g["lots"], Decimal(g["cost_basis_usd"])) == (lots[-1][0], c2(basis))
            assert g["proceeds_usd"] == "" and g["realized_gain_usd"] == ""
        elif r["kind"] == "transfer_out":
            parts = _fifo(lots, r["shares"])
            assert g["lots"] == " ".join(f"{lot}:{sh.normalize():f}" for lot, sh, _ in parts)
            assert Decimal(g["cost_basis_usd"]) == sum(c2(p) for _, _, p in parts)
            assert g["proceeds_usd"] == "" and g["realized_gain_usd"] == ""  # not a sale
            assert g["counterparty"] == r["to"]
            assert Decimal(g["network_fee_usd"]) == c2(r["gas_usd"])
            if r["to"] == s["b"]:
                moved_to_b = parts
                assert "own account" in g["note"]
            else:
                assert "not a sale" in g["note"]
        else:
            proceeds = r["usdc"] + r["tokens"] - r["gas_usd"]
            parts = _fifo(lots, r["shares"])
            assert [lot for lot, _, _ in parts] == ["L1", "L2"]  # across two lots
            basis_c = sum(c2(p) for _, _, p in parts)
            proceeds_c = sum(c2(proceeds * sh / r["shares"]) for _, sh, _ in parts)
            assert Decimal(g["usdc"]) == r["usdc"]
            assert Decimal(g["in_kind_usd"]) == c2(r["tokens"])
            assert Decimal(g["network_fee_usd"]) == c2(r["gas_usd"])
            assert Decimal(g["cost_basis_usd"]) == basis_c
            assert Decimal(g["proceeds_usd"]) == proceeds_c
            assert Decimal(g["realized_gain_usd"]) == proceeds_c - basis_c

    # The year: the exit is the only disposal; the stranger's shares are listed apart.
    year = int(got[0]["date_utc"][:4])
    rep = svc.tax_year_report(year, "fifo")
    assert rep.in_kind_exits == 1 and rep.sells == 0 and rep.buys == 2
    assert rep.gain_usd == Decimal(got[5]["realized_gain_usd"])
    assert sum(d.shares for d in rep.disposals) == expected[5]["shares"]
    (gift,) = rep.transfers_out
    assert gift.trade.counterparty == s["stranger"]
    assert s["stranger"] in year_text(rep) and "not sales" in year_text(rep)
    hifo = svc.tax_year_report(year, "hifo")  # the exit takes the dearer lot first
    assert hifo.gain_usd != rep.gain_usd

    # Account 2 received its shares with account 1's basis and acquisition date.
    svc.switch_account(s["b"])
    assert svc.active_address() == s["b"]
    out_b = tmp_path / "tax-b.csv"
    assert svc.export_tax_csv(out_b) == 1
    (row,) = list(csv.DictReader(out_b.open()))
    ((lot, shares, part),) = moved_to_b
    assert row["type"] == "transfer_in" and row["counterparty"] == s["a"]
    assert row["lots"] == f"{lot}@{s['a'].lower()[:6]}:{shares.normalize():f}"
    assert Decimal(row["cost_basis_usd"]) == c2(part)
    assert "own account" in row["note"]
    svc.switch_account(s["a"])
