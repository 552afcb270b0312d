// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// The vault's owner is OpenZeppelin's own TimelockController, unmodified. Importing it here
// makes forge compile it into out/TimelockController.sol/ so that its artifact can be exported
// for the Python deployer next to ours.
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
