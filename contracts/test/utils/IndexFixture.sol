// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

import {IndexVault} from "../../src/IndexVault.sol";
import {IndexBook} from "../../src/IndexBook.sol";
import {IndexLens} from "../../src/IndexLens.sol";
import {IUniswapV2Factory, IUniswapV2Pair, IUniswapV2Router02} from "../../src/interfaces/IUniswapV2.sol";
import {DevUSDC} from "../../src/devnet/DevUSDC.sol";
import {DevToken} from "../../src/devnet/DevToken.sol";
import {DevPriceFeed} from "../../src/devnet/DevPriceFeed.sol";
import {DevMarketSeeder} from "../../src/devnet/DevMarketSeeder.sol";

/// @dev Shared test world: devnet USDC, N tokens (decimals cycling 6/8/18) with feeds and
///      pools on the *real* Uniswap V2 factory and Router02 (bytecode read from the npm
///      packages' build JSON), OpenZeppelin's own TimelockController owning the vault, the
///      vault and the lens. The test contract is the tokens' minter and the feeds' owner, so
///      tests can mint and move prices. `owner` is the timelock's proposer and executor.
abstract contract IndexFixture is Test {
    uint32 internal constant HEARTBEAT = 1 days;
    uint8 internal constant FEED_DECIMALS = 8;

    address internal owner = makeAddr("owner");
    address internal operator = makeAddr("operator");
    address internal guardian = makeAddr("guardian");
    address internal feeRecipient = makeAddr("feeRecipient");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    DevUSDC internal usdc;
    IUniswapV2Factory internal factory;
    IUniswapV2Router02 internal router;
    address internal weth;
    DevMarketSeeder internal seeder;
    IndexVault internal vault;
    IndexLens internal lens;
    TimelockController internal timelock;
    uint256 internal timelockSalt;

    DevToken[] internal tokens;
    DevPriceFeed[] internal feeds;
    address[] internal pairs;

    // ------------------------------------------------------------------ world

    function _loadArtifact(string memory path) internal view returns (bytes memory) {
        string memory json = vm.readFile(path);
        return vm.parseBytes(string.concat("0x", vm.parseJsonString(json, ".bytecode")));
    }

    function _deployCode(bytes memory initCode) internal returns (address addr) {
        assembly {
            addr := create(0, add(initCode, 0x20), mload(initCode))
        }
        require(addr != address(0), "deploy failed");
    }

    function _deployUniswap() internal {
        weth = _deployCode(_loadArtifact("node_modules/@uniswap/v2-periphery/build/WETH9.json"));
        factory = IUniswapV2Factory(
            _deployCode(
                abi.encodePacked(
                    _loadArtifact("node_modules/@uniswap/v2-core/build/UniswapV2Factory.json"),
                    abi.encode(address(this))
                )
            )
        );
        router = IUniswapV2Router02(
            _deployCode(
                abi.encodePacked(
                    _loadArtifact("node_modules/@uniswap/v2-periphery/build/UniswapV2Router02.json"),
                    abi.encode(address(factory), weth)
                )
            )
        );
    }

    /// @dev A deterministic spread of USD prices (8 decimals): BTC-like down to sub-cent.
    function _priceOf(uint256 i) internal pure returns (int256) {
        int256[8] memory p = [
            int256(60_000e8),
            int256(3_000e8),
            int256(1e8),
            int256(0.5e8),
            int256(150e8),
            int256(0.0004e8),
            int256(25e8),
            int256(7.5e8)
        ];
        return p[i % 8];
    }

    function _decimalsOf(uint256 i) internal pure returns (uint8) {
        uint8[3] memory d = [uint8(18), uint8(8), uint8(6)];
        return d[i % 3];
    }

    /// @dev Deploys the world with `n` constituents, each pool seeded with `poolUsdc` USDC of depth.
    function _deployWorld(uint256 n, uint256 poolUsdc) internal {
        usdc = new DevUSDC(address(this));
        _deployUniswap();
        seeder = new DevMarketSeeder(factory, IERC20(address(usdc)), address(this));
        usdc.mint(address(seeder), poolUsdc * n);

        uint256 batch = 25;
        for (uint256 start; start < n; start += batch) {
            uint256 m = Math.min(batch, n - start);
            DevMarketSeeder.MarketSpec[] memory specs = new DevMarketSeeder.MarketSpec[](m);
            for (uint256 j; j < m; ++j) {
                uint256 i = start + j;
                int256 price = _priceOf(i);
                uint8 dec = _decimalsOf(i);
                // casting to 'uint256' is safe because prices are positive constants
                // forge-lint: disable-next-line(unsafe-typecast)
                uint256 tokenReserve = poolUsdc * 10 ** dec * 10 ** FEED_DECIMALS / (uint256(price) * 1e6);
                specs[j] = DevMarketSeeder.MarketSpec({
                    name: string.concat("Token ", vm.toString(i)),
                    symbol: string.concat("T", vm.toString(i)),
                    decimals: dec,
                    feedDecimals: FEED_DECIMALS,
                    answer: price,
                    tokenReserve: tokenReserve,
                    usdcReserve: poolUsdc
                });
            }
            (address[] memory t, address[] memory f, address[] memory p) = seeder.createMarkets(specs, address(this));
            for (uint256 j; j < m; ++j) {
                tokens.push(DevToken(t[j]));
                feeds.push(DevPriceFeed(f[j]));
                pairs.push(p[j]);
            }
        }

        timelock = _deployTimelock(0);
        vault = new IndexVault(
            IERC20(address(usdc)),
            router,
            "TM Global 100",
            "G100",
            address(timelock),
            operator,
            guardian,
            feeRecipient,
            25,
            25
        );
        lens = new IndexLens();

        address[] memory ta = new address[](n);
        address[] memory fa = new address[](n);
        uint32[] memory hb = new uint32[](n);
        uint16[] memory w = new uint16[](n);
        uint256 each = 10_000 / n;
        for (uint256 i; i < n; ++i) {
            ta[i] = address(tokens[i]);
            fa[i] = address(feeds[i]);
            hb[i] = HEARTBEAT;
            // casting to 'uint16' is safe because each <= 10_000
            // forge-lint: disable-next-line(unsafe-typecast)
            w[i] = uint16(each);
        }
        // casting to 'uint16' is safe because the remainder is < n <= 128
        // forge-lint: disable-next-line(unsafe-typecast)
        w[0] += uint16(10_000 - each * n);
        _asOwner(abi.encodeCall(IndexVault.addConstituents, (ta, fa, hb)));
        // Test timing: a 60 s cut-off and cooldown; a 2% loss budget so that the set-up's
        // first investment of a whole vault through the pools (0.3% pool fee + impact) fits.
        _asOwner(abi.encodeCall(IndexVault.setLimits, (_limitsWith(200, 60, 60))));
        vm.prank(operator);
        vault.setTargetWeights(w);
        vault.updateNav();
    }

    /// @dev The default limits with a given loss budget, cooldown and cut-off.
    function _limitsWith(uint16 lossBudgetBps, uint32 cooldown, uint32 minRequestAge)
        internal
        pure
        returns (IndexVault.Limits memory)
    {
        return IndexVault.Limits({
            maxRebalanceSlippageBps: 100,
            lossBudgetBps: lossBudgetBps,
            rebalanceCooldown: cooldown,
            maxPriceDeviationBps: 2_500,
            minRequestAge: minRequestAge,
            strikeInterval: 3_600
        });
    }

    /// @dev OpenZeppelin's TimelockController: `owner` proposes and executes, no admin.
    function _deployTimelock(uint256 minDelay) internal returns (TimelockController t) {
        address[] memory roles = new address[](1);
        roles[0] = owner;
        t = new TimelockController(minDelay, roles, roles, address(0));
    }

    /// @dev Schedules `data` on the vault through the timelock, waits its delay, executes it.
    function _asOwner(bytes memory data) internal {
        bytes32 salt = bytes32(++timelockSalt);
        uint256 delay = timelock.getMinDelay();
        vm.prank(owner);
        timelock.schedule(address(vault), 0, data, bytes32(0), salt, delay);
        if (delay != 0) vm.warp(block.timestamp + delay);
        vm.prank(owner);
        timelock.execute(address(vault), 0, data, bytes32(0), salt);
    }

    // ----------------------------------------------------------------- actions

    function _fund(address who, uint256 amount) internal {
        usdc.mint(who, amount);
        vm.prank(who);
        usdc.approve(address(vault), type(uint256).max);
    }

    function _requestBuy(address who, uint256 amount) internal returns (uint256 id) {
        _fund(who, amount);
        vm.prank(who);
        id = vault.requestBuy(amount, 0, block.timestamp + 1 days);
    }

    function _requestSell(address who, uint256 shares) internal returns (uint256 id) {
        vm.prank(who);
        id = vault.requestSell(shares, 0, block.timestamp + 1 days);
    }

    /// @dev Waits past the cut-off and strikes as the keeper.
    function _strike() internal returns (uint256 settled, uint256 refunded) {
        vm.warp(block.timestamp + vault.minRequestAge() + 1);
        vm.prank(vault.keeper());
        (settled, refunded) = vault.strike(type(uint256).max);
    }

    /// @dev A buy request settled by the next strike; returns the shares received.
    function _buy(address who, uint256 amount) internal returns (uint256 shares) {
        uint256 before = vault.balanceOf(who);
        _requestBuy(who, amount);
        _strike();
        shares = vault.balanceOf(who) - before;
    }

    /// @dev A sell request settled by the next strike; returns the USDC received.
    function _sell(address who, uint256 shares) internal returns (uint256 usdcOut) {
        uint256 before = usdc.balanceOf(who);
        _requestSell(who, shares);
        _strike();
        usdcOut = usdc.balanceOf(who) - before;
    }

    /// @dev Re-posts every feed's answer at the current time (keeps feeds fresh across warps).
    function _repostFeeds() internal {
        for (uint256 i; i < feeds.length; ++i) {
            (, int256 answer,,,) = feeds[i].latestRoundData();
            feeds[i].setPrice(answer);
        }
    }

    /// @dev An EIP-2612 permit of `value` USDC from `holder` to the vault, signed with `pk`.
    function _permitSig(uint256 pk, address holder, uint256 value, uint256 deadline)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        bytes32 typehash =
            keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
        bytes32 structHash =
            keccak256(abi.encode(typehash, holder, address(vault), value, usdc.nonces(holder), deadline));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", usdc.DOMAIN_SEPARATOR(), structHash));
        (v, r, s) = vm.sign(pk, digest);
    }

    /// @dev Waits out the rebalance cooldown.
    function _afterCooldown() internal {
        (,,, uint256 cooldown, uint256 last) = vault.operatorLimits();
        if (last != 0 && block.timestamp < last + cooldown) vm.warp(last + cooldown);
    }

    /// @dev Operator invests `fractionBps` of the cash across the constituents by target weight.
    function _invest(uint256 fractionBps) internal {
        IndexBook.Constituent[] memory cs = vault.getConstituents();
        uint256 budget = vault.cash() * fractionBps / 10_000;
        IndexBook.Leg[] memory legs = new IndexBook.Leg[](cs.length);
        uint256 k;
        for (uint256 i; i < cs.length; ++i) {
            uint256 amt = budget * cs[i].targetWeightBps / 10_000;
            if (amt == 0) continue;
            legs[k++] = IndexBook.Leg({token: cs[i].token, isBuy: true, amountIn: amt, minAmountOut: 0});
        }
        assembly {
            mstore(legs, k)
        }
        _afterCooldown();
        vm.prank(operator);
        vault.rebalance(legs, 100, block.timestamp);
        _arbAll();
    }

    /// @dev Arbitrageurs bring every pool back to its feed price (the vault's own buys pushed
    ///      them up); without this a later liquidation would sell into a premium.
    function _arbAll() internal {
        for (uint256 i; i < tokens.length; ++i) {
            (, int256 answer,,,) = feeds[i].latestRoundData();
            _arbPool(i, answer);
        }
    }

    /// @dev Sets feed `i` to `newPrice` (8 decimals) and trades pool `i` to about that price
    ///      through the router (the arbitrage a real market would do).
    function _movePrice(uint256 i, int256 newPrice) internal {
        feeds[i].setPrice(newPrice);
        _arbPool(i, newPrice);
    }

    function _arbPool(uint256 i, int256 newPrice) internal {
        IUniswapV2Pair pair = IUniswapV2Pair(pairs[i]);
        (uint112 r0, uint112 r1,) = pair.getReserves();
        bool tokenIs0 = pair.token0() == address(tokens[i]);
        uint256 rt = tokenIs0 ? r0 : r1;
        uint256 ru = tokenIs0 ? r1 : r0;
        uint256 k = rt * ru;
        uint256 dec = tokens[i].decimals();
        // casting to 'uint256' is safe because tests only set positive prices
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 p = uint256(newPrice);
        // Target USDC reserve: sqrt(k * price), price in USDC units per token unit.
        uint256 ruTarget = Math.sqrt(Math.mulDiv(k, p * 1e6, 10 ** FEED_DECIMALS * 10 ** dec));
        address[] memory path = new address[](2);
        if (ruTarget > ru) {
            uint256 amountIn = (ruTarget - ru) * 1000 / 997;
            usdc.mint(address(this), amountIn);
            usdc.approve(address(router), amountIn);
            path[0] = address(usdc);
            path[1] = address(tokens[i]);
            router.swapExactTokensForTokens(amountIn, 0, path, address(this), block.timestamp);
        } else if (ruTarget < ru) {
            uint256 rtTarget = k / ruTarget;
            uint256 amountIn = (rtTarget - rt) * 1000 / 997;
            if (amountIn == 0) return;
            tokens[i].mint(address(this), amountIn);
            tokens[i].approve(address(router), amountIn);
            path[0] = address(tokens[i]);
            path[1] = address(usdc);
            router.swapExactTokensForTokens(amountIn, 0, path, address(this), block.timestamp);
        }
    }

    /// @dev Oracle value of the vault's holdings from live feeds and live balances.
    function _oracleHoldings() internal view returns (uint256 v) {
        for (uint256 i; i < tokens.length; ++i) {
            (, int256 answer,,,) = feeds[i].latestRoundData();
            uint256 bal = tokens[i].balanceOf(address(vault)) - vault.owedTotal(address(tokens[i]));
            // casting to 'uint256' is safe because feed answers in tests are positive
            // forge-lint: disable-next-line(unsafe-typecast)
            v += Math.mulDiv(bal, uint256(answer) * 1e10, 10 ** tokens[i].decimals() * 1e12);
        }
    }

    /// @dev Sum over constituents of floor((balance - owed) * cachedPrice), what the cache must equal.
    function _cacheRecomputed() internal view returns (uint256 v) {
        IndexBook.Constituent[] memory cs = vault.getConstituents();
        for (uint256 i; i < cs.length; ++i) {
            uint256 bal = IERC20(cs[i].token).balanceOf(address(vault)) - vault.owedTotal(cs[i].token);
            v += Math.mulDiv(bal, cs[i].cachedPrice, 10 ** cs[i].decimals * 1e12);
        }
    }
}
