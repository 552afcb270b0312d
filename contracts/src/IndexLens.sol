// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

import {IAggregatorV3} from "./interfaces/IAggregatorV3.sol";
import {IndexVault} from "./IndexVault.sol";
import {IndexBook} from "./IndexBook.sol";

/// @dev The one TimelockController getter the lens reads from the vault's owner.
interface ITimelockDelay {
    function getMinDelay() external view returns (uint256);
}

/// @title IndexLens: everything a wallet screen needs in one view call
/// @notice Stateless reader. {snapshot} never reverts because of one broken token or feed:
///         unreadable symbols come back empty and unreadable prices as zero with
///         `priceFresh = false`, so the wallet can still show the rest (and explain the gap).
contract IndexLens {
    /// @dev Most pending requests scanned per queue when listing a user's requests.
    uint256 public constant MAX_SCAN = 1_000;
    /// @dev Most pending requests listed per user.
    uint256 public constant MAX_USER_REQUESTS = 32;

    /// @notice One constituent as the wallet shows it.
    /// @param token The ERC-20.
    /// @param symbol Its symbol ("" if unreadable).
    /// @param name Its name ("" if unreadable).
    /// @param decimals Its decimals.
    /// @param feed Its USD price feed.
    /// @param heartbeat Feed heartbeat used by the vault (seconds).
    /// @param targetWeightBps Target weight.
    /// @param balance The vault's balance (token base units, owed in-kind amounts included).
    /// @param price Live feed price, USD with 18 decimals (0 if unreadable).
    /// @param priceUpdatedAt Feed `updatedAt` (0 if unreadable).
    /// @param priceFresh Price > 0 and within the heartbeat.
    /// @param withinBand The live price is within `maxPriceDeviationBps` of the cached price
    ///        (what a strike needs; false freezes strikes until it is).
    /// @param cachedPrice Price in the vault's cache (USD, 18 decimals).
    /// @param cachedValue Value in the vault's cache (USDC base units).
    /// @param value Held balance x live price in USDC base units (the cached value if not fresh).
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
        bool withinBand;
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
    /// @param totalAssets NAV at the cached prices: free cash + cached holdings value.
    /// @param totalSupply Shares outstanding (escrowed sell requests included).
    /// @param sharePrice USDC value of one whole share at the cached NAV, rounded down.
    /// @param cash Free USDC (pending buys and claimable USDC excluded).
    /// @param holdingsValue Cached holdings value (as of the last strike, refresh or trade).
    /// @param liveHoldingsValue Holdings at live feed prices (cached where a feed is not fresh).
    /// @param instantOpen NAV is exact (no holdings): synchronous ERC-4626 paths are open.
    /// @param strikeReady Every feed is fresh and within the band, sequencer up, not paused:
    ///        a strike would go through now.
    /// @param navUpdatedAt Last full price refresh.
    /// @param buyFeeBps Buy fee.
    /// @param sellFeeBps Sell fee.
    /// @param maxBuyFeeBps Immutable buy-fee maximum.
    /// @param maxSellFeeBps Immutable sell-fee maximum.
    /// @param feeRecipient Fee recipient.
    /// @param regime 0 = Bull, 1 = Bear.
    /// @param paused Whether the vault is paused.
    /// @param owner Owner (the timelock).
    /// @param timelockMinDelay The owner's `getMinDelay()` (0 if the owner is not a timelock).
    /// @param operator Operator.
    /// @param keeper Keeper (strikes).
    /// @param guardian Guardian.
    /// @param router The Uniswap V2 router the vault trades through.
    /// @param minRequestAge Cut-off in seconds.
    /// @param strikeInterval Advertised strike cadence in seconds.
    /// @param lastStrikeAt Timestamp of the last strike (0 = none yet).
    /// @param nextStrikeAt Expected next strike: last strike + interval (now if none yet).
    /// @param strikeCount Strikes so far.
    /// @param pendingBuyAssets USDC waiting in buy requests.
    /// @param pendingSellShares Shares escrowed in sell requests.
    /// @param buysQueued Buy queue entries not yet struck (cancelled ones included).
    /// @param sellsQueued Sell queue entries not yet struck (cancelled ones included).
    /// @param maxRebalanceSlippageBps Per-leg slippage cap.
    /// @param maxPriceDeviationBps Deviation band of a refresh.
    /// @param lossBudget The operator's rolling loss budget now (USDC).
    /// @param lossUsed Of which used (after the linear refill).
    /// @param rebalanceCooldown Seconds between rebalances.
    /// @param sequencerFeed L2 sequencer-uptime feed (zero: none).
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
        bool instantOpen;
        bool strikeReady;
        uint64 navUpdatedAt;
        uint16 buyFeeBps;
        uint16 sellFeeBps;
        uint16 maxBuyFeeBps;
        uint16 maxSellFeeBps;
        address feeRecipient;
        uint8 regime;
        bool paused;
        address owner;
        uint256 timelockMinDelay;
        address operator;
        address keeper;
        address guardian;
        address router;
        uint32 minRequestAge;
        uint32 strikeInterval;
        uint64 lastStrikeAt;
        uint256 nextStrikeAt;
        uint32 strikeCount;
        uint256 pendingBuyAssets;
        uint256 pendingSellShares;
        uint256 buysQueued;
        uint256 sellsQueued;
        uint16 maxRebalanceSlippageBps;
        uint16 maxPriceDeviationBps;
        uint256 lossBudget;
        uint256 lossUsed;
        uint256 rebalanceCooldown;
        address sequencerFeed;
    }

    /// @notice One of the user's pending requests.
    /// @param id Request id (even: buy, odd: sell).
    /// @param isSell Sell (shares escrowed) or buy (USDC escrowed).
    /// @param amount USDC paid (buy, fee included) or shares escrowed (sell).
    /// @param minOut Fewest shares / least USDC accepted.
    /// @param requestedAt When it was made.
    /// @param deadline Latest strike time accepted.
    /// @param eligibleAt First time a strike may settle it (its cut-off).
    /// @param cancellable Whether {IndexVault-cancel} would succeed now.
    struct PendingRequest {
        uint256 id;
        bool isSell;
        uint256 amount;
        uint256 minOut;
        uint256 requestedAt;
        uint256 deadline;
        uint256 eligibleAt;
        bool cancellable;
    }

    /// @notice One user's position and USDC readiness (all zero for the zero address).
    /// @param account The user.
    /// @param shares Share balance (escrowed sell requests excluded).
    /// @param shareValue USDC value of `shares` at the cached NAV, before the sell fee.
    /// @param maxRedeemInstant Shares redeemable synchronously now (0 unless `instantOpen`).
    /// @param usdcBalance USDC balance.
    /// @param usdcAllowance USDC allowance granted to the vault.
    /// @param usdcPermitNonce EIP-2612 nonce to sign the next permit with.
    /// @param ethBalance Native balance (for gas).
    /// @param claimableUsdc USDC the vault keeps for the user after a failed transfer.
    /// @param requests The user's pending requests, oldest first.
    struct UserState {
        address account;
        uint256 shares;
        uint256 shareValue;
        uint256 maxRedeemInstant;
        uint256 usdcBalance;
        uint256 usdcAllowance;
        uint256 usdcPermitNonce;
        uint256 ethBalance;
        uint256 claimableUsdc;
        PendingRequest[] requests;
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
        bool ready = !s.vault.paused && _sequencerUp(vault);
        for (uint256 i; i < s.constituents.length; ++i) {
            live += s.constituents[i].value;
            ready = ready && s.constituents[i].priceFresh && s.constituents[i].withinBand;
        }
        s.vault.liveHoldingsValue = live;
        s.vault.strikeReady = ready;
        s.user = userState(vault, user);
    }

    /// @notice Estimate of a buy request of `assets` USDC if it were struck now at live prices.
    /// @return fee Buy fee (USDC).
    /// @return shares Shares it would get.
    /// @return ready Whether a strike would go through now (see `VaultState.strikeReady`).
    function quoteBuy(IndexVault vault, uint256 assets)
        external
        view
        returns (uint256 fee, uint256 shares, bool ready)
    {
        (uint256 navAssets, uint256 navSupply, bool ok) = _liveNav(vault);
        fee = _feeOn(assets, vault.buyFeeBps());
        shares = (assets - fee) * navSupply / navAssets;
        ready = ok;
    }

    /// @notice Estimate of a sell request of `shares` if it were struck now at live prices.
    /// @return fee Sell fee (USDC).
    /// @return usdcOut USDC it would pay after the fee.
    /// @return cashSufficient Whether the free cash (plus pending buys) covers it now; if not,
    ///         it waits for the operator to raise cash.
    /// @return ready Whether a strike would go through now.
    function quoteSell(IndexVault vault, uint256 shares)
        external
        view
        returns (uint256 fee, uint256 usdcOut, bool cashSufficient, bool ready)
    {
        (uint256 navAssets, uint256 navSupply, bool ok) = _liveNav(vault);
        uint256 gross = shares * navAssets / navSupply;
        fee = _feeOn(gross, vault.sellFeeBps());
        usdcOut = gross - fee;
        (,,, uint256 pendingBuys) = vault.queueState(false);
        cashSufficient = gross <= vault.cash() + pendingBuys;
        ready = ok;
    }

    /// @notice Vault-wide state only (`liveHoldingsValue`, `strikeReady` left zero; {snapshot} fills them).
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
        v.instantOpen = vault.instantOpen();
        v.navUpdatedAt = vault.navUpdatedAt();
        v.buyFeeBps = vault.buyFeeBps();
        v.sellFeeBps = vault.sellFeeBps();
        v.maxBuyFeeBps = vault.MAX_BUY_FEE_BPS();
        v.maxSellFeeBps = vault.MAX_SELL_FEE_BPS();
        v.feeRecipient = vault.feeRecipient();
        v.regime = uint8(vault.regime());
        v.paused = vault.paused();
        v.owner = vault.owner();
        try ITimelockDelay(v.owner).getMinDelay() returns (uint256 d) {
            v.timelockMinDelay = d;
        } catch {}
        v.operator = vault.operator();
        v.keeper = vault.keeper();
        v.guardian = vault.guardian();
        v.router = address(vault.router());
        _timing(vault, v);
        v.maxRebalanceSlippageBps = vault.maxRebalanceSlippageBps();
        v.maxPriceDeviationBps = vault.maxPriceDeviationBps();
        (v.lossBudget, v.lossUsed,, v.rebalanceCooldown,) = vault.operatorLimits();
        v.sequencerFeed = vault.sequencerFeed();
    }

    function _timing(IndexVault vault, VaultState memory v) private view {
        v.minRequestAge = vault.minRequestAge();
        v.strikeInterval = vault.strikeInterval();
        v.lastStrikeAt = vault.lastStrikeAt();
        v.nextStrikeAt = v.lastStrikeAt == 0 ? block.timestamp : uint256(v.lastStrikeAt) + v.strikeInterval;
        v.strikeCount = vault.strikeCount();
        (uint256 nb, uint256 bb, uint256 hb, uint256 pb) = vault.queueState(false);
        (uint256 ns, uint256 bs, uint256 hs, uint256 ps) = vault.queueState(true);
        v.pendingBuyAssets = pb;
        v.pendingSellShares = ps;
        v.buysQueued = nb - bb - hb;
        v.sellsQueued = ns - bs - hs;
    }

    /// @notice One user's position, USDC readiness and pending requests.
    function userState(IndexVault vault, address user) public view returns (UserState memory u) {
        u.account = user;
        if (user == address(0)) return u;
        IERC20 usdc = IERC20(vault.asset());
        u.shares = vault.balanceOf(user);
        u.shareValue = vault.convertToAssets(u.shares);
        u.maxRedeemInstant = vault.maxRedeem(user);
        u.usdcBalance = usdc.balanceOf(user);
        u.usdcAllowance = usdc.allowance(user, address(vault));
        try IERC20Permit(address(usdc)).nonces(user) returns (uint256 nonce) {
            u.usdcPermitNonce = nonce;
        } catch {}
        u.ethBalance = user.balance;
        u.claimableUsdc = vault.claimableUsdc(user);
        u.requests = pendingRequests(vault, user);
    }

    /// @notice `user`'s pending requests (buys then sells, oldest first; at most {MAX_SCAN}
    ///         queue entries are scanned per queue and {MAX_USER_REQUESTS} listed).
    function pendingRequests(IndexVault vault, address user) public view returns (PendingRequest[] memory out) {
        PendingRequest[] memory buf = new PendingRequest[](MAX_USER_REQUESTS);
        uint256 k = _scan(vault, user, false, buf, 0);
        k = _scan(vault, user, true, buf, k);
        out = new PendingRequest[](k);
        for (uint256 i; i < k; ++i) {
            out[i] = buf[i];
        }
    }

    function _scan(IndexVault vault, address user, bool isSell, PendingRequest[] memory buf, uint256 k)
        private
        view
        returns (uint256)
    {
        (uint256 next, uint256 base, uint256 head,) = vault.queueState(isSell);
        uint256 age = vault.minRequestAge();
        uint256 end = next - base - head > MAX_SCAN ? base + head + MAX_SCAN : next;
        for (uint256 seq = base + head; seq < end && k < MAX_USER_REQUESTS; ++seq) {
            uint256 id = (seq << 1) | (isSell ? 1 : 0);
            (IndexVault.Request memory r, bool pending) = vault.requestOf(id);
            if (!pending || r.owner != user) continue;
            uint256 cutoff = uint256(r.requestedAt) + age;
            buf[k++] = PendingRequest({
                id: id,
                isSell: isSell,
                amount: r.amount,
                minOut: r.minOut,
                requestedAt: r.requestedAt,
                deadline: r.deadline,
                eligibleAt: age == 0 ? uint256(r.requestedAt) + 1 : cutoff,
                cancellable: block.timestamp < cutoff || block.timestamp > r.deadline
            });
        }
        return k;
    }

    /// @notice Every constituent with live prices and the vault's balances.
    function constituents(IndexVault vault) public view returns (ConstituentView[] memory out) {
        IndexBook.Constituent[] memory cs = vault.getConstituents();
        uint8 assetDecimals = IERC20Metadata(vault.asset()).decimals();
        uint256 band = vault.maxPriceDeviationBps();
        out = new ConstituentView[](cs.length);
        for (uint256 i; i < cs.length; ++i) {
            out[i] = _view(address(vault), cs[i], assetDecimals, band);
        }
    }

    function _view(address vault, IndexBook.Constituent memory c, uint8 assetDecimals, uint256 band)
        private
        view
        returns (ConstituentView memory v)
    {
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
            uint80 roundId, int256 answer, uint256, uint256 updatedAt, uint80 answeredInRound
        ) {
            v.priceUpdatedAt = updatedAt;
            if (answer > 0 && c.feedDecimals <= 18) {
                // casting to 'uint256' is safe because answer > 0
                // forge-lint: disable-next-line(unsafe-typecast)
                v.price = uint256(answer) * 10 ** (18 - c.feedDecimals);
                v.priceFresh = updatedAt != 0 && updatedAt <= block.timestamp
                    && block.timestamp - updatedAt <= c.heartbeat && answeredInRound >= roundId;
            }
        } catch {}
        uint256 old = c.cachedPrice;
        uint256 diff = v.price > old ? v.price - old : old - v.price;
        v.withinBand = v.priceFresh && (old == 0 || diff * 10_000 <= old * band);
        if (v.priceFresh) {
            // The cached value already excludes in-kind amounts owed; scale it to the live price.
            v.value = old == 0
                ? v.balance * v.price / (10 ** (uint256(c.decimals) + 18 - assetDecimals))
                : c.cachedValue * v.price / old;
        } else {
            v.value = c.cachedValue;
        }
    }

    /// @dev NAV at live prices (+1 / + 10**12 virtual offsets, as the strike uses them).
    function _liveNav(IndexVault vault) private view returns (uint256 navAssets, uint256 navSupply, bool ok) {
        ConstituentView[] memory cs = constituents(vault);
        uint256 live;
        ok = !vault.paused() && _sequencerUp(vault);
        for (uint256 i; i < cs.length; ++i) {
            live += cs[i].value;
            ok = ok && cs[i].priceFresh && cs[i].withinBand;
        }
        navAssets = vault.cash() + live + 1;
        navSupply = vault.totalSupply() + 10 ** (vault.decimals() - IERC20Metadata(vault.asset()).decimals());
    }

    function _sequencerUp(IndexVault vault) private view returns (bool) {
        address feed = vault.sequencerFeed();
        if (feed == address(0)) return true;
        try IAggregatorV3(feed).latestRoundData() returns (uint80, int256 answer, uint256 startedAt, uint256, uint80) {
            return answer == 0 && startedAt != 0 && startedAt <= block.timestamp
                && block.timestamp - startedAt > vault.sequencerGracePeriod();
        } catch {
            return false;
        }
    }

    function _feeOn(uint256 gross, uint256 feeBps) private pure returns (uint256) {
        return (gross * feeBps + 9_999) / 10_000;
    }

    /// @dev Calls a string getter, returning "" when it reverts or returns garbage.
    function _str(bytes memory data, address target) private view returns (string memory) {
        (bool ok, bytes memory ret) = target.staticcall(data);
        if (!ok || ret.length < 64) return "";
        return abi.decode(ret, (string));
    }
}
