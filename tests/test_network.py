"""Tier 2: the network construct, asserted on synthesized JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modules import Network, NetworkProps
from tests.synth import Json, only, resources, synth_construct

AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def network_props(**overrides: Any) -> NetworkProps:
    values: dict[str, Any] = {
        "name": "test-unit",
        "region": "eu-west-1",
        "vpc_cidr": "10.0.0.0/16",
        "availability_zones": AZS,
        "public_subnet_cidrs": ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"],
        "private_app_subnet_cidrs": ["10.0.80.0/20", "10.0.96.0/20", "10.0.112.0/20"],
        "private_data_subnet_cidrs": ["10.0.160.0/20", "10.0.176.0/20", "10.0.192.0/20"],
    }
    return NetworkProps(**{**values, **overrides})


def synth_network(**overrides: Any) -> Json:
    return synth_construct(lambda stack: Network(stack, "network", props=network_props(**overrides)))


@pytest.fixture(scope="module")
def default_network() -> Json:
    return synth_network(interface_endpoints=["ecr.api", "ecr.dkr", "logs", "secretsmanager"])


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


def test_vpc_has_dns_support_and_hostnames(default_network: Json) -> None:
    vpc = only(default_network, "aws_vpc")
    assert vpc["cidr_block"] == "10.0.0.0/16"
    assert vpc["enable_dns_hostnames"] is True
    assert vpc["enable_dns_support"] is True


def test_each_tier_has_one_subnet_per_az_in_distinct_azs(default_network: Json) -> None:
    tiers = subnets_by_tier(default_network)
    assert set(tiers) == {"public", "private-app", "private-data"}
    for subnets in tiers.values():
        assert sorted(s["availability_zone"] for s in subnets) == AZS


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
    document = synth_network(flow_logs_enabled=False)
    assert resources(document, "aws_flow_log") == {}
    assert resources(document, "aws_iam_role") == {}


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
    document = synth_network(s3_gateway_endpoint=False, interface_endpoints=[])
    assert resources(document, "aws_vpc_endpoint") == {}
    assert resources(document, "aws_security_group") == {}


def test_subnet_ids_are_keyed_by_az_so_adding_an_az_keeps_existing_ones() -> None:
    two = synth_network(
        availability_zones=AZS[:2],
        public_subnet_cidrs=["10.0.0.0/20", "10.0.16.0/20"],
        private_app_subnet_cidrs=["10.0.80.0/20", "10.0.96.0/20"],
        private_data_subnet_cidrs=["10.0.160.0/20", "10.0.176.0/20"],
        nat="per_az",
    )
    three = synth_network(nat="per_az")
    for resource_type in ("aws_subnet", "aws_nat_gateway", "aws_route_table", "aws_route"):
        before, after = resources(two, resource_type), resources(three, resource_type)
        assert set(before) <= set(after), resource_type
        for logical_id, body in before.items():
            assert {k: v for k, v in body.items() if k != "//"} == {
                k: v for k, v in after[logical_id].items() if k != "//"
            }


def test_fails_when_subnet_lists_do_not_match_the_azs() -> None:
    with pytest.raises(ValueError, match=r"public subnet CIDRs must have one entry per AZ \(3\), got 2"):
        synth_network(public_subnet_cidrs=["10.0.0.0/20", "10.0.16.0/20"])
