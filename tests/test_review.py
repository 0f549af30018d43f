"""make review: per-stack changes between a git ref and the working tree; stateful removals fail it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.review import STATEFUL_TYPES, diff_documents, render

ROOT = Path(__file__).resolve().parent.parent


def document(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resources}


BEFORE = document(
    aws_db_instance={"database_instance_1": {"//": {"metadata": {}}, "instance_class": "db.t4g.micro"}},
    aws_security_group={"app_1": {"name": "app", "tags": {"a": "1"}}},
    aws_route={"r_1": {"cidr": "0.0.0.0/0"}},
)


def test_reports_added_removed_and_changed_paths() -> None:
    after = document(
        aws_db_instance={"database_instance_1": {"//": {"metadata": {"x": 1}}, "instance_class": "db.m7g.large"}},
        aws_security_group={"app_1": {"name": "app", "tags": {"a": "2", "b": "3"}}},
        aws_subnet={"s_1": {}},
    )
    diff = diff_documents("s", BEFORE, after)
    assert diff.added == ["aws_subnet.s_1"]
    assert diff.removed == ["aws_route.r_1"]
    # cdktf's "//" metadata is not a change.
    assert diff.changed == {
        "aws_db_instance.database_instance_1": ["instance_class"],
        "aws_security_group.app_1": ["tags.a", "tags.b"],
    }
    assert diff.stateful_removals == []


def test_a_renamed_database_is_a_flagged_stateful_removal() -> None:
    after = document(
        aws_db_instance={"db_instance_2": {"instance_class": "db.t4g.micro"}},
        aws_security_group=BEFORE["resource"]["aws_security_group"],
        aws_route=BEFORE["resource"]["aws_route"],
    )
    diff = diff_documents("netflux-prod", BEFORE, after)
    assert diff.stateful_removals == ["aws_db_instance.database_instance_1"]
    report, flagged = render([diff], allowed=set(), allow_all=False)
    assert flagged == 1
    assert "- aws_db_instance.database_instance_1   !! STATEFUL" in report
    assert render([diff], allowed={"aws_db_instance.database_instance_1"}, allow_all=False)[1] == 0
    assert render([diff], allowed=set(), allow_all=True)[1] == 0


def test_identical_documents_have_no_changes() -> None:
    report, flagged = render([diff_documents("s", BEFORE, BEFORE)], allowed=set(), allow_all=False)
    assert (report, flagged) == ("s: no changes", 0)


def test_stateful_types_cover_the_platforms_data() -> None:
    for resource_type in (
        "aws_db_instance",
        "aws_elasticache_replication_group",
        "aws_s3_bucket",
        "aws_ecr_repository",
        "aws_cloudwatch_log_group",
        "aws_secretsmanager_secret",
        "aws_kms_key",
    ):
        assert resource_type in STATEFUL_TYPES


# --- the real command, in a clean clone of HEAD ----------------------------------------------------


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clone") / "repo"
    subprocess.run(["git", "clone", "--quiet", "--shared", str(ROOT), str(path)], check=True)
    return path


def review(clone: Path) -> subprocess.CompletedProcess[str]:
    """The JSON-diff review (the plan-based one is the emulator tier: tests/test_review_plan.py)."""
    return subprocess.run(
        [sys.executable, "-m", "tools.review", "HEAD", "--json-only"],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow  # make review in a clone: two subprocess synths
def test_renaming_the_database_construct_fails_the_review(clone: Path) -> None:
    wiring = clone / "stacks" / "data.py"
    original = wiring.read_text()
    assert original.count('"database",') == 1, "the test edits the Database construct id in stacks/data.py"
    wiring.write_text(original.replace('"database",', '"primary-database",'))
    try:
        result = review(clone)
    finally:
        wiring.write_text(original)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "- aws_db_instance.database_instance_" in result.stdout
    assert "!! STATEFUL" in result.stdout
    # Every stack with a database flags it; only the logical ids under the renamed construct move.
    for stack in ("netflux-dev", "netflux-staging", "netflux-prod", "netflux-beanstalk"):
        assert f"{stack}:" in result.stdout
    moved = [line for line in result.stdout.splitlines() if line.startswith(("  + ", "  - "))]
    assert all("database" in line for line in moved), moved
