"""`make validate`: ``terraform validate`` of every stack with the real AWS provider.

Synthesizes every environment for AWS provider 5.100.0 (the release these machines have; see
``tools.terraform`` for where it comes from) into ``build/validate/``, then runs ``terraform init
-backend=false`` and ``terraform validate`` in each stack directory, two stacks at a time. Prints one
line per stack; every error names the resource address. Exit 1 on any error.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tools.terraform import ROOT, Diagnostic, TerraformUnavailableError, Workspace, prepare

VALIDATE_PROVIDER = "5.100.0"
WORKERS = 2  # the machines have 2 cores; each validate loads the provider's schema (~1 core)


@dataclass(frozen=True)
class Validation:
    """The outcome of validating one stack."""

    stack: str
    diagnostics: list[Diagnostic]
    seconds: float

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def line(self) -> str:
        verdict = f"{len(self.errors)} error(s)" if self.errors else "valid"
        extra = f", {len(self.warnings)} warning(s)" if self.warnings else ""
        return f"{self.stack:<24} {verdict}{extra} ({self.seconds:.1f}s)"


def validate_stacks(stack_dirs: Iterable[Path], *, binary: str, environ: dict[str, str]) -> list[Validation]:
    """Init (no backend) and validate each directory; results in the order given."""

    def one(directory: Path) -> Validation:
        started = time.perf_counter()
        workspace = Workspace(directory, binary=binary, environ=environ)
        workspace.init(backend=False)
        diagnostics = workspace.validate()
        return Validation(directory.name, diagnostics, time.perf_counter() - started)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(one, list(stack_dirs)))


def synthesize(
    outdir: Path, version: str = VALIDATE_PROVIDER, *, environments: Path | None = None, only: str | None = None
) -> list[Path]:
    """Run main.py for ``version`` into ``outdir`` (optionally from another environments directory, or
    one environment only); the stack directories it wrote."""
    outdir.parent.mkdir(parents=True, exist_ok=True)
    extra = [*(["--environments", str(environments)] if environments else []), *(["--env", only] if only else [])]
    result = subprocess.run(
        [sys.executable, "main.py", "--backend", "local", "--aws-provider", version, "--outdir", str(outdir), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"synth failed:\n{result.stdout}{result.stderr}")
    return sorted(p for p in (outdir / "stacks").iterdir() if (p / "cdk.tf.json").is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outdir", type=Path, default=ROOT / "build" / "validate")
    args = parser.parse_args(argv)
    try:
        binary, environ, source = prepare(VALIDATE_PROVIDER)
    except TerraformUnavailableError as error:
        print(f"validate: {error}", file=sys.stderr)
        return 1
    print(f"validate: {source.how}")
    results = validate_stacks(synthesize(args.outdir), binary=binary, environ=environ)
    for result in results:
        print(result.line())
        for diagnostic in result.diagnostics:
            print(f"  {diagnostic.severity}: {diagnostic}")
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
