"""`make diagram`: each stack's architecture, read from its synthesized JSON (never drawn by hand).

internet -> CloudFront / ALB -> services -> database / cache, grouped by tier, with each ECS service's kind
(web, backend reached through Service Connect, worker), a worker's SQS queue with its senders, the jobs that
run a service's image, and every security-group rule that lets one of those reach another (the SG edges,
merged where many nodes share a rule). Writes, per stack, ``build/diagrams/<stack>.dot`` (Graphviz) and,
rendered from it, ``<stack>.svg`` and ``<stack>.png``; keeps the dev picture in docs
(``docs/architecture.dot`` and ``.png``) current.

    python -m tools.diagram [--stacks cdktf.out/stacks] [--out build/diagrams] [--docs docs]

Rendering runs Graphviz compiled to wasm under node (tools/render_diagram.cjs, installed by
``npm ci`` like the cdktf CLI): no root, apt or system Graphviz on any machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from itertools import pairwise
from pathlib import Path
from typing import Any

import modules  # noqa: F401  # registers every building block
from modules.block import diagram_nodes

ROOT = Path(__file__).resolve().parent.parent
DOCS_STACK = "netflux-dev"
DOCS_PICTURE = "architecture"
"""``docs/architecture.dot`` (compared by the tests) and ``docs/architecture.png`` (what people look at)."""
RENDERER = ROOT / "tools" / "render_diagram.cjs"
_EXPRESSION = re.compile(r"\$\{[^}]*\}")
_REF = re.compile(r"(?<![\w.])(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.")  # not data.aws_...

# Each tier is a box (a cluster) with its name and colour, in the order requests cross them; the
# internet stands outside.
TIERS = {
    "edge": ("Edge (AWS global network)", "#fff4e0"),
    "public": ("VPC public subnets", "#e8f4e8"),
    "app": ("VPC private subnets: app", "#e8eef8"),
    "data": ("VPC private subnets: data", "#f3e8f6"),
    "shared": ("Shared (regional)", "#f2f2f2"),
}
FONT = "DejaVu Sans"  # on every machine of the project; tools/render_diagram.cjs draws with it
SECURITY_GROUP_COLOR = "#b0306a"
SERVICE = "ECS service"
"""The type of every ECS service node starts with it; its kind follows in brackets."""
KINDS = {
    "web": f"{SERVICE} (web)",
    "backend": f"{SERVICE} (backend, Service Connect)",
    "worker": f"{SERVICE} (worker)",
}
EVERY_SERVICE = "every_service"
"""The DOT id of the picture's "every service" node: where a rule every other service has is drawn from."""


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    """First line: the resource's own name (service, identifier, bucket, domain)."""
    type: str
    """Second line: what kind of AWS resource it is."""
    tier: str
    """``internet`` or a key of ``TIERS``."""
    detail: str = ""
    """Optional further lines, one per ``\\n`` (the WAF web ACL in front of it, the jobs a service's image runs)."""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    security_group: bool = False
    """An edge a security-group rule allows (drawn dashed), rather than a routing edge."""


@dataclass
class Graph:
    stack: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    groups: dict[str, frozenset[str]] = field(default_factory=dict)
    """Security-group logical id -> the ids of the nodes in that group."""

    def add(self, node: Node) -> None:
        self.nodes.setdefault(node.id, node)

    def connect(self, edge: Edge) -> None:
        if edge.source in self.nodes and edge.target in self.nodes and edge not in self.edges:
            self.edges.append(edge)

    def members(self) -> dict[str, list[str]]:
        """Node ids by tier, sorted."""
        found: dict[str, list[str]] = {}
        for node in sorted(self.nodes.values(), key=lambda n: n.id):
            found.setdefault(node.tier, []).append(node.id)
        return found


def _resources(document: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = document.get("resource", {}).get(resource_type, {})
    return found


def _refs(value: Any) -> Iterable[tuple[str, str]]:
    """Every ``(type, logical id)`` a value's ``${...}`` expressions reference."""
    for expression in _EXPRESSION.findall(json.dumps(value)):
        yield from _REF.findall(expression)


def _node_id(logical_id: str) -> str:
    """A DOT-safe node id from a logical id (unique within its stack)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", logical_id)


def _name(body: Mapping[str, Any], *keys: str, default: str) -> str:
    """The first literal (not a ``${...}`` reference) among ``keys`` of a resource body."""
    for key in keys:
        value = body.get(key)
        if isinstance(value, str) and value and "${" not in value:
            return value.rstrip("-")  # a bucket_prefix ends in "-"
    return default


def _ref_ids(value: Any, resource_type: str) -> list[str]:
    """The logical ids of the ``resource_type`` resources a value references."""
    return [logical_id for found, logical_id in _refs(value) if found == resource_type]


def _listed(value: Any) -> list[str]:
    """An IAM policy element that is one string or a list of them, as a list."""
    return [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]


def _queue_actions(document: Mapping[str, Any]) -> dict[str, dict[str, set[str]]]:
    """Per IAM role (logical id): the SQS queues (logical ids) its inline policies allow ``sqs:`` actions on,
    with those actions."""
    found: dict[str, dict[str, set[str]]] = {}
    for policy in _resources(document, "aws_iam_role_policy").values():
        try:
            document_ = json.loads(policy.get("policy") or "{}")
        except ValueError:  # a reference to a policy document: nothing to read here
            continue
        statements = document_.get("Statement", []) if isinstance(document_, dict) else []
        for statement in statements if isinstance(statements, list) else [statements]:
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            actions = {a for a in _listed(statement.get("Action")) if a.startswith("sqs:")}
            for queue in _ref_ids(statement.get("Resource"), "aws_sqs_queue"):
                for role in _ref_ids(policy.get("role"), "aws_iam_role"):
                    found.setdefault(role, {}).setdefault(queue, set()).update(actions)
    return found


def _jobs(stack: str, document: Mapping[str, Any]) -> dict[str, list[str]]:
    """The jobs (task definitions no ECS service runs: config/job.py) by the ECS service (logical id) whose
    image they run, each as ``job <name> (scheduled)`` or ``job <name> (on demand)``."""
    definitions = _resources(document, "aws_ecs_task_definition")
    services = _resources(document, "aws_ecs_service")
    used = {i for s in services.values() for i in _ref_ids(s.get("task_definition"), "aws_ecs_task_definition")}
    service_of = {  # ECR repository -> the service whose own task definition pulls from it
        repository: logical_id
        for logical_id, service in services.items()
        for definition in _ref_ids(service.get("task_definition"), "aws_ecs_task_definition")
        for repository in _ref_ids(definitions.get(definition, {}).get("container_definitions"), "aws_ecr_repository")
    }
    scheduled = {  # the task definitions an EventBridge Scheduler schedule starts
        definition
        for schedule in _resources(document, "aws_scheduler_schedule").values()
        for definition in _ref_ids(schedule.get("target"), "aws_ecs_task_definition")
    }
    found: dict[str, list[str]] = {}
    for logical_id, definition in sorted(definitions.items()):
        if logical_id in used:
            continue
        name = _name(definition, "family", default=logical_id).removeprefix(f"{stack}-")
        repositories = _ref_ids(definition.get("container_definitions"), "aws_ecr_repository")
        for service in dict.fromkeys(service_of[r] for r in repositories if r in service_of):
            when = "scheduled" if logical_id in scheduled else "on demand"
            found.setdefault(service, []).append(f"job {name} ({when})")
    return found


@dataclass
class _Reader:
    """What build_graph's steps share while they read one stack's document into its graph."""

    document: Mapping[str, Any]
    graph: Graph
    groups_of: dict[str, set[str]] = field(default_factory=dict)
    """Security-group logical id -> the ids of the nodes using it."""
    node_of: dict[tuple[str, str], str] = field(default_factory=dict)
    """(resource type, logical id) -> node id."""

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return _resources(self.document, resource_type)

    def add(self, resource_type: str, logical_id: str, name: str, kind: str, tier: str) -> str:
        node = _node_id(logical_id)
        self.graph.add(Node(node, name, kind, tier))
        self.node_of[(resource_type, logical_id)] = node
        return node

    def uses(self, node_id: str, value: Any) -> None:
        """Records ``node_id`` as a member of every security group ``value`` references."""
        for resource_type, logical_id in _refs(value):
            if resource_type == "aws_security_group":
                self.groups_of.setdefault(logical_id, set()).add(node_id)


def _add_cloudfront(reader: _Reader) -> None:
    """Adds the CloudFront distributions, reached from the internet, and the S3 buckets they serve."""
    for logical_id, distribution in reader.resources("aws_cloudfront_distribution").items():
        name = (distribution.get("aliases") or [_name(distribution, "comment", default="CloudFront")])[0]
        cdn = reader.add("aws_cloudfront_distribution", logical_id, name, "CloudFront distribution", "edge")
        reader.graph.connect(Edge("internet", cdn, "HTTPS"))
        for origin in distribution.get("origin", []):
            for resource_type, target_id in _refs(origin.get("domain_name")):
                if resource_type == "aws_s3_bucket":
                    body = reader.resources("aws_s3_bucket")[target_id]
                    name = _name(body, "bucket", "bucket_prefix", default=target_id)
                    bucket = reader.add(resource_type, target_id, name, "S3 bucket (static site)", "shared")
                    reader.graph.connect(Edge(cdn, bucket, "origin (OAC)"))


def _add_load_balancers(reader: _Reader) -> list[str]:
    """Adds the load balancers (internet-facing in the public tier, internal in the app tier); returns their nodes."""
    found: list[str] = []
    for logical_id, balancer in reader.resources("aws_lb").items():
        internal = bool(balancer.get("internal"))
        kind = "ALB (internal)" if internal else "ALB (internet-facing)"
        name = _name(balancer, "name", default="ALB")
        alb = reader.add("aws_lb", logical_id, name, kind, "app" if internal else "public")
        found.append(alb)
        reader.uses(alb, balancer.get("security_groups"))
    return found


def _listener_routes(reader: _Reader) -> dict[str, tuple[str, str]]:
    """Per target group (logical id): the load balancer node whose listener rule forwards to it, and the rule's paths."""
    balancer_of = {  # listener logical id -> its load balancer's node
        logical_id: reader.node_of[ref]
        for logical_id, listener in reader.resources("aws_lb_listener").items()
        for ref in _refs(listener.get("load_balancer_arn"))
        if ref in reader.node_of
    }
    routes: dict[str, tuple[str, str]] = {}
    for rule in reader.resources("aws_lb_listener_rule").values():
        balancers = [balancer_of[i] for t, i in _refs(rule.get("listener_arn")) if i in balancer_of]
        values = [
            v
            for c in rule.get("condition", [])
            for k in ("path_pattern", "host_header")
            for v in c.get(k, {}).get("values", [])
        ]
        for resource_type, target_id in _refs(rule.get("action")):
            if resource_type == "aws_lb_target_group" and balancers:
                routes[target_id] = (balancers[0], " ".join(values))
    return routes


def _service_queues(
    document: Mapping[str, Any], service: Mapping[str, Any], queue_actions: Mapping[str, dict[str, set[str]]]
) -> dict[str, set[str]]:
    """The SQS queues (logical ids) an ECS service's task role may use, with the ``sqs:`` actions allowed."""
    definitions = _resources(document, "aws_ecs_task_definition")
    found: dict[str, set[str]] = {}
    for definition in _ref_ids(service.get("task_definition"), "aws_ecs_task_definition"):
        for role in _ref_ids(definitions.get(definition, {}).get("task_role_arn"), "aws_iam_role"):
            for queue, actions in queue_actions.get(role, {}).items():
                found.setdefault(queue, set()).update(actions)
    return found


def _service_kind(service: Mapping[str, Any], queues: Mapping[str, set[str]]) -> str:
    """An ECS service node's type: ``SERVICE`` with its kind (``KINDS``) when it has one."""
    # Three kinds (config/service.py): a web service has a target group behind the load balancer; a worker
    # consumes an SQS queue; a backend is reached only through Service Connect.
    connect = service.get("service_connect_configuration") or []
    if service.get("load_balancer"):
        return KINDS["web"]
    if any("sqs:ReceiveMessage" in actions for actions in queues.values()):
        return KINDS["worker"]
    if any(c.get("service") for c in (connect if isinstance(connect, list) else [connect])):
        return KINDS["backend"]
    return SERVICE


def _add_services(reader: _Reader, routes: Mapping[str, tuple[str, str]]) -> dict[str, dict[str, set[str]]]:
    """Adds the ECS services (app tier), with the jobs their image runs and their routes from the load balancer;
    returns, per service node, the SQS queues (logical ids) it may use with the ``sqs:`` actions allowed."""
    graph = reader.graph
    queue_actions = _queue_actions(reader.document)
    jobs = _jobs(graph.stack, reader.document)
    queues_of: dict[str, dict[str, set[str]]] = {}
    for logical_id, service in reader.resources("aws_ecs_service").items():
        node = _node_id(logical_id)
        for queue, actions in _service_queues(reader.document, service, queue_actions).items():
            queues_of.setdefault(node, {}).setdefault(queue, set()).update(actions)
        kind = _service_kind(service, queues_of.get(node, {}))
        reader.add("aws_ecs_service", logical_id, service["name"], kind, "app")
        if logical_id in jobs:
            graph.nodes[node] = dataclasses.replace(graph.nodes[node], detail="\n".join(jobs[logical_id]))
        reader.uses(node, service.get("network_configuration"))
        for balancer in service.get("load_balancer", []):
            for _, target_id in _refs(balancer.get("target_group_arn")):
                if target_id in routes:
                    alb, paths = routes[target_id]
                    graph.connect(Edge(alb, node, f"{paths} → :{balancer['container_port']}"))
    return queues_of


def _add_worker_queues(reader: _Reader, queues_of: Mapping[str, dict[str, set[str]]]) -> None:
    """Adds each worker's SQS queue (shared tier), polled by the worker, with the services that send to it."""
    # Regional, outside the VPC. Other queues (a job schedule's dead-letter queue) are not drawn.
    sqs = reader.resources("aws_sqs_queue")
    for consumer, queues in sorted(queues_of.items()):
        for logical_id, actions in sorted(queues.items()):
            if "sqs:ReceiveMessage" not in actions or logical_id not in sqs:
                continue
            body = sqs[logical_id]
            kind = "SQS queue + DLQ" if _ref_ids(body.get("redrive_policy"), "aws_sqs_queue") else "SQS queue"
            queue = reader.add("aws_sqs_queue", logical_id, _name(body, "name", default=logical_id), kind, "shared")
            reader.graph.connect(Edge(queue, consumer, "polls"))
            for sender, allowed in sorted(queues_of.items()):
                if sender != consumer and "sqs:SendMessage" in allowed.get(logical_id, ()):
                    reader.graph.connect(Edge(sender, queue, "SendMessage"))


def _add_beanstalk(reader: _Reader) -> list[str]:
    """Adds the Elastic Beanstalk environments (app tier), reached from the internet; returns their nodes."""
    found: list[str] = []
    for logical_id, environment in reader.resources("aws_elastic_beanstalk_environment").items():
        name = _name(environment, "name", default="Elastic Beanstalk")
        node = reader.add("aws_elastic_beanstalk_environment", logical_id, name, "Elastic Beanstalk (own ALB)", "app")
        found.append(node)
        reader.graph.connect(Edge("internet", node, "HTTP(S)"))
        reader.uses(node, [s for s in environment.get("setting", []) if s.get("name") == "SecurityGroups"])
    return found


def _connect_api(reader: _Reader, entries: list[str]) -> None:
    """Adds CloudFront's /api/* edges, to whichever of ``entries`` the stack has (load balancers, Beanstalk)."""
    for logical_id, distribution in reader.resources("aws_cloudfront_distribution").items():
        if any(o.get("origin_id") == "api" for o in distribution.get("origin", [])):
            for entry in entries:
                reader.graph.connect(Edge(_node_id(logical_id), entry, "/api/*"))


def _add_data_stores(reader: _Reader) -> None:
    """Adds the data stores every building block declares (``Block.diagram_nodes``), each in its declared tier."""
    for resource_type, declared in diagram_nodes().items():
        for logical_id, body in reader.resources(resource_type).items():
            replica = " replica" if body.get("replicate_source_db") else ""
            name = _name(body, "identifier", "name", "replication_group_id", default=declared.label)
            node = reader.add(resource_type, logical_id, name, declared.label + replica, declared.tier)
            reader.uses(node, body.get("vpc_security_group_ids") or body.get("security_group_ids"))


def _add_waf(reader: _Reader) -> None:
    """Adds the WAF web ACL in front of CloudFront (web_acl_id) or a load balancer (an association) to its detail."""
    graph = reader.graph
    acls = reader.resources("aws_wafv2_web_acl")
    protected = [(ref, d.get("web_acl_id")) for ref, d in reader.resources("aws_cloudfront_distribution").items()]
    protected += [
        (i, a.get("web_acl_arn"))
        for a in reader.resources("aws_wafv2_web_acl_association").values()
        for _, i in _refs(a.get("resource_arn"))
    ]
    for logical_id, acl_arn in protected:
        for resource_type, acl_id in _refs(acl_arn):
            node = _node_id(logical_id)
            if resource_type == "aws_wafv2_web_acl" and node in graph.nodes:
                acl = _name(acls.get(acl_id, {}), "name", default=acl_id)
                detail = "\n".join(filter(None, (f"WAF: {acl}", graph.nodes[node].detail)))
                graph.nodes[node] = dataclasses.replace(graph.nodes[node], detail=detail)


def _connect_internet(reader: _Reader) -> None:
    """Adds an edge from the internet to each member of a security group open to 0.0.0.0/0 (listener ports)."""
    for rule in reader.resources("aws_vpc_security_group_ingress_rule").values():
        if rule.get("cidr_ipv4") == "0.0.0.0/0":
            for _, group in _refs(rule.get("security_group_id")):
                for node in sorted(reader.groups_of.get(group, ())):
                    reader.graph.connect(Edge("internet", node, f"tcp/{rule.get('from_port')}"))


def _connect_security_groups(reader: _Reader) -> None:
    """Adds the security-group edges: a rule on group B referencing group A lets A's members reach B's."""
    for rule in reader.resources("aws_vpc_security_group_ingress_rule").values():
        sources = [g for t, g in _refs(rule.get("referenced_security_group_id")) if t == "aws_security_group"]
        targets = [g for t, g in _refs(rule.get("security_group_id")) if t == "aws_security_group"]
        port = "all traffic" if rule.get("ip_protocol") == "-1" else f"tcp/{rule.get('from_port')}"
        for source_group in sources:
            for target_group in targets:
                for source in sorted(reader.groups_of.get(source_group, ())):
                    for target in sorted(reader.groups_of.get(target_group, ())):
                        if source != target:
                            reader.graph.connect(Edge(source, target, port, security_group=True))


def build_graph(stack: str, document: Mapping[str, Any]) -> Graph:
    """The architecture graph of one synthesized stack."""
    reader = _Reader(document, Graph(stack))
    reader.graph.add(Node("internet", "Internet", "", "internet"))
    _add_cloudfront(reader)
    entries = _add_load_balancers(reader)  # what CloudFront's /api/* behaviour can reach: load balancers, Beanstalk
    queues_of = _add_services(reader, _listener_routes(reader))
    _add_worker_queues(reader, queues_of)
    entries += _add_beanstalk(reader)
    _connect_api(reader, entries)
    _add_data_stores(reader)
    _add_waf(reader)
    _connect_internet(reader)
    _connect_security_groups(reader)
    reader.graph.groups = {group: frozenset(members) for group, members in sorted(reader.groups_of.items())}
    return reader.graph


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html_label(node: Node) -> str:
    """Name in bold, then the resource type (and any detail) in smaller grey type."""
    lines = [f"<B>{escape(node.name)}</B>"]
    lines += [
        f'<FONT POINT-SIZE="12" COLOR="#444444">{escape(line)}</FONT>'
        for line in (node.type, *node.detail.split("\n"))
        if line
    ]
    return "<" + "<BR/>".join(lines) + ">"


@dataclass(frozen=True)
class _Drawn:
    """One edge of the picture, which may stand for several edges of the graph."""

    source: str
    target: str
    label: str
    security_group: bool
    both_ways: bool = False
    from_tier: str = ""
    """Set when every node of that tier has this edge: drawn once, from the tier's box."""
    from_group: str = ""
    """Set when every member of that security group's box (``_group_boxes``) has it: drawn once, from the box."""
    to_group: str = ""
    """Set when it reaches every member of that security group's box: drawn once, to the box."""


def _services(graph: Graph) -> list[str]:
    """The ids of the ECS service nodes, sorted."""
    return sorted(n.id for n in graph.nodes.values() if n.type.startswith(SERVICE))


def _middle(members: list[str]) -> str:
    return members[(len(members) - 1) // 2]


def _group_boxes(graph: Graph) -> dict[str, list[str]]:
    """The security groups that may get a box of their own inside their tier, by DOT-safe group id, with their
    members: groups of two or more nodes, all in one tier that holds other nodes too (a group that is the
    whole tier has the tier's box). A node is in one box at most: larger groups first."""
    members = graph.members()
    boxes: dict[str, list[str]] = {}
    taken: set[str] = set()
    for group, nodes in sorted(graph.groups.items(), key=lambda item: (-len(item[1]), item[0])):
        tiers = {graph.nodes[n].tier for n in nodes}
        if len(nodes) < 2 or len(tiers) != 1 or nodes & taken:
            continue
        [tier] = tiers
        if tier in TIERS and sorted(nodes) != members[tier]:
            boxes[_node_id(group)] = sorted(nodes)
            taken |= nodes
    return boxes


def _drawn_edges(graph: Graph) -> list[_Drawn]:
    """The edges as drawn, few enough to read as services are added. A security-group edge that a routing edge
    already shows is left out; rules between the same two nodes share one edge; a rule that lets every other
    service reach a service (services calling a web or backend service's port) is one edge from "every
    service", and one to a security group's box when it reaches all of the box; a pair allowed both ways is
    one two-headed edge (drawn from the upper tier down); an edge every member of a tier has (each service
    reaching the database) is one edge from the tier's box, and one every member of a security group's box
    has is one edge from that box."""
    routed = {(e.source, e.target) for e in graph.edges if not e.security_group}
    labels: dict[tuple[str, str, bool], str] = {}
    for edge in graph.edges:
        if not (edge.security_group and (edge.source, edge.target) in routed):
            key = (edge.source, edge.target, edge.security_group)
            labels[key] = f"{labels[key]}, {edge.label}" if key in labels else edge.label
    boxes = _group_boxes(graph)
    drawn: list[_Drawn] = []

    services = _services(graph)
    callers: dict[tuple[str, str], set[str]] = {}  # (service, label) -> the services a rule lets reach it
    for (source, target, security_group), label in labels.items():
        if security_group and source in services and target in services:
            callers.setdefault((target, label), set()).add(source)
    every: dict[str, list[str]] = {}  # label -> the services every other service may reach with it
    for (target, label), reaching in sorted(callers.items()):
        if len(reaching) > 1 and reaching == set(services) - {target}:
            every.setdefault(label, []).append(target)
            for source in reaching:
                del labels[(source, target, True)]
    for label, targets in every.items():
        for box, box_members in boxes.items():
            if set(box_members) <= set(targets):
                drawn.append(_Drawn(EVERY_SERVICE, _middle(box_members), label, True, to_group=box))
                targets = [t for t in targets if t not in box_members]
        drawn += [_Drawn(EVERY_SERVICE, target, label, True) for target in targets]

    order = ["internet", *TIERS]

    def downward(source: str, target: str) -> bool:
        return (order.index(graph.nodes[source].tier), source) <= (order.index(graph.nodes[target].tier), target)

    members = graph.members()
    one_way: dict[tuple[str, str, bool], str] = {}
    both: dict[tuple[str, str, str, bool], list[str]] = {}  # (upper tier, lower node, label, sg) -> upper nodes
    for (source, target, security_group), label in labels.items():
        if labels.get((target, source, security_group)) != label:
            one_way[(source, target, security_group)] = label
        elif downward(source, target):
            both.setdefault((graph.nodes[source].tier, target, label, security_group), []).append(source)
    for (tier, target, label, security_group), found in both.items():
        if len(found) > 1 and sorted(found) == members[tier] and graph.nodes[target].tier != tier:
            # Every member of the tier and the target reach each other (one shared group): one edge, from the box.
            drawn.append(_Drawn(_middle(found), target, label, security_group, both_ways=True, from_tier=tier))
        else:
            drawn += [_Drawn(source, target, label, security_group, both_ways=True) for source in found]
    sources: dict[tuple[str, str, str, bool], list[str]] = {}  # (tier, target, label, sg) -> its sources
    for (source, target, security_group), label in one_way.items():
        if graph.nodes[source].tier != graph.nodes[target].tier:
            sources.setdefault((graph.nodes[source].tier, target, label, security_group), []).append(source)
    for (tier, target, label, security_group), found in sources.items():
        aggregated: list[str] = []
        if len(found) > 1 and sorted(found) == members[tier]:
            drawn.append(_Drawn(_middle(members[tier]), target, label, security_group, from_tier=tier))
            aggregated = found
        else:
            for box, box_members in boxes.items():
                if set(box_members) <= set(found):
                    drawn.append(_Drawn(_middle(box_members), target, label, security_group, from_group=box))
                    aggregated += box_members
        for source in aggregated:
            del one_way[(source, target, security_group)]
    drawn += [_Drawn(s, t, label, sg) for (s, t, sg), label in one_way.items()]
    # An edge to or from a box starts or ends at the box's border; graphviz still ties it to one member, and
    # one with no edges of its own keeps the others free to move nearer theirs (a sender to its queue).
    own = Counter(node for d in drawn if not (d.from_group or d.to_group) for node in (d.source, d.target))
    tied = {
        box: min(box_members, key=lambda m: (own[m], abs(box_members.index(m) - (len(box_members) - 1) / 2)))
        for box, box_members in boxes.items()
    }
    drawn = [
        dataclasses.replace(d, source=tied[d.from_group])
        if d.from_group
        else dataclasses.replace(d, target=tied[d.to_group])
        if d.to_group
        else d
        for d in drawn
    ]
    return sorted(drawn, key=lambda d: (d.security_group, d.source, d.target))


def _rows(
    members: Mapping[str, list[str]], tier_of: Mapping[str, str], ranked: list[tuple[str, str]]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each tier's first row in the picture, and its members that start a later row. Both lead from no
    other member of the tier (``ranked``: the edges that order rows, tail to head); the first row holds
    those reached from the earliest tier (web services, from the load balancer), a later one those reached
    from a later tier (a worker, from its queue; a queue, from its senders)."""
    position = {tier: i for i, tier in enumerate(["internet", *TIERS])}
    unreached = len(position)
    inner = {head for tail, head in ranked if tier_of[tail] == tier_of[head] and tail != head}
    entry: dict[str, int] = {}
    for tail, head in ranked:
        if tier_of[tail] != tier_of[head]:
            entry[head] = min(entry.get(head, unreached), position[tier_of[tail]])
    rows: dict[str, list[str]] = {}
    later: dict[str, list[str]] = {}
    for tier, found in members.items():
        candidates = [m for m in found if m not in inner]
        first = min((entry.get(m, unreached) for m in candidates), default=unreached)
        rows[tier] = [m for m in candidates if entry.get(m, unreached) == first] or found[:1]
        later[tier] = [m for m in candidates if m not in rows[tier] and entry.get(m, unreached) < unreached]
    return rows, later


def _above(edges: list[tuple[str, str]], rows: list[list[str]], source: str, target: str) -> bool:
    """Whether ``edges`` (tail above head) and ``rows`` (nodes held on one row) put ``source`` above ``target``."""
    row: dict[str, str] = {}  # node -> a node on its row (rows that share a node are one row)
    for nodes in rows:
        found = {row.get(node, node) for node in nodes}
        for node in [*nodes, *(n for n, r in row.items() if r in found)]:
            row[node] = nodes[0]
    below: dict[str, set[str]] = {}
    for tail, head in edges:
        below.setdefault(row.get(tail, tail), set()).add(row.get(head, head))
    goal, seen = row.get(target, target), set()
    todo = [row.get(source, source)]
    while todo:
        for node in below.get(todo.pop(), ()):
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.append(node)
    return False


@dataclass
class _Picture:
    """What dot's writers share: the edges as drawn, where the rows fall, and what orders the rows."""

    graph: Graph
    drawn: list[_Drawn]
    boxes: dict[str, list[str]]
    used: set[str]
    """The security-group boxes a drawn edge starts or ends at: the ones drawn."""
    members: dict[str, list[str]]
    tier_of: dict[str, str]
    ranked: list[tuple[str, str]]
    """The edges that order rows, tail to head."""
    upward: set[_Drawn]
    """The "every service" edges drawn from their target up, head at the target (see ``_plan``)."""
    first: dict[str, list[str]]
    later: dict[str, list[str]]
    constraints: list[tuple[str, str]]
    """What orders the rows, for the check that keeps each tier below the one above it."""
    rows: list[list[str]] = field(default_factory=list)
    """Nodes held on one row, as the tiers are written."""
    same_row: set[frozenset[str]] = field(default_factory=set)


def _plan(graph: Graph) -> _Picture:
    """The edges as drawn and each tier's rows: what the DOT text is written from."""
    drawn = _drawn_edges(graph)
    boxes = _group_boxes(graph)
    used = ({d.from_group for d in drawn} | {d.to_group for d in drawn}) - {""}
    members = graph.members()
    tier_of = {node.id: node.tier for node in graph.nodes.values()}
    if any(d.source == EVERY_SERVICE for d in drawn):  # drawn in the services' tier
        tier_of[EVERY_SERVICE] = graph.nodes[_services(graph)[0]].tier
        members[tier_of[EVERY_SERVICE]].append(EVERY_SERVICE)
    # An "every service" edge to a service in its tier's first row (a web service, below the load balancer) is
    # drawn from that service up, with its head at the service: the rule sits below the row, above the backends.
    ranked = [(d.source, d.target) for d in drawn if not d.both_ways and d.source != EVERY_SERVICE]
    first, _ = _rows(members, tier_of, ranked)
    upward = {d for d in drawn if d.source == EVERY_SERVICE and d.target in first[tier_of[d.target]]}
    ranked = [(d.target, d.source) if d in upward else (d.source, d.target) for d in drawn if not d.both_ways]
    first, later = _rows(members, tier_of, ranked)
    constraints = ranked + [
        (d.source, d.target) for d in drawn if d.both_ways and tier_of[d.source] != tier_of[d.target]
    ]
    return _Picture(graph, drawn, boxes, used, members, tier_of, ranked, upward, first, later, constraints)


def _header(graph: Graph, used: set[str]) -> list[str]:
    """The digraph's opening: title and legend, default attributes, and the internet node."""
    legend = "solid: requests and messages    dashed: allowed by a security-group rule"
    if used:
        legend += "    dashed box: one security group's members"
    title = (
        f"<<B>{escape(graph.stack)}</B>: generated by make diagram from its synthesized JSON"
        f'<BR ALIGN="LEFT"/><FONT POINT-SIZE="14">{legend}</FONT><BR ALIGN="LEFT"/>>'
    )
    return [
        f"digraph {_quote(graph.stack)} {{",
        # Top to bottom, tiers as rows: the picture stays narrow enough to read where docs show it
        # (left to right it was five times wider than high). Curved splines, not ortho: graphviz places
        # every edge label beside its own edge only with these.
        "  graph [rankdir=TB, splines=spline, newrank=true, compound=true, nodesep=0.4, ranksep=0.6, pad=0.3,"
        f" fontname={_quote(FONT)}, fontsize=16, labelloc=t, labeljust=l, label={title}];",
        f'  node [shape=box, style="rounded,filled", fillcolor=white, color="#335577", fontname={_quote(FONT)},'
        ' fontsize=14, margin="0.2,0.1"];',
        f'  edge [fontname={_quote(FONT)}, fontsize=12, color="#333333", fontcolor="#222222", arrowsize=0.8];',
        f'  internet [label={_html_label(graph.nodes["internet"])}, shape=ellipse, fillcolor="#fafafa"];',
    ]


def _group_cluster(picture: _Picture, box: str, box_members: list[str]) -> list[str]:
    """The members of one security group, in a dashed box of that group's colour, unlabelled."""
    lines = [
        f"    subgraph cluster_group_{box} {{",
        f'      graph [label="", style="rounded,dashed", color={_quote(SECURITY_GROUP_COLOR)}, margin=8];',
    ]
    lines += [f"      {member} [label={_html_label(picture.graph.nodes[member])}];" for member in box_members]
    if not any(tail in box_members and head in box_members for tail, head in picture.ranked):
        # One row: an edge to the box is tied to one member, which would leave the others loose.
        lines.append(f"      {{rank=same; {'; '.join(box_members)};}}")
        picture.rows.append(box_members)
    lines.append("    }")
    return lines


def _tier_rows(picture: _Picture, tier: str) -> list[str]:
    """What puts the tier's name and its first row on their rows, and the later rows below them."""
    tops, later = picture.first[tier], picture.later[tier]
    if not later:
        picture.rows.append([f"tier_{tier}", *tops])
        return [
            f"    {{rank=same; tier_{tier}; {'; '.join(tops)};}}",
            *(f"    tier_{tier} -> {top} [style=invis];" for top in tops),
        ]
    # Rows entered from elsewhere below the first (a worker below the web services, a queue below the static
    # site's bucket): the name goes between, where it does not widen the box.
    picture.rows.append(tops)
    picture.constraints += [(top, f"tier_{tier}") for top in tops]
    picture.constraints += [(f"tier_{tier}", member) for member in later]
    lines = [f"    {{rank=same; {'; '.join(tops)};}}"] if len(tops) > 1 else []
    lines += [f"    {top} -> tier_{tier} [style=invis, weight=0];" for top in tops]
    lines += [f"    tier_{tier} -> {member} [style=invis, weight=0];" for member in later]
    return lines


def _tier_cluster(picture: _Picture, tier: str, found: list[str]) -> list[str]:
    """One tier's box: its name, its security groups' boxes, its other members, and their rows."""
    label, fill = TIERS[tier]
    # The tier's name is a plain-text node in its first row, left of the rest (or in a row of its own below it,
    # see _tier_rows), rather than the cluster's own label: edges are routed around nodes but drawn straight
    # through cluster labels.
    tops = picture.first[tier]
    picture.same_row |= {frozenset((a, b)) for a in tops for b in tops}
    lines = [
        f"  subgraph cluster_{tier} {{",
        f'    graph [label="", style="rounded,filled", fillcolor={_quote(fill)}, color="#999999", margin=12];',
        f'    tier_{tier} [label={_quote(label)}, shape=plaintext, style="", fontsize=14, fontcolor="#333333"];',
    ]
    boxed: set[str] = set()
    for box, box_members in picture.boxes.items():
        if box in picture.used and picture.tier_of[box_members[0]] == tier:
            lines += _group_cluster(picture, box, box_members)
            boxed |= set(box_members)
    color = _quote(SECURITY_GROUP_COLOR)
    for member in found:
        if member == EVERY_SERVICE:
            lines.append(f'    {member} [label=<<I>every service</I>>, shape=plaintext, style="", fontcolor={color}];')
        elif member not in boxed:
            lines.append(f"    {member} [label={_html_label(picture.graph.nodes[member])}];")
    lines += _tier_rows(picture, tier)
    lines.append("  }")
    return lines


def _stack_tiers(picture: _Picture) -> list[str]:
    """The invisible edges that keep each tier below the one above it."""
    # A member of the upper tier that nothing places above the lower tier's first row gets an invisible edge to
    # it, so edges that skip a tier push no tier beside another. (To a member of that row: one into the tier's
    # name would pull the name away from the left.)
    lines: list[str] = []
    stacked = [tier for tier in ("edge", "public", "app", "data") if tier in picture.members]
    for upper, lower in pairwise(stacked):
        below = picture.first[lower][0]
        for member in [f"tier_{upper}", *picture.members[upper]]:
            if not _above(picture.constraints, picture.rows, member, below):
                picture.constraints.append((member, below))
                lines.append(f"  {member} -> {below} [style=invis, weight=0];")
    return lines


def _edge_line(picture: _Picture, edge: _Drawn) -> str:
    """One drawn edge: security-group edges dashed, in the groups' colour."""
    color = _quote(SECURITY_GROUP_COLOR)
    # Two leading spaces: graphviz sets a label right beside its edge, which can touch its first letter.
    attributes = [f"label={_quote('  ' + edge.label)}"]
    if edge.security_group:
        attributes += ["style=dashed", f"color={color}", f"fontcolor={color}"]
    tail, head = edge.source, edge.target
    if edge.both_ways:  # e.g. services calling each other: one edge with two heads
        attributes.append("dir=both")
        within_tier = picture.tier_of[edge.source] == picture.tier_of[edge.target]
        if within_tier and frozenset((edge.source, edge.target)) not in picture.same_row:
            # Rows inside a tier follow its one-way edges only; an xlabel needs no row of its own.
            attributes = [f"x{attributes[0]}", *attributes[1:], "constraint=false"]
    if edge.from_tier:
        attributes.append(f"ltail=cluster_{edge.from_tier}")
    if edge in picture.upward:
        tail, head = edge.target, edge.source
        attributes.append("dir=back")
        if edge.to_group:
            attributes.append(f"ltail=cluster_group_{edge.to_group}")
    else:
        if edge.from_group:
            attributes.append(f"ltail=cluster_group_{edge.from_group}")
        if edge.to_group:
            attributes.append(f"lhead=cluster_group_{edge.to_group}")
    return f"  {tail} -> {head} [{', '.join(attributes)}];"


def dot(graph: Graph) -> str:
    """The graph as Graphviz DOT: one box per tier, top to bottom in the order requests cross them (internet,
    edge, public subnets, app, data; the regional services beside them); requests and messages solid,
    security-group edges dashed."""
    picture = _plan(graph)
    lines = _header(graph, picture.used)
    for tier, found in picture.members.items():
        if tier in TIERS:
            lines += _tier_cluster(picture, tier, found)
    lines += _stack_tiers(picture)  # after every tier: it reads the rows and constraints they added
    lines += [_edge_line(picture, edge) for edge in picture.drawn]
    lines.append("}")
    return "\n".join(lines) + "\n"


def node_binary() -> str:
    """The project's node (node_modules/.bin, from package.json), else the one on PATH."""
    own = ROOT / "node_modules" / ".bin" / "node"
    found = str(own) if own.exists() else shutil.which("node")
    if found is None:
        raise SystemExit("make diagram needs node: run `make setup`")
    return found


def render(dot_files: list[Path]) -> None:
    """``<name>.svg`` and ``<name>.png`` beside each ``<name>.dot`` (tools/render_diagram.cjs)."""
    result = subprocess.run(
        [node_binary(), str(RENDERER), *map(str, dot_files)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"rendering failed (did `make setup` install node_modules?):\n{result.stderr}")


def update_docs(docs: Path, dot_text: str, rendered_png: Path) -> bool:
    """Keep ``docs/architecture.{dot,png}`` current; True when they changed. The PNG is copied only when
    the DOT changed (or the PNG is missing), so re-running on another machine, whose fonts may rasterize
    a pixel differently, leaves the committed picture alone."""
    dot_path, png_path = docs / f"{DOCS_PICTURE}.dot", docs / f"{DOCS_PICTURE}.png"
    if dot_path.is_file() and dot_path.read_text() == dot_text and png_path.is_file():
        return False
    dot_path.write_text(dot_text)
    shutil.copyfile(rendered_png, png_path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", type=Path, default=ROOT / "cdktf.out" / "stacks")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "diagrams")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for stack_dir in sorted(p for p in args.stacks.iterdir() if (p / "cdk.tf.json").is_file()):
        graph = build_graph(stack_dir.name, json.loads((stack_dir / "cdk.tf.json").read_text()))
        written[stack_dir.name] = args.out / f"{stack_dir.name}.dot"
        written[stack_dir.name].write_text(dot(graph))
        print(f"{stack_dir.name:<24} {len(graph.nodes):>3} nodes {len(graph.edges):>3} edges")
    render(list(written.values()))
    print(f"-> {args.out}/<stack>.dot, .svg, .png")
    if DOCS_STACK in written:
        changed = update_docs(args.docs, written[DOCS_STACK].read_text(), written[DOCS_STACK].with_suffix(".png"))
        print(f"{args.docs.name}/{DOCS_PICTURE}.png {'updated' if changed else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
