"""`make review BASE=<git ref>`: what a change does to each stack, and whether it loses state.

Synthesizes BASE (in a temporary git worktree) and the working tree, both with local backends,
then prints per stack the resources added, removed and changed (with the attribute paths that
changed). That JSON diff cannot see what the provider decides: an in-place change of an attribute
that forces a new resource (an ECR repository's encryption, a database's identifier or KMS key)
reads as "changed". So, where Terraform and the emulator are available, each stack that changed is
judged on a real plan: BASE's stack is applied to the emulated AWS, the working tree's stack is
planned against that state, and every stateful resource (database, cache, bucket, repository, log
group, secret, KMS key...) whose planned actions include delete (a replacement too) is flagged, with
the attributes that force it. Changes the emulator alone causes (BASE planned against its own state)
are subtracted. Without Terraform it falls back to the JSON diff, where a removed stateful address
(a construct-ID rename) is flagged. Exit status 1 when anything is flagged, unless every flagged
address is allowed (``--allow TYPE.LOGICAL_ID`` or ``--allow-all-stateful``).
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import modules  # noqa: F401  # registers every building block
from modules.block import stateful_types

ROOT = Path(__file__).resolve().parent.parent

# Resource types whose destruction loses data or identity that cannot be recreated: what the
# building blocks declare (``Block.stateful_types``), so a new block registers its own.
STATEFUL_TYPES = stateful_types()

Document = Mapping[str, Any]
# The release the emulator and terraform validate run here; a BASE older than the provider setting
# ignores PLATFORM_AWS_PROVIDER and its 6.x-only attributes fail the plan (reported, JSON diff kept).
REVIEW_PROVIDER = "5.100.0"


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
    """Run ``main.py`` of ``source`` with local backends, for the AWS provider the emulator runs here;
    return each stack's document."""
    environment = {
        **os.environ,
        "PLATFORM_BACKEND": "local",
        "PLATFORM_AWS_PROVIDER": REVIEW_PROVIDER,
        "CDKTF_OUTDIR": str(outdir),
    }
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


@dataclass(frozen=True)
class Destruction:
    """A resource the plan deletes (alone, or to replace it)."""

    address: str
    replaced: bool
    forced_by: tuple[str, ...]
    """Attributes that force the replacement (empty for a plain delete)."""

    @property
    def stateful(self) -> bool:
        return self.address.split(".")[-2] in STATEFUL_TYPES

    def describe(self) -> str:
        if self.replaced:
            return f"replaced {self.address} (forced by {', '.join(self.forced_by) or 'a dependency'})"
        return f"destroyed {self.address}"


def destructions(plan: Mapping[str, Any]) -> dict[str, Destruction]:
    """Every managed resource a ``terraform show -json`` plan deletes, by address."""
    found = {}
    for change in plan.get("resource_changes", []):
        actions = change["change"]["actions"]
        if change.get("mode") != "managed" or "delete" not in actions:
            continue
        paths = change["change"].get("replace_paths") or []
        forced = tuple(sorted({".".join(str(p) for p in path) for path in paths if path}))
        found[change["address"]] = Destruction(change["address"], "create" in actions, forced)
    return found


class PlanReviewUnavailableError(RuntimeError):
    """Terraform, the provider or the emulator is missing: the review keeps the JSON diff."""


def plan_review(
    stacks: Mapping[str, tuple[Document, Mapping[str, Document]]], scratch: Path
) -> dict[str, dict[str, list[Destruction]]]:
    """For each stack (BASE document, {variant: changed document}): apply BASE to the emulator once,
    plan each variant over that state, and return per variant what its plan destroys that BASE's own
    re-plan does not (the emulator's own drift)."""
    from tools.e2e import PARALLELISM, StackHarness, load_entries
    from tools.emulator import (
        Emulator,
        EmulatorUnavailableError,
        provider_override,
        required_variables,
    )
    from tools.terraform import TerraformUnavailableError, prepare

    try:
        binary, environ, _ = prepare(REVIEW_PROVIDER)
    except TerraformUnavailableError as error:
        raise PlanReviewUnavailableError(str(error)) from error
    entries = load_entries()
    results: dict[str, dict[str, list[Destruction]]] = {}
    try:
        with Emulator(scratch / "emulator") as emulator:
            for stack, (before, variants) in stacks.items():
                directory = scratch / "plan" / stack
                directory.mkdir(parents=True)
                (directory / "cdk.tf.json").write_text(json.dumps(before))
                harness = StackHarness(directory, emulator=emulator, binary=binary, environ=environ, entries=entries)
                harness.prepare()
                run = harness.workspace.run
                run("apply", "-input=false", "-auto-approve", PARALLELISM, *harness.variables)
                run("plan", "-input=false", "-out=base.tfplan", *harness.variables)
                baseline = destructions(harness.workspace.show_plan("base.tfplan"))
                results[stack] = {}
                for variant, after in variants.items():
                    (directory / "cdk.tf.json").write_text(json.dumps(after))
                    override = provider_override(after, emulator.create_fixtures(after))
                    (directory / "emulator_override.tf.json").write_text(json.dumps(override))
                    harness.workspace.init(backend=True, backend_config=[f"path={harness.state}"])
                    variables = [f"-var={k}={v}" for k, v in sorted(required_variables(after).items())]
                    planned = run("plan", "-input=false", "-out=head.tfplan", *variables)
                    if planned.returncode != 0:
                        raise PlanReviewUnavailableError(
                            f"{stack}: terraform plan of {variant} failed:\n{planned.stderr[-2000:]}"
                        )
                    head = destructions(harness.workspace.show_plan("head.tfplan"))
                    results[stack][variant] = [d for a, d in sorted(head.items()) if baseline.get(a) != d]
    except EmulatorUnavailableError as error:
        raise PlanReviewUnavailableError(str(error)) from error
    return results


def render_plan(results: Mapping[str, list[Destruction]], *, allowed: set[str], allow_all: bool) -> tuple[str, int]:
    """The plan verdicts and the number of flagged (not allowed) stateful destructions."""
    lines = ["plan-based review (BASE applied to the emulated AWS, the working tree planned over it):"]
    flagged = 0
    for stack, found in results.items():
        if not found:
            lines.append(f"{stack}: the plan destroys nothing")
            continue
        for destruction in found:
            if destruction.stateful and not (allow_all or destruction.address in allowed):
                flagged += 1
                lines.append(f"  !! {stack}: {destruction.describe()}   STATEFUL: its data is lost")
            else:
                allowed_note = "   (stateful, allowed)" if destruction.stateful else ""
                lines.append(f"  {stack}: {destruction.describe()}{allowed_note}")
    if flagged:
        lines.append(
            f"{flagged} stateful resource(s) would be destroyed or replaced. If intended, re-run with "
            "--allow TYPE.ID (or ALLOW_STATEFUL=1 make review)."
        )
    return "\n".join(lines), flagged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="git ref to compare the working tree against, e.g. origin/main or HEAD")
    parser.add_argument("--allow", action="append", default=[], help="a stateful address whose removal is intended")
    parser.add_argument("--allow-all-stateful", action="store_true", default=os.environ.get("ALLOW_STATEFUL") == "1")
    parser.add_argument("--json-only", action="store_true", help="skip the plan-based review (JSON diff only)")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="review-"))
    try:
        # The two synths are separate processes (each tree runs its own code): run them side by side.
        with ThreadPoolExecutor(max_workers=2) as pool:
            base = pool.submit(synthesize_ref, args.base, scratch)
            head = pool.submit(synthesize, ROOT, scratch / "head.out")
            before, after = base.result(), head.result()
        diffs = [
            diff_documents(stack, before.get(stack), after.get(stack)) for stack in sorted(set(before) | set(after))
        ]
        report, json_flagged = render(diffs, allowed=set(args.allow), allow_all=args.allow_all_stateful)
        print(f"review: {args.base} -> working tree")
        print(report)
        changed = {
            d.stack: (before[d.stack], after[d.stack])
            for d in diffs
            if not d.empty and d.stack in before and d.stack in after
        }
        if args.json_only or not changed:
            return 1 if json_flagged else 0
        try:
            variants = plan_review({stack: (b, {"working tree": a}) for stack, (b, a) in changed.items()}, scratch)
            results = {stack: found["working tree"] for stack, found in variants.items()}
        except PlanReviewUnavailableError as error:
            print(f"plan-based review unavailable ({error}); the JSON diff above is the verdict")
            return 1 if json_flagged else 0
        plan_report, plan_flagged = render_plan(results, allowed=set(args.allow), allow_all=args.allow_all_stateful)
        print(plan_report)
        return 1 if plan_flagged or json_flagged else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
