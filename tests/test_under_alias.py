"""Runs the test files of tests/under_alias/ each in a pytest of its own, under
``-p quaver.as_quart``: they use Quart's extensions, which import ``quart``,
and the alias is for a whole process (this one keeps the real Quart's names
apart for tests/test_public_names.py and QUAVER_ variables for the CLI's tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

UNDER_ALIAS = Path(__file__).resolve().parent / "under_alias"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("test_file", sorted(path.name for path in UNDER_ALIAS.glob("test_*.py")))
def test_file_passes_under_the_quart_alias(test_file: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "quaver.as_quart",
         "-c", str(UNDER_ALIAS / "pytest.ini"), str(UNDER_ALIAS / test_file)],
        capture_output=True,
        text=True,
        timeout=590,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
