"""``index-wallet doctor``: everything the app needs at run time, and how to fix what is not.

Each check returns a :class:`Check` with a status (``ok``, ``warn``: the app runs but a
part of it will not, ``fail``: the configured use cannot work), what was found, and a
fix a person can type. The checks only look: nothing is created, unlocked or started,
and the keyring is asked about its state without a password prompt. The network check
sends one ``eth_chainId`` request to the configured RPC (``--offline`` skips it).

The checks, in order: Python, the app's data files (package data), the data folders,
the OS keyring, anvil (the embedded devnet), the desktop app's Qt and its platform
plugin, and the configured RPC.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.util import find_spec
from pathlib import Path

from . import __version__
from .config import Settings, load_settings
from .errors import WalletError
from .hardening import child_env
from .paths import APP_NAME, AppPaths, app_paths
from .resources import ASSET_FOLDERS, app_icon_path, asset_dir

OK, WARN, FAIL = "ok", "warn", "fail"
SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))
#: Debian/Ubuntu packages that provide what Qt's xcb platform plugin links against.
#: What the Qt probe's child needs beyond the minimal environment: the display, the
#: session bus, Qt's own settings and the library path.
QT_CHILD_ENV = ("DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "XAUTHORITY",
                "DBUS_SESSION_BUS_ADDRESS", "LD_LIBRARY_PATH", "QT_*", "XDG_*", "FONTCONFIG_*")
QT_XCB_PACKAGES = ("libxcb-cursor0", "libxkbcommon-x11-0", "libxcb-icccm4", "libxcb-keysyms1",
                   "libxcb-shape0", "libegl1", "libfontconfig1", "libdbus-1-3")
REINSTALL = (f"reinstall the app (`pipx reinstall {APP_NAME}`, or `pip install "
             f"--force-reinstall {APP_NAME}`); in a checkout, `git status assets/`")


@dataclass(frozen=True)
class Check:
    """One run-time need: is it there, what was seen, and how to fix it."""

    name: str
    status: str
    detail: str
    fix: str = ""


def check_python() -> Check:
    v = sys.version_info[:2]
    detail = (f"Python {platform.python_version()} ({sys.executable}), "
              f"{APP_NAME} {__version__}")
    if v in SUPPORTED_PYTHONS:
        return Check("python", OK, detail)
    return Check("python", WARN, detail + "; not a tested version",
                 "use Python 3.11, 3.12 or 3.13")


def _artifact_names() -> list[str]:
    from .devnet.artifacts import NPM_CONTRACTS, PROJECT_CONTRACTS

    return sorted([*PROJECT_CONTRACTS, *NPM_CONTRACTS])


def check_data_files() -> Check:
    """The package data: snapshot, deny list, contract artifacts, style sheets, icon."""
    from .market.snapshot import app_snapshot_path

    missing: list[str] = []
    for folder in ASSET_FOLDERS:
        if not asset_dir(folder).is_dir():
            missing.append(f"{folder}/")
    snapshot = "none"
    if "market/" not in missing:
        try:
            snapshot = app_snapshot_path().name
        except WalletError:
            missing.append("market/snapshot-*.json")
    wanted = [asset_dir("index") / "exclusions.json", app_icon_path(),
              *(asset_dir("ui") / f"{n}.qss" for n in ("light", "dark", "screens")),
              *(asset_dir("contracts") / f"{n}.json" for n in _artifact_names())]
    missing += [str(p.relative_to(p.parents[1])) for p in wanted
                if not p.is_file() and f"{p.parent.name}/" not in missing]
    where = asset_dir("market").parent
    if missing:
        shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6
                                          else "")
        return Check("data files", FAIL, f"missing in {where}: {shown}", REINSTALL)
    return Check("data files", OK, f"{where} (snapshot {snapshot}, deny list, "
                 f"{len(_artifact_names())} contract artifacts, style sheets, icon)")


def _folder_state(path: Path) -> tuple[str, str]:
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            return FAIL, f"{path} is not writable"
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            return WARN, f"{path} is readable by others (mode {mode:o})"
        return OK, str(path)
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is None or not os.access(parent, os.W_OK | os.X_OK):
        return FAIL, f"{path} does not exist and {parent} is not writable"
    return OK, f"{path} (created on first use)"


def check_folders(paths: AppPaths) -> Check:
    """Data, config and log folders: writable, private to the user."""
    states = [(_folder_state(p), label) for label, p in
              (("data", paths.data_dir), ("config", paths.config_dir), ("logs", paths.log_dir))]
    worst = FAIL if any(s == FAIL for (s, _), _l in states) else (
        WARN if any(s == WARN for (s, _), _l in states) else OK)
    detail = "; ".join(f"{label} {text}" for (_s, text), label in states)
    via = " (G100_HOME)" if os.environ.get("G100_HOME") else ""
    fix = {OK: "",
           WARN: "chmod 700 the folder(s) named above: they hold your wallet list and journal",
           FAIL: "make the folders writable by you, or point G100_HOME at a folder you own"}
    return Check("data folders", worst, detail + via, fix[worst])


def _secret_service_locked() -> bool | None:
    """Whether the Secret Service's default collection is locked (None: cannot tell).

    Asked through ``secretstorage`` directly because keyring's own path to the collection
    tries to unlock it, which would pop up a password prompt.
    """
    try:
        import secretstorage

        conn = secretstorage.dbus_init()
        try:
            return bool(secretstorage.get_default_collection(conn).is_locked())
        finally:
            conn.close()
    except Exception:  # no bus, no collection yet, an older secretstorage
        return None


def check_keyring(paths: AppPaths, settings: Settings) -> Check:
    """The OS keyring the wallet keeps its encrypted keys in."""
    try:
        import keyring
    except ImportError:
        return Check("keyring", FAIL, "the keyring package is not installed", REINSTALL)
    from .keys.storage import backend_name, is_usable, unavailable_message

    backend = keyring.get_keyring()
    name = backend_name(backend)
    if not is_usable(backend):
        if settings.allow_file_keystore:
            return Check("keyring", WARN, f"no usable OS keyring ({name}); the opt-in "
                         "encrypted-file fallback is on",
                         "install and unlock an OS keyring to keep keys out of files")
        return Check("keyring", FAIL, f"no usable OS keyring (backend {name})",
                     unavailable_message(backend, paths.settings_file, paths.data_dir)
                     .split(" To fix: ", 1)[-1].removesuffix(" Nothing was saved."))
    detail = f"{name} (priority {backend.priority})"
    if "SecretService" in name:
        locked = _secret_service_locked()
        if locked is None:
            detail += ", state of the default collection unknown"
        elif locked:
            return Check("keyring", WARN, detail + ", default collection locked",
                         "unlock your login keyring (Passwords and Keys / seahorse); "
                         "otherwise the desktop asks for its password on first use")
        else:
            detail += ", default collection unlocked"
    return Check("keyring", OK, detail)


def check_anvil(settings: Settings) -> Check:
    """The Foundry node the embedded devnet runs on."""
    from .toolchain import find_tool, install_hint

    needed = settings.network == "devnet"
    try:
        anvil = find_tool("anvil")
    except WalletError as exc:
        status = FAIL if needed else WARN
        why = "" if needed else " (only the devnet needs it; your network is " \
              f"{settings.network})"
        return Check("anvil", status, str(exc).split(". ")[0] + why, install_hint("anvil"))
    try:
        out = subprocess.run([str(anvil), "--version"], capture_output=True, text=True,
                             timeout=15, check=False, env=child_env())
        version = (out.stdout.strip().splitlines() or ["?"])[0]
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("anvil", FAIL, f"{anvil} does not run ({type(exc).__name__})",
                     install_hint("anvil"))
    return Check("anvil", OK, f"{anvil} ({version})")


def _qt_plugin_dir() -> Path | None:
    spec = find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms"


def _missing_libraries(plugin: Path) -> list[str]:
    """Shared libraries a Qt platform plugin links against that the system lacks (ldd)."""
    try:
        out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True,
                             timeout=15, check=False,
                             env=child_env(["LD_LIBRARY_PATH"])).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted({m.group(1) for m in re.finditer(r"^\s*(\S+) => not found", out, re.M)})


def _platform_wanted(env: dict[str, str]) -> str | None:
    if env.get("QT_QPA_PLATFORM"):
        return env["QT_QPA_PLATFORM"].split(":")[0]
    if env.get("WAYLAND_DISPLAY"):
        return "wayland"
    if env.get("DISPLAY"):
        return "xcb"
    return None


def _start_qt(platform_name: str, timeout: float) -> tuple[bool, str]:
    """Start a QGuiApplication on ``platform_name`` in a child process (Qt aborts the
    process when a plugin cannot load, so it never runs in this one)."""
    code = ("import sys\nfrom PySide6.QtGui import QGuiApplication\n"
            "app = QGuiApplication(sys.argv[:1])\nprint(app.platformName())\n")
    env = child_env(QT_CHILD_ENV, QT_QPA_PLATFORM=platform_name)
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=timeout, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, type(exc).__name__
    if out.returncode == 0:
        return True, out.stdout.strip()
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    reason = next((ln for ln in lines if "platform plugin" in ln), lines[0] if lines else "")
    return False, reason.strip()[:200]


def check_qt(timeout: float = 30.0) -> Check:
    """The desktop app: PySide6 and pyqtgraph installed, a platform plugin that loads."""
    missing = [m for m in ("PySide6", "pyqtgraph") if find_spec(m) is None]
    if missing:
        return Check("desktop app (Qt)", WARN, f"not installed ({', '.join(missing)} "
                     "missing); the command line works without it",
                     f"pipx install '{APP_NAME}[gui]' (or pip install the same)")
    plugin_dir = _qt_plugin_dir()
    xcb = plugin_dir / "libqxcb.so" if plugin_dir else None
    libs = _missing_libraries(xcb) if xcb is not None and xcb.is_file() else []
    wanted = _platform_wanted(dict(os.environ))
    if wanted is None:
        ok, seen = _start_qt("offscreen", timeout)
        fix = ("run it from a desktop session, or under a virtual display: "
               "`xvfb-run index-wallet-gui`")
        if libs:
            fix += f"; the xcb plugin also needs {', '.join(libs)}: sudo apt install " \
                   + " ".join(QT_XCB_PACKAGES)
        state = "Qt starts offscreen" if ok else f"even offscreen Qt fails: {seen}"
        return Check("desktop app (Qt)", WARN,
                     f"no display (DISPLAY and WAYLAND_DISPLAY unset); {state}", fix)
    ok, seen = _start_qt(wanted, timeout)
    if ok:
        return Check("desktop app (Qt)", OK, f"platform plugin '{seen}' loads")
    fix = f"sudo apt install {' '.join(QT_XCB_PACKAGES)}"
    if libs:
        fix = f"install the libraries the xcb plugin lacks ({', '.join(libs)}): " + fix
    return Check("desktop app (Qt)", FAIL, f"the '{wanted}' platform plugin does not load: "
                 f"{seen}", fix)


def check_rpc(paths: AppPaths, settings: Settings, timeout: float = 5.0) -> Check:
    """One ``eth_chainId`` request to the configured RPC, compared with the registry."""
    import httpx

    from .chain.registry import resolve_chain

    try:
        chain = resolve_chain(settings, paths)
    except WalletError as exc:
        return Check("rpc", FAIL, str(exc), f"fix network/rpc_url in {paths.settings_file}")
    where = f"{chain.name} at {chain.rpc_url}"
    if chain.is_devnet and not settings.rpc_url:
        from .devnet import process

        if process.status(paths) is None:
            return Check("rpc", WARN, f"{chain.name}: not running",
                         "index-wallet devnet up (or index-wallet demo)")
    try:
        resp = httpx.post(chain.rpc_url, timeout=timeout, json={
            "jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
        resp.raise_for_status()
        got = int(resp.json()["result"], 16)
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        return Check("rpc", FAIL, f"{where} is not reachable ({type(exc).__name__})",
                     f"check your connection, or set rpc_url in {paths.settings_file}")
    if got != chain.chain_id:
        return Check("rpc", FAIL, f"{where} answers chain id {got}, expected "
                     f"{chain.chain_id}", f"set rpc_url in {paths.settings_file} to a "
                     f"{chain.name} node")
    return Check("rpc", OK, f"{where} answers (chain id {got})")


def run_checks(*, offline: bool = False, qt_timeout: float = 30.0,
               rpc_timeout: float = 5.0) -> list[Check]:
    """Every check, in order; one that crashes is reported as failed, not raised."""
    paths = app_paths()
    try:
        settings = load_settings(paths)
        settings_check = Check("settings", OK, f"{paths.settings_file}"
                               + ("" if paths.settings_file.exists() else " (defaults)")
                               + f", network {settings.network}")
    except WalletError as exc:
        settings = Settings()
        settings_check = Check("settings", FAIL, str(exc), "fix or delete the file")
    checks: list[Callable[[], Check]] = [
        check_python, check_data_files, lambda: check_folders(paths), lambda: settings_check,
        lambda: check_keyring(paths, settings), lambda: check_anvil(settings),
        lambda: check_qt(qt_timeout),
    ]
    if not offline:
        checks.append(lambda: check_rpc(paths, settings, rpc_timeout))
    out = []
    for fn in checks:
        try:
            out.append(fn())
        except Exception as exc:  # a check's own bug must not hide the other checks
            out.append(Check(getattr(fn, "__name__", "check"), FAIL,
                             f"the check itself failed ({type(exc).__name__})",
                             "report this with the output of index-wallet doctor"))
    return out


def to_dict(checks: list[Check]) -> dict[str, object]:
    return {"ok": not any(c.status == FAIL for c in checks),
            "checks": [asdict(c) for c in checks]}


def to_text(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        lines.append(f"[{c.status:^4}] {c.name:<{width}}  {c.detail}")
        if c.fix:
            lines.append(f"       {'':<{width}}  fix: {c.fix}")
    fails = sum(c.status == FAIL for c in checks)
    warns = sum(c.status == WARN for c in checks)
    lines.append("")
    lines.append("All run-time needs are met." if not fails and not warns else
                 f"{fails} problem(s), {warns} warning(s).")
    return "\n".join(lines)
