"""Under CI=true no test may skip: the conftest hook turns every skip into a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = '''
import pytest

def test_skips_inside():
    pytest.skip("no data here")

@pytest.mark.skipif(True, reason="not on this machine")
def test_skipped_by_marker():
    pass

def test_passes():
    pass
'''


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path / "test_sample.py")],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, check=False)


def test_skips_fail_under_ci_and_stay_skips_otherwise(tmp_path: Path) -> None:
    ci = _run(tmp_path, "true")
    assert ci.returncode == 1, ci.stdout
    assert "allows no skip: Skipped: no data here" in ci.stdout
    assert "allows no skip: Skipped: not on this machine" in ci.stdout
    assert "1 passed" in ci.stdout
    local = _run(tmp_path, None)
    assert local.returncode == 0, local.stdout
    assert "1 passed, 2 skipped" in local.stdout
