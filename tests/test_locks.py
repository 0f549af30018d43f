"""Locked dependencies: each requirements*.in (the human-edited top-level pins) has a requirements*.txt
written by `make lock` (pip-compile), in which every package is pinned with its hashes; and Dependabot
watches every place that holds pins. A pin edited in a .in without re-locking fails here."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from tests import conftest

ROOT = Path(__file__).resolve().parent.parent
INPUTS = sorted(ROOT.glob("requirements*.in"))
LOCKS = sorted(ROOT.glob("requirements*.txt"))
# `name==version` or `name[extras]==version`, at the start of a requirement line.
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\#]+)")
HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


def canonical(name: str) -> str:
    """A project name as PyPI compares names (PEP 503): case and runs of ``-_.`` do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """A .in file's top-level requirements, by canonical name; each must be an exact ``==`` pin."""
    pins = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        requirement = line.split("#", 1)[0].strip()
        if not requirement:
            continue
        match = PIN.match(requirement)
        problem = f"{path.name}:{number}: pin exactly (name==version): {line}"
        assert match, problem
        assert match.end() == len(requirement), problem
        pins[canonical(match["name"])] = match["version"]
    return pins


@dataclass
class Locked:
    """One package of a lock: its version, hashes and what requires it (``# via``)."""

    version: str
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)


def read_lock(path: Path) -> tuple[str, dict[str, Locked]]:
    """A pip-compile lock: its header (the leading comment block) and its packages by canonical name.
    Any line that is neither a pin, a hash of the pin above nor a comment fails here."""
    lines = path.read_text().splitlines()
    header_end = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    header = "\n".join(lines[:header_end])
    packages: dict[str, Locked] = {}
    current: Locked | None = None
    in_via = False
    for number, line in enumerate(lines[header_end:], start=header_end + 1):
        text = line.strip().removesuffix("\\").strip()
        where = f"{path.name}:{number}"
        if not text:
            continue
        if text.startswith("# via"):
            assert current is not None, f"{where}: '# via' before any pin"
            parents = text.removeprefix("# via").strip()
            current.via.extend([parents] if parents else [])
            in_via = True
        elif text.startswith("#") and in_via and line.startswith("    #   "):
            assert current is not None
            current.via.append(text.removeprefix("#").strip())
        elif text.startswith("#"):
            in_via = False
        elif text.startswith("--hash="):
            assert current is not None, f"{where}: a hash must follow its pin"
            assert not in_via, f"{where}: a hash must follow its pin"
            assert HASH.match(text), f"{where}: not a sha256 hash: {text}"
            current.hashes.append(text)
        else:
            match = PIN.match(text)
            problem = f"{where}: every line is `name==version \\` then hashes: {line}"
            assert match, problem
            assert match.end() == len(text), problem
            name = canonical(match["name"])
            assert name not in packages, f"{where}: {name} is pinned twice"
            current = packages[name] = Locked(match["version"])
            in_via = False
    return header, packages


def lock_problems(requirements_in: Path, requirements_txt: Path) -> list[str]:
    """Why ``requirements_txt`` is not the current lock of ``requirements_in`` (empty: it is)."""
    problems = []
    pins = read_pins(requirements_in)
    header, locked = read_lock(requirements_txt)
    command = re.search(r"^#\s+pip-compile (.*)$", header, re.MULTILINE)
    options = command[1].split() if command else []
    if not (
        options[-1:] == [requirements_in.name]
        and {"--generate-hashes", f"--output-file={requirements_txt.name}"} <= set(options)
    ):
        problems.append(f"{requirements_txt.name}: not written by `pip-compile --generate-hashes "
                        f"--output-file={requirements_txt.name} ... {requirements_in.name}` (`make lock`)")  # fmt: skip
    if "pip-compile with Python 3.11" not in header:
        problems.append(f"{requirements_txt.name}: not locked with Python 3.11")
    for name, version in sorted(pins.items()):
        if name not in locked:
            problems.append(f"{name}=={version} is in {requirements_in.name} but not in {requirements_txt.name}")
        elif locked[name].version != version:
            problems.append(
                f"{name}: {requirements_in.name} pins {version}, {requirements_txt.name} has {locked[name].version}"
            )
    direct = f"-r {requirements_in.name}"
    for name, package in sorted(locked.items()):
        if not package.hashes:
            problems.append(f"{requirements_txt.name}: {name} has no --hash")
        if direct in package.via and name not in pins:
            problems.append(f"{name} is locked as a pin of {requirements_in.name}, which no longer has it")
        if not package.via:
            problems.append(f"{requirements_txt.name}: {name} says nothing requires it (no '# via')")
        for parent in package.via:
            if not parent.startswith(("-r ", "-c ")) and canonical(parent) not in locked:
                problems.append(f"{requirements_txt.name}: {name} is required by {parent}, which is not locked")
    return problems


def test_every_requirements_in_has_its_lock_and_every_lock_its_in() -> None:
    assert INPUTS, "no requirements*.in"
    assert [p.with_suffix(".txt") for p in INPUTS] == LOCKS, "run `make lock`"


@pytest.mark.parametrize("requirements_in", INPUTS, ids=[p.name for p in INPUTS])
def test_the_lock_is_current_and_hashed(requirements_in: Path) -> None:
    problems = lock_problems(requirements_in, requirements_in.with_suffix(".txt"))
    assert problems == [], "\n".join([*problems, "edit the .in, then `make lock`"])


# The check itself: what it must catch in a copy of requirements.in and its lock.


@pytest.fixture
def project_lock(tmp_path: Path) -> tuple[Path, Path]:
    requirements_in, requirements_txt = tmp_path / "requirements.in", tmp_path / "requirements.txt"
    requirements_in.write_text((ROOT / "requirements.in").read_text())
    requirements_txt.write_text((ROOT / "requirements.txt").read_text())
    assert lock_problems(requirements_in, requirements_txt) == []
    return requirements_in, requirements_txt


def test_fails_when_a_pin_is_edited_without_relocking(project_lock: tuple[Path, Path]) -> None:
    requirements_in, requirements_txt = project_lock
    requirements_in.write_text(requirements_in.read_text().replace("pydantic==2.14.3", "pydantic==2.14.4"))
    assert lock_problems(requirements_in, requirements_txt) == [
        "pydantic: requirements.in pins 2.14.4, requirements.txt has 2.14.3"
    ]


def test_fails_when_a_pin_is_added_or_removed_without_relocking(project_lock: tuple[Path, Path]) -> None:
    requirements_in, requirements_txt = project_lock
    text = requirements_in.read_text().replace("ruff==0.17.5\n", "") + "boto3==1.44.8\n"
    requirements_in.write_text(text)
    assert lock_problems(requirements_in, requirements_txt) == [
        "boto3==1.44.8 is in requirements.in but not in requirements.txt",
        "ruff is locked as a pin of requirements.in, which no longer has it",
    ]


def test_fails_when_a_lock_line_is_unhashed_or_unpinned(project_lock: tuple[Path, Path]) -> None:
    requirements_in, requirements_txt = project_lock
    text = requirements_txt.read_text()
    unhashed = re.sub(r"(tzdata==2026\.6) \\\n(\s+--hash=\S+ \\\n)*\s+--hash=\S+\n", r"\1\n", text)
    assert unhashed != text
    requirements_txt.write_text(unhashed)
    assert lock_problems(requirements_in, requirements_txt) == ["requirements.txt: tzdata has no --hash"]
    requirements_txt.write_text(text.replace("six==1.17.0", "six>=1.17.0"))
    with pytest.raises(AssertionError, match=r"requirements.txt:\d+: every line is `name==version"):
        lock_problems(requirements_in, requirements_txt)


# --- Dependabot ------------------------------------------------------------------------------------

DEPENDABOT = ROOT / ".github" / "dependabot.yml"
_NOT_SOURCE = {"node_modules", "cdktf.out", "build", "terraform.state", "__pycache__"}


def _directories_holding(*patterns: str) -> set[str]:
    """Repository directories (as Dependabot names them: ``/``, ``/sub``) holding a file matching a pattern."""
    found = set()
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [d for d in subdirectories if d not in _NOT_SOURCE and not d.startswith(".")]
        if any(Path(f).match(p) for f in files for p in patterns):
            relative = Path(directory).relative_to(ROOT).as_posix()
            found.add("/" if relative == "." else f"/{relative}")
    return found


def _watched() -> dict[str, set[str]]:
    config = yaml.safe_load(DEPENDABOT.read_text())
    assert config["version"] == 2
    watched: dict[str, set[str]] = {}
    for update in config["updates"]:
        directories = update.get("directories") or [update["directory"]]
        watched.setdefault(update["package-ecosystem"], set()).update(d.rstrip("/") or "/" for d in directories)
        assert update["schedule"]["interval"] == "weekly", update["package-ecosystem"]
    return watched


def test_dependabot_watches_every_place_that_holds_pins() -> None:
    watched = _watched()
    assert _directories_holding("requirements*.in") <= watched.get("pip", set())
    assert _directories_holding("package.json") <= watched.get("npm", set())
    assert list((ROOT / ".github" / "workflows").glob("*.yml"))
    actions = {"/"} | {f"/{p.parent.relative_to(ROOT)}" for p in ROOT.glob(".github/actions/*/action.y*ml")}
    assert actions <= watched.get("github-actions", set())
    assert set(watched) == {"pip", "npm", "github-actions"}, "an ecosystem the project does not use"


def test_a_pytest_on_which_xdist_ignores_the_groups_stops_the_run() -> None:
    # pytest 9.2 with pytest-xdist 3.8: the worker's group suffix never reaches the node id, so every
    # worker would synthesize every environment (pytest-xdist#1386). tests/conftest.py says so instead.
    item = SimpleNamespace(nodeid="tests/test_stack.py::test_x")
    session = SimpleNamespace(config=SimpleNamespace(option=SimpleNamespace(loadgroup=True)), items=[item])
    with pytest.raises(pytest.UsageError, match=r"ignores the xdist_group marks .*pytest-xdist#1386"):
        conftest.pytest_collection_finish(session)
    item.nodeid += "@stacks"  # what pytest 9.1 lets xdist write
    conftest.pytest_collection_finish(session)
    session.config.option.loadgroup = False  # not under xdist's loadgroup: nothing to check
    item.nodeid = "tests/test_stack.py::test_x"
    conftest.pytest_collection_finish(session)
