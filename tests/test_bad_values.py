"""Values that pass a schema's shape but that AWS (or a module, or Terraform's backend) would refuse
later: each is one clean load error naming the file, the field, the value and what is allowed (tier 1).
What only the account knows (the AZs and instance types a region offers it) is a Terraform precondition
that names the setting; those are checked on the synthesized JSON (tiers 2 and 3)."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cdktf import App

from config import parse_environment, regions
from config.base import PLATFORM_TAG_KEYS, RESOURCE_TAGS_MAX, tags_per_resource
from config.cache import NODE_TYPES
from config.database import BURSTABLE_FAMILIES, MEMORY_FAMILIES, instance_class_sizes, max_connections
from config.network import NetworkConfig
from modules import Network
from modules.block import Naming
from stacks import PlatformStack
from tests.config_check import Data, fails, parse
from tests.synth import Json, only, resources, synth_construct, synth_stack

ROOT = Path(__file__).resolve().parent.parent
KEY_ID = "0f9e8d7c-6b5a-4c3d-9e2f-1a2b3c4d5e6f"
S3_BACKEND = {"type": "s3", "bucket": "netflux-state"}
CLOUD_BACKEND = {"type": "cloud", "organization": "netflux"}


def dev_with(env_data: dict[str, Data], path: str, value: Any) -> Data:
    """The dev file with the setting at dotted ``path`` replaced by ``value``."""
    data = env_data["dev"]
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return data


def backend(env_data: dict[str, Data], base: Data, **fields: Any) -> Data:
    return dev_with(env_data, "backend", {**base, **fields})


# --- the region and its availability zones ------------------------------------------------------------

REGION_ALLOWED = r"must be an AWS region such as us-east-1, eu-west-1 or ap-southeast-2"


@pytest.mark.parametrize("region", ["eu-west-9", "us-east-7", "cn-north-9", "us-gov-central-1", "aws-global"])
def test_fails_when_the_region_does_not_exist(env_data: dict[str, Data], region: str) -> None:
    fails(dev_with(env_data, "region", region), rf"region = '{region}': {REGION_ALLOWED}")


@pytest.mark.parametrize("partition", [pytest.param(p, id=p.name) for p in regions.partitions()])
def test_accepts_a_region_of_every_partition(env_data: dict[str, Data], partition: regions.Partition) -> None:
    region = min(partition.regions)
    data = dev_with(env_data, "region", region)
    data["network"]["availability_zones"] = [f"{region}a", f"{region}b"]

    assert parse(data).region == region
    assert regions.partition_of(region) == partition.name


def test_china_regions_belong_to_the_aws_cn_partition() -> None:
    assert (regions.partition_of("cn-north-1"), regions.partition_of("cn-northwest-1")) == ("aws-cn", "aws-cn")
    assert regions.partition_of("us-gov-west-1") == "aws-us-gov"
    assert regions.partition_of("eu-west-9") is None


@pytest.mark.parametrize(
    ("zones", "index", "message"),
    [
        (["euw1-az1", "euw1-az2"], 0, r"must be an availability zone name such as eu-west-1a, not an AZ ID: .*"),
        (["eu-west-1a", "eu-west-1"], 1, r"must be an availability zone name: the region's name and a letter, .*"),
        (["eu-west-1a", "eu-west-1-b"], 1, r"must be an availability zone name: the region's name and a letter, .*"),
        (["eu-west-1a", "us-east-1b"], 1, r"must be an availability zone of eu-west-1, like eu-west-1a"),
    ],
)
def test_fails_when_an_availability_zone_is_not_one_of_the_region(
    env_data: dict[str, Data], zones: list[str], index: int, message: str
) -> None:
    fails(
        dev_with(env_data, "network.availability_zones", zones),
        rf"network\.availability_zones\[{index}\] = '{zones[index]}': {message}",
    )


def test_fails_when_more_availability_zones_are_listed_than_any_region_has(env_data: dict[str, Data]) -> None:
    zones = [f"eu-west-1{letter}" for letter in "abcdefg"]
    fails(
        dev_with(env_data, "network.availability_zones", zones),
        r"network\.availability_zones = \[.*\]: must list at most 6 availability zones \(no region has more\), got 7",
    )


def test_an_availability_zone_the_region_lacks_is_left_to_the_plan(env_data: dict[str, Data]) -> None:
    # eu-west-1 has a, b and c; only the account's DescribeAvailabilityZones can say so (botocore cannot).
    data = dev_with(env_data, "network.availability_zones", ["eu-west-1a", "eu-west-1d"])
    assert parse(data).network.availability_zones == ["eu-west-1a", "eu-west-1d"]


# --- tags ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("aws:team", "platform", r"AWS would refuse tag key 'aws:team': any tag key: .*allocation-tag-restrictions.*"),
        ("AWS:Team", "platform", r"AWS would refuse tag key 'AWS:Team': any tag key: .*"),
        ("k" * 129, "v", r"AWS would refuse tag key 'k+': .*max 128 characters, got 129 \(shape TagKey\)"),
        ("team", "v" * 257, r"AWS would refuse tag 'team' value: .*max 256 characters, got 257 \(shape TagValue\)"),
        ("team", "a#b", r"AWS would refuse tag 'team' value: .*rejects '#' at index 1 \(shape TagValue\)"),
        ("team!", "platform", r"AWS would refuse tag key 'team!': .*rejects '!' at index 4 .*"),
        ("", "platform", r"AWS would refuse tag key '': .*min 1 characters, got 0 .*"),
        ("project", "other", r"is set by the platform \(project, environment, managed-by\); remove it"),
        ("Environment", "prod", r"differs from the tag 'environment' only in case: IAM treats tag keys .*"),
    ],
)
def test_fails_when_aws_would_refuse_a_tag(env_data: dict[str, Data], key: str, value: str, message: str) -> None:
    data = env_data["dev"]
    data["tags"] = {key: value}
    fails(data, rf"tags\.{re.escape(key)} = '{re.escape(value)}': {message}")


def test_fails_when_two_tags_differ_only_in_case(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["tags"] = {"Team": "platform", "team": "platform"}
    fails(data, r"tags\.team = 'platform': differs from the tag 'Team' only in case: .*")


def test_accepts_letters_of_any_script_in_tags(env_data: dict[str, Data]) -> None:
    data = env_data["dev"]
    data["tags"] = {"équipe": "Données clients", "コスト": "東京 1", "owner": "x@example.com:a/b=c+d-e_f.g"}
    assert parse(data).tags["équipe"] == "Données clients"


def room_for_tags() -> int:
    """How many tags [tags] may hold: AWS's limit less the platform's default tags and a resource's own."""
    return tags_per_resource() - len(PLATFORM_TAG_KEYS) - RESOURCE_TAGS_MAX


def test_fifty_tags_per_resource_fit_and_the_fifty_first_does_not(env_data: dict[str, Data]) -> None:
    assert tags_per_resource() == 50
    data = env_data["dev"]
    data["tags"] = {f"tag{i:02d}": "x" for i in range(room_for_tags())}
    assert len(parse(data).tags) + len(PLATFORM_TAG_KEYS) + RESOURCE_TAGS_MAX == 50

    data["tags"]["one-too-many"] = "x"
    fails(
        data,
        r"tags\.one-too-many = 'x': is tag 46 of 46; at most 45 fit: AWS allows 50 tags per resource, and every "
        r"resource also carries the platform's 3 \(project, environment, managed-by\) and up to 2 of its own "
        r"\(Name, and tier or service\)",
    )


def test_no_resource_sets_more_tags_of_its_own_than_the_tag_budget_leaves_room_for(
    synthesized: dict[str, Json], synthesized_examples: dict[str, Json]
) -> None:
    for name, document in {**synthesized, **synthesized_examples}.items():
        for resource_type, instances in document["resource"].items():
            for logical_id, body in instances.items():
                own = body.get("tags") or {}
                assert len(own) <= RESOURCE_TAGS_MAX, f"{name}: {resource_type}.{logical_id} sets {sorted(own)}"


# --- the state backend --------------------------------------------------------------------------------

KMS_ALLOWED = r"must be a KMS key as Terraform's S3 backend takes it: a key id .*"


@pytest.mark.parametrize(
    "key",
    [
        "not a key",
        # AWS's documentation example: not a UUID Terraform's backend accepts (its variant nibble is 5).
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        KEY_ID.upper(),
        "arn:aws:s3:::netflux-state",
        f"arn:aws:kms:eu-west-1:123456789012:key/{KEY_ID}/extra",
        "alias/state key",
        f"kms:{KEY_ID}",
    ],
)
def test_fails_when_the_state_kms_key_is_malformed(env_data: dict[str, Data], key: str) -> None:
    fails(backend(env_data, S3_BACKEND, kms_key_id=key), rf"backend\.kms_key_id = '{re.escape(key)}': {KMS_ALLOWED}")


@pytest.mark.parametrize(
    "key",
    [
        KEY_ID,
        "mrk-0f9e8d7c6b5a4c3d9e2f1a2b3c4d5e6f",
        "alias/terraform-state",
        "alias/aws/s3",
        f"arn:aws:kms:eu-west-1:123456789012:key/{KEY_ID}",
        "arn:aws:kms:eu-west-1:123456789012:alias/terraform-state",
        f"arn:aws-cn:kms:cn-north-1:123456789012:key/{KEY_ID}",
        f"arn:aws-iso-b:kms:us-isob-east-1:123456789012:key/{KEY_ID}",
    ],
)
def test_accepts_every_kms_key_form_terraforms_s3_backend_takes(env_data: dict[str, Data], key: str) -> None:
    assert parse(backend(env_data, S3_BACKEND, kms_key_id=key)).backend.kms_key_id == key  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("hostname", "message"),
    [
        (
            "https://app.terraform.io",
            r"must be a host name, not a URL: drop the scheme and path \('app\.terraform\.io'\)",
        ),
        (
            "https://tfe.example.com/app/",
            r"must be a host name, not a URL: drop the scheme and path \('tfe\.example\.com'\)",
        ),
        ("app.terraform.io/netflux", r"must be a host name such as app\.terraform\.io or tfe\.example\.com, .*"),
        ("tfe.example.com:99999", r"must be a host name such as app\.terraform\.io or tfe\.example\.com, .*"),
        ("terraform", r"must be a host name such as app\.terraform\.io or tfe\.example\.com, .*"),
        ("", r"must be a host name such as app\.terraform\.io or tfe\.example\.com, .*"),
    ],
)
def test_fails_when_the_cloud_hostname_is_not_a_host(env_data: dict[str, Data], hostname: str, message: str) -> None:
    fails(
        backend(env_data, CLOUD_BACKEND, hostname=hostname), rf"backend\.hostname = '{re.escape(hostname)}': {message}"
    )


def test_accepts_a_terraform_enterprise_host_with_a_port(env_data: dict[str, Data]) -> None:
    data = backend(env_data, CLOUD_BACKEND, hostname="tfe.example.com:8443")
    assert parse(data).backend.hostname == "tfe.example.com:8443"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        (
            {"locking": "dynamodb", "dynamodb_table": "terraform locks"},
            r"backend\.dynamodb_table = 'terraform locks': must be a DynamoDB table name: 3-255 letters, digits, "
            r"underscores, dots and hyphens",
        ),
        (
            {"locking": "dynamodb", "dynamodb_table": "tl"},
            r"backend\.dynamodb_table = 'tl': must be a DynamoDB table name: 3-255 .*",
        ),
        ({"bucket": "netflux..state"}, r"backend\.bucket = 'netflux\.\.state': must be a valid S3 bucket name: .*"),
        (
            {"bucket": "xn--netflux"},
            r"backend\.bucket = 'xn--netflux': must be a valid S3 bucket name: .*not starting with xn--.*",
        ),
        (
            {"bucket": "192.168.10.20"},
            r"backend\.bucket = '192\.168\.10\.20': must be a valid S3 bucket name: .*not an IP address.*",
        ),
        ({"bucket": "netflux-s3alias"}, r"backend\.bucket = 'netflux-s3alias': must be a valid S3 bucket name: .*"),
        ({"bucket": "Netflux-State"}, r"backend\.bucket = 'Netflux-State': must be a valid S3 bucket name: .*"),
        ({"region": "eu-west-9"}, rf"backend\.region = 'eu-west-9': {REGION_ALLOWED}"),
    ],
)
def test_fails_when_the_s3_backend_names_something_aws_refuses(
    env_data: dict[str, Data], fields: dict[str, str], line: str
) -> None:
    fails(backend(env_data, S3_BACKEND, **fields), line)


def test_accepts_a_bucket_name_with_a_double_hyphen_as_s3_does(env_data: dict[str, Data]) -> None:
    assert parse(backend(env_data, S3_BACKEND, bucket="netflux--state")).backend.bucket == "netflux--state"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fields", "line"),
    [
        (
            {"organization": "net flux"},
            r"backend\.organization = 'net flux': must be an HCP Terraform organization name: .*",
        ),
        (
            {"workspace": "netflux/dev"},
            r"backend\.workspace = 'netflux/dev': must be an HCP Terraform workspace name: 1-90 .*",
        ),
        ({"workspace": "w" * 91}, r"backend\.workspace = 'w+': must be an HCP Terraform workspace name: 1-90 .*"),
    ],
)
def test_fails_when_an_hcp_terraform_name_is_malformed(
    env_data: dict[str, Data], fields: dict[str, str], line: str
) -> None:
    fails(backend(env_data, CLOUD_BACKEND, **fields), line)


# --- instance classes and node types ------------------------------------------------------------------

DB_SHAPE = (
    r"must be an RDS instance class db\.<family>\.<size>, e\.g\. db\.t4g\.micro, db\.m7g\.large, db\.r6g\.2xlarge"
)
BURSTABLE = "micro, small, medium, large, xlarge, 2xlarge"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # The case: accepted by the old pattern, then unknown to the connections alarm.
        ("db.t4g.nano", rf"{DB_SHAPE}; db\.t4g comes in {BURSTABLE}"),
        ("db.t3.nano", rf"{DB_SHAPE}; db\.t3 comes in {BURSTABLE}"),
        ("db.m5.metal", rf"{DB_SHAPE}; db\.m5 comes in large, .*, 24xlarge"),
        (
            "db.m7g.24xlarge",
            rf"{DB_SHAPE}; db\.m7g comes in large, xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge",
        ),
        ("db.r6gd.medium", rf"{DB_SHAPE}; db\.r6gd comes in large, .*"),
        (
            "db.t2.micro",
            rf"{DB_SHAPE}; db\.t2 is not a current-generation RDS for PostgreSQL family: use one of t3, t4g, m5, .*",
        ),
        ("db.z9.large", rf"{DB_SHAPE}; db\.z9 is not a current-generation RDS for PostgreSQL family: .*"),
    ],
)
def test_fails_when_the_database_instance_class_does_not_exist(
    env_data: dict[str, Data], value: str, message: str
) -> None:
    fails(dev_with(env_data, "database.instance_class", value), rf"database\.instance_class = '{value}': {message}")


def test_fails_when_the_replica_instance_class_does_not_exist(env_data: dict[str, Data]) -> None:
    data = dev_with(env_data, "database.read_replica", {"enabled": True, "instance_class": "db.t4g.nano"})
    fails(data, rf"database\.read_replica\.instance_class = 'db\.t4g\.nano': {DB_SHAPE}; db\.t4g comes in .*")


def test_every_accepted_instance_class_has_the_memory_the_connections_alarm_needs() -> None:
    # One definition: the classes the schema accepts are exactly the classes whose memory is known.
    for family in (*BURSTABLE_FAMILIES, *MEMORY_FAMILIES):
        for size in instance_class_sizes(family):
            assert max_connections(f"db.{family}.{size}") > 0, f"db.{family}.{size}"


CACHE_SHAPE = r"must be an ElastiCache node type cache\.<family>\.<size>, e\.g\. cache\.t4g\.micro, cache\.r7g\.large"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "cache.t9.huge",
            rf"{CACHE_SHAPE}; cache\.t9 is not a current-generation ElastiCache family: use one of t3, .*",
        ),
        ("cache.t2.micro", rf"{CACHE_SHAPE}; cache\.t2 is not a current-generation ElastiCache family: .*"),
        ("cache.t4g.nano", rf"{CACHE_SHAPE}; cache\.t4g comes in micro, small, medium"),
        ("cache.t4g.large", rf"{CACHE_SHAPE}; cache\.t4g comes in micro, small, medium"),
        ("cache.r6gd.large", rf"{CACHE_SHAPE}; cache\.r6gd comes in xlarge, 2xlarge, .*"),
        ("cache.m5.8xlarge", rf"{CACHE_SHAPE}; cache\.m5 comes in large, xlarge, 2xlarge, 4xlarge, 12xlarge, 24xlarge"),
    ],
)
def test_fails_when_the_cache_node_type_does_not_exist(env_data: dict[str, Data], value: str, message: str) -> None:
    fails(dev_with(env_data, "cache.node_type", value), rf"cache\.node_type = '{value}': {message}")


@pytest.mark.parametrize(
    "node_type", [f"cache.{f}.{s}" for f, sizes in NODE_TYPES.items() for s in sizes[:1] + sizes[-1:]]
)
def test_accepts_current_generation_node_types(env_data: dict[str, Data], node_type: str) -> None:
    assert parse(dev_with(env_data, "cache.node_type", node_type)).cache.node_type == node_type  # type: ignore[union-attr]


# --- the report, end to end --------------------------------------------------------------------


@pytest.mark.slow
def test_a_class_the_alarm_cannot_size_stops_before_config_ok(tmp_path: Path) -> None:
    environments = tmp_path / "environments"
    environments.mkdir()
    dev = (ROOT / "environments" / "dev.toml").read_text()
    (environments / "dev.toml").write_text(dev.replace('"db.t4g.micro"', '"db.t4g.nano"'))
    result = subprocess.run(
        [sys.executable, "main.py", "--environments", str(environments), "--outdir", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "config OK" not in result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if "dev.toml" in line]
    assert re.search(r"dev\.toml: database\.instance_class = 'db\.t4g\.nano': .*db\.t4g comes in micro, ", line)


# --- plan time: what only the account knows ------------------------------------------------------------


def preconditions(body: Json) -> list[Json]:
    found: list[Json] = body.get("lifecycle", {}).get("precondition", [])
    return found


def test_the_vpc_plan_fails_when_the_region_does_not_offer_an_availability_zone() -> None:
    settings = NetworkConfig.model_validate(
        {"vpc_cidr": "10.0.0.0/16", "availability_zones": ["eu-west-1a", "eu-west-1b"]}
    )
    naming = Naming(project="test", environment="unit", region="eu-west-1")
    document = synth_construct(lambda stack: Network(stack, "network", settings=settings, naming=naming, key=None))
    [zones_id] = document["data"]["aws_availability_zones"]
    names = f"data.aws_availability_zones.{zones_id}.names"

    [check] = preconditions(only(document, "aws_vpc"))
    lookup = document["data"]["aws_availability_zones"][zones_id]
    # Exactly the configured names (an allow-list), in every state: impaired zones too.
    assert lookup["filter"] == [{"name": "zone-name", "values": ["eu-west-1a", "eu-west-1b"]}]
    assert "state" not in lookup
    assert check["condition"] == f'${{alltrue([contains({names}, "eu-west-1a"), contains({names}, "eu-west-1b")])}}'
    assert check["error_message"] == (
        "unit.toml: network.availability_zones = ['eu-west-1a', 'eu-west-1b']: eu-west-1 does not offer this account "
        f'${{join(", ", setsubtract(["eu-west-1a", "eu-west-1b"], {names}))}}; list the zones it offers with '
        "aws ec2 describe-availability-zones --region eu-west-1"
    )


def offered_check(document: Json, body: Json, instance_type: str) -> Json:
    """The body's precondition on ``instance_type``, after checking the lookup it reads filters on that type."""
    [check] = preconditions(body)
    found = re.fullmatch(
        rf'\$\{{contains\(data\.aws_ec2_instance_type_offerings\.(?P<id>[\w-]+)\.instance_types, "{instance_type}"\)\}}',
        check["condition"],
    )
    assert found, check["condition"]
    lookup = document["data"]["aws_ec2_instance_type_offerings"][found["id"]]
    assert lookup["location_type"] == "region"
    assert instance_type in lookup["filter"][0]["values"]
    return check


def test_the_database_and_cache_plans_fail_when_the_region_does_not_offer_their_instance_types(
    synthesized: dict[str, Json],
) -> None:
    prod = synthesized["prod"]
    instances = resources(prod, "aws_db_instance")
    primary = next(body for body in instances.values() if "replicate_source_db" not in body)
    replica = next(body for body in instances.values() if "replicate_source_db" in body)

    db_check = offered_check(prod, primary, "m7g.large")
    assert db_check["error_message"].startswith(
        "prod.toml: database.instance_class = 'db.m7g.large': eu-west-1 does not offer this account m7g.large, "
        "the EC2 instance type it runs on; choose one the region offers (aws rds describe-orderable-db-instance-options"
    )
    assert preconditions(replica) == []  # the primary's class, checked on the primary
    cache_check = offered_check(prod, only(prod, "aws_elasticache_replication_group"), "r7g.large")
    assert cache_check["error_message"].startswith(
        "prod.toml: cache.node_type = 'cache.r7g.large': eu-west-1 does not offer this account r7g.large, "
    )


@pytest.fixture(scope="module")
def china() -> Json:
    """dev in cn-north-1 with ALB access logs, on a class the old memory table lacked, with a replica of a
    class of its own."""
    data = tomllib.loads((ROOT / "environments" / "dev.toml").read_text())
    data["region"] = "cn-north-1"
    data["network"]["availability_zones"] = ["cn-north-1a", "cn-north-1b"]
    data["database"]["instance_class"] = "db.m6idn.large"
    data["database"]["read_replica"] = {"enabled": True, "instance_class": "db.t4g.small"}
    data["alb"]["access_logs"]["enabled"] = True  # its bucket policy names the region's log-delivery account
    config = parse_environment(data, source="environments/dev.toml", expected_name="dev")
    return synth_stack(PlatformStack(App(), config, backend="local"))


@pytest.mark.stack  # synthesizes a whole environment
def test_a_china_region_synthesizes_aws_cn_arns_only(china: Json) -> None:
    text = str(china)
    assert "arn:aws:" not in text
    # The ALB access-log writer of cn-north-1 is an account in the aws-cn partition.
    assert "arn:aws-cn:iam::638102146993:root" in text
    [check] = preconditions(only(china, "aws_vpc"))
    assert check["error_message"].startswith("dev.toml: network.availability_zones = ['cn-north-1a', 'cn-north-1b']: ")


@pytest.mark.stack  # synthesizes a whole environment
def test_a_replica_of_its_own_class_is_checked_on_the_replica(china: Json) -> None:
    replica = next(body for body in resources(china, "aws_db_instance").values() if "replicate_source_db" in body)
    check = offered_check(china, replica, "t4g.small")
    assert check["error_message"].startswith(
        "dev.toml: database.read_replica.instance_class = 'db.t4g.small': cn-north-1 does not offer this account "
    )


@pytest.mark.stack  # synthesizes a whole environment
def test_every_accepted_class_gets_its_connections_alarm_as_synthesized(china: Json) -> None:
    [alarm] = [
        body
        for body in resources(china, "aws_cloudwatch_metric_alarm").values()
        if body["metric_name"] == "DatabaseConnections"
    ]
    assert alarm["threshold"] == math.floor(max_connections("db.m6idn.large") * 80 / 100)
