"""Per-stack snapshots of the synthesized JSON (tests/snapshots/<stack>.json), so every change to
what Terraform would see shows up in review.

cdktf's ``"//"`` metadata (its version, construct paths) is stripped: it is not sent to AWS and
would make every upgrade look like a change. Everything else is kept, keys sorted.

    python -m tools.snapshots      # `make snapshots`: rewrite them from a fresh synth
"""

from __future__ import annotations

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


def main() -> int:
    # Snapshots are of what deploys: each environment's configured backend.
    with tempfile.TemporaryDirectory() as outdir:
        command = [sys.executable, "main.py", "--backend", "configured", "--outdir", outdir]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        stacks = sorted(Path(outdir, "stacks").iterdir())
        for stack in stacks:
            target = SNAPSHOTS / f"{stack.name}.json"
            text = render(json.loads((stack / "cdk.tf.json").read_text()))
            changed = not target.exists() or target.read_text() != text
            target.write_text(text)
            print(f"{target.relative_to(ROOT)}: {'updated' if changed else 'unchanged'}")
        for stale in set(SNAPSHOTS.glob("*.json")) - {SNAPSHOTS / f"{s.name}.json" for s in stacks}:
            stale.unlink()
            print(f"{stale.relative_to(ROOT)}: removed (no such stack)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
