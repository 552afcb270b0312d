"""Pinned deployments: the one source of truth for the addresses the wallet signs for.

A :class:`DeploymentRecord` names, for one chain id, the vault, the lens, the USDC token
(and room for the timelock and further roles), the runtime code hashes of the vault and the
lens and the block they were deployed in. ``devnet up`` writes it for the devnet; for any
other chain the user imports a file (``index-wallet deployment import FILE``). Records live
in the app's data dir, one JSON file per chain id.

Why code hashes: an address alone can be answered by any contract a hostile node pretends
is there. On connect the wallet asks for the code at the pinned vault and lens and compares
its keccak with the record; a mismatch stops the connection before anything is read or
signed. The lens snapshot's own ``vault``/``asset`` fields are compared with the record too
(:class:`UntrustedAnswer`), and are never used as addresses.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import is_address, keccak, to_checksum_address

from ..errors import WalletError
from ..paths import AppPaths

RECORD_FORMAT = "g100-deployment"
RECORD_VERSION = 1
#: Roles whose address the wallet may send transactions to or sign typed data for.
CORE_ROLES = ("vault", "lens", "usdc")


class NoDeploymentRecord(WalletError):
    """No pinned deployment for the connected chain."""

    exit_code = 50


class InvalidRecord(WalletError):
    """A deployment file that is not a valid record (nothing was stored)."""

    exit_code = 51


class CodeHashMismatch(WalletError):
    """The code at a pinned address is not the code the record pins."""

    exit_code = 53

    def __init__(self, role: str, address: str, chain_name: str) -> None:
        self.role, self.address = role, address
        super().__init__(
            f"The {role} at {address} on {chain_name} does not run the code pinned in this "
            "chain's deployment record (its code hash differs). Either the node you are "
            "connected to is lying, or the record is wrong: nothing was read or signed. "
            "Check the RPC URL in Settings and the deployment record "
            "(`index-wallet deployment show`).")


class UntrustedAnswer(WalletError):
    """The node's answer contradicts the pinned record."""

    exit_code = 54


def _addr(value: Any, what: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise InvalidRecord(f"The deployment record's {what} is not an address.")
    return to_checksum_address(value)


def _hash32(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 66:
        raise InvalidRecord(f"The deployment record's {what} is not a 32-byte hex hash.")
    try:
        bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidRecord(f"The deployment record's {what} is not hex.") from None
    return value.lower()


@dataclass(frozen=True)
class DeploymentRecord:
    """The pinned deployment of the index on one chain (see the module docstring)."""

    chain_id: int
    vault: str
    lens: str
    usdc: str
    vault_code_hash: str  # 0x + keccak256 of the runtime code at ``vault``
    lens_code_hash: str
    deployment_block: int
    timelock: str | None = None
    #: Which vault ABI the wallet should speak ("v1": instant NAV trades).
    abi: str = "v1"
    label: str = ""
    #: Further pinned addresses by role (e.g. a v2 "keeper"), checked like the core ones.
    extra: Mapping[str, str] = field(default_factory=dict)

    def roles(self) -> dict[str, str]:
        """Every pinned address by role (core roles first)."""
        out = {"vault": self.vault, "lens": self.lens, "usdc": self.usdc}
        if self.timelock:
            out["timelock"] = self.timelock
        out.update(self.extra)
        return out

    def role_of(self, address: str | None) -> str | None:
        """The role ``address`` is pinned as, or None."""
        if not address or not is_address(address):
            return None
        a = to_checksum_address(address)
        for role, pinned in self.roles().items():
            if pinned == a:
                return role
        return None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "format": RECORD_FORMAT, "version": RECORD_VERSION, "chain_id": self.chain_id,
            "label": self.label, "abi": self.abi,
            "addresses": {"vault": self.vault, "lens": self.lens, "usdc": self.usdc,
                          "timelock": self.timelock, **dict(self.extra)},
            "code_hashes": {"vault": self.vault_code_hash, "lens": self.lens_code_hash},
            "deployment_block": self.deployment_block,
        }
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DeploymentRecord:
        """Strict parse: every field checked; a bad file is refused whole."""
        if not isinstance(d, Mapping) or d.get("format") != RECORD_FORMAT:
            raise InvalidRecord(f"Not a deployment record (expected \"format\": "
                                f"\"{RECORD_FORMAT}\").")
        if d.get("version") != RECORD_VERSION:
            raise InvalidRecord(f"Deployment record version {d.get('version')!r} is not "
                                f"supported (this app reads version {RECORD_VERSION}).")
        chain_id = d.get("chain_id")
        if not isinstance(chain_id, int) or isinstance(chain_id, bool) or chain_id <= 0:
            raise InvalidRecord("The deployment record's chain_id must be a positive integer.")
        block = d.get("deployment_block")
        if not isinstance(block, int) or isinstance(block, bool) or block < 0:
            raise InvalidRecord("The deployment record's deployment_block must be a "
                                "non-negative integer.")
        addrs = d.get("addresses")
        hashes = d.get("code_hashes")
        if not isinstance(addrs, Mapping) or not isinstance(hashes, Mapping):
            raise InvalidRecord("The deployment record needs \"addresses\" and "
                                "\"code_hashes\".")
        core = {r: _addr(addrs.get(r), f"{r} address") for r in CORE_ROLES}
        timelock = addrs.get("timelock")
        extra = {str(k): _addr(v, f"{k} address") for k, v in addrs.items()
                 if k not in (*CORE_ROLES, "timelock") and v is not None}
        every = [*core.values(), *extra.values()] + ([timelock] if timelock else [])
        if len({a.lower() for a in every}) != len(every):
            raise InvalidRecord("The deployment record names one address for two roles.")
        abi = d.get("abi", "v1")
        if abi not in ("v1", "v2"):
            raise InvalidRecord(f"Unknown vault ABI {abi!r} in the deployment record.")
        return cls(
            chain_id=chain_id, vault=core["vault"], lens=core["lens"], usdc=core["usdc"],
            vault_code_hash=_hash32(hashes.get("vault"), "vault code hash"),
            lens_code_hash=_hash32(hashes.get("lens"), "lens code hash"),
            deployment_block=block,
            timelock=_addr(timelock, "timelock address") if timelock else None,
            abi=abi, label=str(d.get("label", "")), extra=extra)

    @classmethod
    def from_json(cls, text: str) -> DeploymentRecord:
        try:
            data = json.loads(text)
        except ValueError:
            raise InvalidRecord("The deployment file is not valid JSON.") from None
        return cls.from_dict(data)


class DeploymentStore:
    """The records of one app installation: ``<data dir>/deployments/<chain id>.json``."""

    def __init__(self, paths: AppPaths) -> None:
        self.dir = paths.data_dir / "deployments"

    def path(self, chain_id: int) -> Path:
        return self.dir / f"{int(chain_id)}.json"

    def load(self, chain_id: int) -> DeploymentRecord | None:
        p = self.path(chain_id)
        if not p.is_file():
            return None
        try:
            rec = DeploymentRecord.from_json(p.read_text(encoding="utf-8"))
        except InvalidRecord as exc:
            raise InvalidRecord(f"The stored deployment record {p} is damaged: {exc} "
                                "Import the deployment file again.") from None
        if rec.chain_id != chain_id:
            raise InvalidRecord(f"The stored deployment record {p} is for chain "
                                f"{rec.chain_id}, not {chain_id}. Import it again.")
        return rec

    def save(self, record: DeploymentRecord, *, replace: bool = False) -> Path:
        """Write atomically (0600). Refuses to change an existing record unless ``replace``:
        repointing the wallet at other contracts is a decision, never a side effect."""
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        p = self.path(record.chain_id)
        old = self.load(record.chain_id) if p.is_file() else None
        if old is not None and old != record and not replace:
            raise InvalidRecord(
                f"A different deployment is already pinned for chain {record.chain_id} "
                f"(vault {old.vault}). Pass --replace to pin the new one instead.")
        tmp = p.with_suffix(".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(record.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
        return p

    def import_file(self, path: Path, *, replace: bool = False) -> DeploymentRecord:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidRecord(f"Cannot read {path} ({type(exc).__name__}).") from None
        rec = DeploymentRecord.from_json(text)
        self.save(rec, replace=replace)
        return rec


def code_hash(client: Any, address: str, block: str = "latest") -> str:
    """``0x`` + keccak256 of the runtime code at ``address`` (one ``eth_getCode``)."""
    code = client.rpc("eth_getCode", to_checksum_address(address), block)
    raw = bytes.fromhex(code[2:]) if isinstance(code, str) else bytes(code)
    return "0x" + keccak(raw).hex()


def verify_code(client: Any, record: DeploymentRecord, chain_name: str = "") -> None:
    """Refuse (:class:`CodeHashMismatch`) unless the vault's and lens's code match."""
    for role, addr, want in (("vault", record.vault, record.vault_code_hash),
                             ("lens", record.lens, record.lens_code_hash)):
        if code_hash(client, addr) != want:
            raise CodeHashMismatch(role, addr, chain_name or f"chain {record.chain_id}")


def record_from_chain(w3: Any, *, chain_id: int, vault: str, lens: str, usdc: str,
                      deployment_block: int, timelock: str | None = None,
                      label: str = "", abi: str = "v1") -> DeploymentRecord:
    """A record for contracts the caller deployed itself (the code hashes read now)."""
    def h(a: str) -> str:
        return "0x" + keccak(bytes(w3.eth.get_code(to_checksum_address(a)))).hex()

    return DeploymentRecord(
        chain_id=chain_id, vault=to_checksum_address(vault), lens=to_checksum_address(lens),
        usdc=to_checksum_address(usdc), vault_code_hash=h(vault), lens_code_hash=h(lens),
        deployment_block=deployment_block,
        timelock=to_checksum_address(timelock) if timelock else None, label=label, abi=abi)
