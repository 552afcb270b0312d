"""The operator's executor: journaled plans (rebalance, regime switch) and the keeper.

Why this shape: every on-chain action of the operator is a *plan* of *steps* written to the
:class:`~wallet_app.operator_journal.OperatorJournal` before its first transaction. A step's
calls are computed once, when the step starts, from the chain's state at that moment, and
journaled at once; each call is signed, journaled (fsync) and only then broadcast. A
restart resumes the journaled plan: it reconciles every journaled transaction by hash
(see the journal's docstring) and sends only the calls that have no mined transaction, so a
leg is never sent twice and the plan finished is the plan started.

Steps of a rebalance: ``list`` (entrants added through the timelock: scheduled, executed
when ready), ``weights`` (the methodology's targets, leavers at 0), ``sell`` (sell legs in
batches), ``buy`` (buy legs, computed after the sells are mined, from the cash they
raised), ``delist`` (leavers removed through the timelock), ``nav`` (a final refresh). A
regime switch is ``regime`` then ``sell``/``buy``/``nav``. The vault's events
(``TargetWeightsSet``, ``SwapExecuted`` per leg, ``Rebalanced`` per batch,
``ConstituentAdded``/``Removed``, ``RegimeChanged``) are the index's log.

:meth:`OperatorEngine.before_legs` is the one place that sees the market snapshot before
any leg is sent (its hash is in the journal): the hook for recording it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from web3 import Web3

from .devnet import artifacts
from .models import Regime
from .operator_journal import JournalPlan, JournalStep, JournalTx, OperatorJournal
from .operator_keys import OperatorSender, OperatorSendError
from .operator_plan import (
    DEFAULT_BATCH,
    DEFAULT_SLIPPAGE_BPS,
    MarketView,
    OnChainConstituent,
    Reconstitution,
    batches,
    buy_legs,
    check_plausible,
    leg_tuple,
    model_gas,
    reconstitute,
    sell_legs,
    target_weights,
)

log = logging.getLogger(__name__)

DEADLINE_S = 600
#: Test hook: after this many broadcasts the process stops dead (as if killed), so a crash
#: test can kill it at a known point. Read once per engine.
HANG_ENV = "G100_OPERATOR_TEST_HANG_AFTER"
#: Listing info of an entrant: (token, feed, heartbeat) or None when it cannot be listed.
ListingSource = Callable[[str, Any], "tuple[str, str, int] | None"]


class PlanStepWaiting(Exception):
    """A step cannot proceed yet; the plan resumes on a later pass."""


class TimelockNotReady(PlanStepWaiting):
    """A timelock operation is scheduled but its delay has not run out."""


class BudgetWait(PlanStepWaiting):
    """The vault's rolling loss budget or rebalance cooldown says "later"."""


#: Vault errors after which a batch is tried again later rather than failing the plan.
RETRY_LATER = ("LossBudgetExceeded", "RebalanceCooldown")


class TxPending(PlanStepWaiting):
    """A journaled transaction is not mined yet: it is never signed again meanwhile."""


class OperatorEngine:
    """Executes plans for one deployment with the operator's sender."""

    def __init__(self, w3: Web3, vault: Any, journal: OperatorJournal,
                 sender: OperatorSender, *, timelock: str | None = None,
                 governance: OperatorSender | None = None,
                 listing: ListingSource | None = None,
                 batch_size: int = DEFAULT_BATCH,
                 slippage_bps: int = DEFAULT_SLIPPAGE_BPS,
                 stop: threading.Event | None = None) -> None:
        self.w3 = w3
        self.vault = vault  # a VaultClient on the pinned vault and lens
        self.journal = journal
        self.sender = sender
        self.governance = governance
        self.timelock = timelock
        self.listing = listing
        self.batch_size = batch_size
        self.slippage_bps = slippage_bps
        self.stop = stop or threading.Event()
        self._vault_c = w3.eth.contract(address=vault.vault_address,
                                        abi=artifacts.load("IndexVault").abi)
        self._tl_c = (w3.eth.contract(address=timelock,
                                      abi=artifacts.load("TimelockController").abi)
                      if timelock else None)
        self._broadcasts = 0
        hang = os.environ.get(HANG_ENV, "")
        self._hang_after = int(hang) if hang.isdigit() else 0
        #: Called with (view, reconstitution) before the first leg; see :meth:`before_legs`.
        self.snapshot_hooks: list[Callable[[MarketView, Reconstitution], None]] = []

    # ------------------------------------------------------------------ chain state

    def members(self) -> list[OnChainConstituent]:
        snap = self.vault.snapshot()
        return [OnChainConstituent(c.symbol.upper(), c.token, c.decimals, c.target_bps,
                                   c.balance, c.price18, c.value) for c in snap.constituents]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    # ------------------------------------------------------------------ plans

    def before_legs(self, view: MarketView, recon: Reconstitution) -> None:
        """The market snapshot used by a rebalance, before any of its legs is sent: its
        hash goes into the journal and the log; ``snapshot_hooks`` (e.g. a rule verifier
        recording the hash on-chain or beside the plan) run here."""
        log.info("rebalance snapshot %s (%s, %s): %d selected, entrants %s, leavers %s",
                 short_hash(view.snapshot_hash), view.source, view.as_of, len(recon.weights),
                 ",".join(recon.entrants) or "-", ",".join(recon.leavers) or "-")
        for hook in self.snapshot_hooks:
            hook(view, recon)

    def rebalance(self, view: MarketView, *, plan_id: str | None = None) -> JournalPlan:
        """Start (journal) and run the weekly rebalance from ``view``."""
        if self.journal.running_plan() is not None:
            return self.resume()  # type: ignore[return-value]
        members = [c.symbol for c in self.members()]
        recon = reconstitute(view, members)
        check_plausible(recon, members)
        self.before_legs(view, recon)
        regime = self.vault.snapshot().regime
        steps = []
        if recon.entrants:
            steps.append(JournalStep("list", "list entrants", [],
                                     detail={"symbols": list(recon.entrants),
                                             "prices": {s: str(recon.prices[s])
                                                        for s in recon.entrants}}))
        steps.append(JournalStep("weights", "target weights", [],
                                 detail={"weights": recon.weights}))
        steps += [JournalStep("sell", "sell legs", []), JournalStep("buy", "buy legs", [])]
        if recon.leavers:
            steps.append(JournalStep("delist", "remove leavers", [],
                                     detail={"symbols": list(recon.leavers)}))
        steps.append(JournalStep("nav", "NAV refresh", []))
        plan = JournalPlan(plan_id or f"rebalance-{self.now()}", "rebalance", self.now(),
                           view.snapshot_hash,
                           {"regime": regime.value, "as_of": view.as_of,
                            "source": view.source, "entrants": list(recon.entrants),
                            "leavers": list(recon.leavers)}, steps)
        self.journal.start(plan)
        return self.run_plan()

    def switch_regime(self, regime: Regime, *, plan_id: str | None = None) -> JournalPlan:
        """Out-of-cycle switch (Bear: all to USDC; Bull: buy the targets back)."""
        if self.journal.running_plan() is not None:
            return self.resume()  # type: ignore[return-value]
        steps = [JournalStep("regime", f"regime {regime.value}", [],
                             detail={"regime": regime.value}),
                 JournalStep("sell", "sell legs", []), JournalStep("buy", "buy legs", []),
                 JournalStep("nav", "NAV refresh", [])]
        plan = JournalPlan(plan_id or f"regime-{regime.value}-{self.now()}", "regime",
                           self.now(), "", {"regime": regime.value}, steps)
        self.journal.start(plan)
        return self.run_plan()

    def resume(self) -> JournalPlan | None:
        """Finish the journaled plan, if any (after a crash or a stop)."""
        if self.journal.running_plan("keeper") is not None:
            self.run_plan("keeper")
        if self.journal.running_plan() is None:
            return None
        log.info("resuming plan %s", self.journal.running_plan().plan_id)  # type: ignore[union-attr]
        return self.run_plan()

    def run_plan(self, slot: str = "plan") -> JournalPlan:
        plan = self.journal.running_plan(slot)
        assert plan is not None
        while (i := plan.step_index()) is not None:
            if self.stop.is_set():
                log.info("stop requested: plan %s left at step %s (resumes on restart)",
                         plan.plan_id, plan.steps[i].kind)
                return plan
            step = plan.steps[i]
            try:
                self._run_step(plan, step)
            except PlanStepWaiting as why:
                if step.kind == "delist" and isinstance(why, TimelockNotReady):
                    # The leavers are sold and at 0: their removal is executed by the
                    # keeper once the delay has run out; the plan goes on.
                    self._defer_execute(step)
                    continue
                step.status = "waiting"
                self.journal.save()
                log.info("plan %s waits: %s", plan.plan_id, why)
                return plan
            except Exception as exc:
                step.status = "failed"
                self.journal.finish("failed", f"{step.kind}: {exc}", slot)
                log.error("plan %s failed at step %s: %s", plan.plan_id, step.kind, exc)
                raise
        self.journal.finish("done", slot=slot)
        log.info("plan %s done", plan.plan_id)
        return plan

    # ------------------------------------------------------------------ steps

    def _run_step(self, plan: JournalPlan, step: JournalStep) -> None:
        if step.status in ("todo", "waiting") and not step.calls:
            step.calls = self._build(plan, step)
            step.status = "running"
            self.journal.save()  # the step's calls are fixed from here on
        step.status = "running"
        for idx, call in enumerate(step.calls):
            self._send_call(step, idx, call)
            if self.stop.is_set() and idx + 1 < len(step.calls):
                self.journal.save()
                return
        step.status = "done"
        self.journal.save()

    def _build(self, plan: JournalPlan, step: JournalStep) -> list[dict[str, Any]]:
        kind = step.kind
        if kind == "weights":
            cons = self.members()
            order = [c.symbol for c in cons]
            weights = target_weights(order, step.detail["weights"])
            step.detail["order"] = order
            if weights == [c.target_bps for c in cons]:
                return []  # the targets on chain are already these
            return [self._vault_call("setTargetWeights", [weights],
                                     200_000 + 15_000 * len(weights), "setTargetWeights")]
        if kind == "regime":
            want = Regime(step.detail["regime"])
            if self.vault.snapshot().regime is want:
                return []
            return [self._vault_call("setRegime", [1 if want is Regime.BEAR else 0], 120_000,
                                     f"setRegime {want.value}")]
        if kind in ("sell", "buy"):
            snap = self.vault.snapshot()
            cons = self.members()
            targets = {c.symbol: c.target_bps for c in cons}
            make = sell_legs if kind == "sell" else buy_legs
            legs = make(cons, snap.cash, snap.usdc_decimals, targets, snap.regime)
            step.detail["legs"] = len(legs)
            return [{"label": f"rebalance {kind} {i + 1}", "to": self.vault.vault_address,
                     "fn": "rebalance", "legs": batch, "slippage_bps": self.slippage_bps,
                     "gas": model_gas(len(batch)) + 150_000}
                    for i, batch in enumerate(batches(legs, self.batch_size))]
        if kind == "nav":
            n = len(self.members())
            return [self._vault_call("updateNav", [], 300_000 + 60_000 * n, "updateNav")]
        if kind == "list":
            return self._listing_calls(plan, step)
        if kind == "delist":
            on_chain = {c.symbol: c for c in self.members()}
            payloads = [self._vault_c.encode_abi("removeConstituent", [on_chain[s].token])
                        for s in step.detail["symbols"] if s in on_chain]
            return self._timelock_calls(plan, "delist", payloads, 150_000 * len(payloads))
        raise ValueError(f"unknown step kind {kind}")

    def _vault_call(self, fn: str, args: list, gas: int, label: str) -> dict[str, Any]:
        return {"label": label, "to": self.vault.vault_address,
                "data": self._vault_c.encode_abi(fn, args), "gas": gas}

    def _listing_calls(self, plan: JournalPlan, step: JournalStep) -> list[dict[str, Any]]:
        if self.listing is None:
            raise OperatorSendError("Entrants need listing info (token, feed, heartbeat per "
                                    "symbol in the operator config's 'candidates').")
        tokens, feeds, beats, listed = [], [], [], []
        for sym in step.detail["symbols"]:
            info = self.listing(sym, step.detail.get("prices", {}).get(sym))
            if info is None:
                log.warning("entrant %s has no listing info; it is not listed", sym)
                continue
            tokens.append(Web3.to_checksum_address(info[0]))
            feeds.append(Web3.to_checksum_address(info[1]))
            beats.append(int(info[2]))
            listed.append(sym)
        step.detail["listed"] = listed
        if not tokens:
            return []
        payload = self._vault_c.encode_abi("addConstituents", [tokens, feeds, beats])
        return self._timelock_calls(plan, "list", [payload], 250_000 * len(tokens))

    def _timelock_calls(self, plan: JournalPlan, what: str, payloads: list[str],
                        gas: int) -> list[dict[str, Any]]:
        """scheduleBatch + executeBatch of owner calls on the vault, with a salt derived
        from the plan (a restart computes the same operation id)."""
        if not payloads:
            return []
        if self._tl_c is None or self.governance is None:
            raise OperatorSendError("Listing and delisting go through the timelock: the "
                                    "operator config needs a governance (proposer) key.")
        raw = [bytes.fromhex(p[2:]) for p in payloads]
        targets, values = [self.vault.vault_address] * len(raw), [0] * len(raw)
        salt = Web3.keccak(text=f"{plan.plan_id}:{what}")
        args = [targets, values, raw, b"\x00" * 32, salt]
        delay = int(self._tl_c.functions.getMinDelay().call())
        op_id = "0x" + bytes(self._tl_c.functions.hashOperationBatch(*args).call()).hex()
        size = sum(len(p) for p in raw) * 40
        return [
            {"label": f"timelock schedule {what}", "to": self.timelock, "signer": "governance",
             "data": self._tl_c.encode_abi("scheduleBatch", [*args, delay]),
             "gas": 200_000 + 30_000 * len(raw) + size, "op_id": op_id, "op": "schedule"},
            {"label": f"timelock execute {what}", "to": self.timelock, "signer": "governance",
             "data": self._tl_c.encode_abi("executeBatch", args), "gas": gas + size + 200_000,
             "op_id": op_id, "op": "execute"},
        ]

    # ------------------------------------------------------------------ sending

    def _op_state(self, op_id: str) -> int:
        """TimelockController.getOperationState: 0 unset, 1 waiting, 2 ready, 3 done."""
        assert self._tl_c is not None
        return int(self._tl_c.functions.getOperationState(bytes.fromhex(op_id[2:])).call())

    def _already_done(self, call: Mapping[str, Any]) -> bool:
        """A timelock call whose effect is already on chain (e.g. a crash after it was
        mined but before its receipt was journaled, resent under a new nonce) is skipped."""
        if "op_id" not in call:
            return False
        state = self._op_state(call["op_id"])
        if call["op"] == "schedule":
            return state != 0
        if state == 1:
            raise TimelockNotReady(f"timelock operation {call['op_id'][:10]} not ready yet")
        return state == 3

    def _data(self, call: Mapping[str, Any]) -> str:
        if call.get("fn") == "rebalance":
            deadline = self.now() + DEADLINE_S
            legs = [leg_tuple(leg) for leg in call["legs"]]
            return self._vault_c.encode_abi("rebalance", [legs, int(call["slippage_bps"]),
                                                          deadline])
        return call["data"]

    def _sender_for(self, call: Mapping[str, Any]) -> OperatorSender:
        if call.get("signer") == "governance":
            assert self.governance is not None
            return self.governance
        return self.sender

    def _send_call(self, step: JournalStep, idx: int, call: Mapping[str, Any]) -> None:
        sender = self._sender_for(call)
        for tx in [t for t in step.txs if t.call == idx]:
            if tx.status == "mined":
                return
            if tx.status == "signed":
                self._reconcile(sender, tx)
                if tx.status == "mined":
                    return
                if tx.status == "signed":  # still pending: never sign the call again now
                    raise TxPending(f"{tx.label} ({short_hash(tx.tx_hash)}) is still pending")
        for _attempt in range(2):
            if self._already_done(call):
                return
            data = self._data(call)
            try:
                sender.call(call["to"], data)
            except Exception as exc:  # noqa: BLE001 - the node's revert, decoded for the log
                why = _reason(exc)
                if any(e in why for e in RETRY_LATER):
                    raise BudgetWait(f"{call['label']}: {why}; tried again later") from None
                if call.get("fn") != "rebalance" or not self._drop_failing_legs(step, call):
                    raise OperatorSendError(f"{call['label']} would revert: {why}") from None
                if not call["legs"]:
                    return
                data = self._data(call)
            signed = sender.sign(call["to"], data, int(call["gas"]), sender.next_nonce())
            tx = JournalTx(call["label"], call["to"], data, int(call["gas"]), signed.nonce,
                           signed.tx_hash, signed.raw, call=idx)
            step.txs.append(tx)
            self.journal.save()  # journaled before it is broadcast
            sender.broadcast(signed.raw)
            self._after_broadcast()
            self._reconcile(sender, tx, wait=True)
            if tx.status == "mined":
                log.info("%s mined in block %s (%s gas), tx %s", tx.label, tx.block,
                         tx.gas_used, short_hash(tx.tx_hash))
                return
            log.warning("%s %s; simulating again before a new attempt", tx.label, tx.status)
        raise OperatorSendError(f"{call['label']} did not go through twice; see the log.")

    def _drop_failing_legs(self, step: JournalStep, call: dict[str, Any]) -> bool:
        """A batch that would revert: keep the legs that pass alone (a leg whose pool
        cannot fill it within the slippage limit is left for the next rebalance, and
        said so in the journal and the log). False when the batch fails for another
        reason than its legs (nothing passes alone either: then the error stands)."""
        kept, dropped = [], []
        for leg in call["legs"]:
            one = {**call, "legs": [leg]}
            try:
                self.sender.call(call["to"], self._data(one))
                kept.append(leg)
            except Exception as exc:  # noqa: BLE001 - decoded for the journal
                dropped.append({"symbol": leg["symbol"], "reason": _reason(exc)})
        if not kept and len(call["legs"]) > 1 or not dropped:
            return False
        for d in dropped:
            log.warning("%s: leg %s left out (%s)", call["label"], d["symbol"], d["reason"])
        call["legs"] = kept
        step.detail.setdefault("dropped", []).extend(dropped)
        self.journal.save()  # the batch as it will be signed
        return True

    def _after_broadcast(self) -> None:
        self._broadcasts += 1
        if self._hang_after and self._broadcasts >= self._hang_after:
            log.warning("test hook %s: hanging after %d broadcasts", HANG_ENV, self._broadcasts)
            while True:  # a crash test kills the process here
                time.sleep(3600)

    def _reconcile(self, sender: OperatorSender, tx: JournalTx, *, wait: bool = False) -> None:
        """Settle a journaled transaction by hash: mined, failed, dropped, or resent."""
        rec = sender.wait(tx.tx_hash, timeout=180.0) if wait else sender.receipt(tx.tx_hash)
        if rec is None and not wait:
            latest = int(self.w3.eth.get_transaction_count(sender.address, "latest"))
            if latest > tx.nonce:
                tx.status = "dropped"  # its nonce was used by another transaction
            else:
                sender.broadcast(tx.raw)  # the same bytes: can only be mined once
                rec = sender.wait(tx.tx_hash, timeout=180.0)
        if rec is not None:
            tx.block, tx.gas_used = int(rec["blockNumber"]), int(rec["gasUsed"])
            tx.status = "mined" if int(rec["status"]) == 1 else "failed"
        elif wait:
            self.journal.save()
            raise TxPending(f"{tx.label} ({short_hash(tx.tx_hash)}) not mined in time; it "
                            "stays journaled and is reconciled on the next pass")
        self.journal.save()

    # ------------------------------------------------------------------ keeper

    def strike_due(self, now: int) -> bool:
        """True when a request waits whose cut-off has passed (and the vault is not
        paused): the keeper strikes then, not on a fixed clock."""
        fn = self._vault_c.functions
        if fn.paused().call():
            return False
        min_age = int(fn.minRequestAge().call())
        for is_sell in (False, True):
            _next, base, head, pending = fn.queueState(is_sell).call()
            if not pending:
                continue
            rid = ((int(base) + int(head)) << 1) | int(is_sell)
            req, live = fn.requestOf(rid).call()
            if live and int(req[1]) + min_age <= now:
                return True
        return False

    def keeper_tick(self, *, max_requests: int = 50) -> str | None:
        """Strike if a request is due, else refresh the NAV once half the strike interval
        has passed since the last refresh. Returns what it did ("strike", "nav", None)."""
        now = self.now()
        fn = self._vault_c.functions
        if self.strike_due(now):
            self.raise_cash_if_short()
            n = len(self.members())
            call = self._vault_call("strike", [max_requests],
                                    600_000 + 60_000 * n + 150_000 * max_requests, "strike")
            self._one_off("strike", call)
            return "strike"
        interval = int(fn.strikeInterval().call())
        if now - int(fn.navUpdatedAt().call()) >= max(1, interval // 2):
            n = len(self.members())
            self._one_off("nav", self._vault_call("updateNav", [], 300_000 + 60_000 * n,
                                                  "updateNav"))
            return "nav"
        return None

    def raise_cash_if_short(self) -> None:
        """Sells are paid from cash: when the waiting sells are worth more than the free
        cash plus the waiting buys, sell a pro-rata slice of every holding first (a
        journaled keeper plan, within the vault's slippage and loss budget)."""
        snap = self.vault.snapshot()
        if not snap.pending_sell_shares or snap.live_holdings_value <= 0:
            return
        sell_value = snap.pending_sell_shares * snap.share_price // 10**18
        buys_net = snap.pending_buy_assets * (10_000 - snap.buy_fee_bps) // 10_000
        short = sell_value - snap.cash - buys_net
        if short <= 0:
            return
        usdc = short * 103 // 100 + 10**snap.usdc_decimals
        frac = Decimal(min(usdc, snap.live_holdings_value)) / Decimal(snap.live_holdings_value)
        dust = 10**snap.usdc_decimals // 100
        legs = []
        for c in snap.constituents:
            if c.balance and c.value * frac >= dust:
                amount = min(c.balance, int((Decimal(c.balance) * frac).to_integral_value()))
                legs.append({"symbol": c.symbol, "token": c.token, "is_buy": False,
                             "amount": str(amount), "usdc": str(Decimal(c.value) * frac)})
        calls = [{"label": f"raise cash {i + 1}", "to": self.vault.vault_address,
                  "fn": "rebalance", "legs": batch, "slippage_bps": self.slippage_bps,
                  "gas": model_gas(len(batch)) + 150_000}
                 for i, batch in enumerate(batches(legs, self.batch_size))]
        if calls:
            log.info("raising %s USDC for waiting sells (%d legs)",
                     Decimal(usdc).scaleb(-snap.usdc_decimals), len(legs))
            self._one_off("raise", calls)

    def _one_off(self, kind: str, call: dict[str, Any] | list[dict[str, Any]]) -> None:
        """A keeper transaction: a one-step plan in the keeper's slot (journaled like any
        other, and independent of a plan that waits for a timelock)."""
        if self.journal.running_plan("keeper") is not None:
            self.run_plan("keeper")
            if self.journal.running_plan("keeper") is not None:
                return
        calls = call if isinstance(call, list) else [call]
        plan = JournalPlan(f"{kind}-{self.now()}", kind, self.now(), "", {},
                           [JournalStep(kind, kind, calls)])
        self.journal.start(plan, "keeper")
        self.run_plan("keeper")

    def _defer_execute(self, step: JournalStep) -> None:
        """Leave a scheduled timelock operation for the keeper to execute when ready."""
        for call in step.calls:
            if call.get("op") == "execute":
                self.journal.state.scheduled[call["op_id"]] = {"call": call,
                                                              "label": call["label"]}
        step.status = "done"
        step.detail["deferred"] = True
        self.journal.save()
        log.info("%s scheduled; executed when the timelock delay has passed", step.label)

    def execute_due(self) -> int:
        """Execute the deferred timelock operations that are ready; returns how many."""
        if self._tl_c is None or self.governance is None:
            return 0
        done = 0
        for op_id, entry in list(self.journal.state.scheduled.items()):
            call = entry.get("call")
            if not call:
                continue
            state = self._op_state(op_id)
            if state == 2:
                self._one_off("execute", call)
                done += 1
            if state in (0, 3) or state == 2:
                self.journal.state.scheduled.pop(op_id, None)
                self.journal.save()
        return done


def short_hash(h: str) -> str:
    """A hash shortened for the log (the log's redaction filter masks any 64-hex string,
    the shape of a private key; the journal keeps the full hash)."""
    return f"{h[:10]}…{h[-6:]}"


def _reason(exc: Exception) -> str:
    from .chain.simulate import revert_data_from_error
    from .vault import VaultClient

    data = getattr(exc, "data", None)
    if data is None and exc.args:
        data = exc.args[-1] if isinstance(exc.args[-1], str | dict) else None
    try:
        return VaultClient.revert_decoder().decode(revert_data_from_error(data)).message
    except Exception:  # noqa: BLE001 - an undecodable revert is reported by its type only
        return type(exc).__name__
