"""The devnet operator's side of the rule verifier: record each rebalance's snapshot.

At a market close that rebalances (a Monday reweighting, or an out-of-cycle regime
switch) the devnet's market driver calls :func:`record_close` once, after the vault's
transactions are mined, with the market clock it decided from. It records the inputs the
operator engine composed from (its market view of the close: the members and the bench
ranked below them, market caps moved with the day's prices; the members before the
rebalance as the buffer rule's previous constituents; the total market series the regime
ran on) with the targets and the regime now on the vault
(:mod:`wallet_app.index.snapshot_record`). A failure here is logged
and never stops the market.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..index.snapshot_record import LogEntry, RebalanceSnapshot, record
from ..paths import AppPaths
from .deploy import Deployment
from .market_clock import MarketClock

log = logging.getLogger(__name__)

def record_close(paths: AppPaths, vault: Any, deployment: Deployment, clock: MarketClock,
                 report: Any, flipped: bool,
                 members_before: Sequence[str] | None = None) -> LogEntry | None:
    """Record the snapshot of a close that rebalanced (``report`` not None); returns the
    log entry, or None when nothing rebalanced or the record could not be written.

    The assets are the operator engine's own market view of the close (members and the
    bench below them, :func:`~wallet_app.devnet.reconstitution.devnet_market_assets`) and
    ``previous`` the members before the rebalance (the buffer rule's input): the verifier
    must recompute from exactly what the engine composed from."""
    if report is None:
        return None
    try:
        from .reconstitution import devnet_market_assets

        assets = tuple(devnet_market_assets(clock))
        before = {s.upper() for s in (members_before if members_before is not None
                                      else (t.symbol for t in deployment.tokens))}
        previous = tuple(a.id for a in assets if a.symbol.upper() in before)
        snap = vault.snapshot()
        head = vault.client.w3.eth.get_block("latest")
        entry = record(paths, RebalanceSnapshot(
            chain_id=snap.chain_id, vault=deployment.vault, block=int(head["number"]),
            timestamp=int(head["timestamp"]), market_day=clock.today.isoformat(),
            kind="regime" if flipped else "rebalance",
            assets=assets, previous=previous,
            series=tuple(clock.market_series()),
            targets_bps={c.symbol: c.target_bps for c in snap.constituents},
            regime=snap.regime.value))
    except Exception:  # noqa: BLE001 - the market goes on; the verifier says it is missing
        log.exception("could not record the rebalance snapshot")
        return None
    log.info("rebalance snapshot %s recorded at block %s", entry.hash, entry.block)
    return entry
