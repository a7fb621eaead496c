"""The official MCP conformance suite's OAuth client scenarios, driven through gemma-mcp as a user would.

The pinned suite is installed once into a git-ignored folder; without node, npm or the network the
test is skipped. tests/conformance/gemma_client.sh writes the [auth] each scenario needs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import npm_install_once

CONFORMANCE_VERSION = "0.1.16"
HERE = Path(__file__).resolve().parents[1]
SUITE_DIR = HERE / ".npm-conformance"
SUITE_JS = SUITE_DIR / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
# 0.1.14 and later import fs.globSync (Node 22); the shim supplies it on Node 20 for the suite alone.
SHIM = HERE / "conformance" / "node20-shim" / "register.mjs"
DRIVER = HERE / "conformance" / "gemma_client.sh"
SCENARIOS = [
    "auth/pre-registration",
    "auth/client-credentials-jwt",
    "auth/scope-step-up",
    "auth/scope-retry-limit",
    "auth/resource-mismatch",
    "auth/cross-app-access-complete-flow",
]
REFUSING = {"auth/scope-retry-limit", "auth/resource-mismatch"}  # the suite wants the client to fail


@pytest.fixture(scope="module")
def suite() -> Path:
    """Install the pinned suite once, or skip when it cannot be had here."""
    npm, node, bash = shutil.which("npm"), shutil.which("node"), shutil.which("bash")
    if npm is None or node is None or bash is None:
        pytest.skip("the conformance suite needs node, npm and bash")
    try:
        npm_install_once(SUITE_DIR, f"@modelcontextprotocol/conformance@{CONFORMANCE_VERSION}")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot install the conformance suite (offline?): {exc}")
    return SUITE_JS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conformance_auth_scenario(suite: Path, scenario: str, tmp_path: Path) -> None:
    gemma = Path(sys.executable).with_name("gemma-mcp")
    env = os.environ | {
        "GEMMA_MCP_BIN": str(gemma),
        "GEMMA_MCP_PY": sys.executable,
        "FAKE_BROWSER": str(HERE / "servers" / "fake_browser.py"),
        "TMPDIR": str(tmp_path),
    }
    command = [
        "node",
        "--import",
        str(SHIM),
        str(suite),
        "client",
        "--command",
        f"bash {DRIVER}",
        "--scenario",
        scenario,
        "--timeout",
        "60000",
        "-o",
        str(tmp_path / "results"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
    log = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    assert done.returncode == 0, log[-4000:]
    checks = json.loads(next((tmp_path / "results").rglob("checks.json")).read_text())
    assert checks and all(check["status"] in ("SUCCESS", "INFO") for check in checks), checks
    client = next((tmp_path / "results").rglob("stderr.txt")).read_text()
    exits = re.findall(r"\[gemma-mcp exit (\d+)\]", client)
    assert exits and exits[-1] == ("9" if scenario in REFUSING else "0"), client
    assert "Traceback" not in client and "internal error" not in client
