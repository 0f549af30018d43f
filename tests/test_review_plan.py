"""The plan-based review (make review): prod is applied to the emulated AWS once, then three changes
are planned over that state. The emulator tier: `make e2e` runs it (it takes minutes), `make test`
does not.

- a construct-ID rename of the database destroys it: the review fails;
- ECR encryption KMS -> AES256 reads as an in-place change in the JSON, but the provider replaces
  the repositories (and their images): the review fails, naming the attribute;
- a tag change updates resources in place: the review passes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.review import REVIEW_PROVIDER, Destruction, plan_review, render_plan

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parent.parent
STACK = "netflux-prod"
SOURCES = ("main.py", "provider_import.py", "config", "modules", "stacks", "environments", "examples", "cdktf.json")


def synth_prod(tree: Path, outdir: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            "main.py",
            "--env",
            "prod",
            "--backend",
            "local",
            "--aws-provider",
            REVIEW_PROVIDER,
            "--outdir",
            str(outdir),
        ],
        cwd=tree,
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads((outdir / "stacks" / STACK / "cdk.tf.json").read_text())
    return document


def changed_tree(tmp: Path, name: str, path: str, old: str, new: str) -> Path:
    """A copy of the working tree's sources with one edit."""
    tree = tmp / name
    for source in SOURCES:
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, tree / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            tree.mkdir(parents=True, exist_ok=True)
            shutil.copy(origin, tree / source)
    target = tree / path
    text = target.read_text()
    assert text.count(old) == 1, f"{path} no longer holds {old!r} exactly once"
    target.write_text(text.replace(old, new))
    return tree


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Destruction]]:
    tmp = tmp_path_factory.mktemp("review-plan")
    base = synth_prod(ROOT, tmp / "base.out")
    variants = {
        "rename": changed_tree(tmp, "rename", "stacks/data.py", '"database",', '"primary-database",'),
        "ecr": changed_tree(
            tmp, "ecr", "environments/prod.toml", 'created).\nencryption = "KMS"', 'created).\nencryption = "AES256"'
        ),
        "tag": changed_tree(
            tmp, "tag", "environments/prod.toml", 'owner = "platform-team"', 'owner = "data-platform-team"'
        ),
    }
    documents = {name: synth_prod(tree, tmp / f"{name}.out") for name, tree in variants.items()}
    return plan_review({STACK: (base, documents)}, tmp / "scratch")[STACK]


def test_a_renamed_database_construct_is_destroyed_and_fails_the_review(verdicts: dict[str, list[Destruction]]) -> None:
    found = {d.address: d for d in verdicts["rename"] if d.stateful}
    [database] = [d for a, d in found.items() if a.startswith("aws_db_instance.database_instance_")]
    assert not database.replaced  # its new logical id is a different resource: the old one is destroyed
    report, flagged = render_plan({STACK: verdicts["rename"]}, allowed=set(), allow_all=False)
    assert flagged >= 1
    assert "!! netflux-prod: destroyed aws_db_instance.database_instance_" in report


def test_ecr_encryption_kms_to_aes256_replaces_the_repositories_and_fails_the_review(
    verdicts: dict[str, list[Destruction]],
) -> None:
    repositories = [d for d in verdicts["ecr"] if d.address.startswith("aws_ecr_repository.")]
    assert len(repositories) == 2, verdicts["ecr"]
    for repository in repositories:
        assert repository.replaced
        assert any(path.startswith("encryption_configuration") for path in repository.forced_by), repository
    report, flagged = render_plan({STACK: verdicts["ecr"]}, allowed=set(), allow_all=False)
    assert flagged >= 2
    assert "forced by encryption_configuration" in report


def test_a_tag_change_destroys_nothing_and_passes(verdicts: dict[str, list[Destruction]]) -> None:
    assert [d for d in verdicts["tag"] if d.stateful] == []
    assert render_plan({STACK: verdicts["tag"]}, allowed=set(), allow_all=False)[1] == 0
