"""`make lint` is pre-commit's hooks over every file (.pre-commit-config.yaml, their one definition);
`make test` runs ruff (lint and format) and mypy --strict on the project's code too."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PRE_COMMIT = ROOT / ".pre-commit-config.yaml"


@pytest.mark.slow  # ruff and mypy over the project
@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "mypy")],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_code_is_lint_clean(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_make_lint_runs_the_pre_commit_hooks_over_every_file() -> None:
    [recipe] = re.findall(r"^lint:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.MULTILINE)
    # Nothing beside it: the hooks are the checks' one definition.
    assert recipe == "\t$(VENV)/bin/pre-commit run --all-files --show-diff-on-failure\n"


def test_pre_commit_hooks_are_local_and_run_the_projects_own_pinned_tools() -> None:
    config = yaml.safe_load(PRE_COMMIT.read_text())
    # Hooks from GitHub repositories would be fetched at first run: these machines reach no GitHub.
    assert {repo["repo"] for repo in config["repos"]} == {"local", "meta"}
    hooks = [hook for repo in config["repos"] if repo["repo"] == "local" for hook in repo["hooks"]]
    assert [hook["id"] for hook in hooks] == ["ruff", "ruff-format", "mypy", "actionlint", "detect-secrets",
                                              "snapshots", "locks"]  # fmt: skip
    for hook in hooks:
        assert hook["language"] == "system", hook["id"]
        assert hook["entry"].startswith((".venv/bin/", "node_modules/.bin/")), hook["id"]
    assert (ROOT / ".secrets.baseline").is_file()
