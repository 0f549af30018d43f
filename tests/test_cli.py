"""The entry points users run: main.py, the cdktf CLI, the preflight of make diff/deploy.

These start subprocesses (a synth takes ~2 s; the full-provider-import one ~12 s).
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import provider_import
from config import environment_files, example_files, load_environment
from tests.memo import cached, files_digest, source_files
from tools import preflight
from tools.secret_scan import scan_text

pytestmark = pytest.mark.slow  # subprocess synths, the cdktf CLI and the full provider import
ROOT = Path(__file__).resolve().parent.parent
CDKTF = ROOT / "node_modules" / ".bin" / "cdktf"
STACKS = sorted(load_environment(path).stack_name for path in environment_files() + example_files())


def run(args: list[str], *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600
    )


def synth_main(outdir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    result = run([sys.executable, "main.py", "--backend", "local", "--outdir", str(outdir), *extra])
    assert result.returncode == 0, result.stderr
    return result


def assert_same_stacks(left: Path, right: Path) -> None:
    for stack in STACKS:
        a, b = left / "stacks" / stack / "cdk.tf.json", right / "stacks" / stack / "cdk.tf.json"
        assert a.is_file(), a
        assert b.is_file(), b
        assert filecmp.cmp(a, b, shallow=False), f"{stack} differs between {left} and {right}"


@pytest.fixture(scope="module")
def main_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One `main.py` synth of everything: its output directory and its log (stdout + stderr). It runs
    as `python main.py` does (runpy, as __main__), and on its way out lists the provider submodules
    it imported in <outdir>/../provider-modules.txt."""
    base = tmp_path_factory.mktemp("main.run")
    outdir, listing = base / "cdktf.out", base / "provider-modules.txt"
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['main.py', '--backend', 'local', '--outdir', {str(outdir)!r}]\n"
        "try:\n"
        "    runpy.run_path('main.py', run_name='__main__')\n"
        "finally:\n"
        f"    open({str(listing)!r}, 'w').write('\\n'.join(sorted(sys.modules)))\n"
    )
    result = run([sys.executable, "-c", code])
    assert result.returncode == 0, result.stderr
    return outdir, result.stdout + result.stderr


@pytest.fixture(scope="module")
def main_out(main_run: tuple[Path, str]) -> Path:
    outdir, log = main_run
    for stack in STACKS:  # one line per stack: name, resource count, seconds
        assert any(
            line.split()[:1] == [stack] and "resources" in line and line.endswith("s") for line in log.splitlines()
        ), log
    return outdir


def test_main_synthesizes_every_environment(main_out: Path) -> None:
    assert sorted(p.name for p in (main_out / "stacks").iterdir()) == STACKS


def test_synth_log_contains_no_secret(main_run: tuple[Path, str]) -> None:
    assert list(scan_text(main_run[1], "make synth")) == []


def test_cdktf_cli_synth_produces_the_same_stacks_as_make_synth(main_out: Path, tmp_path: Path) -> None:
    if not CDKTF.exists():
        pytest.fail("node_modules/.bin/cdktf is missing: run the suite through `make test`, which installs it")
    result = run(
        [str(CDKTF), "synth", "--output", str(tmp_path)], env={"PLATFORM_BACKEND": "local", "CHECKPOINT_DISABLE": "1"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert_same_stacks(main_out, tmp_path)


def test_partial_provider_import_gives_byte_identical_output(main_out: Path, tmp_path: Path) -> None:
    # The reference: a synth with the provider root imported first, which makes
    # provider_import.install() a no-op (the naive path). It depends only on the sources it reads,
    # so it is recomputed whenever one of them changes (tests/memo.py), and the current partial
    # import's output is compared against it every run.
    inputs = source_files(
        "main.py", "provider_import.py", "tools/lazy_provider.py", "requirements.txt", "package-lock.json",
        "config/*.py", "modules/*.py", "stacks/*.py", "environments/*.toml", "examples/*/*.toml",
    )  # fmt: skip

    def full_import_synth() -> dict[str, str]:
        code = (
            "import sys, runpy, cdktf_cdktf_provider_aws;"
            f"sys.argv = ['main.py', '--backend', 'local', '--outdir', {str(tmp_path)!r}];"
            "runpy.run_path('main.py', run_name='__main__')"
        )
        result = run([sys.executable, "-c", code])
        assert result.returncode == 0, result.stderr
        return {stack: (tmp_path / "stacks" / stack / "cdk.tf.json").read_text() for stack in STACKS}

    reference = cached("full-import-synth", files_digest(inputs), full_import_synth)
    assert sorted(reference) == STACKS
    for stack in STACKS:
        assert (main_out / "stacks" / stack / "cdk.tf.json").read_text() == reference[stack], stack


def test_synth_loads_only_the_provider_submodules_it_uses(main_out: Path) -> None:
    imported = (main_out.parent / "provider-modules.txt").read_text().split()
    loaded = {
        name.removeprefix("cdktf_cdktf_provider_aws.").split(".")[0]
        for name in imported
        if name.startswith("cdktf_cdktf_provider_aws.")
    }
    # Only what the project's code names (`from cdktf_cdktf_provider_aws.vpc import Vpc`), plus the
    # provider package's jsii runtime: nothing pulled in behind it (the full package has ~2200).
    named = {"_jsii"}
    for source in [ROOT / "main.py", *(ROOT / "modules").glob("*.py"), *(ROOT / "stacks").glob("*.py")]:
        named |= set(re.findall(r"^from cdktf_cdktf_provider_aws\.(\w+) import", source.read_text(), re.MULTILINE))
    assert "vpc" in loaded, "the synth imported no provider submodule: the comparison below would prove nothing"
    assert loaded <= named, f"imported without the project naming them: {sorted(loaded - named)}"


def test_bad_config_stops_before_anything_is_synthesized(tmp_path: Path) -> None:
    environments = tmp_path / "environments"
    environments.mkdir()
    good = (ROOT / "environments" / "dev.toml").read_text()
    (environments / "dev.toml").write_text(good.replace('region = "eu-west-1"', 'region = "eu-wst-1"'))
    outdir = tmp_path / "out"
    result = run([sys.executable, "main.py", "--environments", str(environments), "--outdir", str(outdir)])
    assert result.returncode == 2
    assert "dev.toml: region = 'eu-wst-1': must be an AWS region" in result.stderr
    assert "Traceback" not in result.stderr
    assert not outdir.exists()


def test_unknown_environment_is_rejected() -> None:
    result = run([sys.executable, "main.py", "--env", "qa"])
    assert result.returncode == 2
    assert "unknown environment(s) qa" in result.stderr


# --- preflight of make diff / make deploy --------------------------------------------------------


@pytest.fixture
def fake_terraform(tmp_path: Path) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    terraform = bin_dir / "terraform"
    terraform.write_text("#!/bin/sh\n")
    terraform.chmod(0o755)
    return str(bin_dir)


def test_preflight_explains_a_missing_terraform(tmp_path: Path) -> None:
    config = load_environment(ROOT / "environments" / "dev.toml")
    found = preflight.problem("deploy", config, {"PATH": str(tmp_path), "AWS_PROFILE": "x"}, tmp_path)
    assert found is not None
    assert found.startswith("make deploy needs the terraform CLI")


def test_preflight_explains_missing_aws_credentials(tmp_path: Path, fake_terraform: str) -> None:
    config = load_environment(ROOT / "environments" / "dev.toml")
    found = preflight.problem("diff", config, {"PATH": fake_terraform}, tmp_path)
    assert found is not None
    assert found.startswith("make diff needs AWS credentials")


@pytest.mark.parametrize(
    "environ",
    [
        {"AWS_PROFILE": "netflux-dev"},
        {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s"},
        {"AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ci"},
        {"SKIP_AWS_CREDENTIALS_CHECK": "1"},
    ],
)
def test_preflight_passes_with_terraform_and_any_credential_source(
    tmp_path: Path, fake_terraform: str, environ: dict[str, str]
) -> None:
    config = load_environment(ROOT / "environments" / "dev.toml")
    assert preflight.problem("deploy", config, {"PATH": fake_terraform, **environ}, tmp_path) is None


def test_preflight_accepts_a_shared_credentials_file(tmp_path: Path, fake_terraform: str) -> None:
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("[default]\n")
    config = load_environment(ROOT / "environments" / "dev.toml")
    assert preflight.problem("deploy", config, {"PATH": fake_terraform}, tmp_path) is None


def test_preflight_command_prints_one_line_and_fails(tmp_path: Path) -> None:
    result = run(
        [sys.executable, "-m", "tools.preflight", "deploy", "dev"], env={"PATH": str(tmp_path), "HOME": str(tmp_path)}
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "terraform CLI" in result.stderr


@pytest.mark.parametrize(
    ("name", "message"), [("", "set ENV to one of: dev, prod, staging"), ("qa", "unknown ENV='qa'")]
)
def test_preflight_requires_a_known_environment(name: str, message: str) -> None:
    result = run([sys.executable, "-m", "tools.preflight", "deploy", name])
    assert result.returncode == 1
    assert message in result.stderr


def test_preflight_maps_an_environment_to_its_stack() -> None:
    result = run([sys.executable, "-m", "tools.preflight", "stack", "prod"])
    assert result.returncode == 0
    assert result.stdout.strip() == "netflux-prod"


def _differences(left: object, right: object, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The paths at which two JSON documents differ (a key on one side only counts at its own path)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return {
            d for key in left.keys() | right.keys() for d in _differences(left.get(key), right.get(key), (*path, key))
        }
    return set() if left == right else {path}


def test_cdktf_cli_synth_hcl_writes_every_resource(main_out: Path, tmp_path: Path) -> None:
    # CDKTF's documented exit: `cdktf synth --hcl` has the app write HCL (cdk.tf) instead of JSON.
    result = run(
        [str(CDKTF), "synth", "--hcl", "--output", str(tmp_path)],
        env={"PLATFORM_BACKEND": "local", "CHECKPOINT_DISABLE": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for stack in STACKS:
        document = json.loads((main_out / "stacks" / stack / "cdk.tf.json").read_text())
        expected = {f'resource "{kind}" "{name}"' for kind, items in document["resource"].items() for name in items}
        hcl = (tmp_path / "stacks" / stack / "cdk.tf").read_text()
        written = set(re.findall(r'^resource "[\w-]+" "[\w-]+"', hcl, re.MULTILINE))
        assert written == expected, f"{stack}: {sorted(written ^ expected)[:5]}"


def test_cdk_terrain_output_differs_only_in_metadata_and_provider_pin(main_out: Path, tmp_path: Path) -> None:
    python = ROOT / ".venv-cdktn" / "bin" / "python"
    if not python.exists():
        message = ".venv-cdktn is missing (make test sets it up): the CDK Terrain comparison did not run"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = run([str(python), "main.py", "--backend", "local", "--outdir", str(tmp_path)], env={"TOOLCHAIN": "cdktn"})
    assert result.returncode == 0, result.stderr
    for stack in STACKS:
        cdktf = json.loads((main_out / "stacks" / stack / "cdk.tf.json").read_text())
        cdktn = json.loads((tmp_path / "stacks" / stack / "cdk.tf.json").read_text())
        assert _differences(cdktf, cdktn) <= {
            ("//", "metadata", "version"),
            ("terraform", "required_providers", "aws", "source"),  # "aws" and "hashicorp/aws": one address
            ("terraform", "required_providers", "aws", "version"),
        }, stack
        assert cdktn["//"]["metadata"]["version"] == "0.24.0"
        pin = cdktn["terraform"]["required_providers"]["aws"]
        assert pin["version"] == provider_import.TOOLCHAINS["cdktn"].aws_provider
        assert pin["source"] in ("aws", "hashicorp/aws")
        assert (
            cdktf["terraform"]["required_providers"]["aws"]["version"]
            == provider_import.TOOLCHAINS["cdktf"].aws_provider
        )


@pytest.mark.parametrize(
    ("toolchain", "message"),
    [
        ("bogus", "error: TOOLCHAIN='bogus': allowed: cdktf, cdktn"),
        ("cdktn", "error: TOOLCHAIN=cdktn: cdktn and cdktn_provider_aws not installed in "),
    ],
)
def test_a_toolchain_this_python_cannot_run_is_one_line(toolchain: str, message: str) -> None:
    # sys.executable is .venv's Python, which has CDKTF only.
    result = run([sys.executable, "main.py"], env={"TOOLCHAIN": toolchain})
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
