"""Bad input, tried as an attacker and a tired engineer would: every case ends in one clean error that
names the file (or the option), never a traceback and never exit 0; and a killed synth never leaves a
truncated or mixed output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import ConfigError, load_environment

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "environments" / "dev.toml"


def rejected(path: Path, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as error:
        load_environment(path)
    assert path.name in str(error.value)


# --- files that cannot be read as an environment ----------------------------------------------------


def test_fails_when_a_file_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "dev.toml"
    path.write_bytes(DEV.read_bytes() + "# caf\xe9 latin-1\n".encode("latin-1"))
    rejected(path, r"dev\.toml: is not UTF-8 text: byte 0xe9 at offset \d+")


def test_a_utf8_byte_order_mark_is_harmless(tmp_path: Path) -> None:
    path = tmp_path / "dev.toml"
    path.write_bytes(b"\xef\xbb\xbf" + DEV.read_bytes())
    assert load_environment(path).environment == "dev"


def test_fails_when_a_file_is_a_dangling_symlink(tmp_path: Path) -> None:
    path = tmp_path / "dev.toml"
    path.symlink_to(tmp_path / "gone.toml")
    rejected(path, r"dev\.toml: cannot be read: it does not exist")


def test_fails_when_a_directory_is_named_like_an_environment_file(tmp_path: Path) -> None:
    path = tmp_path / "dev.toml"
    path.mkdir()
    rejected(path, r"dev\.toml: is a directory")


def test_fails_when_tables_nest_pathologically_deep(tmp_path: Path) -> None:
    path = tmp_path / "dev.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"dev\.toml: ") as error:
        load_environment(path)
    assert "Traceback" not in str(error.value)


def test_fails_when_a_file_is_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "dev.toml"
    path.write_text('project = "netflux\n')
    rejected(path, r"dev\.toml: is not valid TOML")


# --- the command line --------------------------------------------------------------------------------


def synth(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--backend", "local", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "enviroments", r"--environments .*enviroments: no such directory"),
        (
            lambda tmp: (tmp / "file").write_text("x") and tmp / "file",
            r"--environments .*file: is a file, not a directory",
        ),
        (lambda tmp: tmp, r"--environments .*: holds no \*\.toml environment file"),
        (
            lambda tmp: (tmp / "dev.yaml").write_text("x: 1") and tmp,
            r"holds no \*\.toml environment file \(found: dev\.yaml\)",
        ),
    ],
)
def test_fails_when_the_environments_option_names_nothing_to_synthesize(
    tmp_path: Path, make: object, message: str
) -> None:
    directory = make(tmp_path)  # type: ignore[operator]
    result = synth("--environments", str(directory), "--outdir", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert __import__("re").search(message, result.stderr), result.stderr
    assert not (tmp_path / "out").exists()  # no manifest written for nothing


@pytest.mark.slow
def test_fails_when_the_outdirs_parent_does_not_exist(tmp_path: Path) -> None:
    result = synth("--outdir", str(tmp_path / "missing" / "out"))
    assert result.returncode == 2
    assert "its parent directory" in result.stderr
    assert "Traceback" not in result.stderr


# --- atomic output -------------------------------------------------------------------------------------


def stacks_of(outdir: Path) -> dict[str, dict[str, object]]:
    """Every stack file under ``outdir``, parsed (a truncated file fails json.loads)."""
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))}


@pytest.mark.slow
def test_a_killed_synth_leaves_the_previous_complete_output_or_none(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    environments = tmp_path / "environments"
    environments.mkdir()
    (environments / "dev.toml").write_text(DEV.read_text())
    started = time.perf_counter()
    first = synth("--environments", str(environments), "--outdir", str(outdir))
    duration = time.perf_counter() - started
    assert first.returncode == 0, first.stderr
    previous = stacks_of(outdir)
    # The killed runs differ (a tag), so a mix of old and new files would show.
    (environments / "dev.toml").write_text(DEV.read_text().replace('owner = "platform-team"', 'owner = "kill-test"'))
    for fraction in (0.7, 0.95):  # into the build, and into the write
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "--backend",
                "local",
                "--environments",
                str(environments),
                "--outdir",
                str(outdir),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(duration * fraction)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if outdir.exists():
            found = stacks_of(outdir)  # every file parses: none is truncated
            assert set(found) == {"netflux-dev"}
            owners = {doc["provider"]["aws"][0]["default_tags"][0]["tags"]["owner"] for doc in found.values()}  # type: ignore[index]
            assert owners <= {"platform-team", "kill-test"}
            assert json.loads((outdir / "manifest.json").read_text())
            previous = found
    assert previous
