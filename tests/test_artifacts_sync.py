"""The shipped contract artifacts (assets/contracts) must match a fresh build.

The app deploys and calls the contracts from these files, so an ABI or bytecode that lags
behind the Solidity sources would deploy old code or decode calls wrongly. The test runs
``forge build`` (a no-op when nothing changed), then compares every exported artifact with
forge's ``contracts/out`` and the npm packages' Uniswap build JSON. Fix a failure with
``make contracts`` (which runs scripts/export_artifacts.py) and commit assets/contracts.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from wallet_app.devnet import artifacts
from wallet_app.errors import ToolMissingError
from wallet_app.paths import CONTRACTS_DIR
from wallet_app.toolchain import find_tool

FIX = "run `make contracts` (forge build + scripts/export_artifacts.py) and commit assets/contracts"


@pytest.fixture(scope="module")
def fresh_build() -> dict[str, dict]:
    try:
        forge = find_tool("forge")
    except ToolMissingError as exc:
        pytest.skip(str(exc))
    r = subprocess.run(
        [str(forge), "build", "--quiet"],
        cwd=CONTRACTS_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, f"forge build failed:\n{r.stdout}\n{r.stderr}"
    return artifacts.expected_artifacts()


def test_every_artifact_is_shipped_and_nothing_else(fresh_build: dict[str, dict]) -> None:
    shipped = {p.stem for p in artifacts.ARTIFACTS_DIR.glob("*.json")}
    assert shipped == set(fresh_build), f"artifact set differs from the build; {FIX}"


@pytest.mark.parametrize("name", sorted([*artifacts.PROJECT_CONTRACTS, *artifacts.NPM_CONTRACTS]))
def test_abi_and_bytecode_match_fresh_build(name: str, fresh_build: dict[str, dict]) -> None:
    path = artifacts.ARTIFACTS_DIR / f"{name}.json"
    assert path.is_file(), f"{path} missing; {FIX}"
    shipped = json.loads(path.read_text())
    expected = fresh_build[name]
    assert shipped["abi"] == expected["abi"], f"{name}: ABI drifted from the sources; {FIX}"
    assert shipped["bytecode"] == expected["bytecode"], f"{name}: bytecode drifted; {FIX}"
    # Deterministic rendering: byte-identical to what the exporter writes.
    assert path.read_text() == artifacts.render(expected), f"{name}: not canonical; {FIX}"


def test_loaded_artifacts_are_deployable() -> None:
    vault = artifacts.load("IndexVault")
    assert vault.bytecode.startswith("0x") and len(vault.bytecode) > 10_000
    names = {e.get("name") for e in vault.abi}
    for fn in ("requestBuy", "requestBuyWithPermit", "requestSell", "cancel", "strike",
               "claimUsdc", "claimInKind", "redeemInKind", "rebalance", "updateNav"):
        assert fn in names
    for gone in ("buy", "buyWithPermit", "sell"):  # v1's instant trades at a cached NAV
        assert gone not in names
    # The vault calls its external library: the placeholder links to a deployed IndexBook.
    assert "__$" in vault.bytecode
    linked = artifacts.link(vault.bytecode, {"src/IndexBook.sol:IndexBook": "0x" + "ab" * 20})
    assert "__$" not in linked and "ab" * 20 in linked
    with pytest.raises(Exception, match="library"):
        artifacts.link(vault.bytecode, {"src/Other.sol:Other": "0x" + "ab" * 20})
    book = artifacts.load("IndexBook")
    assert len(book.bytecode) > 10_000  # its functions take storage refs: not in the ABI
    assert {"SwapExecuted", "StalePrice"} <= {e.get("name") for e in book.abi}
    timelock = artifacts.load("TimelockController")  # OpenZeppelin's, unmodified
    assert {"scheduleBatch", "executeBatch", "getMinDelay"} <= {e.get("name")
                                                                for e in timelock.abi}
    lens = artifacts.load("IndexLens")
    assert {"snapshot", "quoteBuy", "quoteSell", "pendingRequests"} <= {
        e.get("name") for e in lens.abi}
