"""`make bench`: median wall time and peak RSS of `make synth` vs a naive one-stack cdktf app.

Repetitions alternate (synth, naive, synth, naive, ...) after one unmeasured warm-up of each, so
drift on the machine hits both sides alike. Peak RSS is the largest resident set of the process
tree (python and its node child), from the rusage of the reaped child.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.35


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss_mib: float


def run(command: list[str]) -> Sample:
    """Run ``command`` to completion (output discarded) and measure it."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr.decode(errors='replace')}")
    return Sample(elapsed, usage.ru_maxrss / 1024)  # ru_maxrss is KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        commands = {
            "make synth (all environments)": ["make", "--no-print-directory", "-s", "synth"],
            "naive app (1 empty stack)": [sys.executable, "-m", "tools.naive_app", scratch],
        }
        samples: dict[str, list[Sample]] = {name: [] for name in commands}
        for command in commands.values():
            run(command)  # warm-up: bytecode caches, page cache
        for _ in range(args.repetitions):
            for name, command in commands.items():
                samples[name].append(run(command))

    medians = {name: statistics.median(s.seconds for s in runs) for name, runs in samples.items()}
    print(
        f"{'':32} {'median s':>9} {'min s':>7} {'max s':>7} {'peak RSS MiB':>13}  ({args.repetitions} alternating runs)"
    )
    for name, runs in samples.items():
        seconds = [s.seconds for s in runs]
        peak = max(s.peak_rss_mib for s in runs)
        print(f"{name:32} {medians[name]:9.2f} {min(seconds):7.2f} {max(seconds):7.2f} {peak:13.0f}")
    synth, naive = medians.values()
    ratio = synth / naive
    verdict = "ok" if ratio <= TARGET_RATIO else f"ABOVE the {TARGET_RATIO} target"
    print(f"ratio make synth / naive app = {ratio:.2f} (target <= {TARGET_RATIO}: {verdict})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
