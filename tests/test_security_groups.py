"""The security groups: [security_groups] loads or fails (tier 1), the construct on synthesized JSON
(tier 2), and the security-group chain of every synthesized environment (tier 3)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from cdktf import TerraformStack

from config.load_balancer import AlbConfig
from config.security_groups import SecurityGroupsConfig
from config.service import ServiceConfig
from modules import SecurityGroups
from modules.block import Naming
from tests.config_check import Data, fails, parse
from tests.synth import Json, resources, synth_construct

ANYWHERE = "0.0.0.0/0"
SERVICE_PORTS = {"movie-service": 8080, "customer-service": 8080, "search": 9000}


def web_services(ports: dict[str, int]) -> dict[str, ServiceConfig]:
    """Web services on ``ports``, by name."""
    return {name: ServiceConfig(container_port=port, path_patterns=[f"/{name}*"]) for name, port in ports.items()}


def service(kind: str, port: int | None = None, **values: Any) -> ServiceConfig:
    """A backend (with ``port``) or a worker, validated as an environment file's would be."""
    queue = {"queue": {}} if kind == "worker" else {}
    return ServiceConfig.model_validate({"kind": kind, "container_port": port, **queue, **values})


SERVICES = web_services(SERVICE_PORTS)
NAMING = Naming(project="test", environment="unit", region="eu-west-1")
VPC_ID = "vpc-unit"
VPC_CIDR = "10.0.0.0/16"
# A stand-in for the network: the attributes SecurityGroups reads (its VPC), not 27 synthesized resources.
NETWORK = SimpleNamespace(vpc_id=VPC_ID, vpc_cidr=VPC_CIDR)
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/4f1c2a8e-7b3d-4e9a-9c61-2d5e8f0a1b37"
HTTPS_ALB = AlbConfig(certificate_arn=CERTIFICATE)


def build_groups(stack: TerraformStack, **overrides: Any) -> SecurityGroups:
    """Security groups in the stand-in network: an internet-facing HTTP ALB, a database and a cache by default."""
    values: dict[str, Any] = {
        "settings": SecurityGroupsConfig(),
        "load_balancer": AlbConfig(),
        "services": SERVICES,
        "database": True,
        "cache": True,
    }
    return SecurityGroups(stack, "sg", naming=NAMING, network=NETWORK, **{**values, **overrides})


def synth_groups(**overrides: Any) -> Json:
    return synth_construct(lambda stack: build_groups(stack, **overrides))


def group_refs(document: Json) -> dict[str, str]:
    """Terraform reference of each group of the SecurityGroups construct, by construct ID (its role)."""
    refs = {}
    for logical_id in resources(document, "aws_security_group"):
        construct, role, _hash = logical_id.split("_")  # e.g. security-groups_app_9A0655E7
        if construct in ("sg", "security-groups"):
            refs[role] = f"${{aws_security_group.{logical_id}.id}}"
    return refs


def rules(document: Json, direction: str, group: str) -> list[Json]:
    return [
        rule
        for rule in resources(document, f"aws_vpc_security_group_{direction}_rule").values()
        if rule["security_group_id"] == group
    ]


def peer(rule: Json) -> str:
    return str(rule.get("cidr_ipv4") or rule.get("referenced_security_group_id"))


def summary(document: Json, direction: str, group: str) -> set[tuple[Any, ...]]:
    return {
        (rule["ip_protocol"], rule.get("from_port"), rule.get("to_port"), peer(rule))
        for rule in rules(document, direction, group)
    }


@pytest.fixture(scope="module")
def tiered() -> Json:
    return synth_groups(load_balancer=HTTPS_ALB)


@pytest.fixture(scope="module")
def shared() -> Json:
    return synth_groups(settings=SecurityGroupsConfig(mode="shared"))


# --- the construct ---------------------------------------------------------------------------


def test_tiered_mode_has_four_groups(tiered: Json) -> None:
    assert set(group_refs(tiered)) == {"alb", "app", "database", "cache"}


def test_groups_live_in_the_networks_vpc_and_are_named_after_the_environment(tiered: Json) -> None:
    groups = resources(tiered, "aws_security_group")
    assert {group["vpc_id"] for group in groups.values()} == {VPC_ID}
    assert {group["name"] for group in groups.values()} == {f"test-unit-{role}" for role in group_refs(tiered)}


def test_every_group_and_rule_has_a_description(tiered: Json, shared: Json) -> None:
    for document in (tiered, shared):
        for kind in ("aws_security_group", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
            for logical_id, item in resources(document, kind).items():
                assert item.get("description"), f"{kind}.{logical_id} has no description"


def test_groups_use_only_standalone_rules(tiered: Json, shared: Json) -> None:
    for document in (tiered, shared):
        for group in resources(document, "aws_security_group").values():
            assert "ingress" not in group
            assert "egress" not in group


def test_alb_accepts_only_its_listener_ports_from_the_allowed_cidrs(tiered: Json) -> None:
    groups = group_refs(tiered)
    assert summary(tiered, "ingress", groups["alb"]) == {("tcp", 80, 80, ANYWHERE), ("tcp", 443, 443, ANYWHERE)}


def test_alb_sends_only_to_the_app_group_on_service_ports(tiered: Json) -> None:
    groups = group_refs(tiered)
    assert summary(tiered, "egress", groups["alb"]) == {
        ("tcp", 8080, 8080, groups["app"]),
        ("tcp", 9000, 9000, groups["app"]),
    }


def test_app_accepts_service_ports_only_from_the_alb_and_itself(tiered: Json) -> None:
    groups = group_refs(tiered)
    assert summary(tiered, "ingress", groups["app"]) == {
        ("tcp", port, port, source) for port in (8080, 9000) for source in (groups["alb"], groups["app"])
    }


def test_app_egress_is_https_plus_the_data_tier_and_other_services(tiered: Json) -> None:
    groups = group_refs(tiered)
    assert summary(tiered, "egress", groups["app"]) == {
        ("tcp", 443, 443, ANYWHERE),
        ("tcp", 5432, 5432, groups["database"]),
        ("tcp", 6379, 6379, groups["cache"]),
        ("tcp", 8080, 8080, groups["app"]),
        ("tcp", 9000, 9000, groups["app"]),
    }


def test_database_and_cache_are_reachable_only_from_the_app_group(tiered: Json) -> None:
    groups = group_refs(tiered)
    assert summary(tiered, "ingress", groups["database"]) == {("tcp", 5432, 5432, groups["app"])}
    assert summary(tiered, "ingress", groups["cache"]) == {("tcp", 6379, 6379, groups["app"])}
    # No egress rule: Terraform strips AWS's default allow-all, so the data tier cannot call out.
    assert rules(tiered, "egress", groups["database"]) == []
    assert rules(tiered, "egress", groups["cache"]) == []


def test_rules_are_keyed_by_port_not_by_service_order(tiered: Json) -> None:
    reordered = synth_groups(load_balancer=HTTPS_ALB, services=dict(reversed(SERVICES.items())))
    for kind in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        assert set(resources(reordered, kind)) == set(resources(tiered, kind))


def test_restricted_alb_accepts_only_the_configured_cidrs() -> None:
    document = synth_groups(load_balancer=AlbConfig(ingress_cidrs=["203.0.113.0/24", "198.51.100.0/24"]))
    alb = group_refs(document)["alb"]
    assert summary(document, "ingress", alb) == {("tcp", 80, 80, "203.0.113.0/24"), ("tcp", 80, 80, "198.51.100.0/24")}


def test_internal_alb_accepts_only_the_vpc_by_default() -> None:
    document = synth_groups(load_balancer=AlbConfig(internal=True))
    alb = group_refs(document)["alb"]
    assert summary(document, "ingress", alb) == {("tcp", 80, 80, VPC_CIDR)}


def test_no_alb_group_when_the_compute_brings_its_own_load_balancer() -> None:
    captured: list[SecurityGroups] = []
    document = synth_construct(lambda stack: captured.append(build_groups(stack, load_balancer=None)))
    assert set(group_refs(document)) == {"app", "database", "cache"}
    assert captured[0].alb_sg_id is None
    assert summary(document, "ingress", group_refs(document)["app"]) == {
        ("tcp", port, port, group_refs(document)["app"]) for port in (8080, 9000)
    }


def test_only_the_data_groups_the_environment_has() -> None:
    document = synth_groups(database=False, cache=False)
    assert set(group_refs(document)) == {"alb", "app"}
    with_proxy = synth_groups(database_proxy=True)
    groups = group_refs(with_proxy)
    assert set(groups) == {"alb", "app", "database", "database-proxy", "cache"}
    assert summary(with_proxy, "ingress", groups["database"]) == {
        ("tcp", 5432, 5432, groups["app"]),
        ("tcp", 5432, 5432, groups["database-proxy"]),
    }


def test_shared_mode_is_one_self_referencing_group_for_app_database_and_cache(shared: Json) -> None:
    groups = group_refs(shared)
    assert set(groups) == {"alb", "shared"}
    one = groups["shared"]
    assert ("-1", None, None, one) in summary(shared, "ingress", one)
    assert summary(shared, "ingress", one) == {
        ("-1", None, None, one),
        ("tcp", 8080, 8080, groups["alb"]),
        ("tcp", 9000, 9000, groups["alb"]),
    }
    assert summary(shared, "egress", groups["alb"]) == {("tcp", 8080, 8080, one), ("tcp", 9000, 9000, one)}


def test_shared_mode_exposes_one_id_for_app_database_proxy_and_cache() -> None:
    captured: list[SecurityGroups] = []
    shared = SecurityGroupsConfig(mode="shared")
    synth_construct(lambda stack: captured.append(build_groups(stack, settings=shared, database_proxy=True)))
    [groups] = captured
    assert groups.mode == "shared"
    assert groups.app_sg_id == groups.database_sg_id == groups.cache_sg_id == groups.database_proxy_sg_id
    assert groups.alb_sg_id != groups.app_sg_id


# --- backends and workers: groups of their own ------------------------------------------------


@pytest.fixture(scope="module")
def mixed() -> Json:
    """Web services, a backend on 9090 (and one on a web service's port), a worker using the database."""
    services = {
        **web_services({"movie-service": 8080}),
        "rating-service": service("backend", 9090),
        "search": service("backend", 8080),
        "job-worker": service("worker", data_access={"uses_database": True}),
    }
    return synth_groups(load_balancer=HTTPS_ALB, services=services, database_proxy=True)


def test_backends_and_workers_get_groups_of_their_own(mixed: Json) -> None:
    assert set(group_refs(mixed)) == {"alb", "app", "backend", "worker", "database", "database-proxy", "cache"}


def test_backend_ports_admit_the_other_services_by_reference_and_never_the_alb(mixed: Json) -> None:
    groups = group_refs(mixed)
    callers = {groups["app"], groups["backend"], groups["worker"]}
    assert summary(mixed, "ingress", groups["backend"]) == {
        ("tcp", port, port, caller) for port in (8080, 9090) for caller in callers
    }
    # The ALB reaches the web services' port only, and only in the app group (a backend on 8080 too is not
    # reachable from it: it is in another group).
    assert summary(mixed, "egress", groups["alb"]) == {("tcp", 8080, 8080, groups["app"])}
    ingress_from_alb = [r for r in rules(mixed, "ingress", groups["backend"]) if peer(r) == groups["alb"]]
    assert ingress_from_alb == []


def test_a_worker_admits_nothing_and_calls_the_services_the_data_it_uses_and_https(mixed: Json) -> None:
    groups = group_refs(mixed)
    assert rules(mixed, "ingress", groups["worker"]) == []
    assert summary(mixed, "egress", groups["worker"]) == {
        ("tcp", 443, 443, ANYWHERE),
        ("tcp", 8080, 8080, groups["app"]),
        ("tcp", 8080, 8080, groups["backend"]),
        ("tcp", 9090, 9090, groups["backend"]),
        ("tcp", 5432, 5432, groups["database"]),
        ("tcp", 5432, 5432, groups["database-proxy"]),
    }


def test_web_services_admit_every_service_group_and_the_alb(mixed: Json) -> None:
    groups = group_refs(mixed)
    assert summary(mixed, "ingress", groups["app"]) == {
        ("tcp", 8080, 8080, source) for source in (groups["alb"], groups["app"], groups["backend"], groups["worker"])
    }


def test_data_tier_admits_a_backend_or_worker_group_only_when_one_of_its_services_uses_it(mixed: Json) -> None:
    groups = group_refs(mixed)
    # The worker uses the database, no backend does; nobody but the app group reaches the cache.
    assert summary(mixed, "ingress", groups["database"]) == {
        ("tcp", 5432, 5432, groups[source]) for source in ("app", "worker", "database-proxy")
    }
    assert summary(mixed, "ingress", groups["database-proxy"]) == {
        ("tcp", 5432, 5432, groups[source]) for source in ("app", "worker")
    }
    assert summary(mixed, "ingress", groups["cache"]) == {("tcp", 6379, 6379, groups["app"])}
    assert ("tcp", 5432, 5432, groups["database"]) not in summary(mixed, "egress", groups["backend"])


def test_shared_mode_puts_backends_and_workers_in_the_one_group_and_opens_only_web_ports_to_the_alb() -> None:
    captured: list[SecurityGroups] = []
    services = {**web_services({"movie-service": 8080}), "rating-service": service("backend", 9090)}
    services["job-worker"] = service("worker")
    shared = SecurityGroupsConfig(mode="shared")
    document = synth_construct(lambda stack: captured.append(build_groups(stack, settings=shared, services=services)))
    [groups] = captured
    assert groups.app_sg_id == groups.backend_sg_id == groups.worker_sg_id
    refs = group_refs(document)
    assert summary(document, "egress", refs["alb"]) == {("tcp", 8080, 8080, refs["shared"])}


def test_no_backend_or_worker_group_without_such_services(tiered: Json) -> None:
    captured: list[SecurityGroups] = []
    synth_construct(lambda stack: captured.append(build_groups(stack)))
    assert (captured[0].backend_sg_id, captured[0].worker_sg_id) == (None, None)
    assert not {"backend", "worker"} & set(group_refs(tiered))


# --- [security_groups] loads or fails --------------------------------------------------------


@pytest.fixture
def dev(env_data: dict[str, Data]) -> Data:
    return env_data["dev"]


def test_security_groups_are_tiered_by_default(dev: Data, environments: dict[str, Any]) -> None:
    assert parse(dev).security_groups.mode == "tiered"
    assert {config.security_groups.mode for config in environments.values()} == {"tiered"}


def test_shared_security_groups_can_be_chosen(dev: Data) -> None:
    dev["security_groups"] = {"mode": "shared"}
    assert parse(dev).security_groups.mode == "shared"


def test_fails_when_security_group_mode_is_unknown(dev: Data) -> None:
    dev["security_groups"] = {"mode": "flat"}
    fails(dev, r"security_groups\.mode = 'flat': must be one of 'tiered' or 'shared'")


# --- every environment -----------------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_only_the_alb_listener_ports_are_open_to_the_internet(synthesized: dict[str, Json], env: str) -> None:
    document = synthesized[env]
    alb = group_refs(document)["alb"]
    open_to_world = [
        rule
        for rule in resources(document, "aws_vpc_security_group_ingress_rule").values()
        if rule.get("cidr_ipv4") == ANYWHERE or rule.get("cidr_ipv6") == "::/0"
    ]
    assert open_to_world
    for rule in open_to_world:
        assert rule["security_group_id"] == alb
        assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) in {("tcp", 80, 80), ("tcp", 443, 443)}
    for group in resources(document, "aws_security_group").values():
        assert not group.get("ingress"), "inline ingress rules bypass this check"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_data_tier_is_reachable_only_from_the_services_that_use_it(
    synthesized: dict[str, Json], environments: dict[str, Any], env: str
) -> None:
    document = synthesized[env]
    groups = group_refs(document)
    role = {"web": "app", "backend": "backend", "worker": "worker"}
    services = environments[env].services.values()
    # The app group always (it predates the other kinds); a backend or worker group when one of them uses it.
    database_clients = {groups["app"]} | {groups[role[s.kind]] for s in services if s.data_access.uses_database}
    cache_clients = {groups["app"]} | {groups[role[s.kind]] for s in services if s.data_access.uses_cache}
    proxy = groups.get("database-proxy")
    database_sources = database_clients if proxy is None else database_clients | {proxy}
    assert summary(document, "ingress", groups["database"]) == {("tcp", 5432, 5432, s) for s in database_sources}
    assert summary(document, "ingress", groups["cache"]) == {("tcp", 6379, 6379, s) for s in cache_clients}
    if proxy is not None:  # the proxy itself is reachable only from the services, and reaches only the database
        assert summary(document, "ingress", proxy) == {("tcp", 5432, 5432, s) for s in database_clients}
        assert summary(document, "egress", proxy) == {("tcp", 5432, 5432, groups["database"])}
    assert (proxy is not None) == (env != "dev")


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_the_backend_is_reached_by_the_services_and_the_worker_by_no_one(
    synthesized: dict[str, Json], env: str
) -> None:
    document = synthesized[env]
    groups = group_refs(document)
    assert {peer(r) for r in rules(document, "ingress", groups["backend"])} == {
        groups["app"],
        groups["backend"],
        groups["worker"],
    }
    assert rules(document, "ingress", groups["worker"]) == []


def test_https_is_open_only_when_a_certificate_is_configured(synthesized: dict[str, Json]) -> None:
    ports = {
        env: {rule["from_port"] for rule in rules(document, "ingress", group_refs(document)["alb"])}
        for env, document in synthesized.items()
    }
    assert ports == {"dev": {80}, "staging": {80, 443}, "prod": {80, 443}}
