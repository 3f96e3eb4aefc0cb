"""CI's own rules: a skipped test fails the run when COTOUR_FAIL_ON_SKIP is set (.ci/run)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(tmp_path, **env):
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    (tmp_path / "test_parts.py").write_text(
        "import pytest\n\ndef test_here():\n    pass\n\n"
        "@pytest.mark.skip(reason='a part is missing')\ndef test_missing_part():\n    pass\n")
    environment = {k: v for k, v in os.environ.items() if k != "COTOUR_FAIL_ON_SKIP"}
    environment["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           str(tmp_path)], capture_output=True, text=True, cwd=tmp_path,
                          env={**environment, **env})


def test_a_skip_fails_the_run_in_ci(tmp_path):
    done = run_pytest(tmp_path, COTOUR_FAIL_ON_SKIP="1")
    assert 1 == done.returncode, done.stdout
    assert "FAILED: 1 test(s) skipped, and COTOUR_FAIL_ON_SKIP is set: test_parts.py::test_missing_part" \
        in done.stdout


def test_outside_ci_a_skip_is_reported(tmp_path):
    done = run_pytest(tmp_path)
    assert 0 == done.returncode, done.stdout
    assert "SKIPPED [1] test_parts.py:6: a part is missing" in done.stdout


def test_ci_and_make_say_so():
    assert "COTOUR_FAIL_ON_SKIP=1 make test" in (ROOT / ".ci" / "run").read_text()
    assert "pytest -q -rs" in (ROOT / "Makefile").read_text()
