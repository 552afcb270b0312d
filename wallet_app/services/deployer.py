"""Deploying the index to a chain (``index-wallet deploy``): the owner's first act.

A thin layer over :mod:`wallet_app.deploy`: it resolves the signing key (a wallet of this
app's OS keyring, or a keystore file), keeps the deploy journal and the record it writes
in the data dir (``deploys/<chain id>-<config digest>.json``) and connects to the RPC the
user named. It never pins the record itself: importing it (``index-wallet deployment
import``) is the user's decision, as for a record published by someone else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from ..deploy import runner
from ..deploy.config import DeployConfig, load_config
from ..deploy.signers import signer_from_spec
from .session import Session

Progress = Callable[[str], None]


@dataclass
class DeployOutcome:
    """A dry run (``record_path`` None) or a finished deploy."""

    run: runner.DeployRun
    config: DeployConfig
    journal_path: Path
    record_path: Path | None = None


class DeployService:
    """See the module docstring."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _paths(self, cfg: DeployConfig, chain_id: int) -> tuple[Path, Path]:
        base = self.session.paths.data_dir / "deploys" / f"{chain_id}-{cfg.digest()[:16]}"
        return base.with_suffix(".journal.json"), base.with_suffix(".record.json")

    def deploy(self, config_path: Path, rpc_url: str, *, key_from: str | None = None,
               keystore: Path | None = None, password: Callable[[], str] | None = None,
               dry_run: bool = False, out: Path | None = None,
               journal: Path | None = None, progress: Progress | None = None
               ) -> DeployOutcome:
        """Dry-run or deploy the config at ``config_path`` on ``rpc_url``."""
        cfg = load_config(config_path)
        signer = signer_from_spec(key_from, keystore, lambda: self.session.keys)
        w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))
        chain_id = int(w3.eth.chain_id)
        default_journal, default_record = self._paths(cfg, chain_id)
        journal_path = journal or default_journal
        if dry_run:
            run = runner.dry_run(w3, rpc_url, cfg, signer.address, progress)
            if journal_path.is_file():
                run.notes.append(f"A deploy of this config is journaled in {journal_path}; "
                                 "running it again resumes that deploy.")
            return DeployOutcome(run, cfg, journal_path)
        signer.open(password() if password else "")
        try:
            run = runner.deploy(w3, cfg, signer, journal_path, progress=progress)
        finally:
            signer.close()
        assert run.record is not None
        record_path = out or default_record
        record_path.parent.mkdir(parents=True, exist_ok=True)
        record_path.write_text(run.record.to_json(), encoding="utf-8")
        return DeployOutcome(run, cfg, journal_path, record_path)
