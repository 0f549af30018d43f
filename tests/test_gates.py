"""Tier 3 gates over every synthesized stack: no literal secret anywhere, checkov clean, snapshots current."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from config import EnvironmentConfig, environment_files, example_files
from tests.memo import cached
from tests.synth import Json
from tools import scan
from tools.secret_scan import scan_document, scan_text
from tools.snapshots import SNAPSHOTS, render

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def stacks(
    synthesized: dict[str, Json],
    synthesized_examples: dict[str, Json],
    environments: dict[str, EnvironmentConfig],
    example_environments: dict[str, EnvironmentConfig],
) -> dict[str, Json]:
    """Every synthesized stack (environments and examples), by stack name."""
    configs = {**environments, **example_environments}
    return {configs[env].stack_name: document for env, document in {**synthesized, **synthesized_examples}.items()}


# --- least privilege ---------------------------------------------------------------------------

# The one statement allowed every action of a service: a key policy's delegation to the account's IAM
# (modules/kms.py account_administers_key), which is what makes IAM policies decide who uses the key.
_DELEGATION = ("AccountAdministersKey", frozenset({"aws_kms_key", "aws_kms_replica_key"}))


def wildcard_grants(document: Json) -> list[str]:
    """Every Allow statement of every policy in ``document`` whose actions include ``*`` or ``<service>:*``."""
    found = []
    for resource_type, items in document.get("resource", {}).items():
        for logical_id, body in items.items():
            for field in ("policy", "assume_role_policy"):
                text = body.get(field)
                if not isinstance(text, str) or not text.startswith("{"):
                    continue
                for statement in json.loads(text).get("Statement", []):
                    actions = statement.get("Action", [])
                    actions = [actions] if isinstance(actions, str) else actions
                    if statement.get("Effect") != "Allow" or not any(a == "*" or a.endswith(":*") for a in actions):
                        continue
                    if (statement.get("Sid"), resource_type in _DELEGATION[1]) == (_DELEGATION[0], True):
                        continue
                    found.append(f"{resource_type}.{logical_id}.{field}: {statement.get('Sid')} {actions}")
    return found


def test_no_policy_allows_every_action_of_a_service(stacks: dict[str, Json]) -> None:
    policies = 0
    for stack, document in stacks.items():
        assert wildcard_grants(document) == [], stack
        policies += sum("policy" in body for items in document["resource"].values() for body in items.values())
    assert policies > 40  # the check read the stacks' policies, not nothing


def test_a_wildcard_grant_is_found() -> None:
    policy = {"Statement": [{"Effect": "Allow", "Action": ["sqs:*"], "Resource": "*"}]}
    document = {"resource": {"aws_iam_role_policy": {"p": {"policy": json.dumps(policy)}}}}
    assert wildcard_grants(document) == ["aws_iam_role_policy.p.policy: None ['sqs:*']"]
    # The same statement on a key, under another Sid, is not the delegation.
    key = {
        "resource": {
            "aws_kms_key": {"k": {"policy": json.dumps({"Statement": [{**policy["Statement"][0], "Sid": "X"}]})}}
        }
    }
    assert wildcard_grants(key) == ["aws_kms_key.k.policy: X ['sqs:*']"]


# --- secrets -------------------------------------------------------------------------------------


def test_no_stack_contains_a_literal_secret(stacks: dict[str, Json]) -> None:
    for stack, document in stacks.items():
        assert list(scan_document(document)) == [], stack


def test_no_config_file_contains_a_literal_secret() -> None:
    for path in environment_files() + example_files():
        assert list(scan_text(path.read_text(), path.name)) == []


@pytest.mark.parametrize(
    ("leak", "finding"),
    [
        ({"password": "hunter2hunter2"}, "literal value under a secret-like key"),
        ({"auth_token": "s3cr3t-t0ken-value"}, "literal value under a secret-like key"),
        ({"environment": [{"name": "X", "value": "AKIAIOSFODNN7EXAMPLE"}]}, "AWS access key id"),
        ({"user_data": "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."}, "private key"),
        ({"value": "postgres://admin:pa55word@db.internal:5432/app"}, "a password inside a postgres:// URL"),
        ({"token": "ghp_" + "a" * 36}, "literal value under a secret-like key"),
    ],
)
def test_the_secret_scan_catches_planted_secrets(leak: Json, finding: str) -> None:
    found = list(scan_document({"resource": {"aws_x": {"y": leak}}}))
    assert found, leak
    assert any(finding in f for f in found), found


def test_references_arns_and_flags_are_not_secrets() -> None:
    clean = {
        "master_password": "${aws_secretsmanager_secret_version.x.secret_string}",
        "secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf",
        "manage_master_user_password": True,
        "password_length": 64,
        "kms_key_id": "arn:aws:kms:eu-west-1:123456789012:key/1",
    }
    assert list(scan_document(clean)) == []


def test_the_text_scan_catches_a_secret_in_config() -> None:
    assert list(scan_text('[database]\nmaster_password = "hunter2"\n', "dev.toml")) == [
        "dev.toml:2: master_password has a literal value"
    ]


# --- checkov -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_checkov_finds_nothing_outside_the_reviewed_skip_list(stacks: dict[str, Json], tmp_path: Path) -> None:
    if not scan.CHECKOV.exists():
        pytest.fail("checkov is missing: run the suite through `make test`, which installs it")
    texts = {stack: json.dumps(document, indent=2) for stack, document in sorted(stacks.items())}
    for stack, text in texts.items():
        (tmp_path / stack).mkdir()
        (tmp_path / stack / "cdk.tf.json").write_text(text)
    # checkov's reports are a function of the stacks and checkov's pinned release: reused while both
    # are unchanged (tests/memo.py); the reviewed skip list is applied to them afresh every run.
    key = [*texts.keys(), *texts.values(), (ROOT / "requirements-checkov.txt").read_bytes()]
    report, sarif = cached("checkov", key, lambda: list(scan.run_checkov(tmp_path)))
    result = scan.apply(scan.load_skips(), *scan.findings(report))
    assert result.failures == [], scan.render(result)
    assert result.stale == [], scan.render(result)
    assert set(result.passed) == set(stacks)  # every stack was scanned
    assert scan.filter_sarif(sarif, result.skipped)["runs"][0]["results"] == []  # skipped findings are not uploaded


def test_every_skip_has_a_reason_and_a_known_check_id() -> None:
    for skip in scan.load_skips():
        assert skip.check.startswith("CKV")
        assert len(skip.reason.split()) >= 5


# --- snapshots -----------------------------------------------------------------------------------


def test_snapshots_match_the_synthesized_stacks(stacks: dict[str, Json]) -> None:
    assert sorted(p.stem for p in SNAPSHOTS.glob("*.json")) == sorted(stacks), "run `make snapshots`"
    for stack, document in stacks.items():
        expected = (SNAPSHOTS / f"{stack}.json").read_text()
        actual = render(document)
        if actual != expected:
            diff = "".join(
                difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "snapshot", "synth", n=2)
            )
            pytest.fail(f"{stack} changed; review the diff, then `make snapshots`:\n{diff[:6000]}")
