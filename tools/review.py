"""`make review BASE=<git ref>`: what a change does to each stack, and whether it loses state.

Synthesizes BASE (in a temporary git worktree) and the working tree, both with local backends,
then prints per stack the resources added, removed and changed (with the attribute paths that
changed). A removed stateful resource (database, cache, bucket, repository, log group, secret, KMS
key...) is flagged: a construct-ID rename shows up as exactly that, because Terraform would destroy
the old logical ID and create the new one. Exit status 1 when anything is flagged, unless every
flagged address is allowed (``--allow TYPE.LOGICAL_ID`` or ``--allow-all-stateful``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Resource types whose destruction loses data or identity that cannot be recreated.
STATEFUL_TYPES = frozenset(
    {
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        "aws_elasticache_replication_group",
        "aws_elasticache_cluster",
        "aws_s3_bucket",
        "aws_ecr_repository",
        "aws_cloudwatch_log_group",
        "aws_secretsmanager_secret",
        "aws_kms_key",
        "aws_dynamodb_table",
        "aws_efs_file_system",
    }
)

Document = Mapping[str, Any]


@dataclass
class StackDiff:
    """How one stack changes between two synthesized documents."""

    stack: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def stateful_removals(self) -> list[str]:
        return [address for address in self.removed if address.split(".", 1)[0] in STATEFUL_TYPES]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _addresses(document: Document) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for block, prefix in (("resource", ""), ("data", "data.")):
        for resource_type, items in document.get(block, {}).items():
            for logical_id, body in items.items():
                found[f"{prefix}{resource_type}.{logical_id}"] = {k: v for k, v in body.items() if k != "//"}
    return found


def _changed_paths(before: Any, after: Any, path: str = "") -> Iterator[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from _changed_paths(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from _changed_paths(b, a, f"{path}[{index}]")
    elif before != after:
        yield path or "<value>"


def diff_documents(stack: str, before: Document | None, after: Document | None) -> StackDiff:
    """Compare two synthesized stacks (None: the stack does not exist on that side)."""
    old, new = _addresses(before or {}), _addresses(after or {})
    result = StackDiff(stack)
    result.added = sorted(set(new) - set(old))
    result.removed = sorted(set(old) - set(new))
    for address in sorted(set(old) & set(new)):
        paths = list(_changed_paths(old[address], new[address]))
        if paths:
            result.changed[address] = paths
    return result


def render(diffs: list[StackDiff], *, allowed: set[str], allow_all: bool) -> tuple[str, int]:
    """The report text and the number of flagged (not allowed) stateful removals."""
    lines: list[str] = []
    flagged = 0
    for d in diffs:
        if d.empty:
            lines.append(f"{d.stack}: no changes")
            continue
        lines.append(f"{d.stack}: {len(d.added)} to add, {len(d.changed)} to change, {len(d.removed)} to remove")
        lines.extend(f"  + {address}" for address in d.added)
        for address, paths in d.changed.items():
            lines.append(f"  ~ {address}: {', '.join(paths)}")
        for address in d.removed:
            stateful = address in d.stateful_removals
            if stateful and not (allow_all or address in allowed):
                flagged += 1
                lines.append(f"  - {address}   !! STATEFUL: destroys data (construct-ID rename?)")
            else:
                lines.append(f"  - {address}" + ("   (stateful, allowed)" if stateful else ""))
    if flagged:
        lines.append(
            f"{flagged} stateful resource(s) would be destroyed. If intended, re-run with "
            "--allow TYPE.ID (or ALLOW_STATEFUL=1 make review)."
        )
    return "\n".join(lines), flagged


def synthesize(source: Path, outdir: Path) -> dict[str, Document]:
    """Run ``main.py`` of ``source`` with local backends; return each stack's document."""
    environment = {**os.environ, "PLATFORM_BACKEND": "local", "CDKTF_OUTDIR": str(outdir)}
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=source, env=environment, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"synth of {source} failed:\n{result.stdout}{result.stderr}")
    stacks = outdir / "stacks"
    return (
        {p.name: json.loads((p / "cdk.tf.json").read_text()) for p in sorted(stacks.iterdir())}
        if stacks.exists()
        else {}
    )


def synthesize_ref(ref: str, scratch: Path) -> dict[str, Document]:
    """Synthesize git ``ref`` in a temporary worktree (sharing this checkout's .venv and node_modules)."""
    tree = scratch / "base"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), ref], cwd=ROOT, check=True)
    try:
        return synthesize(tree, scratch / "base.out")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="git ref to compare the working tree against, e.g. origin/main or HEAD")
    parser.add_argument("--allow", action="append", default=[], help="a stateful address whose removal is intended")
    parser.add_argument("--allow-all-stateful", action="store_true", default=os.environ.get("ALLOW_STATEFUL") == "1")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="review-"))
    try:
        before = synthesize_ref(args.base, scratch)
        after = synthesize(ROOT, scratch / "head.out")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    diffs = [diff_documents(stack, before.get(stack), after.get(stack)) for stack in sorted(set(before) | set(after))]
    report, flagged = render(diffs, allowed=set(args.allow), allow_all=args.allow_all_stateful)
    print(f"review: {args.base} -> working tree")
    print(report)
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
