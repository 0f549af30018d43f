"""`make bench`: median wall time and peak RSS of `make synth` vs a naive one-stack cdktf app, of
a synth of staging grown to 2, 60 and 200 services (is the growth per service linear?), and of a synth
of every environment on each toolchain (CDKTF and CDK Terrain, docs/toolchain.md).

Repetitions alternate (synth, naive, synth, naive, ...; 2, 60, 200, 2, 60, 200, ...) after one
unmeasured warm-up of each, so drift on the machine hits every side alike. Peak RSS is the largest
resident set of the process tree (python and its node child), from the rusage of the reaped child.

The scaled environments are environments/staging.toml plus generated services (``svc-003`` on
``/svc-003/*``, ...) with automatic rule priorities, written to a temporary directory and
synthesized with ``main.py --environments``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.35
SCALE_SIZES = (2, 60, 200)
# Largest size's time may exceed the straight line through the two smallest by this much.
LINEAR_TOLERANCE = 0.15
BASE_ENVIRONMENT = ROOT / "environments" / "staging.toml"


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss_mib: float


Command = list[str] | tuple[list[str], dict[str, str]]
"""An argument list, or one with the environment variables it runs with (added to this process's)."""


def run(command: Command) -> Sample:
    """Run ``command`` to completion (output discarded) and measure it."""
    args, env = command if isinstance(command, tuple) else (command, {})
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **env}
    )
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}):\n{stderr.decode(errors='replace')}")
    return Sample(elapsed, usage.ru_maxrss / 1024)  # ru_maxrss is KiB on Linux


def measure(commands: Mapping[str, Command], repetitions: int) -> dict[str, list[Sample]]:
    """Each command once unmeasured, then ``repetitions`` alternating rounds."""
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for command in commands.values():
        run(command)  # warm-up: bytecode caches, page cache
    for _ in range(repetitions):
        for name, command in commands.items():
            samples[name].append(run(command))
    return samples


def report(samples: Mapping[str, list[Sample]], repetitions: int) -> dict[str, float]:
    """Print one line per command; returns the median seconds by name."""
    medians = {name: statistics.median(s.seconds for s in runs) for name, runs in samples.items()}
    print(f"{'':32} {'median s':>9} {'min s':>7} {'max s':>7} {'peak RSS MiB':>13}  ({repetitions} alternating runs)")
    for name, runs in samples.items():
        seconds = [s.seconds for s in runs]
        peak = max(s.peak_rss_mib for s in runs)
        print(f"{name:32} {medians[name]:9.2f} {min(seconds):7.2f} {max(seconds):7.2f} {peak:13.0f}")
    return medians


def scaled_environment(directory: Path, services: int) -> Path:
    """``directory``/staging.toml: staging with ``services`` routed services in all, the generated ones
    with automatic rule priorities."""
    text = BASE_ENVIRONMENT.read_text()
    existing = len(tomllib.loads(text)["services"])
    if services < existing:
        raise SystemExit(f"staging already has {existing} services; cannot bench {services}")
    generated = [
        f'\n[services.svc-{index:03d}]\ncontainer_port = 8080\npath_patterns = ["/svc-{index:03d}/*"]\n'
        f'\n[services.svc-{index:03d}.task]\nimage_tag = "1.4.2"\n'
        for index in range(existing + 1, services + 1)
    ]
    directory.mkdir(parents=True)
    target = directory / BASE_ENVIRONMENT.name
    target.write_text(text + "".join(generated))
    return directory


def ratio_bench(scratch: str, repetitions: int) -> bool:
    commands: dict[str, Command] = {
        "make synth (all environments)": ["make", "--no-print-directory", "-s", "synth"],
        "naive app (1 empty stack)": [sys.executable, "-m", "tools.naive_app", scratch],
    }
    synth, naive = report(measure(commands, repetitions), repetitions).values()
    ratio = synth / naive
    verdict = "ok" if ratio <= TARGET_RATIO else f"ABOVE the {TARGET_RATIO} target"
    print(f"ratio make synth / naive app = {ratio:.2f} (target <= {TARGET_RATIO}: {verdict})")
    return ratio <= TARGET_RATIO


def toolchain_bench(scratch: Path, repetitions: int) -> bool:
    """Every environment synthesized on each toolchain, with the same code and config."""
    cdktn = ROOT / ".venv-cdktn" / "bin" / "python"
    if not cdktn.exists():
        print("toolchains: skipped, .venv-cdktn is missing (TOOLCHAIN=cdktn make setup)")
        return True
    synth = ("main.py", "--backend", "local", "--outdir")
    commands: dict[str, Command] = {
        "synth on CDKTF 0.21": (
            [str(ROOT / ".venv" / "bin" / "python"), *synth, str(scratch / "cdktf")],
            {"TOOLCHAIN": "cdktf"},
        ),
        "synth on CDK Terrain 0.24": ([str(cdktn), *synth, str(scratch / "cdktn")], {"TOOLCHAIN": "cdktn"}),
    }
    tf, tn = report(measure(commands, repetitions), repetitions).values()
    print(f"CDK Terrain / CDKTF = {tn / tf:.2f}")
    return True


def scale_bench(scratch: Path, sizes: list[int], repetitions: int) -> bool:
    commands: dict[str, Command] = {}
    for size in sizes:
        environments = scaled_environment(scratch / f"env-{size}", size)
        outdir = scratch / f"out-{size}"
        name = f"staging, {size} services"
        commands[name] = [
            *(sys.executable, "main.py", "--environments", str(environments)),
            *("--backend", "local", "--outdir", str(outdir)),
        ]
    medians = dict(zip(sizes, report(measure(commands, repetitions), repetitions).values(), strict=True))
    for low, high in pairwise(sizes):
        growth = (medians[high] - medians[low]) / (high - low)
        print(f"growth {low} -> {high} services: {growth * 1000:.0f} ms per service")
    if len(sizes) < 3:
        return True
    first, second, last = sizes[0], sizes[1], sizes[-1]
    slope = (medians[second] - medians[first]) / (second - first)
    linear = medians[first] + slope * (last - first)
    excess = medians[last] / linear - 1
    ok = excess <= LINEAR_TOLERANCE
    verdict = "linear" if ok else f"NOT linear (more than {LINEAR_TOLERANCE:.0%} above)"
    print(
        f"{last} services: {medians[last]:.2f} s vs {linear:.2f} s on the line through {first} and {second}: "
        f"{excess:+.0%} ({verdict})"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument(
        "--sizes",
        type=lambda text: sorted({int(n) for n in text.split(",")}),
        default=list(SCALE_SIZES),
        help="Service counts for the scale bench, comma-separated. Default: 2,60,200.",
    )
    parser.add_argument(
        "--only", choices=["ratio", "scale", "toolchains"], help="Run one of the three benches. Default: all."
    )
    args = parser.parse_args()

    ok = True
    with tempfile.TemporaryDirectory() as scratch:
        benches = {
            "ratio": lambda: ratio_bench(scratch, args.repetitions),
            "scale": lambda: scale_bench(Path(scratch), args.sizes, args.repetitions),
            "toolchains": lambda: toolchain_bench(Path(scratch), args.repetitions),
        }
        for index, name in enumerate([args.only] if args.only else list(benches)):
            if index:
                print()
            ok = benches[name]() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
