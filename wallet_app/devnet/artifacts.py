"""Compiled contract artifacts (ABI + bytecode) that the Python side deploys and calls.

The app ships them in ``assets/contracts/<Name>.json`` so that it can deploy the devnet and
talk to the vault without a Solidity toolchain at run time. They are produced by
``scripts/export_artifacts.py`` from forge's ``contracts/out`` (our contracts) and from the
npm packages' build JSON (the real Uniswap V2 factory, pair, Router02 and WETH9), and a test
fails when they drift from a fresh build. The export is deterministic (sorted keys, fixed
indentation, bytecode without a metadata hash) so that a rebuild on any machine gives the
same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import DevnetError
from ..paths import ASSETS_DIR, CONTRACTS_DIR

ARTIFACTS_DIR = ASSETS_DIR / "contracts"

#: Our contracts: artifact name -> source file under contracts/src (forge's out/ layout).
PROJECT_CONTRACTS: dict[str, str] = {
    "IndexVault": "IndexVault.sol",
    "IndexLens": "IndexLens.sol",
    "IndexBook": "IndexBook.sol",
    # OpenZeppelin's own, unmodified; compiled by forge through contracts/src/Timelock.sol.
    "TimelockController": "TimelockController.sol",
    "DevUSDC": "DevUSDC.sol",
    "DevToken": "DevToken.sol",
    "DevPriceFeed": "DevPriceFeed.sol",
    "DevMarketSeeder": "DevMarketSeeder.sol",
    "Multicall3": "Multicall3.sol",
    "DevGasPriceOracle": "DevGasPriceOracle.sol",
}

#: Third-party contracts copied from the npm packages' compiled build JSON.
NPM_CONTRACTS: dict[str, str] = {
    "UniswapV2Factory": "@uniswap/v2-core/build/UniswapV2Factory.json",
    "UniswapV2Pair": "@uniswap/v2-core/build/UniswapV2Pair.json",
    "UniswapV2Router02": "@uniswap/v2-periphery/build/UniswapV2Router02.json",
    "WETH9": "@uniswap/v2-periphery/build/WETH9.json",
}


@dataclass(frozen=True)
class Artifact:
    """One deployable contract: its ABI and creation bytecode (0x-prefixed hex)."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str


def _hex(code: str) -> str:
    code = code.strip()
    return code if code.startswith("0x") else "0x" + code


def _source(name: str, src: str) -> str:
    if name == "TimelockController":
        return "npm:@openzeppelin/contracts/governance/TimelockController.sol"
    return f"contracts/src/{src}" if name.startswith("Index") else f"contracts/src/devnet/{src}"


def link(bytecode: str, libraries: dict[str, str]) -> str:
    """Creation bytecode with each external library's placeholder replaced by its address.

    Solidity marks a library call site with ``__$<34 hex of keccak(path:name)>$__``;
    ``libraries`` maps ``"src/IndexBook.sol:IndexBook"`` to the deployed address."""
    from eth_utils import keccak

    code = bytecode
    for fq, address in libraries.items():
        marker = "__$" + keccak(text=fq).hex()[:34] + "$__"
        code = code.replace(marker, address.lower().removeprefix("0x"))
    if "__$" in code:
        raise DevnetError("The contract needs a library that was not linked.")
    return code


def artifact_from_forge(name: str, contracts_dir: Path = CONTRACTS_DIR) -> dict[str, Any]:
    """The exported form of one of our contracts, read from forge's ``out/``."""
    src = PROJECT_CONTRACTS[name]
    path = contracts_dir / "out" / src / f"{name}.json"
    if not path.is_file():
        raise DevnetError(f"{path} is missing: build the contracts first (`make contracts`).")
    data = json.loads(path.read_text())
    return {
        "contractName": name,
        "source": _source(name, src),
        "abi": data["abi"],
        "bytecode": _hex(data["bytecode"]["object"]),
    }


def artifact_from_npm(name: str, contracts_dir: Path = CONTRACTS_DIR) -> dict[str, Any]:
    """The exported form of a Uniswap/WETH contract, read from its npm build JSON."""
    rel = NPM_CONTRACTS[name]
    path = contracts_dir / "node_modules" / rel
    if not path.is_file():
        raise DevnetError(f"{path} is missing: install the npm toolchain first (`make setup`).")
    data = json.loads(path.read_text())
    return {
        "contractName": name,
        "source": f"npm:{rel}",
        "abi": data["abi"],
        "bytecode": _hex(data["bytecode"]),
    }


def expected_artifacts(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, dict[str, Any]]:
    """Every artifact as a fresh build would export it (the sync test compares these)."""
    out = {name: artifact_from_forge(name, contracts_dir) for name in PROJECT_CONTRACTS}
    out.update({name: artifact_from_npm(name, contracts_dir) for name in NPM_CONTRACTS})
    return out


def render(artifact: dict[str, Any]) -> str:
    """The exact file text of an artifact: sorted keys, two-space indent, final newline."""
    return json.dumps(artifact, sort_keys=True, indent=2) + "\n"


def export(out_dir: Path = ARTIFACTS_DIR, contracts_dir: Path = CONTRACTS_DIR) -> list[Path]:
    """Write every artifact into ``out_dir``; files whose text is unchanged are not touched."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, art in sorted(expected_artifacts(contracts_dir).items()):
        path = out_dir / f"{name}.json"
        text = render(art)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


@cache
def load(name: str, artifacts_dir: Path = ARTIFACTS_DIR) -> Artifact:
    """Load a shipped artifact by contract name (e.g. ``"IndexVault"``)."""
    path = artifacts_dir / f"{name}.json"
    if not path.is_file():
        raise DevnetError(
            f"Contract artifact {path} is missing: run `make contracts` to build and export it."
        )
    data = json.loads(path.read_text())
    return Artifact(name=name, abi=data["abi"], bytecode=data["bytecode"])
