"""Process hygiene (``wallet_app.hardening``): no core dumps in a started CLI process,
secret variables out of its environment (and out of ``/proc/<pid>/environ``), and children
started with a minimal environment. The devnet node's own environment is checked in
``tests/test_devnet_process.py`` (the node that `index-wallet devnet up` starts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wallet_app import hardening

SECRET = "orbit-Lantern-93-velvet-phrase"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc and prctl: Linux only")


def _proc_env(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


def test_a_started_cli_process_cannot_dump_core_and_dropped_the_secret(tmp_path: Path) -> None:
    """The real console command, blocked on its password prompt: its limits say core
    size 0 (soft and hard), its start-up environment no longer shows the secret's text."""
    exe = Path(sys.executable).with_name("index-wallet")
    env = {**os.environ, "G100_WALLET_MNEMONIC": SECRET}
    child = subprocess.Popen([str(exe), "wallet", "create", "hygiene", "--password-stdin"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
    try:
        assert SECRET.encode() in b"\0".join(f"{k}={v}".encode() for k, v in env.items())
        deadline = time.monotonic() + 60
        limits = ""
        while time.monotonic() < deadline:  # until main() has run harden_process()
            limits = Path(f"/proc/{child.pid}/limits").read_text()
            core = next(ln for ln in limits.splitlines() if ln.startswith("Max core file size"))
            if core.split()[4:6] == ["0", "0"] and SECRET.encode() not in _proc_env(child.pid):
                break
            time.sleep(0.05)
        assert core.split()[4:6] == ["0", "0"], limits
        assert SECRET.encode() not in _proc_env(child.pid)
        assert b"G100_WALLET_MNEMONIC=" in _proc_env(child.pid)  # the name, zeroed value
    finally:
        child.kill()
        child.wait(timeout=30)


def test_cli_main_sets_not_dumpable_and_core_limit(tmp_path: Path) -> None:
    """In a fresh interpreter, after the CLI's main() ran a command: PR_GET_DUMPABLE is 0,
    RLIMIT_CORE is (0, 0) and the secret variable is gone from os.environ. Before main()
    the same process was dumpable (so the check can fail)."""
    code = (
        "import ctypes, json, os, resource\n"
        "libc = ctypes.CDLL(None)\n"
        "before = libc.prctl(3, 0, 0, 0, 0)\n"
        "from wallet_app.cli.main import main\n"
        "rc = main(['index', 'schedule', '--json'])\n"
        "print(json.dumps({'rc': rc, 'before': before, 'after': libc.prctl(3, 0, 0, 0, 0),"
        " 'core': resource.getrlimit(resource.RLIMIT_CORE),"
        " 'secret_in_env': 'G100_WALLET_PASSWORD' in os.environ,"
        " 'proc': open('/proc/self/environ', 'rb').read().count(b'velvet-phrase')}))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "G100_WALLET_PASSWORD": SECRET}, check=False)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out == {"rc": 0, "before": 1, "after": 0, "core": [0, 0], "secret_in_env": False,
                   "proc": 0}


def test_secret_env_takes_the_variable_once_and_keeps_it_in_memory(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("G100_EXPORT_PASSWORD", SECRET)
    assert hardening.take_secret_env() == ("G100_EXPORT_PASSWORD",)
    assert "G100_EXPORT_PASSWORD" not in os.environ
    assert hardening.secret_env("G100_EXPORT_PASSWORD") == SECRET
    monkeypatch.setenv("G100_EXPORT_PASSWORD", "a newer one")  # set later: it wins
    assert hardening.secret_env("G100_EXPORT_PASSWORD") == "a newer one"
    hardening.forget_secret_env()
    assert hardening.secret_env("G100_EXPORT_PASSWORD") is None


def test_every_secret_variable_the_code_reads_is_listed() -> None:
    """Each G100_*PASSWORD/MNEMONIC/PASSPHRASE/PRIVATE_KEY and *_API_KEY name that appears
    in the core is in SECRET_ENV, so a new one cannot be added without being scrubbed."""
    import re

    root = Path(hardening.__file__).parent
    names = set()
    for path in root.rglob("*.py"):
        names |= set(re.findall(r"\b((?:G100_\w*(?:PASSWORD|MNEMONIC|PASSPHRASE|PRIVATE_KEY)"
                                r")|\w+_API_KEY)\b", path.read_text()))
    assert names and names <= set(hardening.SECRET_ENV), names - set(hardening.SECRET_ENV)


def test_child_env_is_minimal_and_never_passes_a_secret() -> None:
    base = {"PATH": "/usr/bin", "HOME": "/root", "LANG": "C.UTF-8", "DISPLAY": ":1",
            "QT_SCALE_FACTOR": "2", "G100_WALLET_PASSWORD": SECRET, "AWS_SECRET": "x",
            "G100_HOME": "/tmp/h"}
    assert hardening.child_env(base=base) == {"PATH": "/usr/bin", "HOME": "/root",
                                              "LANG": "C.UTF-8"}
    env = hardening.child_env(["DISPLAY", "QT_*", "G100_WALLET_PASSWORD"], base=base,
                              QT_QPA_PLATFORM="offscreen")
    assert env == {"PATH": "/usr/bin", "HOME": "/root", "LANG": "C.UTF-8", "DISPLAY": ":1",
                   "QT_SCALE_FACTOR": "2", "QT_QPA_PLATFORM": "offscreen"}
    with pytest.raises(ValueError, match="secret"):
        hardening.child_env(base=base, G100_WALLET_PASSWORD=SECRET)
