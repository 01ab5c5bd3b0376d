"""Run Quart extensions' own test suites on Quaver, through ``pytest -p quaver.as_quart``.

    .venv/bin/python scripts/extension_suites.py                  # every extension, a row each
    .venv/bin/python scripts/extension_suites.py quart-cors -x    # one, with pytest arguments

Each suite comes from the extension's sdist on PyPI, of the version installed
here (the ``extensions`` extra pins them); nothing of it is kept in the
project. quart-rate-limiter's suite runs three times: on its memory store and
on its Redis and Valkey stores against the Redis server of ``TEST_REDIS_URL``
(``bash scripts/redis.sh`` starts one), flushed before each run.

Prints a row per run and ``N passed, M failed`` last; exits 1 if anything failed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

EXTENSIONS = ("quart-schema", "quart-auth", "quart-cors", "quart-rate-limiter")
CACHE = Path(os.environ.get("QUAVER_SDIST_CACHE", Path(tempfile.gettempdir()) / "quaver-extension-sdists"))
PYTEST_INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


@dataclass
class Run:
    name: str
    passed: int
    failed: int
    output: str


def sdist_tests(package: str) -> Path:
    """The unpacked sdist of the installed version of ``package`` (its tests/ inside)."""
    wanted = version(package)
    target = CACHE / f"{package}-{wanted}"
    if (target / "tests").is_dir():
        return target
    download = CACHE / "downloads"
    download.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps",
         "-d", str(download), f"{package}=={wanted}"],
        check=True,
        capture_output=True,
    )
    stem = package.replace("-", "_")
    archive = next(download.glob(f"{stem}-{wanted}.tar.gz"))
    unpack = CACHE / "unpack"
    with tarfile.open(archive) as tar:
        tar.extractall(unpack, filter="data")
    (unpack / f"{stem}-{wanted}").rename(target)
    (target / "pytest.ini").write_text(PYTEST_INI)
    return target


def run_suite(name: str, source: Path, extra: list[str]) -> Run:
    pytest = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "-p", "quaver.as_quart"]
    result = subprocess.run(
        [*pytest, "tests", *extra],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    counts = {kind: 0 for kind in ("passed", "failed", "error", "errors")}
    last = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed|errors?)", line)]
    if last:
        for number, kind in re.findall(r"(\d+) (passed|failed|errors?)", last[-1]):
            counts[kind] += int(number)
    failed = counts["failed"] + counts["error"] + counts["errors"]
    if result.returncode not in (0, 1) and failed == 0:
        failed = 1  # the run itself broke (collection, plugin): count it
    return Run(name, counts["passed"], failed, output)


def flush_redis(url: str) -> None:
    """Empty the database of ``url`` (the suites' keys), leaving the server's others alone."""
    parts = urlsplit(url)
    database = parts.path.strip("/") or "0"
    subprocess.run(
        ["redis-cli", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 6379), "-n", database, "flushdb"],
        check=True,
        capture_output=True,
    )


def runs(packages: list[str], extra: list[str]) -> list[Run]:
    done = []
    for package in packages:
        source = sdist_tests(package)
        if package != "quart-rate-limiter":
            done.append(run_suite(package, source, extra))
            continue
        done.append(run_suite(f"{package} (memory store)", source, extra))
        redis_url = os.environ.get("TEST_REDIS_URL")
        if not redis_url:
            raise SystemExit("set TEST_REDIS_URL (bash scripts/redis.sh) for quart-rate-limiter's Redis runs")
        host = urlsplit(redis_url).netloc
        for option, label in (("--redis-host", "Redis store"), ("--valkey-host", "Valkey store")):
            flush_redis(redis_url)
            done.append(run_suite(f"{package} ({label})", source, [option, host, *extra]))
    return done


def main(argv: list[str]) -> int:
    packages = [arg for arg in argv if arg in EXTENSIONS] or list(EXTENSIONS)
    extra = [arg for arg in argv if arg not in EXTENSIONS]
    results = runs(packages, extra)
    for run in results:
        for line in run.output.splitlines():
            if line.startswith(("FAILED ", "ERROR ")):
                print(f"{run.name}: {line[:200]}")
    print()
    print(f"{'suite':44} {'passed':>7} {'failed':>7}")
    for run in results:
        print(f"{run.name:44} {run.passed:7d} {run.failed:7d}")
    passed = sum(run.passed for run in results)
    failed = sum(run.failed for run in results)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
