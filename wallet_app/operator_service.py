"""``index-wallet operator run``: the operator and keeper as one long-running service.

Why a service: the keeper's strikes, the NAV refresh, the regime at each daily close and
the Monday rebalance are one schedule on one key; running them from a person's wallet
session would stop them when the window closes. The service:

* holds a lock (``operator.lock``, ``flock``) so only one process acts for a deployment,
  and writes its pid and a status file that ``operator status`` reads;
* loads its own key (:mod:`wallet_app.operator_keys`), never an unlocked node account;
* loops every ``poll_s``: first it finishes a journaled plan (a crash or a stop left it),
  then the keeper (:meth:`OperatorEngine.keeper_tick`), then the calendar: each UTC day's
  close (00:00 UTC) evaluates the regime from the market source (a flip switches at once);
  Mondays 00:00 UTC rebalance from the latest snapshot, reconstitution included; when the
  timelock has a delay, entrants are scheduled that long before the Monday (pre-listing);
* on SIGTERM/SIGINT sets a stop flag: the transaction in flight is finished (its receipt
  journaled), the rest of a plan is left for the next start, the lock is released.

Times are the chain's (block timestamps); the calendar is UTC.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .errors import WalletError
from .index.schedule import next_rebalance, previous_rebalance
from .operator_journal import OperatorJournal

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 15.0
#: Pre-list entrants this long before the timelock's delay runs out (margin for blocks).
PRELIST_MARGIN_S = 3600


class OperatorRunning(WalletError):
    """Another operator process holds this deployment's lock."""

    exit_code = 153


class OperatorConfigError(WalletError):
    """The operator's config file or flags are incomplete or invalid."""

    exit_code = 154


@dataclass
class OperatorConfig:
    """What ``operator run`` needs (a JSON file; flags override)."""

    rpc_url: str
    record_file: Path | None = None  # a deployment record (else the pinned one)
    chain_id: int | None = None
    keystore: Path | None = None
    keyring: str | None = None
    password_file: Path | None = None
    governance_keystore: Path | None = None
    governance_password_file: Path | None = None
    market: dict[str, Any] = field(default_factory=lambda: {"source": "snapshot"})
    history: Path | None = None
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    poll_s: float = DEFAULT_POLL_S
    batch_size: int = 20
    slippage_bps: int = 100

    @classmethod
    def load(cls, path: Path) -> OperatorConfig:
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OperatorConfigError(f"Cannot read the operator config {path} "
                                      f"({type(exc).__name__}).") from None
        base = path.parent

        def p(key: str) -> Path | None:
            v = d.get(key)
            return (base / v).resolve() if v else None

        if not d.get("rpc_url"):
            raise OperatorConfigError("The operator config needs 'rpc_url'.")
        return cls(rpc_url=d["rpc_url"], record_file=p("deployment"),
                   chain_id=d.get("chain_id"), keystore=p("keystore"),
                   keyring=d.get("keyring"), password_file=p("password_file"),
                   governance_keystore=p("governance_keystore"),
                   governance_password_file=p("governance_password_file"),
                   market=dict(d.get("market", {"source": "snapshot"})), history=p("history"),
                   candidates=dict(d.get("candidates", {})),
                   poll_s=float(d.get("poll_s", DEFAULT_POLL_S)),
                   batch_size=int(d.get("batch_size", 20)),
                   slippage_bps=int(d.get("slippage_bps", 100)))


def service_dir(data_dir: Path, chain_id: int, vault: str) -> Path:
    return data_dir / "operator" / f"{chain_id}-{vault.lower()}"


class ServiceLock:
    """An exclusive ``flock`` on ``operator.lock`` (released by the kernel if the process
    dies, so a SIGKILL never leaves a stale lock); the pid is written inside."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "operator.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OperatorRunning(f"An operator is already running for this deployment "
                                  f"(pid {read_pid(self.path)}); stop it first.") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def read_pid(lock_path: Path) -> int | None:
    try:
        text = lock_path.read_text().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def is_running(folder: Path) -> int | None:
    """The running operator's pid (its lock is held), else None."""
    path = folder / "operator.lock"
    if not path.is_file():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_pid(path) or -1
    finally:
        os.close(fd)
    return None


def status(folder: Path) -> dict[str, Any]:
    """What ``operator status`` shows: running (pid), last actions, next scheduled."""
    out: dict[str, Any] = {"folder": str(folder), "running": False, "pid": None}
    pid = is_running(folder)
    out["running"], out["pid"] = pid is not None, pid
    st = folder / "status.json"
    if st.is_file():
        with contextlib.suppress(ValueError):
            out.update(json.loads(st.read_text()))
    out["running"], out["pid"] = pid is not None, pid
    jf = folder / "journal.json"
    if jf.is_file():
        j = json.loads(jf.read_text())
        out["last_actions"] = j.get("history", [])[-10:]
        out["last"] = j.get("last", {})
        plan = j.get("plan")
        out["plan_in_progress"] = None if not plan else {
            "plan_id": plan["plan_id"], "kind": plan["kind"],
            "steps": [f"{s['kind']}:{s['status']}" for s in plan["steps"]]}
    return out


def _day_start(t: int) -> int:
    d = datetime.fromtimestamp(t, UTC).date()
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


class OperatorService:
    """The loop; :meth:`run` until :attr:`stop` is set (SIGTERM) or once (``once``)."""

    def __init__(self, engine: Any, source: Any, folder: Path, *,
                 poll_s: float = DEFAULT_POLL_S, stop: threading.Event | None = None) -> None:
        self.engine = engine
        self.source = source
        self.folder = folder
        self.poll_s = poll_s
        self.stop = stop or engine.stop
        self.journal: OperatorJournal = engine.journal
        self.lock = ServiceLock(folder)

    # ------------------------------------------------------------------ signals

    def install_signals(self) -> None:
        def handler(signum: int, _frame: Any) -> None:
            log.info("signal %s: stopping after the transaction in flight", signum)
            self.stop.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    # ------------------------------------------------------------------ loop

    def run(self, *, once: bool = False, rebalance_now: bool = False) -> int:
        self.lock.acquire()
        log.info("operator %s started (pid %d)", self.engine.sender.address, os.getpid())
        self._write_status("starting")
        try:
            first = True
            while not self.stop.is_set():
                try:
                    self.tick(rebalance_now=rebalance_now and first)
                except WalletError as exc:
                    log.error("operator step failed: %s", exc)
                    if once:
                        raise
                except Exception as exc:  # noqa: BLE001 - a service logs and keeps going
                    log.exception("operator step failed (%s)", type(exc).__name__)
                    if once:
                        raise
                first = False
                self._write_status("running")
                if once:
                    break
                self.stop.wait(self.poll_s)
        finally:
            self._write_status("stopped")
            self.lock.release()
            log.info("operator stopped")
        return 0

    def tick(self, *, rebalance_now: bool = False) -> None:
        """One pass: resume, keeper, daily close, pre-listing, Monday rebalance."""
        self.engine.resume()
        if self.stop.is_set():
            return
        now = self.engine.now()
        if self.journal.running_plan() is not None:
            # A plan waits for a timelock delay: the keeper goes on, nothing new starts.
            self.engine.keeper_tick()
            self.engine.execute_due()
            return
        if not self.journal.state.last:
            # First start for this deployment: no catch-up of past closes or Mondays
            # (the deployment was set up by its deployer); the schedule starts now.
            self.journal.state.last.update({"close": _day_start(now), "rebalance": now,
                                            "started": now})
            self.journal.save()
            log.info("first start: next daily close and Monday rebalance on schedule")
        did = self.engine.keeper_tick()
        if did:
            self.journal.mark(did, now)
        self.engine.execute_due()
        if hasattr(self.source, "market_day"):
            self._market_calendar(rebalance_now)
            return
        today = _day_start(now)
        last_close = self.journal.state.last.get("close", 0)
        if last_close < today and not self.stop.is_set():
            self.daily_close(datetime.fromtimestamp(today - 1, UTC).date())
            self.journal.mark("close", today)
        monday = int(previous_rebalance(datetime.fromtimestamp(now, UTC)).timestamp())
        due = rebalance_now or (self.journal.state.last.get("rebalance", 0) < monday
                                and self.journal.state.last.get("close", 0) >= today)
        if due and not self.stop.is_set():
            # The plan's start records the rebalance as done for this Monday (with the plan).
            self.rebalance(plan_id=None if rebalance_now else
                           f"rebalance-{datetime.fromtimestamp(monday, UTC).date()}")
        self.prelist(now)

    def _market_calendar(self, rebalance_now: bool) -> None:
        """The devnet's accelerated calendar: a daily close whenever the replay's market
        day advanced (the devnet market moves the prices), a rebalance on its Mondays."""
        index, day = self.source.market_day()
        last = self.journal.state.last.get("market_day", index - 1 if rebalance_now else index)
        if index > last or rebalance_now:
            before = self.engine.vault.snapshot().regime
            if index > last:
                self.daily_close(day)
            flipped = self.engine.vault.snapshot().regime is not before
            if (day.weekday() == 0 and index > last and not flipped) or rebalance_now:
                self.rebalance(plan_id=None if rebalance_now else f"rebalance-{day}")
        self.journal.mark("market_day", index)

    def daily_close(self, day: date) -> None:
        """The methodology's daily close: regime from the market source; a flip switches."""
        result = self.source.regime(day)
        latest = result.latest if result is not None else None
        if latest is None:
            log.info("daily close %s: regime not defined yet (too little history)", day)
            return
        vault_regime = self.engine.vault.snapshot().regime
        log.info("daily close %s: %s, gauge %.1f (vault %s)", day, latest.gauge.state.value,
                 latest.gauge.score, vault_regime.value)
        if latest.gauge.state is not vault_regime:
            self.engine.switch_regime(latest.gauge.state)

    def rebalance(self, plan_id: str | None = None) -> None:
        view = self.source.snapshot()
        self.engine.rebalance(view, plan_id=plan_id)

    def prelist(self, now: int) -> None:
        """Schedule entrants' listing in the timelock early enough to be live on Monday."""
        eng = self.engine
        if eng._tl_c is None or eng.governance is None:
            return
        delay = int(eng._tl_c.functions.getMinDelay().call())
        monday = int(next_rebalance(datetime.fromtimestamp(now, UTC)).timestamp())
        if delay == 0 or monday - now > delay + PRELIST_MARGIN_S:
            return
        key = f"prelist-{monday}"
        if key in self.journal.state.scheduled:
            return
        from .operator_journal import JournalPlan, JournalStep
        from .operator_plan import reconstitute

        view = self.source.snapshot()
        recon = reconstitute(view, [c.symbol for c in eng.members()])
        if not recon.entrants:
            return
        plan_id = f"rebalance-{datetime.fromtimestamp(monday, UTC).date()}"
        step = JournalStep("list", "pre-list entrants", [],
                           detail={"symbols": list(recon.entrants)})
        calls = eng._listing_calls(JournalPlan(plan_id, "rebalance", now, "", {}, []), step)
        sched = JournalPlan(f"prelist-{monday}", "listing", now, view.snapshot_hash,
                            {"entrants": list(recon.entrants)},
                            [JournalStep("list", "schedule entrants", calls[:1])])
        self.journal.start(sched)
        eng.run_plan()
        self.journal.state.scheduled[key] = {"entrants": list(recon.entrants),
                                             "ready_at": now + delay}
        self.journal.save()

    # ------------------------------------------------------------------ status

    def _write_status(self, state: str) -> None:
        now = int(time.time())
        try:
            chain_now = self.engine.now()
        except Exception:  # noqa: BLE001 - status must be written even with the node gone
            chain_now = now
        nxt_rebalance = next_rebalance(datetime.fromtimestamp(chain_now, UTC))
        next_close = _day_start(chain_now) + 86_400
        nxt: dict[str, Any] = {"daily_close": datetime.fromtimestamp(next_close, UTC).isoformat(),
                               "rebalance": nxt_rebalance.isoformat(),
                               "keeper_poll_s": self.poll_s}
        clock_of = getattr(self.source, "_clock", None)
        if clock_of is not None:  # the devnet's market calendar, stated in chain time
            try:
                monday = clock_of().next_market_monday(chain_now)
            except Exception:  # noqa: BLE001 - the market file may be mid-write
                monday = None
            nxt["daily_close"] = "each market day (devnet calendar)"
            nxt["rebalance"] = (datetime.fromtimestamp(monday, UTC).isoformat() if monday
                                else "next market Monday (the devnet market is paused)")
        body = {"state": state, "pid": os.getpid(), "operator": self.engine.sender.address,
                "updated_at": now, "chain_time": chain_now, "next": nxt}
        tmp = self.folder / "status.tmp"
        tmp.write_text(json.dumps(body, indent=1))
        os.replace(tmp, self.folder / "status.json")


def setup_service_logging(log_dir: Path, verbose: bool = False) -> None:
    """The service logs to ``operator.log`` in the app's log dir and to stderr (journald
    under systemd); records go through the app's redaction filter."""
    import logging.handlers

    from .logs import JsonFormatter, redact

    class Redacting(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return redact(super().format(record))

    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fh = logging.handlers.RotatingFileHandler(log_dir / "operator.log", maxBytes=2_000_000,
                                              backupCount=5, encoding="utf-8")
    fh.setFormatter(JsonFormatter())
    sh = logging.StreamHandler(sys.stderr)
    sh.setFormatter(Redacting("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("wallet_app")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for h in (fh, sh):
        root.addHandler(h)

