// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Script} from "forge-std/Script.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IndexVault} from "../src/IndexVault.sol";
import {IndexLens} from "../src/IndexLens.sol";
import {IUniswapV2Router02} from "../src/interfaces/IUniswapV2.sol";

/// @title DeployIndex: the index deployment for Foundry users, from the same JSON config as
///        `index-wallet deploy` (see deploy.example.json beside this file).
/// @notice Same transactions in the same order as the Python deployer
///         (wallet_app/deploy/plan.py): the IndexBook library (linked and deployed first by
///         forge), IndexLens, a TimelockController with delay 0 and the deployer as its only
///         proposer/executor, IndexVault (owner: the timelock; operator: the deployer for
///         now); then through the timelock addConstituents (25 per batch), setLimits and the
///         optional sequencer feed; setTargetWeights and a first updateNav as the interim
///         operator; and one hand-over batch: the config's operator and keeper, proposers,
///         cancellers and executors, the deployer's roles revoked, the real delay last.
///         So the same deployer and nonce give the same addresses and code hashes.
/// @dev Run: G100_DEPLOY_CONFIG=path/to/config.json forge script
///      script/DeployIndex.s.sol:DeployIndex --rpc-url $RPC --account NAME --broadcast
///      (the file must be readable under fs_permissions in foundry.toml: inside contracts/).
contract DeployIndex is Script {
    uint256 internal constant ADD_PER_BATCH = 25;

    struct Cfg {
        address usdc;
        address router;
        string name;
        string symbol;
        uint16 buyFee;
        uint16 sellFee;
        address guardian;
        address operator;
        address keeper;
        address feeRecipient;
        address[] proposers;
        address[] executors;
        uint256 delay;
        IndexVault.Limits limits;
        address sequencerFeed;
        uint32 sequencerGrace;
        address[] tokens;
        address[] feeds;
        uint32[] heartbeats;
        uint16[] weights;
    }

    /// @notice Deploys everything; returns the vault, lens and timelock.
    function run() external returns (IndexVault vault, IndexLens lens, TimelockController timelock) {
        Cfg memory c = _load(vm.readFile(vm.envString("G100_DEPLOY_CONFIG")));
        vm.startBroadcast();
        (, address me,) = vm.readCallers();
        lens = new IndexLens();
        address[] memory self = new address[](1);
        self[0] = me;
        timelock = new TimelockController(0, self, self, address(0));
        vault = new IndexVault(
            IERC20(c.usdc), IUniswapV2Router02(c.router), c.name, c.symbol, address(timelock), me,
            c.guardian, c.feeRecipient, c.buyFee, c.sellFee
        );
        _setup(c, vault, timelock);
        if (c.weights.length != 0) vault.setTargetWeights(c.weights);
        vault.updateNav();
        _handOver(c, vault, timelock, me);
        vm.stopBroadcast();
    }

    function _setup(Cfg memory c, IndexVault vault, TimelockController tl) internal {
        uint256 n = c.tokens.length;
        for (uint256 start; start < n; start += ADD_PER_BATCH) {
            uint256 len = n - start < ADD_PER_BATCH ? n - start : ADD_PER_BATCH;
            address[] memory t = new address[](len);
            address[] memory f = new address[](len);
            uint32[] memory h = new uint32[](len);
            for (uint256 i; i < len; ++i) {
                (t[i], f[i], h[i]) = (c.tokens[start + i], c.feeds[start + i], c.heartbeats[start + i]);
            }
            uint256 calls = start == 0 ? (c.sequencerFeed != address(0) ? 3 : 2) : 1;
            bytes[] memory data = new bytes[](calls);
            data[0] = abi.encodeCall(IndexVault.addConstituents, (t, f, h));
            if (start == 0) {
                data[1] = abi.encodeCall(IndexVault.setLimits, (c.limits));
                if (calls == 3) data[2] = abi.encodeCall(IndexVault.setSequencerFeed, (c.sequencerFeed, c.sequencerGrace));
            }
            _batch(tl, address(vault), data, bytes32(start + 1));
        }
    }

    function _handOver(Cfg memory c, IndexVault vault, TimelockController tl, address me) internal {
        bytes[] memory data = new bytes[](3 + 2 * c.proposers.length + c.executors.length + 3);
        address[] memory targets = new address[](data.length);
        uint256 k;
        (targets[k], data[k++]) = (address(vault), abi.encodeCall(IndexVault.setRole, (IndexVault.Role.Operator, c.operator)));
        (targets[k], data[k++]) = (address(vault), abi.encodeCall(IndexVault.setRole, (IndexVault.Role.Keeper, c.keeper)));
        bool meProposes;
        bool meExecutes;
        for (uint256 i; i < c.proposers.length; ++i) {
            meProposes = meProposes || c.proposers[i] == me;
            (targets[k], data[k++]) = (address(tl), abi.encodeCall(tl.grantRole, (tl.PROPOSER_ROLE(), c.proposers[i])));
            (targets[k], data[k++]) = (address(tl), abi.encodeCall(tl.grantRole, (tl.CANCELLER_ROLE(), c.proposers[i])));
        }
        for (uint256 i; i < c.executors.length; ++i) {
            meExecutes = meExecutes || c.executors[i] == me;
            (targets[k], data[k++]) = (address(tl), abi.encodeCall(tl.grantRole, (tl.EXECUTOR_ROLE(), c.executors[i])));
        }
        if (!meProposes) {
            (targets[k], data[k++]) = (address(tl), abi.encodeCall(tl.revokeRole, (tl.PROPOSER_ROLE(), me)));
            (targets[k], data[k++]) = (address(tl), abi.encodeCall(tl.revokeRole, (tl.CANCELLER_ROLE(), me)));
        }
        if (!meExecutes) (targets[k], data[k++]) = (address(tl), abi.encodeCall(tl.revokeRole, (tl.EXECUTOR_ROLE(), me)));
        if (c.delay != 0) (targets[k], data[k++]) = (address(tl), abi.encodeCall(tl.updateDelay, (c.delay)));
        assembly {
            mstore(data, k)
            mstore(targets, k)
        }
        uint256[] memory values = new uint256[](k);
        tl.scheduleBatch(targets, values, data, bytes32(0), bytes32(type(uint256).max), 0);
        tl.executeBatch(targets, values, data, bytes32(0), bytes32(type(uint256).max));
    }

    function _batch(TimelockController tl, address target, bytes[] memory data, bytes32 salt) internal {
        address[] memory targets = new address[](data.length);
        for (uint256 i; i < data.length; ++i) {
            targets[i] = target;
        }
        uint256[] memory values = new uint256[](data.length);
        tl.scheduleBatch(targets, values, data, bytes32(0), salt, 0);
        tl.executeBatch(targets, values, data, bytes32(0), salt);
    }

    // ------------------------------------------------------------------ config

    function _uint(string memory j, string memory key, uint256 dflt) internal view returns (uint256) {
        return vm.keyExistsJson(j, key) ? vm.parseJsonUint(j, key) : dflt;
    }

    function _load(string memory j) internal view returns (Cfg memory c) {
        c.usdc = vm.parseJsonAddress(j, ".usdc");
        c.router = vm.parseJsonAddress(j, ".router");
        c.name = vm.keyExistsJson(j, ".name") ? vm.parseJsonString(j, ".name") : "TM Global 100";
        c.symbol = vm.keyExistsJson(j, ".symbol") ? vm.parseJsonString(j, ".symbol") : "G100";
        c.buyFee = uint16(_uint(j, ".fees.buy_bps", 25));
        c.sellFee = uint16(_uint(j, ".fees.sell_bps", 25));
        c.guardian = vm.parseJsonAddress(j, ".roles.guardian");
        c.operator = vm.parseJsonAddress(j, ".roles.operator");
        c.keeper = vm.keyExistsJson(j, ".roles.keeper") ? vm.parseJsonAddress(j, ".roles.keeper") : c.operator;
        c.feeRecipient = vm.parseJsonAddress(j, ".roles.fee_recipient");
        c.proposers = vm.parseJsonAddressArray(j, ".timelock.proposers");
        c.executors = vm.parseJsonAddressArray(j, ".timelock.executors");
        c.delay = _uint(j, ".timelock.delay", 48 hours);
        c.limits = IndexVault.Limits({
            maxRebalanceSlippageBps: uint16(_uint(j, ".limits.max_rebalance_slippage_bps", 100)),
            lossBudgetBps: uint16(_uint(j, ".limits.loss_budget_bps", 50)),
            rebalanceCooldown: uint32(_uint(j, ".limits.rebalance_cooldown", 300)),
            maxPriceDeviationBps: uint16(_uint(j, ".limits.max_price_deviation_bps", 2_500)),
            minRequestAge: uint32(_uint(j, ".keeper.min_request_age", 300)),
            strikeInterval: uint32(_uint(j, ".keeper.strike_interval", 3_600))
        });
        if (vm.keyExistsJson(j, ".sequencer.feed")) {
            c.sequencerFeed = vm.parseJsonAddress(j, ".sequencer.feed");
            c.sequencerGrace = uint32(_uint(j, ".sequencer.grace_period", 3_600));
        }
        uint256 n;
        while (vm.keyExistsJson(j, string.concat(".constituents[", vm.toString(n), "]"))) ++n;
        c.tokens = new address[](n);
        c.feeds = new address[](n);
        c.heartbeats = new uint32[](n);
        bool weighted = vm.keyExistsJson(j, ".constituents[0].weight_bps");
        c.weights = new uint16[](weighted ? n : 0);
        for (uint256 i; i < n; ++i) {
            string memory p = string.concat(".constituents[", vm.toString(i), "]");
            c.tokens[i] = vm.parseJsonAddress(j, string.concat(p, ".token"));
            c.feeds[i] = vm.parseJsonAddress(j, string.concat(p, ".feed"));
            c.heartbeats[i] = uint32(vm.parseJsonUint(j, string.concat(p, ".heartbeat")));
            if (weighted) c.weights[i] = uint16(vm.parseJsonUint(j, string.concat(p, ".weight_bps")));
        }
    }
}
