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


def build_graph(stack: str, document: Mapping[str, Any]) -> Graph:
    """The architecture graph of one synthesized stack."""
    graph = Graph(stack)
    graph.add(Node("internet", "Internet", "", "internet"))
    groups_of: dict[str, set[str]] = {}  # security-group logical id -> node ids using it
    node_of: dict[tuple[str, str], str] = {}  # (resource type, logical id) -> node id

    def add(resource_type: str, logical_id: str, name: str, kind: str, tier: str) -> str:
        node = _node_id(logical_id)
        graph.add(Node(node, name, kind, tier))
        node_of[(resource_type, logical_id)] = node
        return node

    def uses(node_id: str, value: Any) -> None:
        for resource_type, logical_id in _refs(value):
            if resource_type == "aws_security_group":
                groups_of.setdefault(logical_id, set()).add(node_id)

    distributions = _resources(document, "aws_cloudfront_distribution")
    for logical_id, distribution in distributions.items():
        name = (distribution.get("aliases") or [_name(distribution, "comment", default="CloudFront")])[0]
        cdn = add("aws_cloudfront_distribution", logical_id, name, "CloudFront distribution", "edge")
        graph.connect(Edge("internet", cdn, "HTTPS"))
        for origin in distribution.get("origin", []):
            for resource_type, target_id in _refs(origin.get("domain_name")):
                if resource_type == "aws_s3_bucket":
                    body = _resources(document, "aws_s3_bucket")[target_id]
                    name = _name(body, "bucket", "bucket_prefix", default=target_id)
                    bucket = add(resource_type, target_id, name, "S3 bucket (static site)", "shared")
                    graph.connect(Edge(cdn, bucket, "origin (OAC)"))

    entries: list[str] = []  # what CloudFront's /api/* behaviour can reach: load balancers, Beanstalk
    for logical_id, balancer in _resources(document, "aws_lb").items():
        internal = bool(balancer.get("internal"))
        kind = "ALB (internal)" if internal else "ALB (internet-facing)"
        alb = add("aws_lb", logical_id, _name(balancer, "name", default="ALB"), kind, "app" if internal else "public")
        entries.append(alb)
        uses(alb, balancer.get("security_groups"))

    balancer_of = {  # listener logical id -> its load balancer's node
        logical_id: node_of[ref]
        for logical_id, listener in _resources(document, "aws_lb_listener").items()
        for ref in _refs(listener.get("load_balancer_arn"))
        if ref in node_of
    }
    routes: dict[str, tuple[str, str]] = {}  # target-group logical id -> (load balancer node, paths)
    for rule in _resources(document, "aws_lb_listener_rule").values():
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

    # ECS services, of three kinds (config/service.py): a web service has a target group behind the load
    # balancer; a worker consumes an SQS queue; a backend is reached only through Service Connect.
    definitions = _resources(document, "aws_ecs_task_definition")
    queue_actions = _queue_actions(document)
    jobs = _jobs(stack, document)
    queues_of: dict[str, dict[str, set[str]]] = {}  # service node -> queue logical id -> sqs: actions allowed
    for logical_id, service in _resources(document, "aws_ecs_service").items():
        node = _node_id(logical_id)
        for definition in _ref_ids(service.get("task_definition"), "aws_ecs_task_definition"):
            for role in _ref_ids(definitions.get(definition, {}).get("task_role_arn"), "aws_iam_role"):
                for queue, actions in queue_actions.get(role, {}).items():
                    queues_of.setdefault(node, {}).setdefault(queue, set()).update(actions)
        connect = service.get("service_connect_configuration") or []
        if service.get("load_balancer"):
            kind = KINDS["web"]
        elif any("sqs:ReceiveMessage" in actions for actions in queues_of.get(node, {}).values()):
            kind = KINDS["worker"]
        elif any(c.get("service") for c in (connect if isinstance(connect, list) else [connect])):
            kind = KINDS["backend"]
        else:
            kind = SERVICE
        add("aws_ecs_service", logical_id, service["name"], kind, "app")
        if logical_id in jobs:
            graph.nodes[node] = dataclasses.replace(graph.nodes[node], detail="\n".join(jobs[logical_id]))
        uses(node, service.get("network_configuration"))
        for balancer in service.get("load_balancer", []):
            for _, target_id in _refs(balancer.get("target_group_arn")):
                if target_id in routes:
                    alb, paths = routes[target_id]
                    graph.connect(Edge(alb, node, f"{paths} → :{balancer['container_port']}"))

    # A worker's queue (regional, outside the VPC): its senders send to it, the worker polls it. Other queues
    # (a job schedule's dead-letter queue) are not drawn.
    sqs = _resources(document, "aws_sqs_queue")
    for consumer, queues in sorted(queues_of.items()):
        for logical_id, actions in sorted(queues.items()):
            if "sqs:ReceiveMessage" not in actions or logical_id not in sqs:
                continue
            body = sqs[logical_id]
            kind = "SQS queue + DLQ" if _ref_ids(body.get("redrive_policy"), "aws_sqs_queue") else "SQS queue"
            queue = add("aws_sqs_queue", logical_id, _name(body, "name", default=logical_id), kind, "shared")
            graph.connect(Edge(queue, consumer, "polls"))
            for sender, allowed in sorted(queues_of.items()):
                if sender != consumer and "sqs:SendMessage" in allowed.get(logical_id, ()):
                    graph.connect(Edge(sender, queue, "SendMessage"))

    for logical_id, environment in _resources(document, "aws_elastic_beanstalk_environment").items():
        name = _name(environment, "name", default="Elastic Beanstalk")
        node = add("aws_elastic_beanstalk_environment", logical_id, name, "Elastic Beanstalk (own ALB)", "app")
        entries.append(node)
        graph.connect(Edge("internet", node, "HTTP(S)"))
        uses(node, [s for s in environment.get("setting", []) if s.get("name") == "SecurityGroups"])

    # CloudFront's /api/* behaviour goes to whichever load balancer the stack has.
    for logical_id, distribution in distributions.items():
        if any(o.get("origin_id") == "api" for o in distribution.get("origin", [])):
            for entry in entries:
                graph.connect(Edge(_node_id(logical_id), entry, "/api/*"))

    # The data stores every building block declares (``Block.diagram_nodes``).
    for resource_type, declared in diagram_nodes().items():
        for logical_id, body in _resources(document, resource_type).items():
            replica = " replica" if body.get("replicate_source_db") else ""
            name = _name(body, "identifier", "name", "replication_group_id", default=declared.label)
            node = add(resource_type, logical_id, name, declared.label + replica, declared.tier)
            uses(node, body.get("vpc_security_group_ids") or body.get("security_group_ids"))

    # WAF web ACLs in front of CloudFront (web_acl_id) and of a load balancer (an association).
    acls = _resources(document, "aws_wafv2_web_acl")
    protected = [(ref, d.get("web_acl_id")) for ref, d in distributions.items()]
    protected += [
        (i, a.get("web_acl_arn"))
        for a in _resources(document, "aws_wafv2_web_acl_association").values()
        for _, i in _refs(a.get("resource_arn"))
    ]
    for logical_id, acl_arn in protected:
        for resource_type, acl_id in _refs(acl_arn):
            node = _node_id(logical_id)
            if resource_type == "aws_wafv2_web_acl" and node in graph.nodes:
                acl = _name(acls.get(acl_id, {}), "name", default=acl_id)
                detail = "\n".join(filter(None, (f"WAF: {acl}", graph.nodes[node].detail)))
                graph.nodes[node] = dataclasses.replace(graph.nodes[node], detail=detail)

    ingress = _resources(document, "aws_vpc_security_group_ingress_rule").values()
    # Internet-facing listener ports.
    for rule in ingress:
        if rule.get("cidr_ipv4") == "0.0.0.0/0":
            for _, group in _refs(rule.get("security_group_id")):
                for node in sorted(groups_of.get(group, ())):
                    graph.connect(Edge("internet", node, f"tcp/{rule.get('from_port')}"))
    # Security-group edges: a rule on group B referencing group A lets A's members reach B's.
    for rule in ingress:
        sources = [g for t, g in _refs(rule.get("referenced_security_group_id")) if t == "aws_security_group"]
        targets = [g for t, g in _refs(rule.get("security_group_id")) if t == "aws_security_group"]
        port = "all traffic" if rule.get("ip_protocol") == "-1" else f"tcp/{rule.get('from_port')}"
        for source_group in sources:
            for target_group in targets:
                for source in sorted(groups_of.get(source_group, ())):
                    for target in sorted(groups_of.get(target_group, ())):
                        if source != target:
                            graph.connect(Edge(source, target, port, security_group=True))
    graph.groups = {group: frozenset(members) for group, members in sorted(groups_of.items())}
    return graph


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


def dot(graph: Graph) -> str:
    """The graph as Graphviz DOT: one box per tier, top to bottom in the order requests cross them (internet,
    edge, public subnets, app, data; the regional services beside them); requests and messages solid,
    security-group edges dashed."""
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

    legend = "solid: requests and messages    dashed: allowed by a security-group rule"
    if used:
        legend += "    dashed box: one security group's members"
    title = (
        f"<<B>{escape(graph.stack)}</B>: generated by make diagram from its synthesized JSON"
        f'<BR ALIGN="LEFT"/><FONT POINT-SIZE="14">{legend}</FONT><BR ALIGN="LEFT"/>>'
    )
    color = _quote(SECURITY_GROUP_COLOR)
    lines = [
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
    same_row: set[frozenset[str]] = set()
    # What orders the rows, for the check that keeps each tier below the one above it.
    constraints = ranked + [
        (d.source, d.target) for d in drawn if d.both_ways and tier_of[d.source] != tier_of[d.target]
    ]
    rows: list[list[str]] = []
    for tier, found in members.items():
        if tier not in TIERS:
            continue
        label, fill = TIERS[tier]
        # The tier's name is a plain-text node in its first row, left of the rest (or in a row of its own below
        # it, see below), rather than the cluster's own label: edges are routed around nodes but drawn straight
        # through cluster labels.
        tops = first[tier]
        same_row |= {frozenset((a, b)) for a in tops for b in tops}
        lines.append(f"  subgraph cluster_{tier} {{")
        lines.append(
            f'    graph [label="", style="rounded,filled", fillcolor={_quote(fill)}, color="#999999", margin=12];'
        )
        lines.append(
            f'    tier_{tier} [label={_quote(label)}, shape=plaintext, style="", fontsize=14, fontcolor="#333333"];'
        )
        boxed: set[str] = set()
        for box, box_members in boxes.items():
            if box in used and tier_of[box_members[0]] == tier:
                # The members of one security group, in a dashed box of that group's colour, unlabelled.
                lines.append(f"    subgraph cluster_group_{box} {{")
                lines.append(f'      graph [label="", style="rounded,dashed", color={color}, margin=8];')
                lines += [f"      {member} [label={_html_label(graph.nodes[member])}];" for member in box_members]
                if not any(tail in box_members and head in box_members for tail, head in ranked):
                    # One row: an edge to the box is tied to one member, which would leave the others loose.
                    lines.append(f"      {{rank=same; {'; '.join(box_members)};}}")
                    rows.append(box_members)
                lines.append("    }")
                boxed |= set(box_members)
        for member in found:
            if member == EVERY_SERVICE:
                lines.append(
                    f'    {member} [label=<<I>every service</I>>, shape=plaintext, style="", fontcolor={color}];'
                )
            elif member not in boxed:
                lines.append(f"    {member} [label={_html_label(graph.nodes[member])}];")
        if later[tier]:
            # Rows entered from elsewhere below the first (a worker below the web services, a queue below the
            # static site's bucket): the name goes between, where it does not widen the box.
            rows.append(tops)
            constraints += [(top, f"tier_{tier}") for top in tops]
            constraints += [(f"tier_{tier}", member) for member in later[tier]]
            if len(tops) > 1:
                lines.append(f"    {{rank=same; {'; '.join(tops)};}}")
            lines += [f"    {top} -> tier_{tier} [style=invis, weight=0];" for top in tops]
            lines += [f"    tier_{tier} -> {member} [style=invis, weight=0];" for member in later[tier]]
        else:
            rows.append([f"tier_{tier}", *tops])
            lines.append(f"    {{rank=same; tier_{tier}; {'; '.join(tops)};}}")
            lines += [f"    tier_{tier} -> {top} [style=invis];" for top in tops]
        lines.append("  }")
    # Each tier below the one above it: a member of the upper tier that nothing places above the lower tier's
    # first row gets an invisible edge to it, so edges that skip a tier push no tier beside another. (To a
    # member of that row: one into the tier's name would pull the name away from the left.)
    stacked = [tier for tier in ("edge", "public", "app", "data") if tier in members]
    for upper, lower in pairwise(stacked):
        below = first[lower][0]
        for member in [f"tier_{upper}", *members[upper]]:
            if not _above(constraints, rows, member, below):
                constraints.append((member, below))
                lines.append(f"  {member} -> {below} [style=invis, weight=0];")
    for edge in drawn:
        # Two leading spaces: graphviz sets a label right beside its edge, which can touch its first letter.
        attributes = [f"label={_quote('  ' + edge.label)}"]
        if edge.security_group:
            attributes += ["style=dashed", f"color={color}", f"fontcolor={color}"]
        tail, head = edge.source, edge.target
        if edge.both_ways:  # e.g. services calling each other: one edge with two heads
            attributes.append("dir=both")
            within_tier = tier_of[edge.source] == tier_of[edge.target]
            if within_tier and frozenset((edge.source, edge.target)) not in same_row:
                # Rows inside a tier follow its one-way edges only; an xlabel needs no row of its own.
                attributes = [f"x{attributes[0]}", *attributes[1:], "constraint=false"]
        if edge.from_tier:
            attributes.append(f"ltail=cluster_{edge.from_tier}")
        if edge in upward:
            tail, head = edge.target, edge.source
            attributes.append("dir=back")
            if edge.to_group:
                attributes.append(f"ltail=cluster_group_{edge.to_group}")
        else:
            if edge.from_group:
                attributes.append(f"ltail=cluster_group_{edge.from_group}")
            if edge.to_group:
                attributes.append(f"lhead=cluster_group_{edge.to_group}")
        lines.append(f"  {tail} -> {head} [{', '.join(attributes)}];")
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
