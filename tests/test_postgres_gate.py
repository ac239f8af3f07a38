"""Without a PostgreSQL server: `./dev test` skips the PostgreSQL half and says so in one line,
while `./dev postgres` (which .ci/run calls before the tests) fails with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOWHERE = "postgresql://postgres@127.0.0.1:9/test"  # port 9 (discard): nothing answers


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TEST_DATABASE_URL": NOWHERE}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_the_tests_skip_the_postgresql_half_in_one_line_when_no_server_answers() -> None:
    done = _run([
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "tests/test_storage_contract.py", "-k", "renewal_claim",
    ])
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("skipped the PostgreSQL half")]
    assert lines == [f"skipped the PostgreSQL half: 1 tests (PostgreSQL unreachable at {NOWHERE};"
                     " start a server or set TEST_DATABASE_URL, see ./dev postgres)"]


def test_the_ci_gate_fails_naming_the_server_when_none_answers() -> None:
    done = _run([str(ROOT / "dev"), "postgres"])
    assert done.returncode == 1
    assert f"cannot use PostgreSQL at {NOWHERE}" in done.stderr and "Traceback" not in done.stderr
    assert "./dev postgres" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
