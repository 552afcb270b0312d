// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IndexVaultPricing} from "./IndexVaultPricing.sol";

/// @title IndexVaultRequests: forward-priced buy and sell requests and the keeper's NAV strike
/// @notice A request (ERC-7540 style) is made before its price is known: {requestBuy} escrows
///         USDC, {requestSell} escrows shares, each in a FIFO queue. The keeper's {strike}
///         refreshes every price ({IndexVaultPricing}), fixes one NAV and settles every
///         eligible request at it, or refunds it (below its minimum, past its deadline).
///         {cancel} works before a request's cut-off and after its deadline.
/// @dev Abstract module of {IndexVault}; the queues live in {IndexVaultStorage}.
abstract contract IndexVaultRequests is IndexVaultPricing {
    using SafeERC20 for IERC20;
    using Math for uint256;
    using SafeCast for uint256;

    // ------------------------------------------------------------------ types

    /// @notice Why a request was refunded at a strike.
    enum RefundReason {
        BelowMinimum,
        DeadlinePassed
    }

    /// @dev Working state of one strike (memory, to keep the stack small).
    struct StrikeCtx {
        uint256 navAssets;
        uint256 navSupply;
        uint256 buyFeeBps;
        uint256 sellFeeBps;
        uint256 left;
        uint256 cashLeft;
        uint256 fees;
        uint256 burn;
        uint256 settled;
        uint256 refunded;
        uint256 minAge;
    }

    // -------------------------------------------------------------- constants

    /// @notice Longest deadline a request may carry, counted from the request.
    uint256 public constant MAX_REQUEST_TTL = 30 days;

    // ----------------------------------------------------------------- events

    /// @notice A buy request was queued; `id` is even (`id >> 1` is its sequence number).
    event BuyRequested(
        uint256 indexed id, address indexed owner, uint256 assets, uint256 minSharesOut, uint256 deadline
    );
    /// @notice A sell request was queued; `id` is odd. The shares are escrowed in the vault.
    event SellRequested(
        uint256 indexed id, address indexed owner, uint256 shares, uint256 minUsdcOut, uint256 deadline
    );
    /// @notice A request was cancelled by its owner; its USDC or shares went back.
    event RequestCancelled(uint256 indexed id, address indexed owner, uint256 amount);
    /// @notice A buy request settled at strike `strikeId`: `shares` minted to `owner`.
    event BuySettled(
        uint256 indexed id, address indexed owner, uint256 indexed strikeId, uint256 assets, uint256 fee, uint256 shares
    );
    /// @notice A sell request settled at strike `strikeId`: `usdcOut` paid to `owner`.
    event SellSettled(
        uint256 indexed id,
        address indexed owner,
        uint256 indexed strikeId,
        uint256 shares,
        uint256 fee,
        uint256 usdcOut
    );
    /// @notice A request was refunded at strike `strikeId` (USDC for a buy, shares for a sell).
    event RequestRefunded(
        uint256 indexed id, address indexed owner, uint256 indexed strikeId, uint256 amount, RefundReason reason
    );
    /// @notice A NAV strike: every price refreshed, eligible requests settled at this NAV.
    event Struck(
        uint256 indexed strikeId,
        uint256 totalAssets,
        uint256 totalSupply,
        uint256 settled,
        uint256 refunded,
        uint256 buysPending,
        uint256 sellsPending
    );
    /// @notice The fees of every request settled at strike `strikeId`, paid once (each request's
    ///         own fee is in its settlement event).
    event StrikeFeesPaid(uint256 indexed strikeId, address indexed recipient, uint256 amount);

    // ----------------------------------------------------------------- errors

    /// @notice The id is not a pending request (settled, cancelled or never made).
    error RequestNotPending(uint256 id);
    /// @notice Only the request's owner may cancel it.
    error NotRequestOwner(uint256 id, address caller);
    /// @notice Past its cut-off a request can be cancelled only after its deadline.
    error CancelClosed(uint256 id, uint256 cutoff, uint256 deadline);

    // ================================================================ requests

    /// @notice Requests a buy with `assets` USDC (fee included), settled at the next strike
    ///         after the cut-off. The USDC is pulled now; the shares are minted to the caller at
    ///         the strike, or the USDC is refunded if fewer than `minSharesOut` shares would be
    ///         minted or the strike comes after `deadline`.
    /// @return id The request id (even).
    function requestBuy(uint256 assets, uint256 minSharesOut, uint256 deadline)
        external
        nonReentrant
        returns (uint256 id)
    {
        id = _requestBuy(assets, minSharesOut, deadline);
    }

    /// @notice {requestBuy} with an EIP-2612 permit of USDC for `assets` to this vault, signed
    ///         with the same `deadline`: one signature, one transaction. A permit that fails
    ///         (e.g. front-run and already used) is ignored when the allowance suffices.
    /// @return id The request id (even).
    function requestBuyWithPermit(uint256 assets, uint256 minSharesOut, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
        returns (uint256 id)
    {
        try IERC20Permit(asset()).permit(msg.sender, address(this), assets, deadline, v, r, s) {} catch {}
        id = _requestBuy(assets, minSharesOut, deadline);
    }

    /// @notice Requests a sell of `shares`, settled at the next strike after the cut-off. The
    ///         shares are escrowed in the vault now; the USDC (after fee) is paid to the caller at
    ///         the strike, or the shares come back if less than `minUsdcOut` would be paid or the
    ///         strike comes after `deadline`. Any size costs the same gas: the seller never swaps.
    ///         Accepted while paused (it waits for the strike).
    /// @return id The request id (odd).
    function requestSell(uint256 shares, uint256 minUsdcOut, uint256 deadline)
        external
        nonReentrant
        returns (uint256 id)
    {
        if (shares == 0) revert ZeroAmount();
        _checkDeadline(deadline);
        _transfer(msg.sender, address(this), shares);
        uint256 seq = _enqueue(_sellQueue, _sells, shares, minUsdcOut, deadline);
        id = (seq << 1) | 1;
        emit SellRequested(id, msg.sender, shares, minUsdcOut, deadline);
    }

    /// @notice Cancels a pending request and returns its USDC or shares to the owner. Allowed
    ///         before the request's cut-off (`requestedAt + minRequestAge`) and after its
    ///         deadline; in between it is committed to the next strike.
    ///         The request's two storage slots are cleared (the EIP-3529 refunds pay for most
    ///         of the cancel's own bookkeeping); a later request that lands on the cleared
    ///         queue slot writes it afresh.
    function cancel(uint256 id) external nonReentrant {
        bool isSell = id & 1 == 1;
        Queue storage q = isSell ? _sellQueue : _buyQueue;
        mapping(uint256 => Request) storage reqs = isSell ? _sells : _buys;
        Request storage r = _pendingAt(q, reqs, id);
        if (r.owner != msg.sender) revert NotRequestOwner(id, msg.sender);
        uint256 cutoff = uint256(r.requestedAt) + q.minAge;
        if (block.timestamp >= cutoff && block.timestamp <= r.deadline) revert CancelClosed(id, cutoff, r.deadline);
        uint256 amount = r.amount;
        delete reqs[(id >> 1) - q.baseSeq];
        // casting is safe because amount is part of the queue's pending total, a uint112
        // forge-lint: disable-next-line(unsafe-typecast)
        q.pending -= uint112(amount);
        emit RequestCancelled(id, msg.sender, amount);
        if (isSell) _transfer(address(this), msg.sender, amount);
        else _payUsdc(msg.sender, amount);
    }

    // ================================================================ strike

    /// @notice The NAV strike (keeper only): refreshes every price (sequencer- and
    ///         deviation-checked; any failure reverts, which freezes trading), computes NAV once
    ///         and settles up to `maxRequests` requests at it, buys first (their USDC then pays
    ///         sells), in queue order. Only requests past their cut-off are eligible. A sell that
    ///         the free cash cannot pay stays queued (with everything behind it) until the
    ///         operator raises cash; it is then priced at a later strike.
    /// @return settled Requests settled.
    /// @return refunded Requests refunded.
    function strike(uint256 maxRequests)
        external
        only(keeper)
        nonReentrant
        whenNotPaused
        returns (uint256 settled, uint256 refunded)
    {
        uint256 holdings = _refreshAll();
        StrikeCtx memory ctx;
        uint256 cashBefore = _cash();
        ctx.navAssets = cashBefore + holdings + 1;
        ctx.navSupply = totalSupply() + 10 ** DECIMALS_OFFSET;
        ctx.buyFeeBps = buyFeeBps;
        ctx.sellFeeBps = sellFeeBps;
        ctx.left = maxRequests;
        ctx.cashLeft = cashBefore;
        ctx.minAge = _buyQueue.minAge;
        uint256 strikeId = ++strikeCount;
        lastStrikeAt = uint64(block.timestamp);

        _settleQueue(ctx, strikeId, false);
        _settleQueue(ctx, strikeId, true);
        if (ctx.burn != 0) _burn(address(this), ctx.burn);
        if (ctx.fees != 0) {
            address recipient = feeRecipient;
            emit StrikeFeesPaid(strikeId, recipient, ctx.fees);
            _payUsdc(recipient, ctx.fees);
        }
        settled = ctx.settled;
        refunded = ctx.refunded;
        emit Struck(
            strikeId,
            ctx.navAssets - 1,
            ctx.navSupply - 10 ** DECIMALS_OFFSET,
            settled,
            refunded,
            _queued(_buyQueue),
            _queued(_sellQueue)
        );
    }

    // ================================================================== views

    /// @notice Cut-off: a request is settled only by a strike at least this many seconds later
    ///         (and never in its own second); it can be cancelled only before then.
    function minRequestAge() external view returns (uint32) {
        return _buyQueue.minAge;
    }

    /// @notice The state of one queue: next sequence number, slot base, head slot, and the
    ///         total pending (USDC for buys, shares for sells). Pending ids are
    ///         `(seq << 1) | isSell` for `seq` in `[baseSeq + head, nextSeq)`.
    function queueState(bool isSell)
        external
        view
        returns (uint256 nextSeq, uint256 baseSeq, uint256 head, uint256 pending)
    {
        Queue memory q = isSell ? _sellQueue : _buyQueue;
        return (q.nextSeq, q.baseSeq, q.head, q.pending);
    }

    /// @notice A request by id, and whether it is still pending (settled, refunded and
    ///         cancelled ones are not; their outcome is in the events).
    function requestOf(uint256 id) external view returns (Request memory r, bool pending) {
        bool isSell = id & 1 == 1;
        Queue memory q = isSell ? _sellQueue : _buyQueue;
        uint256 seq = id >> 1;
        if (seq < uint256(q.baseSeq) + q.head || seq >= q.nextSeq) return (r, false);
        r = (isSell ? _sells : _buys)[seq - q.baseSeq];
        pending = r.status == PENDING;
    }

    // ============================================================== internals

    function _queued(Queue storage q) internal view returns (uint256) {
        return uint256(q.nextSeq) - q.baseSeq - q.head;
    }

    function _checkDeadline(uint256 deadline) internal view {
        if (deadline < block.timestamp || deadline > block.timestamp + MAX_REQUEST_TTL) {
            revert InvalidDeadline(deadline, block.timestamp);
        }
    }

    function _requestBuy(uint256 assets, uint256 minSharesOut, uint256 deadline) internal returns (uint256 id) {
        _requireNotPaused();
        if (assets == 0) revert ZeroAmount();
        _checkDeadline(deadline);
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), assets);
        uint256 seq = _enqueue(_buyQueue, _buys, assets, minSharesOut, deadline);
        id = seq << 1;
        emit BuyRequested(id, msg.sender, assets, minSharesOut, deadline);
    }

    function _enqueue(
        Queue storage qs,
        mapping(uint256 => Request) storage reqs,
        uint256 amount,
        uint256 minOut,
        uint256 deadline
    ) internal returns (uint256 seq) {
        Queue memory q = qs;
        seq = q.nextSeq;
        reqs[seq - q.baseSeq] = Request({
            owner: msg.sender,
            requestedAt: uint40(block.timestamp),
            // casting to 'uint40' is safe because _checkDeadline bounded it by now + 30 days
            // forge-lint: disable-next-line(unsafe-typecast)
            deadline: uint40(deadline),
            status: PENDING,
            amount: amount.toUint128(),
            minOut: minOut.toUint128()
        });
        // casting is safe because the sequence number grows by one per request (2^40, a trillion requests, are out of reach)
        // forge-lint: disable-next-line(unsafe-typecast)
        q.nextSeq = uint40(seq + 1);
        q.pending = (uint256(q.pending) + amount).toUint112();
        qs.nextSeq = q.nextSeq;
        qs.pending = q.pending;
    }

    function _pendingAt(Queue storage q, mapping(uint256 => Request) storage reqs, uint256 id)
        internal
        view
        returns (Request storage r)
    {
        uint256 seq = id >> 1;
        uint256 base = q.baseSeq;
        if (seq < base + q.head || seq >= q.nextSeq) revert RequestNotPending(id);
        r = reqs[seq - base];
        if (r.status != PENDING) revert RequestNotPending(id);
    }

    /// @dev Settles one queue from its head: stops at the first request before its cut-off,
    ///      when the request budget is spent, or (sells) at the first one the cash cannot pay.
    function _settleQueue(StrikeCtx memory ctx, uint256 strikeId, bool isSell) internal {
        Queue storage qs = isSell ? _sellQueue : _buyQueue;
        mapping(uint256 => Request) storage reqs = isSell ? _sells : _buys;
        Queue memory q = qs;
        uint256 slot = q.head;
        uint256 end = uint256(q.nextSeq) - q.baseSeq;
        uint256 done;
        while (slot < end && ctx.left != 0) {
            Request memory r = reqs[slot];
            if (r.status == PENDING) {
                uint256 reqAt = r.requestedAt;
                if (reqAt + ctx.minAge > block.timestamp || reqAt == block.timestamp) break;
                uint256 id = ((uint256(q.baseSeq) + slot) << 1) | (isSell ? 1 : 0);
                if (isSell) {
                    if (!_settleSell(ctx, strikeId, id, r)) break;
                } else {
                    _settleBuy(ctx, strikeId, id, r);
                }
                done += r.amount;
            }
            --ctx.left;
            ++slot;
        }
        if (slot == end) {
            qs.baseSeq = q.nextSeq;
            qs.head = 0;
        } else {
            // casting is safe because slot < end, a difference of two uint40 sequence numbers within one drained span
            // forge-lint: disable-next-line(unsafe-typecast)
            qs.head = uint32(slot);
        }
        // casting is safe because done sums stored uint128 amounts, at most the queue's pending total
        // forge-lint: disable-next-line(unsafe-typecast)
        if (done != 0) qs.pending = q.pending - uint112(done);
    }

    function _settleBuy(StrikeCtx memory ctx, uint256 strikeId, uint256 id, Request memory r) internal {
        uint256 amount = r.amount;
        RefundReason reason = RefundReason.DeadlinePassed;
        if (block.timestamp <= r.deadline) {
            uint256 fee = _feeOn(amount, ctx.buyFeeBps);
            uint256 shares = (amount - fee).mulDiv(ctx.navSupply, ctx.navAssets);
            if (shares != 0 && shares >= r.minOut) {
                ctx.fees += fee;
                ctx.cashLeft += amount - fee;
                ++ctx.settled;
                _mint(r.owner, shares);
                emit BuySettled(id, r.owner, strikeId, amount, fee, shares);
                return;
            }
            reason = RefundReason.BelowMinimum;
        }
        ++ctx.refunded;
        emit RequestRefunded(id, r.owner, strikeId, amount, reason);
        _payUsdc(r.owner, amount);
    }

    /// @dev Returns false (and changes nothing) when the free cash cannot pay this sell.
    function _settleSell(StrikeCtx memory ctx, uint256 strikeId, uint256 id, Request memory r) internal returns (bool) {
        uint256 shares = r.amount;
        RefundReason reason = RefundReason.DeadlinePassed;
        if (block.timestamp <= r.deadline) {
            uint256 gross = shares.mulDiv(ctx.navAssets, ctx.navSupply);
            uint256 fee = _feeOn(gross, ctx.sellFeeBps);
            uint256 out = gross - fee;
            if (out != 0 && out >= r.minOut) {
                if (gross > ctx.cashLeft) return false;
                ctx.cashLeft -= gross;
                ctx.fees += fee;
                ctx.burn += shares;
                ++ctx.settled;
                emit SellSettled(id, r.owner, strikeId, shares, fee, out);
                _payUsdc(r.owner, out);
                return true;
            }
            reason = RefundReason.BelowMinimum;
        }
        ++ctx.refunded;
        emit RequestRefunded(id, r.owner, strikeId, shares, reason);
        _transfer(address(this), r.owner, shares);
        return true;
    }
}
