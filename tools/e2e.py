"""`make e2e`: every stack through real Terraform and the AWS provider against an emulated AWS (moto).

Per stack, in order: plan, apply, a second plan with ``-detailed-exitcode``, destroy. One moto server
serves the whole run (``tools.emulator``); each stack gets its own directory, state file and override
(fake credentials; external certificates and hosted zones created in the emulator). The stacks are
the AWS provider 5.100.0 output (the provider these machines have).

What the emulator cannot do is listed, reviewed, in ``emulator-gaps.toml``:
- ``[[gap]]``: an API moto lacks. An apply/plan error it covers is a known gap; the resources that
  fail and everything Terraform then could not create (blocked) are reported, not failed.
- ``[[drift]]``: an attribute moto does not store or return as AWS does, seen as a change by the
  second plan.
- ``[[patch]]``: a moto bug fixed at runtime inside the harness (tools/emulator_server.py).
An error or drift item no entry covers fails the run; so does an entry that covers nothing (judged
when every stack in its scope ran) and a patch list that differs from the code.

staging and prod refuse destroy by their own deletion protection: the harness lifts it (and the
log buckets' keep-what-they-hold) in the emulator override, for the emulator run only, and says so.

    python -m tools.e2e [--stacks dev,prod] [--jobs 4] [--keep] [--no-scenarios]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import shutil
import signal
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import emulator_server
from tools.emulator import (
    OVERRIDE_FILE,
    Emulator,
    EmulatorUnavailableError,
    merge_overrides,
    provider_override,
    required_variables,
    unprotect_override,
)
from tools.terraform import ROOT, TerraformUnavailableError, Workspace, prepare
from tools.validate import VALIDATE_PROVIDER, synthesize

GAPS_FILE = ROOT / "emulator-gaps.toml"
WORKDIR = ROOT / "build" / "e2e"
PHASE_TIMEOUT_SECONDS = 900
# Terraform's default is 10 at a time; against the emulator most of an apply is the provider's own
# fixed waits (propagation delays), so more at once shortens the run without loading the machine.
PARALLELISM = "-parallelism=30"
_MOTO_SOURCE = re.compile(r"moto/[\w/]+\.py")


# --- the reviewed list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One reviewed entry of emulator-gaps.toml."""

    kind: str
    """gap, drift or patch."""
    index: int
    why: str
    api: str = ""
    resources: tuple[str, ...] = ()
    """Address patterns (fnmatch), e.g. ``aws_cloudfront_function.*``."""
    error: str = ""
    """gap: a regular expression the error text matches."""
    attributes: tuple[str, ...] = ()
    """drift: top-level attributes the second plan changes."""
    stacks: tuple[str, ...] = ()
    """Stack names it applies to; every stack when empty."""
    name: str = ""
    """patch: the name in tools/emulator_server.PATCHES."""

    @property
    def label(self) -> str:
        return f"{self.kind}[{self.index}] {self.name or self.api}"

    def in_scope(self, stack: str) -> bool:
        return not self.stacks or stack in self.stacks

    def covers_address(self, stack: str, address: str) -> bool:
        return self.in_scope(stack) and any(fnmatch.fnmatchcase(address, p) for p in self.resources)

    def covers_error(self, stack: str, address: str, text: str) -> bool:
        return self.kind == "gap" and self.covers_address(stack, address) and re.search(self.error, text) is not None

    def covers_drift(self, stack: str, address: str, attribute: str) -> bool:
        return self.kind == "drift" and self.covers_address(stack, address) and attribute in self.attributes


_KEYS = {
    "gap": ({"api", "resources", "error", "why"}, {"stacks"}),
    "drift": ({"api", "resources", "attributes", "why"}, {"stacks"}),
    "patch": ({"name", "why"}, set()),
}


def load_entries(path: Path = GAPS_FILE) -> list[Entry]:
    """Parse and check the list: required keys, no unknown ones, a reason that cites moto's source."""
    document = tomllib.loads(path.read_text())
    unknown_tables = set(document) - set(_KEYS)
    if unknown_tables:
        raise SystemExit(f"{path.name}: unknown table(s) {sorted(unknown_tables)}; allowed: gap, drift, patch")
    entries = []
    for kind, (required, optional) in _KEYS.items():
        for index, raw in enumerate(document.get(kind, [])):
            where = f"{path.name}: {kind}[{index}]"
            missing, extra = required - set(raw), set(raw) - required - optional
            if missing or extra:
                raise SystemExit(
                    f"{where}: missing {sorted(missing)}, unknown {sorted(extra)}; required: {sorted(required)}"
                )
            if not _MOTO_SOURCE.search(raw["why"]):
                raise SystemExit(f"{where}: why must cite moto's source (a moto/<path>.py file), got {raw['why']!r}")
            if kind == "gap":
                re.compile(raw["error"])
            entries.append(
                Entry(
                    kind=kind,
                    index=index,
                    why=" ".join(raw["why"].split()),
                    api=raw.get("api", ""),
                    resources=tuple(raw.get("resources", ())),
                    error=raw.get("error", ""),
                    attributes=tuple(raw.get("attributes", ())),
                    stacks=tuple(raw.get("stacks", ())),
                    name=raw.get("name", ""),
                )
            )
    return entries


def check_patches(entries: Iterable[Entry]) -> list[str]:
    """Problems between the [[patch]] entries and the patches the emulator applies."""
    listed = {e.name for e in entries if e.kind == "patch"}
    applied = set(emulator_server.PATCHES)
    problems = [
        f"patch {name!r} is applied by tools/emulator_server.py but not listed" for name in sorted(applied - listed)
    ]
    problems += [
        f"patch {name!r} is listed but tools/emulator_server.py has no such patch" for name in sorted(listed - applied)
    ]
    return problems


# --- scenarios ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upgrade:
    """A change to an environment file applied over the running stack (issue: major upgrades)."""

    what: str
    file: str
    """The environment file, relative to the project."""
    pattern: str
    """A regular expression matching exactly one line of it."""
    replacement: str

    def synthesize(self, workdir: Path, stack: str) -> Path:
        """The stack synthesized from the changed file; its cdk.tf.json."""
        source = ROOT / self.file
        text, count = re.subn(self.pattern, self.replacement, source.read_text(), flags=re.MULTILINE)
        if count != 1:
            raise RuntimeError(f"upgrade scenario: {self.pattern!r} matches {count} lines of {self.file}, not one")
        environments = workdir / "environments"
        environments.mkdir(parents=True, exist_ok=True)
        (environments / source.name).write_text(text)
        outdir = workdir / "out"
        synthesize(outdir, environments=environments, only=source.stem)
        return outdir / "stacks" / stack / "cdk.tf.json"


# dev rehearses a major PostgreSQL upgrade (new parameter group family, allow_major_version_upgrade);
# dev and the Beanstalk example must survive destroy and re-create (disposable environments).
UPGRADES = {
    "netflux-dev": Upgrade(
        what="PostgreSQL 16 -> 17",
        file="environments/dev.toml",
        pattern=r'^engine_version = "16\.\d+"$',
        replacement='engine_version = "17.5"',
    )
}
REBUILDS = frozenset({"netflux-dev", "netflux-beanstalk"})


# --- one stack -------------------------------------------------------------------------------------


@dataclass
class StackRun:
    """What happened to one stack."""

    stack: str
    seconds: dict[str, float] = field(default_factory=dict)
    planned: int = 0
    created: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    """Address -> error text of resources whose create failed on a known gap."""
    blocked: list[str] = field(default_factory=list)
    """Planned resources Terraform did not attempt because something they depend on failed."""
    gaps: Counter[str] = field(default_factory=Counter)
    """Known gaps hit, by API."""
    drift: list[tuple[str, str]] = field(default_factory=list)
    """(address, attribute) the second plan changes, each covered by a [[drift]] entry."""
    unprotected: list[str] = field(default_factory=list)
    destroyed: bool = False
    upgraded: str = ""
    """The upgrade scenario's outcome, when the stack has one."""
    rebuilt: bool | None = None
    """Whether the rebuild scenario (apply and destroy again) passed; None when not run."""
    left_by_gaps: list[str] = field(default_factory=list)
    """Resources destroy could not remove because of a known gap (and what they hold on to)."""
    problems: list[str] = field(default_factory=list)
    """Anything not covered by the reviewed list: each fails the run."""
    used: set[int] = field(default_factory=set)
    """id() of every entry that covered something."""

    def _destroy_verdict(self) -> str:
        if not self.destroyed:
            return "FAILED"
        return f"ok ({len(self.left_by_gaps)} left by gaps)" if self.left_by_gaps else "ok"

    def line(self) -> str:
        gaps = ", ".join(f"{api} x{n}" for api, n in sorted(self.gaps.items())) or "none"
        phases = " ".join(f"{phase} {seconds:.0f}s" for phase, seconds in self.seconds.items())
        verdict = "FAILED" if self.problems else "ok"
        return (
            f"{self.stack:<20} {verdict}: planned {self.planned}, created {self.created}"
            f" ({len(self.failed)} failed on gaps, {len(self.blocked)} blocked); gaps: {gaps}; "
            f"drift items {len(self.drift)}; destroy {self._destroy_verdict()}; "
            + (f"upgrade {self.upgraded}; " if self.upgraded else "")
            + ("" if self.rebuilt is None else f"rebuild {'ok' if self.rebuilt else 'FAILED'}; ")
            + phases
        )


def _events(output: str) -> list[dict[str, Any]]:
    events = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
    return events


def _errors(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(address, text) of every error diagnostic in a -json stream. Destroy diagnostics carry no
    address; there the resource is the one whose ``apply_errored`` event names it in the text."""
    errored = [e["hook"]["resource"]["addr"] for e in events if e.get("type") == "apply_errored" and "hook" in e]
    found = []
    for event in events:
        diagnostic = event.get("diagnostic") or {}
        if event.get("type") != "diagnostic" or diagnostic.get("severity") != "error":
            continue
        text = " ".join(f"{diagnostic.get('summary', '')}: {diagnostic.get('detail', '')}".split())
        address = diagnostic.get("address") or ""
        if not address:
            candidates = [
                a for a in errored if _resource_type(a).removeprefix("aws_").replace("_", " ") in text.lower()
            ]
            address = candidates[0] if len(candidates) == 1 else (errored[0] if len(errored) == 1 else "")
        found.append((address, text))
    return found


def _resource_count(stack_dir: Path) -> int:
    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    return sum(len(items) for items in document.get("resource", {}).values())


def _resource_type(address: str) -> str:
    return address.split(".")[-2] if "." in address else address


def _changed_attributes(change: Mapping[str, Any]) -> list[str]:
    """The top-level attributes a planned change is about. A replacement is about the attributes that
    force it; an update about every attribute whose planned value differs from the refreshed one.
    Attributes whose new value is unknown until apply derive from another resource's change (which is
    judged itself), so they are not drift of their own."""
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    if "delete" in change["actions"] and "create" in change["actions"]:
        names = {str(path[0]) for path in change.get("replace_paths") or [] if path}
    else:
        names = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    return sorted(name for name in names if unknown.get(name) is not True)


class StackHarness:
    """Runs the four phases for one stack directory."""

    def __init__(
        self,
        stack_dir: Path,
        *,
        emulator: Emulator,
        binary: str,
        environ: dict[str, str],
        entries: list[Entry],
        verbose: bool = False,
        upgrade: Upgrade | None = None,
        rebuild: bool = False,
    ) -> None:
        self.dir = stack_dir
        self.verbose = verbose
        self.upgrade = upgrade
        self.rebuild = rebuild
        self.document: dict[str, Any] = json.loads((stack_dir / "cdk.tf.json").read_text())
        self.stack = stack_dir.name
        self.emulator = emulator
        self.entries = entries
        region = next(p["region"] for p in self.document["provider"]["aws"] if "alias" not in p)
        self.workspace = Workspace(stack_dir, binary=binary, environ=emulator.environ(environ, region))
        self.state = stack_dir / "e2e.tfstate"
        self.run = StackRun(self.stack)
        self.variables = [f"-var={k}={v}" for k, v in sorted(required_variables(self.document).items())]

    def _timed(self, phase: str, *args: str) -> tuple[int, str]:
        if self.verbose:
            print(f"  {self.stack}: terraform {' '.join(a for a in args if not a.startswith('-var='))}", flush=True)
        result = self.workspace.run(*args, timeout=PHASE_TIMEOUT_SECONDS)
        self.run.seconds[phase] = self.run.seconds.get(phase, 0.0) + result.seconds
        # Terraform's own output of every phase, kept next to the stack for whoever debugs a run.
        with (self.dir / f"{phase}.log").open("a") as log:
            log.write(f"$ terraform {' '.join(args)}\n{result.stdout}{result.stderr}\n")
        return result.returncode, result.stdout + result.stderr

    def _covered_error(self, address: str, text: str) -> Entry | None:
        for entry in self.entries:
            if entry.covers_error(self.stack, address, text):
                self.run.used.add(id(entry))
                return entry
        return None

    def execute(self) -> StackRun:
        try:
            self.prepare()
            if self._plan() and self._apply():
                self._replan()
                if self.upgrade is not None:
                    self._upgrade(self.upgrade)
            self._destroy()
            if self.rebuild and self.run.destroyed and not self.run.problems:
                self._rebuild()
        except Exception as error:
            self.run.problems.append(f"harness error: {type(error).__name__}: {error}")
        return self.run

    def prepare(self, *, unprotect: bool = True) -> None:
        """Override file, fixtures in the emulator (certificates, hosted zones), a fresh state file,
        terraform init. With ``unprotect``, deletion protection (and log buckets' keep-on-destroy) is
        lifted in the same override, so the run can end with a plain destroy."""
        override = provider_override(self.document, self.emulator.create_fixtures(self.document))
        if unprotect:
            lifted = unprotect_override(self.document)
            self.run.unprotected = lifted.addresses
            override = merge_overrides(override, lifted.override)
        (self.dir / OVERRIDE_FILE).write_text(json.dumps(override, indent=2))
        self.state.unlink(missing_ok=True)
        started = time.perf_counter()
        self.workspace.init(backend=True, backend_config=[f"path={self.state}"])
        self.run.seconds["init"] = time.perf_counter() - started

    def _plan(self) -> bool:
        code, output = self._timed("plan", "plan", "-json", "-input=false", "-out=plan1.tfplan", *self.variables)
        if code != 0:
            self.run.problems += [f"plan: {a or '<config>'}: {t}" for a, t in _errors(_events(output))] or [
                output[-1500:]
            ]
            return False
        plan = self.workspace.show_plan("plan1.tfplan")
        self.planned_addresses = {
            c["address"]
            for c in plan.get("resource_changes", [])
            if c["mode"] == "managed" and "create" in c["change"]["actions"]
        }
        self.run.planned = len(self.planned_addresses)
        return True

    def _apply(self) -> bool:
        code, output = self._timed("apply", "apply", "-json", "-input=false", PARALLELISM, "plan1.tfplan")
        events = _events(output)
        for address, text in _errors(events):
            entry = self._covered_error(address, text)
            if entry is None:
                self.run.problems.append(f"apply: {address or '<no address>'}: {text[:400]}")
            else:
                self.run.failed[address] = text
                self.run.gaps[entry.api] += 1
        started = {e["hook"]["resource"]["addr"] for e in events if e.get("type") == "apply_start" and "hook" in e}
        in_state = self._state_resources()
        self.run.created = len([a for a, tainted in in_state.items() if not tainted and a in self.planned_addresses])
        self.run.blocked = sorted(a for a in self.planned_addresses - started if a not in in_state)
        if code != 0 and not self.run.failed and not self.run.problems:
            self.run.problems.append(f"apply exited {code} without an error diagnostic:\n{output[-1500:]}")
        return True

    def _state_resources(self) -> dict[str, bool]:
        result = self.workspace.run("show", "-json")
        if result.returncode != 0 or not result.stdout.strip():
            return {}
        values = json.loads(result.stdout).get("values") or {}
        return {
            r["address"]: bool(r.get("tainted"))
            for r in (values.get("root_module") or {}).get("resources", [])
            if r.get("mode") == "managed"
        }

    def _replan(self, phase: str = "replan") -> None:
        code, output = self._timed(
            phase, "plan", "-json", "-input=false", "-detailed-exitcode", "-out=plan2.tfplan", *self.variables
        )
        if code == 1:
            for address, text in _errors(_events(output)):
                if self._covered_error(address, text) is None:
                    self.run.problems.append(f"{phase} plan: {address or '<no address>'}: {text[:400]}")
            return
        if code == 0:
            return
        expected = set(self.run.failed) | set(self.run.blocked)
        plan = self.workspace.show_plan("plan2.tfplan")
        for change in plan.get("resource_changes", []):
            actions = change["change"]["actions"]
            if actions in (["no-op"], ["read"]) or change["mode"] != "managed":
                continue
            address = change["address"]
            if address in expected:
                continue
            attributes = _changed_attributes(change["change"])
            if not attributes and "create" in actions and "delete" not in actions:
                attributes = ["<missing after apply>"]
            for attribute in attributes:
                entry = next((e for e in self.entries if e.covers_drift(self.stack, address, attribute)), None)
                if entry is None:
                    self.run.problems.append(
                        f"second plan: {'/'.join(actions)} {address}: {attribute} (no [[drift]] entry)"
                    )
                else:
                    self.run.used.add(id(entry))
                    self.run.drift.append((address, attribute))

    def _upgrade(self, upgrade: Upgrade) -> None:
        """Apply the stack as synthesized from a changed environment file (a major engine upgrade)
        over the running one; its plan must apply, and the plan after it must be clean."""
        variant = upgrade.synthesize(WORKDIR / "upgrade" / self.stack, self.stack)
        (self.dir / "cdk.tf.json").write_text(variant.read_text())
        self.document = json.loads(variant.read_text())
        code, output = self._timed("upgrade", "plan", "-json", "-input=false", "-out=upgrade.tfplan", *self.variables)
        if code != 0:
            self.run.problems += [f"upgrade plan: {a or '<config>'}: {t}" for a, t in _errors(_events(output))]
            return
        changes = self.workspace.show_plan("upgrade.tfplan").get("resource_changes", [])
        # A replacement the emulator's own drift forces (a [[drift]] entry covers every forcing
        # attribute) is not the upgrade's doing.
        replaced = [
            c["address"]
            for c in changes
            if c["mode"] == "managed"
            and "delete" in c["change"]["actions"]
            and not all(
                any(e.covers_drift(self.stack, c["address"], a) for e in self.entries)
                for a in _changed_attributes(c["change"]) or ["<unknown>"]
            )
        ]
        stateful = [a for a in replaced if a.split(".")[0] in ("aws_db_instance", "aws_elasticache_replication_group")]
        if stateful:
            self.run.problems.append(
                f"upgrade ({upgrade.what}) would replace {stateful}: it must be an in-place upgrade"
            )
        code, output = self._timed("upgrade", "apply", "-json", "-input=false", PARALLELISM, "upgrade.tfplan")
        for address, text in _errors(_events(output)):
            if self._covered_error(address, text) is None:
                self.run.problems.append(f"upgrade apply: {address or '<no address>'}: {text[:400]}")
        before = len(self.run.drift)
        self._replan(phase="upgrade")
        self.run.upgraded = f"{upgrade.what}: in place, {len(self.run.drift) - before} drift item(s) after"

    def _rebuild(self) -> None:
        """A disposable environment must come back after a destroy, and go again: apply, destroy."""
        code, output = self._timed("rebuild", "plan", "-json", "-input=false", "-out=rebuild.tfplan", *self.variables)
        if code != 0:
            self.run.problems += [f"rebuild plan: {a or '<config>'}: {t}" for a, t in _errors(_events(output))]
            return
        code, output = self._timed("rebuild", "apply", "-json", "-input=false", PARALLELISM, "rebuild.tfplan")
        for address, text in _errors(_events(output)):
            if self._covered_error(address, text) is None:
                self.run.problems.append(f"rebuild apply: {address or '<no address>'}: {text[:400]}")
        self._destroy()
        self.run.rebuilt = not self.run.problems and self.run.destroyed

    def _destroy(self) -> None:
        code, output = self._timed(
            "destroy", "destroy", "-json", "-input=false", "-auto-approve", PARALLELISM, *self.variables
        )
        undeletable = []
        for address, text in _errors(_events(output)):
            entry = self._covered_error(address, text)
            if entry is None:
                self.run.problems.append(f"destroy: {address or '<no address>'}: {text[:400]}")
            else:
                undeletable.append(address)
                self.run.gaps[entry.api] += 1
        left = sorted(self._state_resources())
        # What a delete the emulator cannot do holds on to (its subnets, their VPC) stays too.
        self.run.left_by_gaps = left if undeletable else []
        self.run.destroyed = not left or (bool(undeletable) and not self.run.problems)
        if left and not undeletable and code == 0:
            self.run.problems.append(f"destroy left {len(left)} resource(s) in state: {left[:5]}")


# --- the run ----------------------------------------------------------------------------------------


def stale_entries(entries: list[Entry], runs: list[StackRun], all_stacks: set[str]) -> list[str]:
    """Gap and drift entries that covered nothing, among those whose every in-scope stack ran."""
    ran = {r.stack for r in runs}
    used = set().union(*(r.used for r in runs)) if runs else set()
    stale = []
    for entry in entries:
        if entry.kind == "patch" or id(entry) in used:
            continue
        if (set(entry.stacks) or all_stacks) <= ran:
            stale.append(f"{entry.label}: covers nothing in this run; delete it or fix its pattern")
    return stale


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", default="", help="comma-separated stack or environment names (default: all)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=4,
        help="stacks run at once (default 4: a run is mostly the provider waiting, not CPU; 2 cores suffice)",
    )
    parser.add_argument("--keep", action="store_true", help="keep build/e2e after the run")
    parser.add_argument("--verbose", action="store_true", help="print each terraform command as it starts")
    parser.add_argument(
        "--no-scenarios", action="store_true", help="skip dev's upgrade and the rebuilds of dev and the example"
    )
    return parser.parse_args(argv)


def _selected(stack_dirs: list[Path], stacks: str) -> list[Path]:
    """The stacks ``--stacks`` names (stack or environment names), all when empty; SystemExit(2) on an
    unknown name."""
    if not stacks:
        return stack_dirs
    wanted = {s.strip() for s in stacks.split(",") if s.strip()}
    unknown = wanted - {d.name for d in stack_dirs} - {d.name.split("-", 1)[-1] for d in stack_dirs}
    if unknown:
        print(f"e2e: unknown stack(s) {sorted(unknown)}; have {[d.name for d in stack_dirs]}", file=sys.stderr)
        raise SystemExit(2)
    return [d for d in stack_dirs if d.name in wanted or d.name.split("-", 1)[-1] in wanted]


def _run_stacks(
    stack_dirs: list[Path],
    emulator: Emulator,
    args: argparse.Namespace,
    *,
    binary: str,
    environ: dict[str, str],
    entries: list[Entry],
) -> list[StackRun]:
    """Every stack's phases against the one emulator, ``args.jobs`` stacks at a time, longest first
    (scenarios, then size) so the longest never starts last; one line per stack as it ends."""

    def one(directory: Path) -> StackRun:
        harness = StackHarness(
            directory,
            emulator=emulator,
            binary=binary,
            environ=environ,
            entries=entries,
            verbose=args.verbose,
            upgrade=None if args.no_scenarios else UPGRADES.get(directory.name),
            rebuild=not args.no_scenarios and directory.name in REBUILDS,
        )
        run = harness.execute()
        print(run.line(), flush=True)
        if run.unprotected:
            print(f"  protection lifted by the emulator override only: {', '.join(run.unprotected)}")
        for problem in run.problems:
            print(f"  !! {problem}")
        return run

    ordered = sorted(stack_dirs, key=lambda d: (d.name not in REBUILDS and d.name not in UPGRADES, -_resource_count(d)))
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        return sorted(pool.map(one, ordered), key=lambda r: r.stack)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # A SIGTERM (CI cancelling, `timeout`) unwinds like Ctrl-C, so the emulator is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    entries = load_entries()
    problems = check_patches(entries)
    try:
        binary, environ, source = prepare(VALIDATE_PROVIDER)
    except TerraformUnavailableError as error:
        print(f"e2e: {error}", file=sys.stderr)
        return 1
    shutil.rmtree(WORKDIR, ignore_errors=True)
    stack_dirs = synthesize(WORKDIR / "out")
    all_stacks = {d.name for d in stack_dirs}
    stack_dirs = _selected(stack_dirs, args.stacks)
    print(f"e2e: {len(stack_dirs)} stack(s) for AWS provider {VALIDATE_PROVIDER} against moto ({source.how})")
    try:
        with Emulator(WORKDIR) as emulator:
            print(
                f"e2e: emulator on {emulator.endpoint} (pid {emulator.process.pid if emulator.process else '?'}), "
                f"{len(emulator_server.PATCHES)} runtime patch(es): {', '.join(emulator_server.PATCHES)}"
            )
            runs = _run_stacks(stack_dirs, emulator, args, binary=binary, environ=environ, entries=entries)
            refused = Counter(f"{e['operation'] or e['path']} {e['status']}" for e in emulator.errors())
            replayed = Counter(e["operation"] or e["path"] for e in emulator.replays())
    except EmulatorUnavailableError as error:
        print(f"e2e: {error}", file=sys.stderr)
        return 1
    problems += stale_entries(entries, runs, all_stacks)
    # Every problem again at the end, where a CI log's tail shows it.
    problems = [f"{r.stack}: {p}" for r in runs for p in r.problems] + problems
    for problem in problems:
        print(f"!! {problem}")
    if problems and refused:
        print("emulator refused: " + ", ".join(f"{k} x{n}" for k, n in refused.most_common(12)))
    # Answers the provider's client lost on loopback and got again on its retry (emulator_server.ErrorLog).
    print(
        f"e2e: {replayed.total()} answer(s) replayed to a retry: "
        + (", ".join(f"{k} x{n}" for k, n in replayed.most_common()) or "none")
    )
    failed = bool(problems)
    print(f"e2e: {'FAILED' if failed else 'passed'}: {len(runs)} stack(s) in {time.perf_counter() - started:.0f}s")
    if not args.keep and not failed:
        shutil.rmtree(WORKDIR / "out", ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
