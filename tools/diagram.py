"""`make diagram`: each stack's architecture, read from its synthesized JSON (never drawn by hand).

internet -> CloudFront / ALB -> services -> database / cache, grouped by tier, plus every
security-group rule that lets one of those reach another (the SG edges). Writes, per stack,
``build/diagrams/<stack>.dot`` (Graphviz) and, rendered from it, ``<stack>.svg`` and ``<stack>.png``;
keeps the dev picture in docs (``docs/architecture.dot`` and ``.png``) current.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
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
    """An optional third line (e.g. the WAF web ACL in front of it)."""


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

    for logical_id, service in _resources(document, "aws_ecs_service").items():
        node = add("aws_ecs_service", logical_id, service["name"], "ECS service", "app")
        uses(node, service.get("network_configuration"))
        for balancer in service.get("load_balancer", []):
            for _, target_id in _refs(balancer.get("target_group_arn")):
                if target_id in routes:
                    alb, paths = routes[target_id]
                    graph.connect(Edge(alb, node, f"{paths} → :{balancer['container_port']}"))

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
                graph.nodes[node] = dataclasses.replace(graph.nodes[node], detail=f"WAF: {acl}")

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
    return graph


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html_label(node: Node) -> str:
    """Name in bold, then the resource type (and any detail) in smaller grey type."""
    lines = [f"<B>{escape(node.name)}</B>"]
    lines += [
        f'<FONT POINT-SIZE="12" COLOR="#444444">{escape(line)}</FONT>' for line in (node.type, node.detail) if line
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


def _drawn_edges(graph: Graph) -> list[_Drawn]:
    """The edges as drawn. A security-group edge that a routing edge already shows is left out; rules
    between the same two nodes share one edge; a pair allowed both ways is one two-headed edge (drawn
    from the upper tier down); and an edge every member of a tier has (each service reaching the
    database) is one edge from the tier's box, so the picture stays readable as services are added."""
    routed = {(e.source, e.target) for e in graph.edges if not e.security_group}
    labels: dict[tuple[str, str, bool], str] = {}
    for edge in graph.edges:
        if not (edge.security_group and (edge.source, edge.target) in routed):
            key = (edge.source, edge.target, edge.security_group)
            labels[key] = f"{labels[key]}, {edge.label}" if key in labels else edge.label
    order = ["internet", *TIERS]

    def downward(source: str, target: str) -> bool:
        return (order.index(graph.nodes[source].tier), source) <= (order.index(graph.nodes[target].tier), target)

    drawn: list[_Drawn] = []
    one_way: dict[tuple[str, str, bool], str] = {}
    for (source, target, security_group), label in labels.items():
        if labels.get((target, source, security_group)) != label:
            one_way[(source, target, security_group)] = label
        elif downward(source, target):
            drawn.append(_Drawn(source, target, label, security_group, both_ways=True))
    members = graph.members()
    sources: dict[tuple[str, str, str, bool], list[str]] = {}  # (tier, target, label, sg) -> its sources
    for (source, target, security_group), label in one_way.items():
        if graph.nodes[source].tier != graph.nodes[target].tier:
            sources.setdefault((graph.nodes[source].tier, target, label, security_group), []).append(source)
    for (tier, target, label, security_group), found in sources.items():
        if len(found) > 1 and sorted(found) == members[tier]:
            middle = members[tier][(len(found) - 1) // 2]
            drawn.append(_Drawn(middle, target, label, security_group, from_tier=tier))
            for source in found:
                del one_way[(source, target, security_group)]
    drawn += [_Drawn(s, t, label, sg) for (s, t, sg), label in one_way.items()]
    return sorted(drawn, key=lambda d: (d.security_group, d.source, d.target))


def _tops(members: list[str], drawn: list[_Drawn]) -> list[str]:
    """The members of a tier no other member of it leads to: its first row in the picture."""
    inner = {d.target for d in drawn if not d.both_ways and d.source in members and d.source != d.target}
    return [m for m in members if m not in inner] or members[:1]


def dot(graph: Graph) -> str:
    """The graph as Graphviz DOT: one box per tier, top to bottom in the order requests cross them;
    routing edges solid, security-group edges dashed."""
    drawn = _drawn_edges(graph)
    title = (
        f"<<B>{escape(graph.stack)}</B>: generated by make diagram from its synthesized JSON"
        '<BR ALIGN="LEFT"/><FONT POINT-SIZE="14">solid: request routing    dashed: allowed by a security-group rule'
        '</FONT><BR ALIGN="LEFT"/>>'
    )
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
    for tier, members in graph.members().items():
        if tier not in TIERS:
            continue
        label, fill = TIERS[tier]
        # The tier's name is a plain-text node in its first row, left of the rest, rather than the
        # cluster's own label: edges are routed around nodes but drawn straight through cluster labels.
        tops = _tops(members, drawn)
        same_row |= {frozenset((a, b)) for a in tops for b in tops}
        lines.append(f"  subgraph cluster_{tier} {{")
        lines.append(
            f'    graph [label="", style="rounded,filled", fillcolor={_quote(fill)}, color="#999999", margin=12];'
        )
        lines.append(
            f'    tier_{tier} [label={_quote(label)}, shape=plaintext, style="", fontsize=14, fontcolor="#333333"];'
        )
        lines += [f"    {member} [label={_html_label(graph.nodes[member])}];" for member in members]
        lines.append(f"    {{rank=same; tier_{tier}; {'; '.join(tops)};}}")
        lines += [f"    tier_{tier} -> {top} [style=invis];" for top in tops]
        lines.append("  }")
    for edge in drawn:
        # Two leading spaces: graphviz sets a label right beside its edge, which can touch its first letter.
        attributes = [f"label={_quote('  ' + edge.label)}"]
        if edge.security_group:
            color = _quote(SECURITY_GROUP_COLOR)
            attributes += ["style=dashed", f"color={color}", f"fontcolor={color}"]
        if edge.both_ways:  # e.g. services calling each other: one edge with two heads
            attributes.append("dir=both")
            within_tier = graph.nodes[edge.source].tier == graph.nodes[edge.target].tier
            if within_tier and frozenset((edge.source, edge.target)) not in same_row:
                # Rows inside a tier follow its one-way edges only; an xlabel needs no row of its own.
                attributes = [f"x{attributes[0]}", *attributes[1:], "constraint=false"]
        if edge.from_tier:
            attributes.append(f"ltail=cluster_{edge.from_tier}")
        lines.append(f"  {edge.source} -> {edge.target} [{', '.join(attributes)}];")
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
