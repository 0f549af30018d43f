"""make diagram: the architecture is read from the synthesized JSON, and the copy in docs/platform.md is current."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from config import EnvironmentConfig
from tests.synth import Json
from tools.diagram import README_BEGIN, README_END, Graph, build_graph, mermaid, readme_block, svg

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ["dev", "staging", "prod"]


def labels(graph: Graph, kind: str) -> list[str]:
    return sorted(n.label for n in graph.nodes.values() if n.kind == kind)


def edges(graph: Graph, *, security_group: bool) -> set[tuple[str, str, str]]:
    name = {n.id: n.label for n in graph.nodes.values()}
    return {(name[e.source], name[e.target], e.label) for e in graph.edges if e.security_group == security_group}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_service_is_reached_through_its_own_listener_rule(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    config = environments[env]
    graph = build_graph(config.stack_name, synthesized[env])
    priorities = config.listener_rules.priorities
    routes = edges(graph, security_group=False)
    for name, service in config.services.items():
        if service.kind != "web":  # reached inside the cluster only, or not at all: no listener rule
            assert not [route for route in routes if route[1] == f"ECS service {name}"]
            continue
        rule = f"rule {priorities[name]}: {' '.join(service.path_patterns)}"
        assert ("ALB", rule, "listener") in routes
        assert (rule, f"ECS service {name}", f"forward :{service.container_port}") in routes
    assert ("Internet", "CloudFront", "HTTPS") in routes
    assert ("CloudFront", "ALB", "/api/*") in routes


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_security_group_edges_lead_to_the_data_tier_only_from_services(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    config = environments[env]
    graph = build_graph(config.stack_name, synthesized[env])
    allowed = edges(graph, security_group=True)
    into_data = {
        (source, target, port) for source, target, port in allowed if target.startswith(("RDS", "ElastiCache"))
    }
    assert into_data
    assert {source for source, _, _ in into_data} <= {f"ECS service {name}" for name in config.services} | {"RDS Proxy"}
    for name, service in config.services.items():
        reaches_cache = (f"ECS service {name}", "ElastiCache", "SG tcp/6379") in allowed
        # Web services share the app group, which reaches the cache in tiered mode; a backend's or worker's
        # group reaches it only when one of them uses it.
        shares = service.kind == "web" and config.security_groups.mode == "tiered"
        assert reaches_cache == (service.data_access.uses_cache or shares)


def test_the_beanstalk_example_shares_one_group_with_the_data_tier(synthesized_examples: dict[str, Json]) -> None:
    graph = build_graph("netflux-beanstalk", synthesized_examples["beanstalk"])
    assert labels(graph, "compute") == ["Elastic Beanstalk (own ALB)"]
    allowed = edges(graph, security_group=True)
    assert ("Elastic Beanstalk (own ALB)", "RDS PostgreSQL", "SG all") in allowed
    assert ("Elastic Beanstalk (own ALB)", "ElastiCache", "SG all") in allowed


def test_svg_is_well_formed_and_labels_every_node(synthesized: dict[str, Json]) -> None:
    graph = build_graph("netflux-prod", synthesized["prod"])
    root = ElementTree.fromstring(svg(graph))
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {n.label for n in graph.nodes.values()} <= texts


def test_readme_embeds_the_current_dev_diagram(synthesized: dict[str, Json]) -> None:
    readme = (ROOT / "docs" / "platform.md").read_text()
    expected = readme_block(mermaid(build_graph("netflux-dev", synthesized["dev"])))
    found = re.search(re.escape(README_BEGIN) + r".*?" + re.escape(README_END), readme, re.DOTALL)
    assert found is not None, "docs/platform.md lost its diagram block"
    assert found.group(0) == expected, "docs/platform.md's diagram is stale: run `make diagram`"
