"""make diagram: the architecture is read from the synthesized JSON, drawn by Graphviz, and the dev picture in
docs (docs/architecture.dot and .png) is current."""

from __future__ import annotations

import json
import re
import struct
import xml.etree.ElementTree as ElementTree
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from cdktf import App

from config import EnvironmentConfig, parse_environment
from stacks import PlatformStack
from tests.synth import Json, synth_stack
from tools import diagram
from tools.diagram import EVERY_SERVICE, KINDS, Graph, build_graph, dot

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ["dev", "staging", "prod"]
DOCS_DOT = ROOT / "docs" / "architecture.dot"
DOCS_PNG = ROOT / "docs" / "architecture.png"
STALE = "docs/architecture.dot is stale: run `make diagram` and commit docs/architecture.dot and .png"


def edges(graph: Graph, *, security_group: bool) -> set[tuple[str, str, str]]:
    name = {n.id: n.name for n in graph.nodes.values()}
    return {(name[e.source], name[e.target], e.label) for e in graph.edges if e.security_group == security_group}


def named(graph: Graph, kind: str) -> list[str]:
    """Names of the nodes whose type starts with ``kind``."""
    return sorted(n.name for n in graph.nodes.values() if n.type.startswith(kind))


def route(service: Any) -> str:
    return f"{' '.join(service.path_patterns)} → :{service.container_port}"


def dot_edges(text: str) -> list[str]:
    """The DOT's edge lines (tail -> head [attributes]), without the invisible ones that only order rows."""
    return [line.strip() for line in text.splitlines() if " -> " in line and "style=invis" not in line]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_service_is_reached_through_the_alb_on_its_own_paths(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    config = environments[env]
    graph = build_graph(config.stack_name, synthesized[env])
    [alb], [cdn] = named(graph, "ALB"), named(graph, "CloudFront")
    routes = edges(graph, security_group=False)
    assert named(graph, "ECS service") == sorted(config.services)
    kind = {n.name: n.type for n in graph.nodes.values()}
    for name, service in config.services.items():
        assert kind[name] == KINDS[service.kind]
        if service.kind != "web":  # reached inside the cluster only, or not at all: no listener rule
            assert not [edge for edge in routes if edge[0] == alb and edge[1] == name]
            continue
        assert (alb, name, route(service)) in routes
    assert ("Internet", cdn, "HTTPS") in routes
    assert (cdn, alb, "/api/*") in routes


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_security_group_edges_lead_to_the_data_tier_only_from_services(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    config = environments[env]
    graph = build_graph(config.stack_name, synthesized[env])
    data_tier = {n.name for n in graph.nodes.values() if n.tier == "data"}
    allowed = edges(graph, security_group=True)
    into_data = {(source, target, port) for source, target, port in allowed if target in data_tier}
    assert into_data
    assert {source for source, _, _ in into_data} <= set(config.services) | set(named(graph, "RDS Proxy"))
    [cache] = named(graph, "ElastiCache")
    for name, service in config.services.items():
        reaches_cache = (name, cache, "tcp/6379") in allowed
        # Web services share the app group, which reaches the cache in tiered mode; a backend's or worker's
        # group reaches it only when one of them uses it.
        shares = service.kind == "web" and config.security_groups.mode == "tiered"
        assert reaches_cache == (service.data_access.uses_cache or shares)


def test_the_beanstalk_example_shares_one_group_with_the_data_tier(synthesized_examples: dict[str, Json]) -> None:
    graph = build_graph("netflux-beanstalk", synthesized_examples["beanstalk"])
    [web] = named(graph, "Elastic Beanstalk")
    assert [n.name for n in graph.nodes.values() if n.tier == "app"] == [web]
    assert {n.name: n.detail for n in graph.nodes.values()}[web] == "WAF: netflux-beanstalk-alb"
    allowed = edges(graph, security_group=True)
    [database], [cache] = named(graph, "RDS PostgreSQL"), named(graph, "ElastiCache")
    assert (web, database, "all traffic") in allowed
    assert (web, cache, "all traffic") in allowed


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_dot_has_every_service_its_alb_route_and_the_data_tier(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig], env: str
) -> None:
    config = environments[env]
    graph = build_graph(config.stack_name, synthesized[env])
    text = dot(graph)
    node = {n.name: n.id for n in graph.nodes.values()}
    [alb] = named(graph, "ALB")
    for name, service in config.services.items():
        assert f"<B>{name}</B><BR/>" in text
        if service.kind == "web":
            assert f'{node[alb]} -> {node[name]} [label="  {route(service)}"' in text
        else:  # no ALB edge to a backend or a worker, not even a security-group one
            assert not [line for line in dot_edges(text) if line.startswith(f"{node[alb]} -> {node[name]} ")]
    data = text.split("subgraph cluster_data {")[1].split("}")[0]
    for store in named(graph, "RDS") + named(graph, "ElastiCache"):
        assert f"<B>{store}</B>" in data
    for tier in ("edge", "public", "app", "data", "shared"):
        assert f"subgraph cluster_{tier} {{" in text


def test_worker_queues_are_drawn_with_their_senders(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig]
) -> None:
    """Each worker polls its own SQS queue (with its dead-letter queue), which its senders send to; no other queue
    (a job schedule's dead-letter queue) is drawn."""
    workers = 0
    for env, config in environments.items():
        graph = build_graph(config.stack_name, synthesized[env])
        routes = edges(graph, security_group=False)
        queues = named(graph, "SQS queue")
        expected = {f"{config.stack_name}-{n}": s for n, s in config.services.items() if s.kind == "worker"}
        assert queues == sorted(expected)
        for queue, service in expected.items():
            worker = queue.removeprefix(f"{config.stack_name}-")
            assert {n.name: n.type for n in graph.nodes.values()}[queue] == "SQS queue + DLQ"
            assert {n.name: n.tier for n in graph.nodes.values()}[queue] == "shared"
            assert (queue, worker, "polls") in routes
            assert service.queue is not None
            senders = {source for source, target, label in routes if target == queue}
            assert senders == set(service.queue.senders)
            assert {(sender, queue, "SendMessage") for sender in senders} <= routes
            workers += 1
    assert workers >= 2  # dev and staging have job-worker, sent to by customer-service


def test_jobs_are_shown_on_the_service_whose_image_they_run(
    synthesized: dict[str, Json], environments: dict[str, EnvironmentConfig]
) -> None:
    config = environments["staging"]
    graph = build_graph(config.stack_name, synthesized["staging"])
    detail = {n.name: n.detail.split("\n") for n in graph.nodes.values()}
    for name, job in config.jobs.items():
        when = "scheduled" if job.schedule is not None else "on demand"
        assert f"job {name} ({when})" in detail[job.service]


def test_what_every_service_may_reach_is_drawn_once(synthesized: dict[str, Json]) -> None:
    """dev: the web services' port and the backend's (Service Connect) are open to every other service: one edge
    each from "every service", not one per pair. What every web service (the app group's box) may reach in the data
    tier is one edge from that box; the worker's own rule its own edge."""
    graph = build_graph("netflux-dev", synthesized["dev"])
    text = dot(graph)
    lines = dot_edges(text)
    node = {n.name: n.id for n in graph.nodes.values()}
    services = [node[n] for n in named(graph, "ECS service")]
    [database], [cache] = named(graph, "RDS PostgreSQL"), named(graph, "ElastiCache")
    box = "cluster_group_security_groups_app_"
    # No security-group edge from one service straight to another.
    assert not [
        line
        for line in lines
        if "style=dashed" in line
        and line.split(" -> ")[0] in services
        and line.split(" -> ")[1].split(" ")[0] in services
    ]
    every = [line for line in lines if EVERY_SERVICE in line]
    assert len(every) == 2
    [to_web] = [line for line in every if 'label="  tcp/8080"' in line]
    assert f"ltail={box}" in to_web  # drawn from the box up to "every service", heads at the box
    assert "dir=back" in to_web
    [to_backend] = [line for line in every if 'label="  tcp/9090"' in line]
    assert to_backend.startswith(f"{EVERY_SERVICE} -> {node['rating-service']} ")
    into_database = [line for line in lines if f"-> {node[database]} [" in line]
    assert len(into_database) == 2
    assert [line for line in into_database if line.startswith(f"{node['job-worker']} -> ")]
    assert [line for line in into_database if f"ltail={box}" in line and 'label="  tcp/5432"' in line]
    [into_cache] = [line for line in lines if f"-> {node[cache]} [" in line]
    assert f"ltail={box}" in into_cache
    assert 'label="  tcp/6379"' in into_cache
    assert f"subgraph {box}" in text
    # The queue: customer-service sends, job-worker polls.
    [queue] = named(graph, "SQS queue")
    assert f'{node["customer-service"]} -> {node[queue]} [label="  SendMessage"];' in lines
    assert f'{node[queue]} -> {node["job-worker"]} [label="  polls"];' in lines


def test_with_web_services_only_the_app_tier_keeps_its_box_and_two_headed_edges(synthesized: dict[str, Json]) -> None:
    """prod: two web services calling each other are one two-headed edge; what both reach is one edge from the
    app tier's box; no "every service" node, no security group's box."""
    graph = build_graph("netflux-prod", synthesized["prod"])
    text = dot(graph)
    lines = dot_edges(text)
    node = {n.name: n.id for n in graph.nodes.values()}
    [between] = [line for line in lines if "dir=both" in line]
    assert node["customer-service"] in between
    assert node["movie-service"] in between
    [cache] = named(graph, "ElastiCache")
    [into_cache] = [line for line in lines if f"-> {node[cache]} [" in line]
    assert "ltail=cluster_app" in into_cache
    assert EVERY_SERVICE not in text
    assert "cluster_group_" not in text


def test_the_docs_picture_is_current(synthesized: dict[str, Json]) -> None:
    assert DOCS_DOT.read_text() == dot(build_graph("netflux-dev", synthesized["dev"])), STALE
    assert DOCS_PNG.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "(architecture.png)" in (ROOT / "docs" / "platform.md").read_text()


@pytest.mark.stack  # synthesizes dev once more
def test_removing_a_service_from_dev_makes_the_docs_picture_stale(env_data: dict[str, dict[str, Any]]) -> None:
    data = env_data["dev"]
    del data["services"]["customer-service"]
    data["services"]["job-worker"]["queue"]["senders"].remove("customer-service")
    config = parse_environment(data, source="environments/dev.toml", expected_name="dev")

    text = dot(build_graph("netflux-dev", synth_stack(PlatformStack(App(), config, backend="local"))))

    assert text != DOCS_DOT.read_text()
    assert "<B>movie-service</B>" in text
    assert "customer-service" not in text


@pytest.mark.slow  # node: Graphviz (wasm) and resvg
def test_make_diagram_writes_dot_svg_and_png_per_stack_and_the_docs_picture(
    tmp_path: Path, synthesized: dict[str, Json], synthesized_examples: dict[str, Json]
) -> None:
    if not (ROOT / "node_modules" / "@viz-js" / "viz").is_dir():
        pytest.fail("node_modules lacks the renderer: run the suite through `make test`, which installs it")
    documents = {"netflux-dev": synthesized["dev"], "netflux-beanstalk": synthesized_examples["beanstalk"]}
    for stack, document in documents.items():
        (tmp_path / "stacks" / stack).mkdir(parents=True)
        (tmp_path / "stacks" / stack / "cdk.tf.json").write_text(json.dumps(document))
    (tmp_path / "docs").mkdir()
    arguments = ["--stacks", str(tmp_path / "stacks"), "--out", str(tmp_path / "out"), "--docs", str(tmp_path / "docs")]

    assert diagram.main(arguments) == 0

    for stack, document in documents.items():
        svg = ElementTree.parse(tmp_path / "out" / f"{stack}.svg").getroot()
        texts = {"".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")}
        assert {n.name for n in build_graph(stack, document).nodes.values()} <= texts
        png = (tmp_path / "out" / f"{stack}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(png) > 10_000
    assert (tmp_path / "docs" / "architecture.dot").read_text() == (tmp_path / "out" / "netflux-dev.dot").read_text()
    # dev, as laid out: the tiers stacked top to bottom, and narrow enough to read where docs show it.
    svg = ElementTree.parse(tmp_path / "out" / "netflux-dev.svg").getroot()
    rows = {}  # cluster -> (top, bottom), y growing downwards
    for group in svg.iter("{http://www.w3.org/2000/svg}g"):
        title, path = group.find("{http://www.w3.org/2000/svg}title"), group.find("{http://www.w3.org/2000/svg}path")
        if group.get("class") == "cluster" and title is not None and path is not None:
            ys = [float(y) for y in re.findall(r"[-\d.]+,([-\d.]+)", path.get("d", ""))]
            rows[title.text] = (min(ys), max(ys))
    stacked = [rows[f"cluster_{tier}"] for tier in ("edge", "public", "app", "data")]
    for (_, upper_bottom), (lower_top, _) in pairwise(stacked):
        assert upper_bottom < lower_top
    [width] = struct.unpack(">I", (tmp_path / "out" / "netflux-dev.png").read_bytes()[16:20])
    assert width <= 2400
    # Run again (another machine may rasterize a pixel differently): an unchanged DOT leaves the committed PNG alone.
    (tmp_path / "docs" / "architecture.png").write_bytes(b"as committed")
    assert diagram.main(arguments) == 0
    assert (tmp_path / "docs" / "architecture.png").read_bytes() == b"as committed"
