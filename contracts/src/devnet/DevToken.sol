// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title DevToken: a devnet stand-in for an index constituent
/// @notice Plain ERC-20 with configurable decimals (6, 8 or 18 on the devnet) and a fixed
///         minter (the devnet's faucet account). Not for any real network.
contract DevToken is ERC20 {
    /// @notice The only account allowed to {mint}.
    address public immutable minter;
    uint8 private immutable _decimals;

    /// @notice The caller is not the minter.
    error NotMinter(address caller);

    /// @notice Deploys the token and mints `initialSupply` to `initialHolder`.
    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param decimals_ Token decimals.
    /// @param minter_ Account allowed to mint later (faucet).
    /// @param initialHolder Receives the initial supply.
    /// @param initialSupply Base units minted at construction.
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        address minter_,
        address initialHolder,
        uint256 initialSupply
    ) ERC20(name_, symbol_) {
        minter = minter_;
        _decimals = decimals_;
        if (initialSupply != 0) _mint(initialHolder, initialSupply);
    }

    /// @notice Token decimals.
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Mints `amount` to `to` (minter only; emits Transfer from zero).
    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        _mint(to, amount);
    }
}
