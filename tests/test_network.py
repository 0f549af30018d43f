"""The network: [network] loads or fails (tier 1), the construct on synthesized JSON (tier 2), and the
network of every synthesized environment (tier 3)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cdktf import TerraformStack

from config.kms import EncryptionConfig
from config.network import NetworkConfig
from modules import Network, PlatformKey
from modules.block import Naming
from tests.config_check import Data, fails, parse
from tests.synth import Json, only, ref, resources, synth_construct

AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
NAMING = Naming(project="test", environment="unit", region="eu-west-1")


def network_settings(**overrides: Any) -> NetworkConfig:
    """A /16 VPC over three AZs, its subnets carved: public 10.0.0.0/20, 10.0.16.0/20, 10.0.32.0/20;
    private-app from 10.0.80.0/20; private-data from 10.0.160.0/20."""
    return NetworkConfig.model_validate({"vpc_cidr": "10.0.0.0/16", "availability_zones": AZS, **overrides})


def synth_network(**overrides: Any) -> Json:
    settings = network_settings(**overrides)
    return synth_construct(lambda stack: Network(stack, "network", settings=settings, naming=NAMING, key=None))


@pytest.fixture(scope="module")
def default_network() -> Json:
    return synth_network(endpoints={"interface": ["ecr.api", "ecr.dkr", "logs", "secretsmanager"]})


def subnets_by_tier(document: Json) -> dict[str, list[Json]]:
    tiers: dict[str, list[Json]] = {}
    for subnet in resources(document, "aws_subnet").values():
        tiers.setdefault(subnet["tags"]["tier"], []).append(subnet)
    return tiers


def routes_of(document: Json, route_table_id: str) -> list[Json]:
    return [r for r in resources(document, "aws_route").values() if r["route_table_id"] == route_table_id]


def table_id_of_subnet(document: Json, subnet_logical_id: str) -> str:
    subnet_ref = f"${{aws_subnet.{subnet_logical_id}.id}}"
    [association] = [
        a for a in resources(document, "aws_route_table_association").values() if a["subnet_id"] == subnet_ref
    ]
    route_table_id: str = association["route_table_id"]
    return route_table_id


# --- the construct ---------------------------------------------------------------------------


def test_vpc_has_dns_support_and_hostnames(default_network: Json) -> None:
    vpc = only(default_network, "aws_vpc")
    assert vpc["cidr_block"] == "10.0.0.0/16"
    assert vpc["tags"]["Name"] == "test-unit"
    assert vpc["enable_dns_hostnames"] is True
    assert vpc["enable_dns_support"] is True


def test_each_tier_has_one_subnet_per_az_in_distinct_azs(default_network: Json) -> None:
    tiers = subnets_by_tier(default_network)
    assert set(tiers) == {"public", "private-app", "private-data"}
    for subnets in tiers.values():
        assert sorted(s["availability_zone"] for s in subnets) == AZS


def test_subnets_take_the_carved_cidrs_in_az_order(default_network: Json) -> None:
    cidrs = {
        tier: [s["cidr_block"] for s in sorted(subnets, key=lambda s: s["availability_zone"])]
        for tier, subnets in subnets_by_tier(default_network).items()
    }
    assert cidrs == {
        "public": ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"],
        "private-app": ["10.0.80.0/20", "10.0.96.0/20", "10.0.112.0/20"],
        "private-data": ["10.0.160.0/20", "10.0.176.0/20", "10.0.192.0/20"],
    }


def test_no_subnet_assigns_public_ips(default_network: Json) -> None:
    assert all(s["map_public_ip_on_launch"] is False for s in resources(default_network, "aws_subnet").values())


def test_public_tier_routes_to_the_internet_gateway(default_network: Json) -> None:
    [public_rt_id] = [
        k for k, v in resources(default_network, "aws_route_table").items() if v["tags"]["Name"].endswith("-public")
    ]
    routes = routes_of(default_network, f"${{aws_route_table.{public_rt_id}.id}}")
    assert [(r["destination_cidr_block"], r["gateway_id"].split(".")[0]) for r in routes] == [
        ("0.0.0.0/0", "${aws_internet_gateway")
    ]


def test_data_tier_has_no_route_to_the_internet(default_network: Json) -> None:
    data_subnets = [
        k for k, v in resources(default_network, "aws_subnet").items() if v["tags"]["tier"] == "private-data"
    ]
    assert len(data_subnets) == 3
    for logical_id in data_subnets:
        table = table_id_of_subnet(default_network, logical_id)
        assert routes_of(default_network, table) == [], "the data tier must only have the implicit local route"
    # ...and no inline routes either.
    assert all("route" not in rt for rt in resources(default_network, "aws_route_table").values())


@pytest.mark.parametrize(("strategy", "expected_nats"), [("none", 0), ("single", 1), ("per_az", 3)])
def test_nat_gateway_count_follows_the_strategy(strategy: str, expected_nats: int) -> None:
    document = synth_network(nat=strategy)
    nats = resources(document, "aws_nat_gateway")
    assert len(nats) == expected_nats
    assert len(resources(document, "aws_eip")) == expected_nats
    nat_routes = [r for r in resources(document, "aws_route").values() if "nat_gateway_id" in r]
    # Every private-app route table gets egress unless the strategy is none.
    assert len(nat_routes) == (0 if strategy == "none" else len(AZS))
    assert len({r["nat_gateway_id"] for r in nat_routes}) == expected_nats


def test_per_az_nat_keeps_each_az_on_its_own_gateway() -> None:
    document = synth_network(nat="per_az")
    nat_az = {
        f"${{aws_nat_gateway.{k}.id}}": next(
            s["availability_zone"]
            for sk, s in resources(document, "aws_subnet").items()
            if v["subnet_id"] == f"${{aws_subnet.{sk}.id}}"
        )
        for k, v in resources(document, "aws_nat_gateway").items()
    }
    for logical_id, subnet in resources(document, "aws_subnet").items():
        if subnet["tags"]["tier"] != "private-app":
            continue
        [route] = routes_of(document, table_id_of_subnet(document, logical_id))
        assert nat_az[route["nat_gateway_id"]] == subnet["availability_zone"]


def test_nat_gateways_live_in_public_subnets_and_wait_for_the_igw(default_network: Json) -> None:
    public_refs = {
        f"${{aws_subnet.{k}.id}}"
        for k, v in resources(default_network, "aws_subnet").items()
        if v["tags"]["tier"] == "public"
    }
    for nat in resources(default_network, "aws_nat_gateway").values():
        assert nat["subnet_id"] in public_refs
        assert any(d.startswith("aws_internet_gateway.") for d in nat["depends_on"])


def test_flow_logs_go_to_a_retained_log_group_through_a_scoped_role(default_network: Json) -> None:
    group_id, group = next(iter(resources(default_network, "aws_cloudwatch_log_group").items()))
    assert group["retention_in_days"] == 365
    flow_log = only(default_network, "aws_flow_log")
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination"] == f"${{aws_cloudwatch_log_group.{group_id}.arn}}"
    role = only(default_network, "aws_iam_role")
    trust = json.loads(role["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    policy = json.loads(only(default_network, "aws_iam_role_policy")["policy"])
    [statement] = policy["Statement"]
    assert set(statement["Resource"]) == {
        f"${{aws_cloudwatch_log_group.{group_id}.arn}}",
        f"${{aws_cloudwatch_log_group.{group_id}.arn}}:*",
    }
    assert "*" not in statement["Action"]


def test_flow_logs_can_be_turned_off() -> None:
    document = synth_network(flow_logs={"enabled": False})
    assert resources(document, "aws_flow_log") == {}
    assert resources(document, "aws_iam_role") == {}


def test_flow_logs_follow_the_settings_and_the_key() -> None:
    def build(stack: TerraformStack) -> None:
        key = PlatformKey(stack, "kms", settings=EncryptionConfig(), naming=NAMING)
        settings = network_settings(flow_logs={"retention_days": 30, "traffic_type": "REJECT"})
        Network(stack, "network", settings=settings, naming=NAMING, key=key)

    document = synth_construct(build)
    group = only(document, "aws_cloudwatch_log_group")
    assert group["retention_in_days"] == 30
    assert group["kms_key_id"] == ref(document, "aws_kms_key", only(document, "aws_kms_key"), "arn")
    assert only(document, "aws_flow_log")["traffic_type"] == "REJECT"


def test_default_security_group_is_taken_over_with_no_rules(default_network: Json) -> None:
    default_sg = only(default_network, "aws_default_security_group")
    assert default_sg["ingress"] == []
    assert default_sg["egress"] == []


def test_s3_gateway_endpoint_serves_the_private_route_tables(default_network: Json) -> None:
    [s3] = [e for e in resources(default_network, "aws_vpc_endpoint").values() if e["vpc_endpoint_type"] == "Gateway"]
    assert s3["service_name"] == "com.amazonaws.eu-west-1.s3"
    private_tables = {
        f"${{aws_route_table.{k}.id}}"
        for k, v in resources(default_network, "aws_route_table").items()
        if "private" in v["tags"]["Name"]
    }
    assert set(s3["route_table_ids"]) == private_tables
    assert len(private_tables) == len(AZS) + 1


def test_interface_endpoints_get_their_own_sg_allowing_https_from_the_vpc(default_network: Json) -> None:
    interface = [
        e for e in resources(default_network, "aws_vpc_endpoint").values() if e["vpc_endpoint_type"] == "Interface"
    ]
    services = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"]
    assert sorted(e["service_name"] for e in interface) == [f"com.amazonaws.eu-west-1.{s}" for s in services]
    sg_id = next(iter(resources(default_network, "aws_security_group")))
    for endpoint in interface:
        assert endpoint["private_dns_enabled"] is True
        assert endpoint["security_group_ids"] == [f"${{aws_security_group.{sg_id}.id}}"]
    rule = only(default_network, "aws_vpc_security_group_ingress_rule")
    assert (rule["from_port"], rule["to_port"], rule["cidr_ipv4"]) == (443, 443, "10.0.0.0/16")
    assert rule["description"]


def test_no_endpoints_when_disabled() -> None:
    document = synth_network(endpoints={"s3_gateway": False, "interface": []})
    assert resources(document, "aws_vpc_endpoint") == {}
    assert resources(document, "aws_security_group") == {}


def test_subnet_ids_are_keyed_by_az_so_adding_an_az_keeps_existing_ones() -> None:
    two = synth_network(availability_zones=AZS[:2], nat="per_az")
    three = synth_network(nat="per_az")
    for resource_type in ("aws_subnet", "aws_nat_gateway", "aws_route_table", "aws_route"):
        before, after = resources(two, resource_type), resources(three, resource_type)
        assert set(before) <= set(after), resource_type
        for logical_id, body in before.items():
            assert {k: v for k, v in body.items() if k != "//"} == {
                k: v for k, v in after[logical_id].items() if k != "//"
            }


# --- [network] loads or fails ----------------------------------------------------------------


@pytest.fixture
def dev(env_data: dict[str, Data]) -> Data:
    return env_data["dev"]


def explicit_subnets(dev: Data, **overrides: list[str]) -> None:
    subnets = {
        "public": ["10.10.0.0/24", "10.10.1.0/24"],
        "private_app": ["10.10.10.0/24", "10.10.11.0/24"],
        "private_data": ["10.10.20.0/24", "10.10.21.0/24"],
    }
    dev["network"]["subnets"] = {**subnets, **overrides}


def test_explicit_subnets_are_accepted(dev: Data) -> None:
    explicit_subnets(dev)
    assert parse(dev).network.subnet_cidrs()["private_app"] == ["10.10.10.0/24", "10.10.11.0/24"]


def test_network_defaults_are_the_highly_available_ones(dev: Data) -> None:
    dev["network"] = {"vpc_cidr": "10.10.0.0/16", "availability_zones": ["eu-west-1a", "eu-west-1b"]}
    network = parse(dev).network
    assert (network.nat, network.flow_logs.enabled, network.flow_logs.retention_days) == ("per_az", True, 365)
    assert (network.endpoints.s3_gateway, network.endpoints.interface) == (True, [])


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "10.0.0.1/16", "300.0.0.0/16", "banana"])
def test_fails_when_vpc_cidr_is_invalid(dev: Data, cidr: str) -> None:
    dev["network"]["vpc_cidr"] = cidr
    fails(dev, rf"network\.vpc_cidr = '{re.escape(cidr)}': vpc_cidr must be an IPv4 network in CIDR notation .*")


def test_fails_when_vpc_is_larger_than_aws_allows(dev: Data) -> None:
    dev["network"]["vpc_cidr"] = "10.0.0.0/8"
    fails(dev, r"network\.vpc_cidr = '10\.0\.0\.0/8': prefix must be between /16 and /24 .*got /8")


def test_fails_when_a_subnet_is_outside_the_vpc(dev: Data) -> None:
    explicit_subnets(dev, private_app=["10.10.10.0/24", "10.99.11.0/24"])
    fails(dev, r"network\.subnets\.private_app\[1\] = '10\.99\.11\.0/24': is outside the VPC CIDR 10\.10\.0\.0/16")


def test_fails_when_subnets_overlap(dev: Data) -> None:
    explicit_subnets(dev, private_data=["10.10.20.0/24", "10.10.1.128/25"])
    fails(
        dev,
        r"network\.subnets\.private_data\[1\] = '10\.10\.1\.128/25': overlaps 10\.10\.1\.0/24 at network\.subnets\.public\[1\]",
    )


def test_fails_when_a_subnet_cidr_is_malformed(dev: Data) -> None:
    explicit_subnets(dev, public=["10.10.0.0/24", "10.10.1.0/99"])
    fails(dev, r"network\.subnets\.public\[1\] = '10\.10\.1\.0/99': subnet CIDR must be an IPv4 network .*")


def test_fails_when_a_subnet_is_smaller_than_aws_allows(dev: Data) -> None:
    explicit_subnets(dev, public=["10.10.0.0/24", "10.10.1.0/29"])
    fails(dev, r"network\.subnets\.public\[1\] = '10\.10\.1\.0/29': /29 is smaller than AWS's minimum subnet size /28")


def test_fails_when_a_tier_has_the_wrong_number_of_subnets(dev: Data) -> None:
    explicit_subnets(dev, public=["10.10.0.0/24"])
    fails(dev, r"network\.subnets\.public = \['10\.10\.0\.0/24'\]: needs one CIDR per availability zone \(2\), got 1")


def test_fails_when_subnet_prefix_is_given_with_explicit_subnets(dev: Data) -> None:
    explicit_subnets(dev)
    dev["network"]["subnet_prefix_length"] = 24
    fails(dev, r"network\.subnet_prefix_length = 24: is only used when subnets are carved automatically; .*")


def test_fails_when_fewer_than_two_azs(dev: Data) -> None:
    dev["network"]["availability_zones"] = ["eu-west-1a"]
    fails(dev, r"network\.availability_zones = \['eu-west-1a'\]: needs at least 2 availability zones .*got 1")


def test_fails_when_an_az_is_not_in_the_region(dev: Data) -> None:
    dev["network"]["availability_zones"] = ["eu-west-1a", "us-east-1b"]
    fails(dev, r"network\.availability_zones\[1\] = 'us-east-1b': must be an availability zone of eu-west-1.*")


def test_fails_when_more_azs_than_subnets_can_be_carved(dev: Data) -> None:
    # A /24 VPC carved into /27 subnets has 8 slots: 2 per tier, so 3 AZs cannot fit.
    dev["network"].update(
        vpc_cidr="10.10.0.0/24",
        subnet_prefix_length=27,
        availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    )
    fails(
        dev,
        r"network\.availability_zones = \[.*\]: has 3 AZs but 10\.10\.0\.0/24 split into /27 subnets fits only 2 per tier.*",
    )


def test_fails_when_subnet_prefix_is_not_inside_the_vpc(dev: Data) -> None:
    dev["network"]["subnet_prefix_length"] = 12
    fails(dev, r"network\.subnet_prefix_length = 12: must be between /17 and /28 for a /16 VPC")


def test_fails_when_nat_strategy_is_unknown(dev: Data) -> None:
    dev["network"]["nat"] = "per_subnet"
    fails(dev, r"network\.nat = 'per_subnet': must be one of 'none', 'single' or 'per_az'")


def test_fails_when_flow_log_retention_is_not_a_cloudwatch_period(dev: Data) -> None:
    dev["network"]["flow_logs"]["retention_days"] = 31
    fails(
        dev, r"network\.flow_logs\.retention_days = 31: must be one of CloudWatch's retention periods: 1, 3, .*, 3653"
    )


def test_fails_when_an_interface_endpoint_is_unknown(dev: Data) -> None:
    dev["network"]["endpoints"]["interface"] = ["ecr.api", "dynamodb"]
    fails(dev, r"network\.endpoints\.interface\[1\] = 'dynamodb': must be one of 'ecr\.api', 'ecr\.dkr', .*")


def test_fails_when_an_interface_endpoint_is_listed_twice(dev: Data) -> None:
    dev["network"]["endpoints"]["interface"] = ["logs", "ecr.api", "logs"]
    fails(dev, r"network\.endpoints\.interface = \[.*\]: lists logs more than once")


# --- every environment -----------------------------------------------------------------------

ENVIRONMENTS = ["dev", "staging", "prod"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_outputs_expose_the_vpc_and_subnets_per_tier(synthesized: dict[str, Json], env: str) -> None:
    outputs = synthesized[env]["output"]
    vpc_id = next(iter(resources(synthesized[env], "aws_vpc")))
    assert outputs["vpc_id"]["value"] == f"${{aws_vpc.{vpc_id}.id}}"
    azs = len(synthesized[env]["resource"]["aws_subnet"]) // 3
    for tier in ("public", "private_app", "private_data"):
        assert len(outputs[f"{tier}_subnet_ids"]["value"]) == azs


@pytest.mark.parametrize(("env", "nats", "interface_endpoints"), [("dev", 1, 0), ("staging", 1, 4), ("prod", 3, 4)])
def test_environment_network_shape(synthesized: dict[str, Json], env: str, nats: int, interface_endpoints: int) -> None:
    document = synthesized[env]
    assert len(resources(document, "aws_nat_gateway")) == nats
    endpoints = resources(document, "aws_vpc_endpoint").values()
    assert sum(e["vpc_endpoint_type"] == "Interface" for e in endpoints) == interface_endpoints
    assert sum(e["vpc_endpoint_type"] == "Gateway" for e in endpoints) == 1
    assert len(resources(document, "aws_flow_log")) == 1
