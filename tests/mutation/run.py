"""Mutation-test one core module at a time with mutmut, in a scratch copy of the project.

    .venv/bin/pip install -e '.[mutation]'
    .venv/bin/python tests/mutation/run.py arguments          # one module
    .venv/bin/python tests/mutation/run.py --list             # the modules and their tests

Each run copies the package, the tests and pyproject.toml to a scratch folder, adds a
`[tool.mutmut]` table naming the one module and the fast tests that cover it, runs `mutmut run`
there and prints the counts and every surviving mutant. The working tree is never touched. By
hand only, like the benchmarks: see tests/mutation/README.md for the timings and last results.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOT_KILLED = ("survived", "no tests", "suspicious", "not checked")

# module -> (its file, the fast in-process tests that cover it)
MODULES: dict[str, tuple[str, list[str]]] = {
    "errors": ("gemma_mcp_cli/errors.py", ["tests/test_errors.py"]),
    "arguments": (
        "gemma_mcp_cli/arguments.py",
        ["tests/test_arguments.py", "tests/test_argument_rules.py", "tests/test_simple_schema.py"],
    ),
    "cache": (
        "gemma_mcp_cli/state/cache.py",
        ["tests/state/test_cache.py", "tests/state/test_cache_rules.py"],
    ),
    "stats": (
        "gemma_mcp_cli/state/stats.py",
        ["tests/state/test_stats.py", "tests/state/test_stats_rules.py"],
    ),
    "retry": ("gemma_mcp_cli/client/retry.py", ["tests/client/test_retry.py"]),
    "redaction": ("gemma_mcp_cli/config/redaction.py", ["tests/config/test_redaction.py"]),
    "simple-schema": ("gemma_mcp_cli/_simple_schema.py", ["tests/test_simple_schema.py"]),
    "session-client": ("gemma_mcp_cli/sessions/client.py", ["tests/sessions/test_session_client.py"]),
}


def scratch_copy(module: str, folder: Path) -> None:
    """Copy what mutmut needs, with a [tool.mutmut] table for this one module."""
    source, tests = MODULES[module]
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", ".npm", "*.pyc")
    shutil.copytree(REPO / "gemma_mcp_cli", folder / "gemma_mcp_cli", ignore=ignore)
    shutil.copytree(REPO / "tests", folder / "tests", ignore=ignore)
    table = {
        "source_paths": ["gemma_mcp_cli"],
        "only_mutate": [source],
        "pytest_add_cli_args_test_selection": tests,
        # One process: mutmut runs pytest in its own workers, so the suite's `-n 4` is turned off.
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", "-n", "0"],
        "use_git_change_detection": False,
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    text = (REPO / "pyproject.toml").read_text() + "\n[tool.mutmut]\n" + "\n".join(lines) + "\n"
    (folder / "pyproject.toml").write_text(text)


def results(folder: Path, mutmut: str) -> dict[str, str]:
    """Return each mutant's status, as `mutmut results --all true` prints it."""
    done = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=folder, capture_output=True, text=True, check=False
    )
    found = {}
    for line in done.stdout.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            found[name] = status
    return found


def run(module: str, root: Path) -> int:
    folder = root / module
    scratch_copy(module, folder)
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    began = time.monotonic()
    # Only in-process tests see a mutant: a `python -m gemma_mcp_cli` child imports the checkout.
    done = subprocess.run([mutmut, "run"], cwd=folder, check=False, stdout=subprocess.DEVNULL)
    minutes = (time.monotonic() - began) / 60
    statuses = results(folder, mutmut)
    counts: dict[str, int] = {}
    for status in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    # A mutant no selected test reaches survives as surely as one the tests miss.
    survived = sorted(name for name, status in statuses.items() if status in NOT_KILLED)
    total = len(statuses)
    rate = 100 * len(survived) / total if total else 0.0
    print(f"\n{module}: {total} mutants, {counts} -> {rate:.1f} % not killed, {minutes:.1f} min")
    for name in survived:
        print(f"  survived: {name}   (mutmut show {name}, in {folder})")
    return done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "modules", nargs="*", choices=[*MODULES, []], help="which modules (one per run is best)"
    )
    parser.add_argument("--list", action="store_true", help="print the modules and their tests")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/gemma-mcp-mutation"), help="where to copy")
    args = parser.parse_args()
    if args.list or not args.modules:
        for name, (source, tests) in MODULES.items():
            print(f"{name:15} {source:40} {' '.join(tests)}")
        return 0
    return max(run(module, args.scratch) for module in args.modules)


if __name__ == "__main__":
    sys.exit(main())
