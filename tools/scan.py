"""`make scan`: checkov over every synthesized stack; fail on any failed check not in the skip list.

checkov cannot skip a check for one resource of Terraform JSON (inline skips do not work there,
checkov issue #4634; its config file skips a check everywhere). So checkov runs with no skips, and
this tool applies ``checkov-skips.toml``: each entry names a check, the reason, and optionally the
stacks and the resources (logical-id patterns) it covers. A failure no entry covers fails the scan,
and so does an entry that covers nothing (a stale skip hides the next real finding).

    python -m tools.scan [--stacks cdktf.out/stacks] [--sarif build/checkov.sarif]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SKIPS_FILE = ROOT / "checkov-skips.toml"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@dataclass(frozen=True)
class Skip:
    """One reviewed exception: ``check`` does not apply to these resources, because ``reason``."""

    check: str
    reason: str
    stacks: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()

    def covers(self, finding: Finding) -> bool:
        return (
            finding.check == self.check
            and (not self.stacks or finding.stack in self.stacks)
            and (not self.resources or any(fnmatch.fnmatchcase(finding.resource, p) for p in self.resources))
        )


@dataclass(frozen=True)
class Finding:
    """One failed check on one resource of one stack."""

    check: str
    name: str
    stack: str
    resource: str
    """Logical id of the resource (``load-balancer_logs_F0AED49D``)."""
    start_line: int


@dataclass
class Result:
    passed: Counter[str] = field(default_factory=Counter)
    failures: list[Finding] = field(default_factory=list)
    skipped: list[tuple[Finding, Skip]] = field(default_factory=list)
    stale: list[Skip] = field(default_factory=list)


def load_skips(path: Path = SKIPS_FILE) -> list[Skip]:
    """Parse and check the skip list; every entry needs a check id and a real reason."""
    allowed = {"check", "reason", "stacks", "resources"}
    skips = []
    for index, entry in enumerate(tomllib.loads(path.read_text()).get("skip", [])):
        where = f"{path.name}: skip[{index}]"
        unknown = set(entry) - allowed
        if unknown:
            raise SystemExit(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}"
            )
        if not str(entry.get("check", "")).startswith("CKV"):
            raise SystemExit(f"{where}: check = {entry.get('check')!r}: must be a checkov check id such as CKV_AWS_18")
        if len(str(entry.get("reason", "")).split()) < 5:
            raise SystemExit(
                f"{where} ({entry['check']}): reason must say why the check does not apply or what compensates"
            )
        skips.append(
            Skip(
                check=entry["check"],
                reason=" ".join(entry["reason"].split()),
                stacks=tuple(entry.get("stacks", ())),
                resources=tuple(entry.get("resources", ())),
            )
        )
    return skips


def findings(report: Any) -> tuple[Counter[str], list[Finding]]:
    """Passed counts per stack and failed findings, from checkov's JSON report."""
    passed: Counter[str] = Counter()
    failed: list[Finding] = []
    for part in report if isinstance(report, list) else [report]:
        for check in part["results"]["passed_checks"]:
            passed[_stack(check["file_path"])] += 1
        for check in part["results"]["failed_checks"]:
            failed.append(
                Finding(
                    check=check["check_id"],
                    name=check["check_name"],
                    stack=_stack(check["file_path"]),
                    resource=check["resource"].rsplit(".", 1)[-1],
                    start_line=check["file_line_range"][0],
                )
            )
    return passed, failed


def _stack(file_path: str) -> str:
    return Path(file_path).parent.name


def apply(skips: list[Skip], passed: Counter[str], failed: list[Finding]) -> Result:
    result = Result(passed=passed)
    used: set[Skip] = set()
    for finding in failed:
        skip = next((s for s in skips if s.covers(finding)), None)
        if skip is None:
            result.failures.append(finding)
        else:
            used.add(skip)
            result.skipped.append((finding, skip))
    result.stale = [s for s in skips if s not in used]
    return result


def filter_sarif(sarif: dict[str, Any], skipped: list[tuple[Finding, Skip]]) -> dict[str, Any]:
    """The SARIF report without the results the skip list covers (code scanning shows the rest)."""
    covered = {(f.check, f.stack, f.start_line) for f, _ in skipped}
    for run in sarif.get("runs", []):
        run["results"] = [
            r
            for r in run.get("results", [])
            if (
                r["ruleId"],
                _stack(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]),
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
            )
            not in covered
        ]
    return sarif


def run_checkov(stacks: Path) -> tuple[Any, dict[str, Any]]:
    """checkov's JSON and SARIF reports for every stack under ``stacks``."""
    if not CHECKOV.exists():
        raise SystemExit(f"{CHECKOV} is missing: run `make scan` (it installs checkov into its own virtualenv)")
    with tempfile.TemporaryDirectory() as out:
        command = [str(CHECKOV), "-d", str(stacks), "--framework", "terraform_json"]
        command += ["-o", "json", "-o", "sarif", "--output-file-path", out, "--skip-download"]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        report_path, sarif_path = Path(out) / "results_json.json", Path(out) / "results_sarif.sarif"
        if completed.returncode not in (0, 1) or not report_path.exists():
            raise SystemExit(f"checkov failed ({completed.returncode}):\n{completed.stdout}{completed.stderr}")
        return json.loads(report_path.read_text()), json.loads(sarif_path.read_text())


def scan(stacks: Path, sarif_out: Path | None, skips: list[Skip]) -> Result:
    report, sarif = run_checkov(stacks)
    result = apply(skips, *findings(report))
    if sarif_out is not None:
        sarif_out.parent.mkdir(parents=True, exist_ok=True)
        sarif_out.write_text(json.dumps(filter_sarif(sarif, result.skipped), indent=1))
    return result


def render(result: Result) -> str:
    lines = []
    stacks = sorted(set(result.passed) | {f.stack for f in result.failures} | {f.stack for f, _ in result.skipped})
    for stack in stacks:
        failed = sum(f.stack == stack for f in result.failures)
        skipped = sum(f.stack == stack for f, _ in result.skipped)
        lines.append(f"{stack:<24} passed {result.passed[stack]:>4}  failed {failed:>3}  skipped {skipped:>3}")
    for finding in result.failures:
        lines.append(f"FAILED {finding.check} {finding.stack}/{finding.resource}: {finding.name}")
    for skip in result.stale:
        scope = f" stacks={list(skip.stacks)}" if skip.stacks else ""
        scope += f" resources={list(skip.resources)}" if skip.resources else ""
        lines.append(f"STALE skip {skip.check}{scope}: matches no failed check; remove it")
    verdict = "ok" if not (result.failures or result.stale) else "FAILED"
    lines.append(
        f"checkov: {len(result.failures)} failed, {len(result.skipped)} skipped "
        f"({len({s.check for _, s in result.skipped})} reviewed check ids), {len(result.stale)} stale skip(s): {verdict}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", type=Path, default=ROOT / "cdktf.out" / "stacks")
    parser.add_argument("--sarif", type=Path, default=ROOT / "build" / "checkov.sarif")
    args = parser.parse_args(argv)
    result = scan(args.stacks, args.sarif, load_skips())
    print(render(result))
    print(f"SARIF: {args.sarif}")
    return 1 if result.failures or result.stale else 0


if __name__ == "__main__":
    sys.exit(main())
