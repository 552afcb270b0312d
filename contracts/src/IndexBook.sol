// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IAggregatorV3} from "./interfaces/IAggregatorV3.sol";
import {IUniswapV2Router02} from "./interfaces/IUniswapV2.sol";

/// @title IndexBook: the vault's holdings book (constituents, oracle cache, trades, in-kind)
/// @notice A linked library: its external functions run by DELEGATECALL in the vault's own
///         context (the vault's storage, balances and address; its events are the vault's).
///         It exists because the vault's code would not fit the 24,576-byte EIP-170 limit in
///         one contract; it holds no state and has no owner.
/// @dev Every price the book writes is fresh (heartbeat, sanity) and within `maxDev` of the
///      cached price; the caller checks the L2 sequencer first.
library IndexBook {
    using SafeERC20 for IERC20;
    using Math for uint256;
    using SafeCast for uint256;

    uint256 internal constant BPS = 10_000;
    /// @notice Most constituents a book holds (bounds every loop).
    uint256 internal constant MAX_CONSTITUENTS = 128;

    /// @notice One constituent as stored (three storage slots).
    /// @param token The ERC-20 held.
    /// @param targetWeightBps Target weight in basis points (set by the operator).
    /// @param decimals The token's decimals (read once when added).
    /// @param feedDecimals The feed's decimals (read once when the feed is set).
    /// @param heartbeat Maximum age of a feed answer, in seconds.
    /// @param hasOwed Some of the vault's balance is owed to in-kind redeemers.
    /// @param feed The Chainlink-style USD price feed of `token`.
    /// @param cachedPrice USD per whole token, 18 decimals, as of the last checked read.
    /// @param cachedValue `(balance - owed) * cachedPrice` in USDC base units.
    struct Constituent {
        address token;
        uint16 targetWeightBps;
        uint8 decimals;
        uint8 feedDecimals;
        uint32 heartbeat;
        bool hasOwed;
        address feed;
        uint128 cachedPrice;
        uint128 cachedValue;
    }

    /// @notice One trade of a rebalance.
    /// @param token The constituent traded against USDC.
    /// @param isBuy True: spend `amountIn` USDC on `token`. False: sell `amountIn` of `token`.
    /// @param amountIn Exact input; `type(uint256).max` on a sell means the whole balance.
    /// @param minAmountOut Operator's own floor; the vault also applies its oracle floor.
    struct Leg {
        address token;
        bool isBuy;
        uint256 amountIn;
        uint256 minAmountOut;
    }

    /// @dev The book in storage.
    struct Book {
        Constituent[] list;
        mapping(address token => uint256) slotOf;
        mapping(address token => uint256) owedTotal;
        mapping(address account => mapping(address token => uint256)) owed;
        uint128 holdingsValue;
        uint64 navUpdatedAt;
    }

    /// @dev What a rebalance needs from the vault.
    struct TradeEnv {
        IUniswapV2Router02 router;
        address usdc;
        bool bear;
        uint256 slippageBps;
        uint256 freeCash;
        uint256 maxDev;
        uint256 scale;
        uint256 dust;
    }

    /// @notice One rebalance swap (amounts measured as balance changes).
    event SwapExecuted(
        address indexed tokenIn, address indexed tokenOut, uint256 amountIn, uint256 amountOut, uint256 minAmountOut
    );
    /// @notice An in-kind transfer of `token` failed; the amount is kept for `claimInKind`.
    event InKindOwed(address indexed account, address indexed token, uint256 amount);
    /// @notice A constituent was added.
    event ConstituentAdded(address indexed token, address indexed feed, uint32 heartbeat, uint8 decimals);
    /// @notice A constituent was removed; `balance` and `cachedValue` are what it still held.
    event ConstituentRemoved(address indexed token, uint256 balance, uint256 cachedValue, bool writtenOff);
    /// @notice A constituent's feed or heartbeat changed.
    event FeedSet(address indexed token, address indexed feed, uint32 heartbeat);

    /// @notice A feed answer is older than its heartbeat (or incomplete).
    error StalePrice(address token, uint256 updatedAt);
    /// @notice A feed answered zero or a negative number.
    error InvalidPrice(address token, int256 answer);
    /// @notice A feed could not be read at all.
    error PriceUnavailable(address token);
    /// @notice A price moved more than the deviation band against the cached price: trading
    ///         stays frozen until the feed comes back into the band or the timelock acts.
    error PriceDeviationTooLarge(address token, uint256 cachedPrice, uint256 newPrice);
    /// @notice A swap returned less than its oracle-derived minimum.
    error SlippageExceeded(address tokenIn, uint256 amountOut, uint256 minAmountOut);
    /// @notice The token is not a constituent.
    error UnknownConstituent(address token);
    /// @notice The token is already a constituent (or is USDC).
    error DuplicateConstituent(address token);
    /// @notice Adding would exceed the maximum number of constituents.
    error TooManyConstituents();
    /// @notice Array arguments differ in length.
    error LengthMismatch();
    /// @notice A constituent still has a target weight or more than dust and cannot be removed.
    error ConstituentNotEmpty(address token);
    /// @notice A rebalance leg is worth less than 0.001 USDC (or buys less than one token unit).
    error LegTooSmall(address token, uint256 value);
    /// @notice A sell leg asks for more than the vault holds (owed in-kind amounts excluded).
    error ExceedsHoldings(address token, uint256 amountIn, uint256 held);
    /// @notice Buy legs are not allowed in the Bear regime (100% USDC).
    error BuyLegInBear();
    /// @notice A feed reports more than 18 decimals.
    error UnsupportedFeedDecimals(uint8 decimals);
    /// @notice A zero address was given.
    error ZeroAddressArg();
    /// @notice A zero amount was given.
    error ZeroAmountArg();
    /// @notice A buy leg needs more USDC than the free cash (pending buys are not spendable).
    error InsufficientFreeCash(uint256 needed, uint256 cash);

    // ============================================================ refresh

    /// @notice Re-reads every checked price and held balance and rewrites the whole cache.
    /// @return holdings The new holdings value (USDC units).
    function refreshAll(Book storage b, uint256 maxDev, uint256 scale) external returns (uint256 holdings) {
        uint256 n = b.list.length;
        for (uint256 i; i < n; ++i) {
            Constituent storage c = b.list[i];
            uint256 price = _checkedPrice(c, maxDev);
            uint256 value = _valueOf(_held(b, c), price, c.decimals, scale);
            c.cachedPrice = price.toUint128();
            c.cachedValue = value.toUint128();
            holdings += value;
        }
        b.holdingsValue = holdings.toUint128();
        b.navUpdatedAt = uint64(block.timestamp);
    }

    // ============================================================ trades

    /// @notice Executes rebalance legs: each priced from a checked feed, floored at its oracle
    ///         value less `env.slippageBps` (or the operator's higher floor), measured as balance
    ///         changes, and re-cached at the checked price.
    /// @return valueIn Oracle value of all inputs (USDC units).
    /// @return valueOut Oracle value of all outputs (USDC units).
    function trade(Book storage b, Leg[] calldata legs, TradeEnv memory env)
        external
        returns (uint256 valueIn, uint256 valueOut)
    {
        for (uint256 k; k < legs.length; ++k) {
            Leg calldata leg = legs[k];
            Constituent storage c = _constituentOf(b, leg.token);
            uint256 price = _checkedPrice(c, env.maxDev);
            (uint256 vIn, uint256 vOut) = leg.isBuy ? _legBuy(c, leg, env, price) : _legSell(b, c, leg, env, price);
            valueIn += vIn;
            valueOut += vOut;
            uint256 newValue = _valueOf(_held(b, c), price, c.decimals, env.scale);
            b.holdingsValue = (uint256(b.holdingsValue) - c.cachedValue + newValue).toUint128();
            c.cachedPrice = price.toUint128();
            c.cachedValue = newValue.toUint128();
        }
    }

    function _legBuy(Constituent storage c, Leg calldata leg, TradeEnv memory env, uint256 price)
        private
        returns (uint256 valueIn, uint256 valueOut)
    {
        if (env.bear) revert BuyLegInBear();
        valueIn = leg.amountIn;
        uint256 oracleOut = valueIn.mulDiv(10 ** c.decimals * env.scale, price);
        if (valueIn < env.dust || oracleOut == 0) revert LegTooSmall(c.token, valueIn);
        if (valueIn > env.freeCash) revert InsufficientFreeCash(valueIn, env.freeCash);
        env.freeCash -= valueIn;
        uint256 got = _swap(env, env.usdc, c.token, valueIn, _minOut(oracleOut, env.slippageBps, leg.minAmountOut));
        valueOut = _valueOf(got, price, c.decimals, env.scale);
    }

    function _legSell(Book storage b, Constituent storage c, Leg calldata leg, TradeEnv memory env, uint256 price)
        private
        returns (uint256 valueIn, uint256 valueOut)
    {
        uint256 held = _held(b, c);
        uint256 amountIn = leg.amountIn == type(uint256).max ? held : leg.amountIn;
        if (amountIn == 0) revert ZeroAmountArg();
        if (amountIn > held) revert ExceedsHoldings(c.token, amountIn, held);
        valueIn = _valueOf(amountIn, price, c.decimals, env.scale);
        if (valueIn < env.dust) revert LegTooSmall(c.token, valueIn);
        valueOut = _swap(env, c.token, env.usdc, amountIn, _minOut(valueIn, env.slippageBps, leg.minAmountOut));
        env.freeCash += valueOut;
    }

    function _minOut(uint256 oracleOut, uint256 slippageBps, uint256 floor) private pure returns (uint256 m) {
        m = oracleOut.mulDiv(BPS - slippageBps, BPS, Math.Rounding.Ceil);
        if (floor > m) m = floor;
    }

    /// @dev Swaps through the router's fee-on-transfer-safe entry point and measures what
    ///      arrived as the change of the vault's balance; reverts below `minOut`.
    function _swap(TradeEnv memory env, address tokenIn, address tokenOut, uint256 amountIn, uint256 minOut)
        private
        returns (uint256 out)
    {
        address[] memory path = new address[](2);
        path[0] = tokenIn;
        path[1] = tokenOut;
        uint256 before = IERC20(tokenOut).balanceOf(address(this));
        env.router.swapExactTokensForTokensSupportingFeeOnTransferTokens(amountIn, 0, path, address(this), block.timestamp);
        out = IERC20(tokenOut).balanceOf(address(this)) - before;
        if (out < minOut) revert SlippageExceeded(tokenIn, out, minOut);
        emit SwapExecuted(tokenIn, tokenOut, amountIn, out, minOut);
    }

    // ============================================================ in kind

    /// @notice Sends `receiver` `shares / supply` of every held balance (the caller has already
    ///         burned the shares; `supply` counts the virtual shares), lowering each cache entry
    ///         at its cached price. A token whose transfer fails is kept for `receiver` instead
    ///         of reverting.
    /// @dev Rounding is in the remaining holders' favour: each amount rounds down, and is cut
    ///      further if needed so that the entry's cached value (the floor of the value left)
    ///      keeps at least `cachedValue - floor(cachedValue * shares / supply)`. Flooring the
    ///      remaining value alone could drop the cache by up to one unit more than the exit's
    ///      fraction per constituent, which in a small vault is a visible fall of the NAV per share.
    /// @return tokens Every constituent, in book order.
    /// @return amounts The amount of each sent (or kept claimable).
    function payInKind(Book storage b, uint256 shares, uint256 supply, address receiver, uint256 scale)
        external
        returns (address[] memory tokens, uint256[] memory amounts)
    {
        uint256 n = b.list.length;
        amounts = new uint256[](n);
        tokens = new address[](n);
        uint256 holdings = b.holdingsValue;
        for (uint256 i; i < n; ++i) {
            Constituent storage c = b.list[i];
            tokens[i] = c.token;
            uint256 bal = _held(b, c);
            uint256 amt = bal.mulDiv(shares, supply);
            uint256 price = c.cachedPrice;
            uint256 oldValue = c.cachedValue;
            if (amt != 0 && price != 0) {
                uint256 keep = oldValue - oldValue.mulDiv(shares, supply);
                uint256 minLeft = keep.mulDiv(10 ** c.decimals * scale, price, Math.Rounding.Ceil);
                if (bal - amt < minLeft) amt = bal > minLeft ? bal - minLeft : 0;
            }
            if (amt == 0) continue;
            amounts[i] = amt;
            uint256 newValue = _valueOf(bal - amt, price, c.decimals, scale);
            holdings = holdings - oldValue + newValue;
            c.cachedValue = newValue.toUint128();
        }
        b.holdingsValue = holdings.toUint128();
        for (uint256 i; i < n; ++i) {
            uint256 amt = amounts[i];
            if (amt == 0) continue;
            address token = tokens[i];
            if (!IERC20(token).trySafeTransfer(receiver, amt)) {
                b.owed[receiver][token] += amt;
                b.owedTotal[token] += amt;
                b.list[i].hasOwed = true;
                emit InKindOwed(receiver, token, amt);
            }
        }
    }

    // ============================================================ administration

    /// @notice Adds constituents (target weight 0) and approves the router for each.
    function add(
        Book storage b,
        address[] calldata tokens,
        address[] calldata feeds,
        uint32[] calldata heartbeats,
        address usdc,
        address router
    ) external {
        uint256 m = tokens.length;
        if (feeds.length != m || heartbeats.length != m) revert LengthMismatch();
        if (b.list.length + m > MAX_CONSTITUENTS) revert TooManyConstituents();
        for (uint256 i; i < m; ++i) {
            address token = tokens[i];
            if (token == address(0) || feeds[i] == address(0)) revert ZeroAddressArg();
            if (token == usdc || b.slotOf[token] != 0) revert DuplicateConstituent(token);
            uint8 dec = IERC20Metadata(token).decimals();
            b.list.push(
                Constituent({
                    token: token,
                    targetWeightBps: 0,
                    decimals: dec,
                    feedDecimals: _feedDecimals(feeds[i]),
                    heartbeat: heartbeats[i],
                    hasOwed: false,
                    feed: feeds[i],
                    cachedPrice: 0,
                    cachedValue: 0
                })
            );
            b.slotOf[token] = b.list.length;
            IERC20(token).forceApprove(router, type(uint256).max);
            emit ConstituentAdded(token, feeds[i], heartbeats[i], dec);
        }
    }

    /// @notice Removes a constituent with no target weight: unless `writeOff`, only if its cached
    ///         value is at most `dust`. Its remaining balance and owed amounts stay in the vault.
    function remove(Book storage b, address token, bool writeOff, uint256 dust, address router) external {
        Constituent storage c = _constituentOf(b, token);
        uint256 value = c.cachedValue;
        if (c.targetWeightBps != 0 || (!writeOff && value > dust)) revert ConstituentNotEmpty(token);
        uint256 slot = b.slotOf[token];
        // casting is safe because value is a stored uint128 cachedValue
        // forge-lint: disable-next-line(unsafe-typecast)
        b.holdingsValue -= uint128(value);
        uint256 last = b.list.length - 1;
        if (slot - 1 != last) {
            Constituent memory moved = b.list[last];
            b.list[slot - 1] = moved;
            b.slotOf[moved.token] = slot;
        }
        b.list.pop();
        delete b.slotOf[token];
        IERC20(token).forceApprove(router, 0);
        emit ConstituentRemoved(token, IERC20(token).balanceOf(address(this)), value, writeOff);
    }

    /// @notice Replaces a constituent's feed and heartbeat (the cached price stays the anchor).
    function setFeed(Book storage b, address token, address feed, uint32 heartbeat) external {
        Constituent storage c = _constituentOf(b, token);
        if (feed == address(0)) revert ZeroAddressArg();
        c.feed = feed;
        c.feedDecimals = _feedDecimals(feed);
        c.heartbeat = heartbeat;
        emit FeedSet(token, feed, heartbeat);
    }

    // ============================================================ internals

    function _constituentOf(Book storage b, address token) private view returns (Constituent storage) {
        uint256 slot = b.slotOf[token];
        if (slot == 0) revert UnknownConstituent(token);
        return b.list[slot - 1];
    }

    /// @dev The vault's balance of the constituent, less what it owes in-kind claimants.
    function _held(Book storage b, Constituent storage c) private view returns (uint256 bal) {
        bal = IERC20(c.token).balanceOf(address(this));
        if (c.hasOwed) bal -= b.owedTotal[c.token];
    }

    /// @dev USDC value (floored) of `amount` token units at `price18` USD per whole token.
    function _valueOf(uint256 amount, uint256 price18, uint8 tokenDecimals, uint256 scale)
        private
        pure
        returns (uint256)
    {
        return amount.mulDiv(price18, 10 ** tokenDecimals * scale);
    }

    function _feedDecimals(address feed) private view returns (uint8 dec) {
        dec = IAggregatorV3(feed).decimals();
        if (dec > 18) revert UnsupportedFeedDecimals(dec);
    }

    /// @dev A fresh feed price within `maxDev` bps of the cached price (the first price of a
    ///      constituent has no anchor).
    function _checkedPrice(Constituent storage c, uint256 maxDev) private view returns (uint256 price) {
        address token = c.token;
        try IAggregatorV3(c.feed).latestRoundData() returns (
            uint80 roundId, int256 answer, uint256, uint256 updatedAt, uint80 answeredInRound
        ) {
            if (answer <= 0) revert InvalidPrice(token, answer);
            if (
                updatedAt == 0 || updatedAt > block.timestamp || block.timestamp - updatedAt > c.heartbeat
                    || answeredInRound < roundId
            ) revert StalePrice(token, updatedAt);
            // casting to 'uint256' is safe because answer > 0 was checked above
            // forge-lint: disable-next-line(unsafe-typecast)
            price = uint256(answer) * 10 ** (18 - c.feedDecimals);
        } catch {
            revert PriceUnavailable(token);
        }
        uint256 old = c.cachedPrice;
        if (old != 0) {
            uint256 diff = price > old ? price - old : old - price;
            if (diff * BPS > old * maxDev) revert PriceDeviationTooLarge(token, old, price);
        }
    }
}
