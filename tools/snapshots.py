"""Per-stack snapshots of the synthesized JSON (tests/snapshots/<stack>.json), so every change to
what Terraform would see shows up in review.

cdktf's ``"//"`` metadata (its version, construct paths) is stripped: it is not sent to AWS and
would make every upgrade look like a change. Everything else is kept, keys sorted.

    python -m tools.snapshots          # `make snapshots`: rewrite them from a fresh synth
    python -m tools.snapshots --check  # exit 1 when one is stale (the pre-commit hook; writes nothing)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "snapshots"


def normalize(node: Any) -> Any:
    """``node`` without cdktf's ``"//"`` metadata keys."""
    if isinstance(node, dict):
        return {key: normalize(value) for key, value in node.items() if key != "//"}
    if isinstance(node, list):
        return [normalize(value) for value in node]
    return node


def render(document: dict[str, Any]) -> str:
    return json.dumps(normalize(document), indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.snapshots", description="Per-stack snapshots of the JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 when a snapshot is stale; write nothing")
    check = parser.parse_args(argv).check
    # Snapshots are of what deploys: each environment's configured backend.
    with tempfile.TemporaryDirectory() as outdir:
        command = [sys.executable, "main.py", "--backend", "configured", "--outdir", outdir]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        stacks = sorted(Path(outdir, "stacks").iterdir())
        stale: list[Path] = []
        for stack in stacks:
            target = SNAPSHOTS / f"{stack.name}.json"
            text = render(json.loads((stack / "cdk.tf.json").read_text()))
            changed = not target.exists() or target.read_text() != text
            if changed:
                stale.append(target)
                if not check:
                    target.write_text(text)
            print(f"{target.relative_to(ROOT)}: {('stale' if check else 'updated') if changed else 'unchanged'}")
        for extra in set(SNAPSHOTS.glob("*.json")) - {SNAPSHOTS / f"{s.name}.json" for s in stacks}:
            stale.append(extra)
            if not check:
                extra.unlink()
            print(f"{extra.relative_to(ROOT)}: {'no such stack' if check else 'removed (no such stack)'}")
    if check and stale:
        print("snapshots are stale: review the change (tests/test_gates.py shows the diff), then `make snapshots`")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
