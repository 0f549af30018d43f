"""One AWS account per environment: [account] (the guard and the provider's role) and
[backend.assume_role] load or fail (tier 1), the provider and backend constructs carry them (tier 2),
every shared environment's JSON carries the guard and the PR workflow plans each with its own role
(tier 3), and the emulator run checks the guard for real."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cdktf import App, TerraformStack

from config import ConfigError, EnvironmentConfig
from config.account import AccountConfig
from config.backends import S3BackendConfig
from modules import AwsProviders, state_backend
from modules.block import Naming
from tests.config_check import Data, fails, parse
from tests.synth import Json, synth_stack
from tools.emulator import EMULATOR_ROLE, provider_override

ROOT = Path(__file__).resolve().parent.parent
NAMING = Naming(project="netflux", environment="unit", region="eu-west-1")
DEV_ACCOUNT = "111122223333"
DEV_ROLE = f"arn:aws:iam::{DEV_ACCOUNT}:role/netflux-dev-deployer"
STATE_ROLE = "arn:aws:iam::999988887777:role/netflux-terraform-state"
EXTERNAL_ID = "Xk8-partner:4471/ops"  # an example; the tests check it never reaches an error line


@pytest.fixture
def dev(env_data: dict[str, Data]) -> Data:
    return env_data["dev"]


# --- tier 1: [account] and [backend.assume_role] load or fail ----------------------------------


def test_dev_declares_its_account(dev: Data) -> None:
    assert parse(dev).account == AccountConfig(id=DEV_ACCOUNT)


def test_a_role_loads_with_session_name_and_external_id(dev: Data) -> None:
    role = {"role_arn": DEV_ROLE, "session_name": "ci@netflux.example,run=42", "external_id": EXTERNAL_ID}
    dev["account"]["assume_role"] = role
    dev["backend"] = {"type": "s3", "bucket": "state-bucket", "assume_role": {"role_arn": STATE_ROLE}}
    config = parse(dev)
    assert config.account is not None
    assert config.account.assume_role is not None
    assert config.account.assume_role.external_id == EXTERNAL_ID
    assert isinstance(config.backend, S3BackendConfig)
    assert config.backend.assume_role is not None
    assert config.backend.assume_role.account_id == "999988887777"  # the state may live in any account


def test_account_is_optional(dev: Data) -> None:
    del dev["account"]
    assert parse(dev).account is None


ROLE = "account.assume_role"
BAD_ACCOUNT = [
    pytest.param({"id": "11112222333"}, r"account\.id = '11112222333': must be an AWS account id: exactly 12 digits, as a string", id="id-11-digits"),
    pytest.param({"id": "1111-2222-3333"}, r"account\.id = '1111-2222-3333': must be an AWS account id: .*", id="id-dashes"),
    pytest.param({"id": " 111122223333"}, r"account\.id = ' 111122223333': must be an AWS account id: .*", id="id-space"),
    pytest.param({"id": 111122223333}, r"account\.id = 111122223333: must be a string", id="id-unquoted"),
    pytest.param({"assume_role": {"role_arn": DEV_ROLE}}, r"account\.id: is required", id="id-missing"),
    pytest.param({"id": DEV_ACCOUNT, "role_arn": DEV_ROLE}, r"account\.role_arn = '.*': unknown key; allowed keys here: id, assume_role", id="role-arn-at-top"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": f"arn:aws:iam::{DEV_ACCOUNT}:user/deployer"}}, rf"{ROLE}\.role_arn = '.*:user/deployer': must be an IAM role ARN, arn:<partition>:iam::<12-digit account>:role/<path/><name>, e\.g\. .*", id="arn-a-user"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": "arn:aws:iam::1111:role/deployer"}}, rf"{ROLE}\.role_arn = 'arn:aws:iam::1111:role/deployer': must be an IAM role ARN, .*", id="arn-short-account"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": f"arn:aws:iam::{DEV_ACCOUNT}:role/"}}, rf"{ROLE}\.role_arn = '.*:role/': must be an IAM role ARN, .*", id="arn-no-name"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": f"arn:aws:iam::{DEV_ACCOUNT}:role/{'r' * 65}"}}, rf"{ROLE}\.role_arn = '.*': must be an IAM role ARN, .*", id="arn-name-too-long"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": "arn:aws:iam::444455556666:role/deployer"}}, rf"{ROLE}\.role_arn = 'arn:aws:iam::444455556666:role/deployer': must be a role in account {DEV_ACCOUNT}, the one account\.id names \(the providers refuse any other\); got one in 444455556666", id="role-in-another-account"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": f"arn:aws-cn:iam::{DEV_ACCOUNT}:role/deployer"}}, rf"{ROLE}\.role_arn = 'arn:aws-cn:.*': must be a role in partition aws, the partition of the environment's region eu-west-1; got one in aws-cn", id="role-in-another-partition"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": DEV_ROLE, "session_name": "x"}}, rf"{ROLE}\.session_name = 'x': must be 2-64 letters, digits and \+=,\.@_- \(an STS role session name\)", id="session-too-short"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": DEV_ROLE, "session_name": "s" * 65}}, rf"{ROLE}\.session_name = 's{{65}}': must be 2-64 letters, .*", id="session-too-long"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": DEV_ROLE, "session_name": "dev deploy"}}, rf"{ROLE}\.session_name = 'dev deploy': must be 2-64 letters, .*", id="session-space"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": DEV_ROLE, "session_name": "ops/dev"}}, rf"{ROLE}\.session_name = 'ops/dev': must be 2-64 letters, .*", id="session-slash"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": DEV_ROLE, "external_id": "x"}}, rf"{ROLE}\.external_id = <redacted>: must be 2-1224 letters, digits and \+=,\.@:/_- \(an STS external id; got 1 characters, not shown\)", id="external-id-too-short"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": DEV_ROLE, "external_id": "e" * 1225}}, rf"{ROLE}\.external_id = <redacted>: must be 2-1224 letters, .*got 1225 characters, not shown\)", id="external-id-too-long"),
    pytest.param({"id": DEV_ACCOUNT, "assume_role": {"role_arn": DEV_ROLE, "duration": "1h"}}, rf"{ROLE}\.duration = '1h': unknown key; allowed keys here: role_arn, session_name, external_id", id="unknown-role-key"),
]  # fmt: skip


@pytest.mark.parametrize(("account", "line"), BAD_ACCOUNT)
def test_fails_when_account_is_invalid(dev: Data, account: dict[str, Any], line: str) -> None:
    dev["account"] = account
    fails(dev, line)


def test_fails_without_echoing_an_invalid_external_id(dev: Data) -> None:
    dev["account"]["assume_role"] = {"role_arn": DEV_ROLE, "external_id": "partner id 4471"}
    fails(dev, rf"{ROLE}\.external_id = <redacted>: must be 2-1224 letters, .*")
    with pytest.raises(ConfigError) as caught:
        parse(dev)
    assert "4471" not in str(caught.value)


STATE = "backend.assume_role"
BAD_STATE_ROLE = [
    pytest.param({"role_arn": "arn:aws:iam::999988887777:group/state"}, rf"{STATE}\.role_arn = '.*:group/state': must be an IAM role ARN, .*", id="arn-a-group"),
    pytest.param({"role_arn": STATE_ROLE, "session_name": "state session"}, rf"{STATE}\.session_name = 'state session': must be 2-64 letters, .*", id="session-space"),
    pytest.param({"role_arn": STATE_ROLE, "external_id": "ext id"}, rf"{STATE}\.external_id = <redacted>: must be 2-1224 letters, .*", id="external-id-space"),
    pytest.param({"session_name": "state"}, rf"{STATE}\.role_arn: is required", id="arn-missing"),
]  # fmt: skip


@pytest.mark.parametrize(("role", "line"), BAD_STATE_ROLE)
def test_fails_when_the_state_role_is_invalid(dev: Data, role: dict[str, Any], line: str) -> None:
    dev["backend"] = {"type": "s3", "bucket": "state-bucket", "assume_role": role}
    fails(dev, line)


@pytest.mark.parametrize(
    ("bucket_region", "partition"), [("cn-north-1", "aws-cn"), (None, "aws")], ids=["own-region", "environment-region"]
)
def test_fails_when_the_state_role_is_outside_the_state_buckets_partition(
    dev: Data, bucket_region: str | None, partition: str
) -> None:
    role = "arn:aws-us-gov:iam::999988887777:role/state"
    dev["backend"] = {"type": "s3", "bucket": "state-bucket", "assume_role": {"role_arn": role}}
    if bucket_region:
        dev["backend"]["region"] = bucket_region
    fails(
        dev,
        rf"{STATE}\.role_arn = '{role}': must be a role in partition {partition}, the partition of the state bucket's "
        rf"region {bucket_region or 'eu-west-1'}; got one in aws-us-gov",
    )


def test_fails_when_local_state_is_given_a_role(dev: Data) -> None:
    dev["backend"] = {"type": "local", "assume_role": {"role_arn": STATE_ROLE}}
    fails(dev, r"backend\.assume_role = \{.*\}: unknown key; allowed keys here: type")


# --- tier 2: the constructs ----------------------------------------------------------------------


def synth_providers(account: AccountConfig | None) -> list[Json]:
    stack = TerraformStack(App(), "test")
    providers = AwsProviders(stack, naming=NAMING, account=account)
    providers.in_region("us-east-1")
    aws: list[Json] = synth_stack(stack)["provider"]["aws"]
    return aws


def test_every_provider_carries_the_guard_and_the_role() -> None:
    role = {"role_arn": DEV_ROLE, "session_name": "ci-run-42", "external_id": EXTERNAL_ID}
    default, aliased = synth_providers(AccountConfig(id=DEV_ACCOUNT, assume_role=role))  # type: ignore[arg-type]
    assert aliased["alias"] == "us-east-1"
    for provider in (default, aliased):
        assert provider["allowed_account_ids"] == [DEV_ACCOUNT]
        assert provider["assume_role"] == [role]


def test_the_session_is_named_after_the_stack_by_default() -> None:
    account = AccountConfig(id=DEV_ACCOUNT, assume_role={"role_arn": DEV_ROLE})  # type: ignore[arg-type]
    for provider in synth_providers(account):
        assert provider["assume_role"] == [{"role_arn": DEV_ROLE, "session_name": "netflux-unit"}]


def test_a_guard_without_a_role_uses_the_credentials_terraform_runs_with() -> None:
    for provider in synth_providers(AccountConfig(id=DEV_ACCOUNT)):
        assert provider["allowed_account_ids"] == [DEV_ACCOUNT]
        assert "assume_role" not in provider


def test_no_account_no_guard() -> None:
    for provider in synth_providers(None):
        assert not {"allowed_account_ids", "assume_role"} & set(provider)


def synth_s3_backend(settings: S3BackendConfig) -> Json:
    stack = TerraformStack(App(), "test")
    AwsProviders(stack, naming=NAMING)
    state_backend(stack, settings=settings, naming=NAMING)
    s3: Json = synth_stack(stack)["terraform"]["backend"]["s3"]
    return s3


def test_the_state_backend_assumes_its_own_role_in_the_nested_form() -> None:
    role = {"role_arn": STATE_ROLE, "external_id": EXTERNAL_ID}
    s3 = synth_s3_backend(S3BackendConfig(type="s3", bucket="state-bucket", assume_role=role))  # type: ignore[arg-type]
    assert s3["assume_role"] == {**role, "session_name": "netflux-unit"}
    # Terraform >= 1.6's assume_role object, not the deprecated top-level arguments.
    assert not {"role_arn", "session_name", "external_id"} & set(s3)


def test_the_state_backend_without_a_role_assumes_none() -> None:
    assert "assume_role" not in synth_s3_backend(S3BackendConfig(type="s3", bucket="state-bucket"))


# --- the emulator run checks the guard for real --------------------------------------------------


def test_the_emulator_keeps_the_guard_and_lands_in_the_expected_account() -> None:
    guarded = {"region": "eu-west-1", "allowed_account_ids": ["444455556666"]}
    document = {"provider": {"aws": [guarded, {**guarded, "alias": "us-east-1", "region": "us-east-1"}]}}
    for block in provider_override(document, {})["provider"]["aws"]:
        assert "allowed_account_ids" not in block  # not overridden: the stack's own guard applies
        assert block["assume_role"] == [
            {"role_arn": f"arn:aws:iam::444455556666:role/{EMULATOR_ROLE}", "session_name": EMULATOR_ROLE}
        ]


def test_the_emulator_assumes_the_stacks_own_role_and_nothing_for_an_unguarded_stack() -> None:
    own_role = {"region": "eu-west-1", "allowed_account_ids": [DEV_ACCOUNT], "assume_role": [{"role_arn": DEV_ROLE}]}
    unguarded = {"region": "eu-west-1"}
    for provider in (own_role, unguarded):
        [block] = provider_override({"provider": {"aws": [provider]}}, {})["provider"]["aws"]
        assert "assume_role" not in block
        assert "allowed_account_ids" not in block


# --- tier 3: every shared environment, and the PR workflow --------------------------------------


@pytest.fixture(scope="module")
def shared(environments: dict[str, EnvironmentConfig]) -> dict[str, EnvironmentConfig]:
    """The environments whose state is shared: the ones the PR workflow plans."""
    found = {name: config for name, config in environments.items() if config.backend.type != "local"}
    assert sorted(found) == ["prod", "staging"]
    return found


@pytest.mark.stack
def test_every_shared_environment_carries_the_account_guard(
    shared: dict[str, EnvironmentConfig], synthesized: dict[str, Json]
) -> None:
    accounts = {}
    for name, config in shared.items():
        assert config.account is not None, f"{name}: a shared environment must declare [account] id"
        providers = synthesized[name]["provider"]["aws"]
        assert {p.get("alias") for p in providers} == {None, "us-east-1"}
        for provider in providers:
            assert provider["allowed_account_ids"] == [config.account.id], (name, provider.get("alias"))
        accounts[name] = config.account.id
    assert len(set(accounts.values())) == len(accounts), f"one account per environment: {accounts}"


@pytest.mark.stack
def test_every_shared_environment_reaches_its_state_through_its_own_role(
    shared: dict[str, EnvironmentConfig], synthesized: dict[str, Json]
) -> None:
    roles = {name: synthesized[name]["terraform"]["backend"]["s3"]["assume_role"]["role_arn"] for name in shared}
    assert all(f"netflux-{name}-" in role for name, role in roles.items()), roles
    assert len(set(roles.values())) == len(roles)


def test_the_pr_workflow_plans_each_shared_stack_with_its_own_role(
    shared: dict[str, EnvironmentConfig],
) -> None:
    text = (ROOT / ".github" / "workflows" / "pull-request.yml").read_text()
    secrets = dict(re.findall(r"- stack: (\S+)\n\s+plan_role_secret: (\S+)", text))
    assert sorted(secrets) == sorted(config.stack_name for config in shared.values())
    assert len(set(secrets.values())) == len(secrets), secrets
    assert "role-to-assume: ${{ secrets[matrix.plan_role_secret] }}" in text
    assert "AWS_PLAN_ROLE_ARN }}" not in text  # no single role for every account
