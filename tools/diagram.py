"""`make diagram`: each stack's architecture, read from its synthesized JSON (never drawn by hand).

internet -> CloudFront / ALB -> listener rules -> services -> database / cache, plus every
security-group rule that lets one of those reach another (the SG edges). Writes, per stack,
``build/diagrams/<stack>.mmd`` (Mermaid) and ``build/diagrams/<stack>.svg`` (a pure-Python layered
drawing), and refreshes the dev diagram embedded in docs/platform.md between its markers.

    python -m tools.diagram [--stacks cdktf.out/stacks] [--out build/diagrams] [--readme docs/platform.md]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import modules  # noqa: F401  # registers every building block
from modules.block import diagram_nodes

ROOT = Path(__file__).resolve().parent.parent
README_STACK = "netflux-dev"
README_BEGIN = f"<!-- diagram:{README_STACK} (make diagram writes this block) -->"
README_END = "<!-- /diagram -->"
_REF = re.compile(r"\$\{(aws_[a-z0-9_]+)\.([^.}]+)\.")

# Column of each kind of node, left to right.
COLUMNS = {"internet": 0, "edge": 1, "alb": 2, "origin": 2, "rule": 3, "compute": 4, "data": 5}


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    kind: str


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


def _resources(document: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = document.get("resource", {}).get(resource_type, {})
    return found


def _refs(value: Any) -> Iterable[tuple[str, str]]:
    """Every ``(type, logical id)`` a value references."""
    yield from _REF.findall(json.dumps(value))


def _node_id(logical_id: str) -> str:
    """A Mermaid-safe node id from a logical id (unique within its stack)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", logical_id)


def build_graph(stack: str, document: Mapping[str, Any]) -> Graph:
    """The architecture graph of one synthesized stack."""
    graph = Graph(stack)
    graph.add(Node("internet", "Internet", "internet"))
    groups_of: dict[str, set[str]] = {}  # security-group logical id -> node ids using it

    def uses(node_id: str, value: Any) -> None:
        for resource_type, logical_id in _refs(value):
            if resource_type == "aws_security_group":
                groups_of.setdefault(logical_id, set()).add(node_id)

    for logical_id, distribution in _resources(document, "aws_cloudfront_distribution").items():
        cdn = _node_id(logical_id)
        graph.add(Node(cdn, "CloudFront", "edge"))
        graph.connect(Edge("internet", cdn, "HTTPS"))
        for origin in distribution.get("origin", []):
            for resource_type, target_id in _refs(origin.get("domain_name")):
                if resource_type == "aws_s3_bucket":
                    bucket = _node_id(target_id)
                    graph.add(Node(bucket, "S3 site bucket", "origin"))
                    graph.connect(Edge(cdn, bucket, "OAC"))

    for balancer in _resources(document, "aws_lb").values():
        graph.nodes["alb"] = Node("alb", "ALB (internal)" if balancer.get("internal") else "ALB", "alb")
        uses("alb", balancer.get("security_groups"))

    target_groups: dict[str, str] = {}  # target-group logical id -> rule node id
    for logical_id, rule in sorted(
        _resources(document, "aws_lb_listener_rule").items(), key=lambda r: r[1]["priority"]
    ):
        node = _node_id(logical_id)
        values = [
            v
            for c in rule.get("condition", [])
            for k in ("path_pattern", "host_header")
            for v in c.get(k, {}).get("values", [])
        ]
        graph.add(Node(node, f"rule {rule['priority']}: {' '.join(values)}", "rule"))
        graph.connect(Edge("alb", node, "listener"))
        for _, target_id in _refs(rule.get("action")):
            target_groups[target_id] = node

    for logical_id, service in _resources(document, "aws_ecs_service").items():
        node = _node_id(logical_id)
        graph.add(Node(node, f"ECS service {service['name']}", "compute"))
        uses(node, service.get("network_configuration"))
        for balancer in service.get("load_balancer", []):
            for _, target_id in _refs(balancer.get("target_group_arn")):
                if target_id in target_groups:
                    graph.connect(Edge(target_groups[target_id], node, f"forward :{balancer['container_port']}"))

    for environment in _resources(document, "aws_elastic_beanstalk_environment").values():
        graph.nodes["beanstalk"] = Node("beanstalk", "Elastic Beanstalk (own ALB)", "compute")
        graph.connect(Edge("internet", "beanstalk", "HTTP(S)"))
        uses("beanstalk", [s for s in environment.get("setting", []) if s.get("name") == "SecurityGroups"])

    # CloudFront's /api/* behaviour goes to whichever load balancer the stack has.
    for logical_id, distribution in _resources(document, "aws_cloudfront_distribution").items():
        if any(o.get("origin_id") == "api" for o in distribution.get("origin", [])):
            for entry in ("alb", "beanstalk"):
                graph.connect(Edge(_node_id(logical_id), entry, "/api/*"))

    # The data stores every building block declares (``Block.diagram_nodes``).
    for resource_type, declared in diagram_nodes().items():
        for logical_id, body in _resources(document, resource_type).items():
            node = _node_id(logical_id)
            replica = " replica" if body.get("replicate_source_db") else ""
            graph.add(Node(node, declared.label + replica, declared.tier))
            uses(node, body.get("vpc_security_group_ids") or body.get("security_group_ids"))

    # Internet-facing listener ports of the ALB.
    for rule in _resources(document, "aws_vpc_security_group_ingress_rule").values():
        if rule.get("cidr_ipv4") == "0.0.0.0/0":
            for _, group in _refs(rule.get("security_group_id")):
                for node in sorted(groups_of.get(group, ())):
                    graph.connect(Edge("internet", node, f"tcp/{rule.get('from_port')}"))
    # Security-group edges: a rule on group B referencing group A lets A's members reach B's.
    for rule in _resources(document, "aws_vpc_security_group_ingress_rule").values():
        sources = [g for t, g in _refs(rule.get("referenced_security_group_id")) if t == "aws_security_group"]
        targets = [g for t, g in _refs(rule.get("security_group_id")) if t == "aws_security_group"]
        port = "all" if rule.get("ip_protocol") == "-1" else f"tcp/{rule.get('from_port')}"
        for source_group in sources:
            for target_group in targets:
                for source in sorted(groups_of.get(source_group, ())):
                    for target in sorted(groups_of.get(target_group, ())):
                        if source != target:
                            graph.connect(Edge(source, target, f"SG {port}", security_group=True))
    return graph


def mermaid(graph: Graph) -> str:
    """The graph as a Mermaid flowchart (routing edges solid, security-group edges dashed)."""
    lines = ["flowchart LR"]
    for node in sorted(graph.nodes.values(), key=lambda n: (COLUMNS[n.kind], n.id)):
        lines.append(f'  {node.id}["{node.label}"]')
    for edge in graph.edges:
        arrow = "-.->" if edge.security_group else "-->"
        lines.append(f'  {edge.source} {arrow}|"{edge.label}"| {edge.target}')
    return "\n".join(lines) + "\n"


def svg(graph: Graph) -> str:
    """A layered drawing: one column per kind (internet, edge, ALB, rules, compute, data)."""
    width_box, height_box, gap_x, gap_y, margin = 190, 44, 70, 26, 30
    columns: dict[int, list[Node]] = {}
    for node in sorted(graph.nodes.values(), key=lambda n: n.id):
        columns.setdefault(COLUMNS[node.kind], []).append(node)
    tallest = max(len(nodes) for nodes in columns.values())
    height = margin * 2 + tallest * (height_box + gap_y) + 30
    width = margin * 2 + len(COLUMNS) * (width_box + gap_x)
    position: dict[str, tuple[float, float]] = {}
    for column, nodes in columns.items():
        top = margin + 30 + (tallest - len(nodes)) * (height_box + gap_y) / 2
        for row, node in enumerate(nodes):
            position[node.id] = (margin + column * (width_box + gap_x), top + row * (height_box + gap_y))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>',
        f'<text x="{margin}" y="{margin}" font-size="14" font-weight="bold">{escape(graph.stack)}</text>',
    ]
    for edge in graph.edges:
        (x1, y1), (x2, y2) = position[edge.source], position[edge.target]
        start = (x1 + width_box, y1 + height_box / 2)
        end = (x2, y2 + height_box / 2) if x2 > x1 else (x2 + width_box / 2, y2 + (0 if y2 > y1 else height_box))
        dash = ' stroke-dasharray="5,4" stroke="#b05"' if edge.security_group else ' stroke="#333"'
        parts.append(
            f'<line x1="{start[0]:.0f}" y1="{start[1]:.0f}" x2="{end[0]:.0f}" y2="{end[1]:.0f}"{dash} marker-end="url(#arrow)"/>'
        )
        parts.append(
            f'<text x="{(start[0] + end[0]) / 2:.0f}" y="{(start[1] + end[1]) / 2 - 3:.0f}" text-anchor="middle" '
            f'fill="#555">{escape(edge.label)}</text>'
        )
    for node_id, (x, y) in position.items():
        node = graph.nodes[node_id]
        parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{width_box}" height="{height_box}" rx="6" fill="#eef4fb" stroke="#246"/>'
        )
        parts.append(
            f'<text x="{x + width_box / 2:.0f}" y="{y + height_box / 2 + 4:.0f}" text-anchor="middle">{escape(node.label)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def readme_block(mermaid_text: str) -> str:
    return f"{README_BEGIN}\n```mermaid\n{mermaid_text}```\n{README_END}"


def update_readme(readme: Path, mermaid_text: str) -> bool:
    """Replace the diagram block in ``readme``; True when it changed."""
    text = readme.read_text()
    pattern = re.compile(re.escape(README_BEGIN) + r".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{readme}: no diagram block ({README_BEGIN} ... {README_END})")
    updated = pattern.sub(lambda _: readme_block(mermaid_text), text)
    readme.write_text(updated)
    return updated != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", type=Path, default=ROOT / "cdktf.out" / "stacks")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "diagrams")
    parser.add_argument("--readme", type=Path, default=ROOT / "docs" / "platform.md")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for stack_dir in sorted(p for p in args.stacks.iterdir() if (p / "cdk.tf.json").is_file()):
        graph = build_graph(stack_dir.name, json.loads((stack_dir / "cdk.tf.json").read_text()))
        (args.out / f"{stack_dir.name}.mmd").write_text(mermaid(graph))
        (args.out / f"{stack_dir.name}.svg").write_text(svg(graph))
        print(
            f"{stack_dir.name:<24} {len(graph.nodes):>3} nodes {len(graph.edges):>3} edges -> {args.out}/{stack_dir.name}.svg"
        )
        if stack_dir.name == README_STACK:
            changed = update_readme(args.readme, mermaid(graph))
            print(f"{args.readme.name} diagram block {'updated' if changed else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
