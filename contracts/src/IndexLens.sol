// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

import {IAggregatorV3} from "./interfaces/IAggregatorV3.sol";
import {IUniswapV2Router02} from "./interfaces/IUniswapV2.sol";
import {IndexVault} from "./IndexVault.sol";

/// @title IndexLens: everything a wallet screen needs in one view call
/// @notice Stateless reader. {snapshot} never reverts because of one broken token or feed:
///         unreadable symbols come back empty and unreadable prices as zero with
///         `priceFresh = false`, so the wallet can still show the rest (and explain the gap).
contract IndexLens {
    /// @notice One constituent as the wallet shows it.
    /// @param token The ERC-20.
    /// @param symbol Its symbol ("" if unreadable).
    /// @param name Its name ("" if unreadable).
    /// @param decimals Its decimals.
    /// @param feed Its USD price feed.
    /// @param heartbeat Feed heartbeat used by the vault (seconds).
    /// @param targetWeightBps Target weight.
    /// @param balance The vault's balance (token base units).
    /// @param price Live feed price, USD with 18 decimals (0 if unreadable).
    /// @param priceUpdatedAt Feed `updatedAt` (0 if unreadable).
    /// @param priceFresh Price > 0 and within the heartbeat (what a trade would accept).
    /// @param cachedPrice Price in the vault's NAV cache (USD, 18 decimals).
    /// @param cachedValue Value in the vault's NAV cache (USDC base units).
    /// @param value `balance x price` in USDC base units (the cached value if the price is not fresh).
    struct ConstituentView {
        address token;
        string symbol;
        string name;
        uint8 decimals;
        address feed;
        uint32 heartbeat;
        uint16 targetWeightBps;
        uint256 balance;
        uint256 price;
        uint256 priceUpdatedAt;
        bool priceFresh;
        uint256 cachedPrice;
        uint256 cachedValue;
        uint256 value;
    }

    /// @notice Vault-wide state. Amounts in USDC base units unless noted.
    /// @param vault The vault.
    /// @param asset USDC.
    /// @param name Share name ("TM Global 100").
    /// @param symbol Share symbol ("G100").
    /// @param decimals Share decimals (18).
    /// @param assetDecimals USDC decimals (6).
    /// @param totalAssets NAV: cash + cached holdings value.
    /// @param totalSupply Shares outstanding.
    /// @param sharePrice USDC value of one whole share (10**decimals units), rounded down.
    /// @param cash USDC held.
    /// @param holdingsValue Cached holdings value (what buys and sells price at).
    /// @param liveHoldingsValue Holdings valued at live feed prices (cached where a feed is not fresh).
    /// @param navFresh Whether buys and NAV sells are open now (cache young enough).
    /// @param navUpdatedAt Last full refresh of the cache.
    /// @param maxNavAge Largest cache age buys and NAV sells accept (seconds).
    /// @param buyFeeBps Buy fee.
    /// @param sellFeeBps Sell fee.
    /// @param maxBuyFeeBps Immutable buy-fee maximum.
    /// @param maxSellFeeBps Immutable sell-fee maximum.
    /// @param feeRecipient Fee recipient.
    /// @param regime 0 = Bull, 1 = Bear.
    /// @param paused Whether buys are paused.
    /// @param owner Owner.
    /// @param operator Operator.
    /// @param guardian Guardian.
    /// @param maxRebalanceSlippageBps Rebalance slippage budget cap.
    /// @param liquidationSlippageBps Per-leg slippage of a sell past cash.
    /// @param router The Uniswap V2 router the vault trades through.
    struct VaultState {
        address vault;
        address asset;
        string name;
        string symbol;
        uint8 decimals;
        uint8 assetDecimals;
        uint256 totalAssets;
        uint256 totalSupply;
        uint256 sharePrice;
        uint256 cash;
        uint256 holdingsValue;
        uint256 liveHoldingsValue;
        bool navFresh;
        uint64 navUpdatedAt;
        uint32 maxNavAge;
        uint16 buyFeeBps;
        uint16 sellFeeBps;
        uint16 maxBuyFeeBps;
        uint16 maxSellFeeBps;
        address feeRecipient;
        uint8 regime;
        bool paused;
        address owner;
        address operator;
        address guardian;
        uint16 maxRebalanceSlippageBps;
        uint16 liquidationSlippageBps;
        address router;
    }

    /// @notice One user's position and USDC readiness (all zero for the zero address).
    /// @param account The user.
    /// @param shares Share balance.
    /// @param shareValue USDC value of `shares` at NAV, before the sell fee.
    /// @param maxRedeemFromCash Shares redeemable now from cash alone (no swaps).
    /// @param usdcBalance USDC balance.
    /// @param usdcAllowance USDC allowance granted to the vault.
    /// @param usdcPermitNonce EIP-2612 nonce to sign the next permit with.
    /// @param ethBalance Native balance (for gas).
    struct UserState {
        address account;
        uint256 shares;
        uint256 shareValue;
        uint256 maxRedeemFromCash;
        uint256 usdcBalance;
        uint256 usdcAllowance;
        uint256 usdcPermitNonce;
        uint256 ethBalance;
    }

    /// @notice The whole screen.
    struct Snapshot {
        uint256 chainId;
        uint256 blockNumber;
        uint256 timestamp;
        VaultState vault;
        UserState user;
        ConstituentView[] constituents;
    }

    /// @notice Reads everything a screen needs about `vault` and `user` in one call.
    /// @param vault The index vault.
    /// @param user The wallet's account (the zero address for a vault-only view).
    /// @return s The snapshot.
    function snapshot(IndexVault vault, address user) external view returns (Snapshot memory s) {
        s.chainId = block.chainid;
        s.blockNumber = block.number;
        s.timestamp = block.timestamp;
        s.constituents = constituents(vault);
        s.vault = vaultState(vault);
        uint256 live;
        for (uint256 i; i < s.constituents.length; ++i) {
            live += s.constituents[i].value;
        }
        s.vault.liveHoldingsValue = live;
        s.user = userState(vault, user);
    }

    /// @notice Quote of `vault.sell(shares, ...)` in the current state: the USDC the seller
    ///         would receive after the fee. From cash this equals {IndexVault-previewRedeem};
    ///         past the cash it replays the pro-rata liquidation against the router's
    ///         `getAmountsOut` (pools are independent, so the legs add up exactly).
    /// @param vault The index vault.
    /// @param shares Shares to sell.
    /// @return usdcOut USDC the sell would pay now (0 when not executable).
    /// @return pastCash Whether the sell would liquidate holdings.
    /// @return executable False when a feed is stale or missing, the NAV cache is stale, or a
    ///         leg would miss its oracle floor (the sell would revert; use redeemInKind).
    function quoteSell(IndexVault vault, uint256 shares)
        external
        view
        returns (uint256 usdcOut, bool pastCash, bool executable)
    {
        uint256 supply = vault.totalSupply();
        if (shares == 0 || shares > supply || !vault.navFresh()) return (0, false, false);
        uint256 cash = vault.cash();
        if (vault.convertToAssets(shares) <= cash) return (vault.previewRedeem(shares), false, true);
        (uint256 proceeds, bool ok) = _liquidation(vault, shares, supply);
        if (!ok) return (0, true, false);
        uint256 gross = cash * shares / supply + proceeds;
        uint256 fee = (gross * vault.sellFeeBps() + 9_999) / 10_000;
        return (gross - fee, true, true);
    }

    /// @dev Sum of the liquidation legs of `shares/supply` of every holding.
    function _liquidation(IndexVault vault, uint256 shares, uint256 supply)
        private
        view
        returns (uint256 proceeds, bool ok)
    {
        IndexVault.Constituent[] memory cs = vault.getConstituents();
        address usdc = vault.asset();
        uint256 assetUnit = 10 ** IERC20Metadata(usdc).decimals();
        uint256 slip = vault.liquidationSlippageBps();
        for (uint256 i; i < cs.length; ++i) {
            uint256 amt = IERC20(cs[i].token).balanceOf(address(vault)) * shares / supply;
            if (amt == 0) continue;
            (uint256 out, bool legOk) = _quoteLeg(vault, cs[i], amt, usdc, assetUnit, slip);
            if (!legOk) return (0, false);
            proceeds += out;
        }
        ok = true;
    }

    /// @dev One liquidation leg: (USDC out, passes the oracle floor and the feed checks).
    function _quoteLeg(
        IndexVault vault,
        IndexVault.Constituent memory c,
        uint256 amt,
        address usdc,
        uint256 assetUnit,
        uint256 slip
    ) private view returns (uint256 out, bool ok) {
        uint256 price;
        try vault.priceOf(c.token) returns (uint256 p) {
            price = p;
        } catch {
            return (0, false);
        }
        uint256 oracleOut = amt * price / (10 ** uint256(c.decimals) * (1e18 / assetUnit));
        // Legs under 0.001 USDC are left in the vault, exactly as the sell does.
        if (oracleOut < assetUnit / 1000) return (0, true);
        address[] memory path = new address[](2);
        path[0] = c.token;
        path[1] = usdc;
        out = IUniswapV2Router02(address(vault.router())).getAmountsOut(amt, path)[1];
        ok = out * 10_000 >= oracleOut * (10_000 - slip);
    }

    /// @notice Vault-wide state only (`liveHoldingsValue` left zero; {snapshot} fills it).
    function vaultState(IndexVault vault) public view returns (VaultState memory v) {
        v.vault = address(vault);
        v.asset = vault.asset();
        v.name = vault.name();
        v.symbol = vault.symbol();
        v.decimals = vault.decimals();
        v.assetDecimals = IERC20Metadata(v.asset).decimals();
        v.totalAssets = vault.totalAssets();
        v.totalSupply = vault.totalSupply();
        v.sharePrice = vault.convertToAssets(10 ** v.decimals);
        v.cash = vault.cash();
        v.holdingsValue = vault.holdingsValue();
        v.navFresh = vault.navFresh();
        v.navUpdatedAt = vault.navUpdatedAt();
        v.maxNavAge = vault.maxNavAge();
        v.buyFeeBps = vault.buyFeeBps();
        v.sellFeeBps = vault.sellFeeBps();
        v.maxBuyFeeBps = vault.MAX_BUY_FEE_BPS();
        v.maxSellFeeBps = vault.MAX_SELL_FEE_BPS();
        v.feeRecipient = vault.feeRecipient();
        v.regime = uint8(vault.regime());
        v.paused = vault.paused();
        v.owner = vault.owner();
        v.operator = vault.operator();
        v.guardian = vault.guardian();
        v.maxRebalanceSlippageBps = vault.maxRebalanceSlippageBps();
        v.liquidationSlippageBps = vault.liquidationSlippageBps();
        v.router = address(vault.router());
    }

    /// @notice One user's position and USDC balance, allowance and permit nonce.
    function userState(IndexVault vault, address user) public view returns (UserState memory u) {
        u.account = user;
        if (user == address(0)) return u;
        IERC20 usdc = IERC20(vault.asset());
        u.shares = vault.balanceOf(user);
        u.shareValue = vault.convertToAssets(u.shares);
        u.maxRedeemFromCash = vault.maxRedeem(user);
        u.usdcBalance = usdc.balanceOf(user);
        u.usdcAllowance = usdc.allowance(user, address(vault));
        try IERC20Permit(address(usdc)).nonces(user) returns (uint256 nonce) {
            u.usdcPermitNonce = nonce;
        } catch {}
        u.ethBalance = user.balance;
    }

    /// @notice Every constituent with live prices and the vault's balances.
    function constituents(IndexVault vault) public view returns (ConstituentView[] memory out) {
        IndexVault.Constituent[] memory cs = vault.getConstituents();
        out = new ConstituentView[](cs.length);
        for (uint256 i; i < cs.length; ++i) {
            out[i] = _view(address(vault), cs[i]);
        }
    }

    function _view(address vault, IndexVault.Constituent memory c) private view returns (ConstituentView memory v) {
        v.token = c.token;
        v.symbol = _str(abi.encodeCall(IERC20Metadata.symbol, ()), c.token);
        v.name = _str(abi.encodeCall(IERC20Metadata.name, ()), c.token);
        v.decimals = c.decimals;
        v.feed = c.feed;
        v.heartbeat = c.heartbeat;
        v.targetWeightBps = c.targetWeightBps;
        v.balance = IERC20(c.token).balanceOf(vault);
        v.cachedPrice = c.cachedPrice;
        v.cachedValue = c.cachedValue;
        try IAggregatorV3(c.feed).latestRoundData() returns (
            uint80, int256 answer, uint256, uint256 updatedAt, uint80
        ) {
            v.priceUpdatedAt = updatedAt;
            if (answer > 0 && c.feedDecimals <= 18) {
                // casting to 'uint256' is safe because answer > 0
                // forge-lint: disable-next-line(unsafe-typecast)
                v.price = uint256(answer) * 10 ** (18 - c.feedDecimals);
                v.priceFresh =
                    updatedAt != 0 && updatedAt <= block.timestamp && block.timestamp - updatedAt <= c.heartbeat;
            }
        } catch {}
        if (v.priceFresh) {
            uint8 assetDecimals = IERC20Metadata(IndexVault(vault).asset()).decimals();
            v.value = v.balance * v.price / (10 ** (uint256(c.decimals) + 18 - assetDecimals));
        } else {
            v.value = c.cachedValue;
        }
    }

    /// @dev Calls a string getter, returning "" when it reverts or returns garbage.
    function _str(bytes memory data, address target) private view returns (string memory) {
        (bool ok, bytes memory ret) = target.staticcall(data);
        if (!ok || ret.length < 64) return "";
        return abi.decode(ret, (string));
    }
}
