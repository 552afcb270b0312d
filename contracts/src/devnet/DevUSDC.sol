// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title DevUSDC: the devnet's USD Coin
/// @notice 6 decimals and EIP-2612 `permit` like the real USDC, so the wallet's one-signature
///         buy ({IndexVault-buyWithPermit}) works on the devnet exactly as on a real chain.
///         The EIP-712 domain is ("USD Coin", version "1", chainId, this address); read it with
///         `eip712Domain()` (ERC-5267) rather than hard-coding it. Only `minter` can mint.
contract DevUSDC is ERC20, ERC20Permit {
    /// @notice The only account allowed to {mint} (the devnet faucet).
    address public immutable minter;

    /// @notice The caller is not the minter.
    error NotMinter(address caller);

    /// @notice Deploys the devnet USDC with `minter_` as its faucet.
    constructor(address minter_) ERC20("USD Coin", "USDC") ERC20Permit("USD Coin") {
        minter = minter_;
    }

    /// @notice 6, like USDC.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` to `to` (minter only; emits Transfer from zero).
    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        _mint(to, amount);
    }
}
