// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IndexVault} from "../src/IndexVault.sol";
import {IndexFixture} from "./utils/IndexFixture.sol";

/// @dev Gas benchmark at N constituents (env BENCH_N, default 10). Run by scripts/bench_gas.py
///      with `--isolate`, so every measured call is its own transaction (cold storage, real
///      refunds); `vm.snapshotGasLastCall` records it into cache/gas-snapshots/. Recorded
///      figures include the 21,000 intrinsic gas; the script subtracts it.
///      State: a 1M USDC vault, 90% invested across N pools 20M USDC deep each.
contract GasBenchTest is IndexFixture {
    uint256 internal n;
    string internal group;

    function setUp() public {
        vm.warp(1_750_000_000);
        n = vm.envOr("BENCH_N", uint256(10));
        group = string.concat("n", vm.toString(n));
        _deployWorld(n, 20_000_000e6);
        _buy(bob, 1_000_000e6);
        _invest(9_000);
        vault.updateNav();
        // A previous buyer: alice holds shares and an allowance, the fee recipient has a balance.
        _buy(alice, 2_000e6);
        _fund(alice, 10_000e6);
    }

    function test_gas_buy() public {
        vm.prank(alice);
        vault.buy(1_000e6, 0, alice, block.timestamp);
        vm.snapshotGasLastCall(group, "buy");
    }

    function test_gas_buyNewHolder() public {
        address carol = makeAddr("carol");
        _fund(carol, 1_000e6);
        vm.prank(carol);
        vault.buy(1_000e6, 0, carol, block.timestamp);
        vm.snapshotGasLastCall(group, "buy_new_holder");
    }

    function test_gas_sellFromCash() public {
        uint256 shares = vault.balanceOf(alice) / 2;
        vm.prank(alice);
        vault.sell(shares, 0, alice, block.timestamp);
        vm.snapshotGasLastCall(group, "sell_from_cash");
    }

    function test_gas_sellPastCash() public {
        // 20% of the supply is worth ~200k USDC, twice the cash on hand.
        uint256 shares = vault.totalSupply() / 5;
        vm.prank(bob);
        vault.sell(shares, 0, bob, block.timestamp);
        vm.snapshotGasLastCall(group, "sell_past_cash");
    }

    function test_gas_redeemInKind() public {
        uint256 shares = vault.balanceOf(bob) / 10;
        vm.prank(bob);
        vault.redeemInKind(shares, bob);
        vm.snapshotGasLastCall(group, "redeem_in_kind");
    }

    function test_gas_rebalanceLeg() public {
        IndexVault.Leg[] memory legs = new IndexVault.Leg[](1);
        // A sell leg of a tenth of the first holding (the pools sit slightly above the oracle
        // after the set-up's buys, so a sell leg stays within the 1% budget at every N).
        uint256 amount = tokens[0].balanceOf(address(vault)) / 10;
        legs[0] = IndexVault.Leg({token: address(tokens[0]), isBuy: false, amountIn: amount, minAmountOut: 0});
        vm.prank(operator);
        vault.rebalance(legs, 100, block.timestamp);
        vm.snapshotGasLastCall(group, "rebalance_one_leg");
    }

    function test_gas_updateNav() public {
        vault.updateNav();
        vm.snapshotGasLastCall(group, "update_nav");
    }

    function test_gas_lensQuoteSell() public {
        lens.quoteSell(vault, vault.totalSupply() / 5);
        vm.snapshotGasLastCall(group, "lens_quote_sell");
    }

    function test_gas_lens() public {
        lens.snapshot(vault, alice);
        vm.snapshotGasLastCall(group, "lens_snapshot");
    }
}
