"""EIP-1559 fee presets: ordering, expected vs maximum, replacement bumps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.test_chain_support import devnet_client, fresh_account, rpc
from wallet_app.chain.fees import (
    PRESETS,
    FeeHistory,
    bumped,
    compute_presets,
    estimate_fee,
    fee_presets,
    parse_fee_history,
    replacement_fees,
    to_gas_estimate,
)
from wallet_app.devnet import process
from wallet_app.models import GasEstimate

GWEI = 10**9


def _history(base: int, rewards: list[list[int]]) -> FeeHistory:
    return FeeHistory(next_base_fee_wei=base, rewards=rewards, newest_block=100)


def test_presets_from_busy_history_are_ordered() -> None:
    # Ten blocks with 10/50/90th percentile tips (wei); one outlier block.
    rewards = [[1 * GWEI, 2 * GWEI, 5 * GWEI]] * 9 + [[50 * GWEI, 80 * GWEI, 500 * GWEI]]
    p = compute_presets(_history(30 * GWEI, rewards))
    assert [p[n].max_priority_fee_wei for n in PRESETS] == [1 * GWEI, 2 * GWEI, 5 * GWEI]
    # max fee = next base fee x headroom + tip
    assert p["low"].max_fee_per_gas_wei == int(30 * GWEI * 1.25) + 1 * GWEI
    assert p["market"].max_fee_per_gas_wei == 60 * GWEI + 2 * GWEI
    assert p["aggressive"].max_fee_per_gas_wei == 75 * GWEI + 5 * GWEI
    for a, b in zip(PRESETS, PRESETS[1:], strict=False):
        assert p[a].max_fee_per_gas_wei <= p[b].max_fee_per_gas_wei
        assert p[a].max_priority_fee_wei <= p[b].max_priority_fee_wei
    for s in p.values():
        assert s.expected_fee_per_gas_wei == 30 * GWEI + s.max_priority_fee_wei
        assert s.expected_fee_per_gas_wei <= s.max_fee_per_gas_wei


def test_idle_chain_uses_ordered_tip_floors() -> None:
    p = compute_presets(_history(7, [[0, 0, 0]] * 10))
    tips = [p[n].max_priority_fee_wei for n in PRESETS]
    assert tips == sorted(tips) and len(set(tips)) == 3 and tips[0] > 0


def test_gas_estimate_expected_vs_max_in_eth_and_usd() -> None:
    s = compute_presets(_history(10 * GWEI, [[GWEI, GWEI, GWEI]]))["market"]
    est = to_gas_estimate(s, 100_000, gas_expected=80_000, eth_usd=Decimal("3000"))
    assert isinstance(est, GasEstimate) and est.preset == "market"
    assert est.expected_fee_eth == Decimal(80_000 * 11 * GWEI) / Decimal(10**18)
    assert est.max_fee_eth == Decimal(100_000 * 21 * GWEI) / Decimal(10**18)
    assert est.expected_fee_eth < est.max_fee_eth
    assert est.expected_fee_usd == Decimal("2.640000")
    assert est.max_fee_usd == Decimal("6.300000")
    assert isinstance(est.max_fee_usd, Decimal)
    with pytest.raises(TypeError):
        to_gas_estimate(s, 21_000, eth_usd=3000.0)  # type: ignore[arg-type]
    no_price = to_gas_estimate(s, 21_000)
    assert no_price.expected_fee_usd is None and no_price.max_fee_usd is None


def test_parse_fee_history_json() -> None:
    h = parse_fee_history({"oldestBlock": "0x10", "baseFeePerGas": ["0x1", "0x2", "0x3"],
                           "reward": [["0x0", "0x5", "0x9"], ["0x1", "0x6", "0xa"]],
                           "gasUsedRatio": [0.5, 0.9]})
    assert h.next_base_fee_wei == 3 and h.newest_block == 0x11
    assert h.rewards == [[0, 5, 9], [1, 6, 10]]


def test_replacement_bump_is_at_least_12_5_percent() -> None:
    assert bumped(1000) == 1125
    assert bumped(1001) == 1127  # rounded up
    assert bumped(0) == 1  # always strictly higher
    max_fee, tip = replacement_fees(40 * GWEI, 2 * GWEI)
    assert max_fee * 1000 >= 40 * GWEI * 1125 and tip * 1000 >= 2 * GWEI * 1125
    cur = compute_presets(_history(100 * GWEI, [[GWEI, 3 * GWEI, 9 * GWEI]]))["aggressive"]
    max_fee, tip = replacement_fees(40 * GWEI, 2 * GWEI, cur)
    assert tip == 9 * GWEI and max_fee == cur.max_fee_per_gas_wei  # today's market wins


def test_presets_on_anvil_one_request(anvil_node: process.NodeInfo) -> None:
    url = anvil_node.rpc_url
    # Some traffic so fee history has rewards to read.
    a = fresh_account(url)
    rpc(url, "anvil_impersonateAccount", a.address)
    rpc(url, "eth_sendTransaction", {"from": a.address, "to": a.address, "value": "0x1",
                                     "maxPriorityFeePerGas": hex(3 * GWEI),
                                     "maxFeePerGas": hex(50 * GWEI)})
    rpc(url, "anvil_stopImpersonatingAccount", a.address)
    client = devnet_client(url)
    with client.provider.measure() as window:
        presets = fee_presets(client, 21_000, eth_usd=Decimal("2500.50"))
    assert window.requests == 1 and window.by_method["eth_feeHistory"] == 1
    assert list(presets) == list(PRESETS)
    ests = [presets[n] for n in PRESETS]
    for e in ests:
        assert e.gas_limit == 21_000
        assert e.expected_fee_eth <= e.max_fee_eth
        assert e.expected_fee_usd is not None and e.max_fee_usd is not None
        assert e.expected_fee_usd <= e.max_fee_usd
        assert e.max_priority_fee_wei <= e.max_fee_per_gas_wei
    assert [e.max_fee_per_gas_wei for e in ests] == sorted(e.max_fee_per_gas_wei for e in ests)
    assert [e.expected_fee_eth for e in ests] == sorted(e.expected_fee_eth for e in ests)
    base = int(rpc(url, "eth_getBlockByNumber", "pending", False)["baseFeePerGas"], 16)
    assert presets["market"].max_fee_per_gas_wei >= base  # includable in the next block
    assert estimate_fee(client, 50_000, "low").preset == "low"
