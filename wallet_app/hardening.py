"""Process hygiene for the wallet's processes: no core dumps, no secrets in the environment.

Why: while a wallet is unlocked its private key is in this process's memory. A crash that
writes a core file (or a debugger of the same user attaching) would put the key on disk,
outside the keyring's protection. And a password given as ``G100_WALLET_PASSWORD`` stays in
``/proc/<pid>/environ`` of this process and of every child it starts (the devnet's Anvil,
``anvil --version``, ``ldd``), readable by the same user for as long as they run.

So the CLI and the GUI call :func:`harden_process` first thing:

* **Core dumps off.** Linux: ``RLIMIT_CORE`` set to 0 (soft and hard, so a child cannot
  raise it) and ``prctl(PR_SET_DUMPABLE, 0)``, which also stops other processes of the
  same user from ``ptrace``-attaching or reading ``/proc/<pid>/mem`` (root still can).
  macOS: ``RLIMIT_CORE`` 0 as well (the README lists the system-wide settings). Windows has
  no per-process core limit; the README says how to keep Windows Error Reporting from
  writing full dumps.
* **Secret variables taken out of the environment.** Every variable in :data:`SECRET_ENV`
  is removed from ``os.environ`` at start (and any that appears later, as soon as it is
  read through :func:`secret_env`) and kept in this module's memory only.
* **Children get a minimal environment.** :func:`child_env` builds the environment for any
  subprocess the core starts: what a program needs to run (``PATH``, ``HOME``, locale,
  temp dir, plus names the caller asks for), never a secret.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Every environment variable the app reads that can hold a secret (a password, a phrase,
#: a key, an API key). Each is removed from the environment when the process starts.
SECRET_ENV: tuple[str, ...] = (
    "G100_WALLET_PASSWORD",
    "G100_NEW_WALLET_PASSWORD",
    "G100_KEYSTORE_PASSWORD",
    "G100_WALLET_MNEMONIC",
    "G100_WALLET_PASSPHRASE",
    "G100_WALLET_PRIVATE_KEY",
    "G100_EXPORT_PASSWORD",
    "G100_OPERATOR_PASSWORD",
    "COINGECKO_API_KEY",
    "TOKENMETRICS_API_KEY",
)

#: What a child process inherits by default: enough to run, find its libraries and speak
#: the user's language; nothing that could be a secret.
CHILD_ENV_KEEP: tuple[str, ...] = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE",
    "LC_MESSAGES", "TZ", "TMPDIR", "TEMP", "TMP",
    # Windows cannot start most programs without these.
    "SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT",
)

#: Names that a caller's ``extra`` may not pass through, whatever it asks for.
_NEVER_PASS = frozenset(SECRET_ENV)

_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3

_taken: dict[str, str] = {}


@dataclass(frozen=True)
class Hardening:
    """What :func:`harden_process` managed to do (logged; the tests read it too)."""

    core_limit_zero: bool
    not_dumpable: bool
    secrets_taken: tuple[str, ...]


def _libc() -> ctypes.CDLL | None:
    # The running program's own symbols include libc's; ctypes.util.find_library would
    # start a child process (ldconfig) to look for it.
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def disable_core_dumps() -> tuple[bool, bool]:
    """Core limit 0 and (Linux) not dumpable. Returns (core limit is 0, not dumpable)."""
    core_zero = False
    try:
        import resource  # POSIX only

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        core_zero = resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)
    except (ImportError, ValueError, OSError) as exc:
        log.warning("could not set RLIMIT_CORE to 0 (%s)", type(exc).__name__)
    not_dumpable = False
    if sys.platform.startswith("linux"):
        libc = _libc()
        if libc is not None:
            if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
                log.warning("prctl(PR_SET_DUMPABLE, 0) failed (errno %d)", ctypes.get_errno())
            not_dumpable = libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0) == 0
    return core_zero, not_dumpable


def _wipe_native_env(name: str) -> None:
    """Overwrite the value of ``name`` in the C environment block with zero bytes.

    ``os.environ.pop`` unsets the variable, but ``/proc/<pid>/environ`` shows the block the
    process was started with, which still holds the text; zeroing it there leaves
    ``NAME=`` and zeros. Linux only (elsewhere the OS shows no such copy to others).
    """
    if not sys.platform.startswith("linux"):
        return
    libc = _libc()
    if libc is None:
        return
    try:
        env = ctypes.POINTER(ctypes.c_void_p).in_dll(libc, "environ")
    except ValueError:
        return
    prefix = name.encode() + b"="
    i = 0
    while env[i]:
        addr = env[i]
        text = ctypes.string_at(addr)
        if text.startswith(prefix):
            ctypes.memset(addr + len(prefix), 0, len(text) - len(prefix))
        i += 1


def _take(name: str) -> str | None:
    if name not in os.environ:
        return None
    _wipe_native_env(name)
    value = os.environ.pop(name)
    _taken[name] = value
    return value


def take_secret_env(names: Iterable[str] = SECRET_ENV) -> tuple[str, ...]:
    """Move each secret variable present from the environment into this module's memory."""
    return tuple(name for name in names if _take(name) is not None)


def secret_env(name: str) -> str | None:
    """A secret variable's value, taken out of the environment if it is still there.

    A value set in the environment after start (a test's ``monkeypatch.setenv``, a caller
    that sets it before calling the core in-process) wins over one taken earlier.
    """
    value = _take(name)
    return value if value is not None else _taken.get(name)


def forget_secret_env() -> None:
    """Drop every secret taken (tests: between tests, or to act as a fresh process)."""
    _taken.clear()


def harden_process() -> Hardening:
    """Everything above, first thing in the CLI's and the GUI's ``main``.

    Secrets taken stay in memory for the life of the process, as the environment would
    have kept them: the GUI that `index-wallet gui`/`demo` starts in the same process, or
    a second command run in-process, still finds them.
    """
    core_zero, not_dumpable = disable_core_dumps()
    taken = take_secret_env()
    result = Hardening(core_zero, not_dumpable, taken)
    log.debug("process hardened: %s", result)  # names only, never values
    return result


def child_env(extra: Iterable[str] = (), *, base: Mapping[str, str] | None = None,
              **values: str) -> dict[str, str]:
    """The environment for a child process: :data:`CHILD_ENV_KEEP`, the names in ``extra``
    (prefixes ending in ``*`` match, e.g. ``"QT_*"``) and ``values``; never a secret."""
    env = dict(os.environ if base is None else base)
    keep = set(CHILD_ENV_KEEP)
    prefixes = tuple(e[:-1] for e in extra if e.endswith("*"))
    keep |= {e for e in extra if not e.endswith("*")}
    out = {k: v for k, v in env.items()
           if (k in keep or (prefixes and k.startswith(prefixes))) and k not in _NEVER_PASS}
    for k, v in values.items():
        if k in _NEVER_PASS:
            raise ValueError(f"{k} is a secret and is never passed to a child process")
        out[k] = v
    return out
