"""The operator's actions as the chain records them: legs, batches and gas from events.

Why from events: the journal says what the operator meant to do; the vault's events say
what happened. Tests count legs here (a leg sent twice would show as two ``SwapExecuted``),
the devnet's tick report and the benchmark read their figures here.
"""

from __future__ import annotations

from typing import Any

from web3 import Web3

from .devnet import artifacts

_COUNTED = ("SwapExecuted", "Rebalanced", "TargetWeightsSet", "ConstituentAdded",
            "ConstituentRemoved", "RegimeChanged", "NavUpdated", "Struck")


def vault_events(w3: Web3, vault: str, from_block: int, to_block: int | str = "latest"
                 ) -> list[tuple[str, dict[str, Any], Any]]:
    """(name, args, log) of the counted vault events in a block range, in chain order."""
    c = w3.eth.contract(address=vault, abi=artifacts.load("IndexVault").abi)
    out = []
    for name in _COUNTED:
        ev = getattr(c.events, name)
        for log in ev().get_logs(from_block=from_block, to_block=to_block):
            out.append((name, dict(log["args"]), log))
    out.sort(key=lambda e: (e[2]["blockNumber"], e[2]["logIndex"]))
    return out


def rebalance_summary(w3: Web3, vault: str, from_block: int,
                      to_block: int | str = "latest", usdc: str | None = None
                      ) -> dict[str, Any]:
    """Legs (sells, buys), rebalance batches, listings, removals and the gas of every
    transaction that emitted one of them."""
    evs = vault_events(w3, vault, from_block, to_block)
    if usdc is None:
        usdc = w3.eth.contract(address=vault, abi=artifacts.load("IndexVault").abi
                               ).functions.asset().call()
    swaps = [a for n, a, _ in evs if n == "SwapExecuted"]
    sells = sum(1 for a in swaps if a["tokenOut"] == usdc)
    txs = {log["transactionHash"] for n, _, log in evs
           if n in ("SwapExecuted", "Rebalanced", "TargetWeightsSet", "ConstituentAdded",
                    "ConstituentRemoved", "RegimeChanged")}
    gas = sum(int(w3.eth.get_transaction_receipt(h)["gasUsed"]) for h in txs)
    return {
        "legs": len(swaps), "sells": sells, "buys": len(swaps) - sells,
        "batches": sum(1 for n, *_ in evs if n == "Rebalanced"),
        "weights_set": sum(1 for n, *_ in evs if n == "TargetWeightsSet"),
        "added": [a["token"] for n, a, _ in evs if n == "ConstituentAdded"],
        "removed": [a["token"] for n, a, _ in evs if n == "ConstituentRemoved"],
        "transactions": len(txs), "gas_used": gas,
        "leg_keys": [(a["tokenIn"], a["tokenOut"], int(a["amountIn"])) for a in swaps],
    }
