"""The synthesized JSON as Terraform reads it: one codebase for AWS provider 6.25.0 and 5.100.0, and
``terraform validate`` of every stack with the real provider plugin.

The validate tier needs terraform and the AWS provider (registry, ``TF_PROVIDER_MIRROR`` or a mirror
found offline: see tools/terraform.py). Without them it is skipped with one line saying why, except
under ``CI=true``, where it is required.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SynthOutput
from tests.memo import cached
from tools.review import diff_documents
from tools.terraform import (
    PROVIDER,
    Diagnostic,
    TerraformUnavailableError,
    Workspace,
    _one_init_at_a_time,
    _os_arch,
    prepare,
    terraform_version,
)
from tools.validate import VALIDATE_PROVIDER, validate_stacks

STACKS = ["dev", "staging", "prod", "beanstalk"]


def _without_version(document: dict[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in document.items() if k not in ("resource", "data", "//")}
    providers = rest["terraform"]["required_providers"]["aws"]
    rest["terraform"] = {**rest["terraform"], "required_providers": {"aws": {**providers, "version": "<v>"}}}
    return rest


@pytest.mark.parametrize("env", STACKS)
def test_provider_5_output_differs_only_in_the_version_and_the_proxys_authentication(
    env: str, synth_default: SynthOutput, synth_provider5: SynthOutput
) -> None:
    six, five = synth_default.documents[env], synth_provider5.documents[env]
    assert six["terraform"]["required_providers"]["aws"]["version"] == "6.25.0"
    assert five["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"
    assert _without_version(six) == _without_version(five)

    diff = diff_documents(env, six, five)
    touched = diff.added + diff.removed + list(diff.changed)
    assert all(address.split(".")[-1].startswith("database_proxy") for address in touched), touched
    proxies = six.get("resource", {}).get("aws_db_proxy", {})
    if not any(p.get("default_auth_scheme") == "IAM_AUTH" for p in proxies.values()):
        assert touched == []
        return
    # 6.x: end-to-end IAM. 5.x: one auth block per database user, each with a secret of its own.
    [(proxy_id, proxy6)] = proxies.items()
    proxy5 = five["resource"]["aws_db_proxy"][proxy_id]
    assert "auth" not in proxy6
    assert "default_auth_scheme" not in proxy5
    secrets = five["resource"]["aws_secretsmanager_secret"]
    assert len(proxy5["auth"]) >= 1
    for block in proxy5["auth"]:
        assert (block["auth_scheme"], block["iam_auth"]) == ("SECRETS", "REQUIRED")
        secret_id = block["secret_arn"].split(".")[1]
        assert secret_id in secrets, block
        assert secrets[secret_id]["kms_key_id"], block
    versions = five["resource"]["aws_secretsmanager_secret_version"]
    for version in versions.values():
        if version["secret_id"].split(".")[1] in {b["secret_arn"].split(".")[1] for b in proxy5["auth"]}:
            # Generated at apply time: only references, never a literal password.
            assert "random_password" in version["secret_string"]
            assert version["lifecycle"] == {"ignore_changes": ["secret_string"]}


def test_the_replica_names_its_source_by_arn(synth_default: SynthOutput) -> None:
    """With a DB subnet group set, the provider rejects a replica source that is not an ARN at plan time."""
    replicas = [
        body
        for document in synth_default.documents.values()
        for body in document.get("resource", {}).get("aws_db_instance", {}).values()
        if "replicate_source_db" in body
    ]
    assert replicas, "prod has a read replica"
    for replica in replicas:
        assert replica["replicate_source_db"].endswith(".arn}"), replica["replicate_source_db"]


def test_us_east_1_resources_use_the_aliased_provider_not_a_per_resource_region(synth_default: SynthOutput) -> None:
    aliased = 0
    for env, document in synth_default.documents.items():
        providers = document["provider"]["aws"]
        by_alias = {p.get("alias"): p for p in providers}
        for resource_type, items in document.get("resource", {}).items():
            for logical_id, body in items.items():
                assert "region" not in body, (env, resource_type, logical_id)
                if "provider" in body:
                    alias = body["provider"].removeprefix("aws.")
                    assert by_alias[alias]["region"] == "us-east-1"
                    assert by_alias[alias]["default_tags"] == by_alias[None]["default_tags"]
                    aliased += 1
    assert aliased >= 6, "the CloudFront WAF ACL, its logging and log group, the KMS replica and its alias"


# --- terraform validate -------------------------------------------------------------------------


def _terraform(what: str) -> tuple[str, dict[str, str]]:
    """The terraform binary and environment for the validate provider; without them ``what`` is
    skipped with one line saying why, except under ``CI=true``, where it fails."""
    try:
        binary, environ, _ = prepare(VALIDATE_PROVIDER)
    except TerraformUnavailableError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is required under CI=true: {error}")
        pytest.skip(f"{what} skipped: {error}")
    return binary, environ


@pytest.fixture(scope="session")
def validations(synth_provider5: SynthOutput) -> dict[str, list[Diagnostic]]:
    binary, environ = _terraform("terraform validate tier")
    version = terraform_version(binary)
    dirs = {env: synth_provider5.stack_dir(env) for env in STACKS}
    # Validate is a pure function of the stack's JSON and the terraform and provider releases: a
    # stack whose JSON did not change since its last validation reuses that result (tests/memo.py).
    keys = {env: [d.joinpath("cdk.tf.json").read_bytes(), version, VALIDATE_PROVIDER] for env, d in dirs.items()}
    fresh: dict[str, list[Diagnostic]] = {}

    def validate_all() -> None:
        results = validate_stacks(list(dirs.values()), binary=binary, environ=environ)
        fresh.update({env: result.diagnostics for env, result in zip(dirs, results, strict=True)})

    found = {}
    for env in STACKS:

        def compute(env: str = env) -> list[dict[str, str]]:
            if not fresh:
                validate_all()
            return [asdict(d) for d in fresh[env]]

        found[env] = [Diagnostic(**d) for d in cached("validate", keys[env], compute)]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("env", STACKS)
def test_terraform_validate_passes_with_the_real_provider(env: str, validations: dict[str, list[Diagnostic]]) -> None:
    errors = [d for d in validations[env] if d.severity == "error"]
    assert not errors, "\n".join(str(d) for d in errors)


def test_one_init_at_a_time_holds_the_plugin_cache_against_other_processes(tmp_path: Path) -> None:
    """Two inits that both find the shared plugin cache empty both install into it, and the second
    pulls the provider from under a stack the first one linked: the lock is held across processes."""
    probe = (
        "import fcntl, sys\n"
        f"with open({str(tmp_path / '.init.lock')!r}, 'a') as lock:\n"
        "    try:\n"
        "        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "    except BlockingIOError:\n"
        "        sys.exit(3)\n"
    )

    def other_process() -> int:
        return subprocess.run([sys.executable, "-c", probe], check=False).returncode

    with _one_init_at_a_time(str(tmp_path)):
        assert other_process() == 3
    assert other_process() == 0


@pytest.mark.slow
def test_init_in_a_new_directory_links_the_cached_provider_without_reinstalling_it(tmp_path: Path) -> None:
    """A new directory (no lock file) must not install the provider into the shared cache again: that
    replaces the cache entry under stacks already running plan or validate from it."""
    binary, environ = _terraform("plugin cache check")
    config = {"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": VALIDATE_PROVIDER}}}}
    entry = Path(environ["TF_PLUGIN_CACHE_DIR"], PROVIDER, VALIDATE_PROVIDER, _os_arch())

    def init(name: str) -> None:
        directory = tmp_path / name
        directory.mkdir()
        (directory / "main.tf.json").write_text(json.dumps(config))
        Workspace(directory, binary=binary, environ=environ).init()

    init("first")  # fills the cache when it is empty
    before = entry.lstat()
    init("second")
    after = entry.lstat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
