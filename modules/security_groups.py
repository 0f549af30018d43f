"""Security groups: the ALB -> app -> database/cache chain, or one shared group (opt-in)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from .block import Block

SecurityGroupMode = Literal["tiered", "shared"]
Direction = Literal["in", "out"]
RULE_TYPES: dict[Direction, type[VpcSecurityGroupIngressRule] | type[VpcSecurityGroupEgressRule]] = {
    "in": VpcSecurityGroupIngressRule,
    "out": VpcSecurityGroupEgressRule,
}
ANYWHERE = "0.0.0.0/0"
POSTGRES_PORT = 5432
REDIS_PORT = 6379


@dataclass(frozen=True, kw_only=True)
class SecurityGroupsProps:
    """What the security groups allow. Every group and rule gets a description."""

    name: str
    """Prefix for group names and Name tags, e.g. ``netflux-prod``."""
    vpc_id: str
    """VPC the groups belong to."""
    service_ports: Mapping[str, int]
    """Container port of each service, by service name: the ALB reaches these, and services reach
    each other on them."""
    mode: SecurityGroupMode = "tiered"
    """tiered: separate ALB, app, database and cache groups, each hop allowed on its one port only;
    shared: app, database and cache share one group that allows all traffic within itself (the ALB
    keeps its own group)."""
    alb_ingress_cidrs: list[str] = field(default_factory=lambda: [ANYWHERE])
    """Who may connect to the ALB's listener ports: the whole internet by default."""
    alb_listener_ports: list[int] = field(default_factory=lambda: [80, 443])
    """Ports the ALB listens on; nothing else is open on it."""
    app_https_egress_cidrs: list[str] = field(default_factory=lambda: [ANYWHERE])
    """Where tasks may open HTTPS (443) connections: ECR image pulls, CloudWatch Logs, Secrets
    Manager and other AWS APIs through NAT or VPC endpoints. Anywhere by default."""
    load_balancer: bool = True
    """The platform ALB's group; false when the compute brings its own load balancer (Elastic Beanstalk)."""
    database: bool = True
    """A database group (tiered mode); false when the environment has no database."""
    cache: bool = True
    """A cache group (tiered mode); false when the environment has no cache."""
    database_proxy: bool = False
    """An RDS Proxy group: the database port in from the services, out to the database only; in shared
    mode the proxy joins the shared group."""
    database_port: int = POSTGRES_PORT
    """Port the database listens on (PostgreSQL)."""
    cache_port: int = REDIS_PORT
    """Port the cache listens on (Redis)."""


class SecurityGroups(Block):
    """The platform's security groups, built from standalone rule resources (no inline rules, so no
    dependency cycles and no churn between rules managed in two places).

    A group with no egress rule allows no outbound connection: Terraform removes the allow-all rule
    AWS adds to new groups. Responses to allowed inbound connections still flow (groups are
    stateful), and DNS to the VPC resolver is never filtered by security groups.
    """

    mode: SecurityGroupMode
    alb_sg_id: str | None
    app_sg_id: str
    database_sg_id: str | None
    cache_sg_id: str | None
    database_proxy_sg_id: str | None

    def __init__(self, scope: Construct, construct_id: str, *, props: SecurityGroupsProps) -> None:
        super().__init__(scope, construct_id)
        if not props.alb_ingress_cidrs or not props.alb_listener_ports:
            raise ValueError("alb_ingress_cidrs and alb_listener_ports must not be empty")
        if props.database_proxy and not props.database:
            raise ValueError("database_proxy needs database = True: the proxy fronts the database")
        self.mode = props.mode
        self.database_proxy_sg_id = None
        self._props = props
        # Several services may share a port: one rule per port, its description names them all.
        self._ports: dict[int, list[str]] = {}
        for service, port in sorted(props.service_ports.items()):
            self._ports.setdefault(port, []).append(service)

        alb = self._load_balancer_group() if props.load_balancer else None
        self.alb_sg_id = alb.id if alb is not None else None

        if props.mode == "shared":
            app = self._group("shared", "App, database and cache: all traffic among members of this group")
            self._rule("in", "shared-in-all", app.id, "All traffic from members of this group", peer=app.id)
            self._rule("out", "shared-out-all", app.id, "All traffic to members of this group", peer=app.id)
            self.app_sg_id = self.database_sg_id = self.cache_sg_id = app.id
            if props.database_proxy:
                self.database_proxy_sg_id = app.id
            if alb is not None:
                self._alb_to_app(alb, app)
            self._https_out(app, "shared")
            return

        app = self._group("app", "Services: their ports from the ALB and from each other")
        self.app_sg_id = app.id
        if alb is not None:
            self._alb_to_app(alb, app)
        for port, services in self._ports.items():
            # Self-reference: a task may call another service's port (customer-service -> movie-service).
            names = ", ".join(services)
            self._hop(app, app, port, ingress=f"{names} from other services", egress=f"Calls to {names}")
        self._https_out(app, "app")
        self.database_sg_id = self.cache_sg_id = None
        if props.database:
            database = self._data_group(app, "database", props.database_port)
            self.database_sg_id = database.id
            if props.database_proxy:
                self._database_proxy(app, database)
        if props.cache:
            self.cache_sg_id = self._data_group(app, "cache", props.cache_port).id

    def _load_balancer_group(self) -> SecurityGroup:
        alb = self._group("alb", "ALB: HTTP(S) from the allowed clients, out only to the services")
        for port in sorted(self._props.alb_listener_ports):
            for cidr in self._props.alb_ingress_cidrs:
                self._rule(
                    "in",
                    f"alb-in-{port}-{_slug(cidr)}",
                    alb.id,
                    f"{_protocol(port)} to the ALB listener from {cidr}",
                    port=port,
                    cidr=cidr,
                )
        return alb

    def _data_group(self, app: SecurityGroup, role: str, port: int) -> SecurityGroup:
        """A data-tier group reachable on ``port`` from the services only, with no egress at all."""
        group = self._group(role, f"{role.capitalize()}: {port} from the services only")
        self._hop(app, group, port, ingress=f"{role.capitalize()} from the services", egress=f"Services to the {role}")
        return group

    def _database_proxy(self, app: SecurityGroup, database: SecurityGroup) -> None:
        port = self._props.database_port
        proxy = self._group("database-proxy", f"RDS Proxy: {port} from the services, out to the database only")
        self.database_proxy_sg_id = proxy.id
        self._hop(app, proxy, port, ingress="RDS Proxy from the services", egress="Services to the RDS Proxy")
        self._hop(proxy, database, port, ingress="Database from the RDS Proxy", egress="RDS Proxy to the database")

    def _group(self, role: str, description: str) -> SecurityGroup:
        """A group without rules; its construct ID is ``role``, which names its rules (see ``_hop``)."""
        name = f"{self._props.name}-{role}"
        return SecurityGroup(
            self, role, name=name, description=description, vpc_id=self._props.vpc_id, tags={"Name": name}
        )

    def _alb_to_app(self, alb: SecurityGroup, app: SecurityGroup) -> None:
        for port, services in self._ports.items():
            names = ", ".join(services)
            self._hop(alb, app, port, ingress=f"{names} from the ALB", egress=f"ALB to {names}")

    def _https_out(self, app: SecurityGroup, role: str) -> None:
        for cidr in self._props.app_https_egress_cidrs:
            self._rule(
                "out",
                f"{role}-out-443-{_slug(cidr)}",
                app.id,
                f"HTTPS to {cidr}: ECR image pulls, CloudWatch Logs, Secrets Manager and other AWS APIs",
                port=443,
                cidr=cidr,
            )

    def _hop(self, source: SecurityGroup, target: SecurityGroup, port: int, *, ingress: str, egress: str) -> None:
        """``source`` may connect to ``target`` on ``port``: the ingress rule on the target and the matching
        egress rule on the source (descriptions ``ingress`` and ``egress``), named by the groups' roles."""
        source_role, target_role = source.node.id, target.node.id
        self._rule("in", f"{target_role}-in-{port}-from-{source_role}", target.id, ingress, port=port, peer=source.id)
        self._rule("out", f"{source_role}-out-{port}-to-{target_role}", source.id, egress, port=port, peer=target.id)

    def _rule(
        self,
        direction: Direction,
        construct_id: str,
        group_id: str,
        description: str,
        *,
        port: int | None = None,
        cidr: str | None = None,
        peer: str | None = None,
    ) -> None:
        """One standalone rule of ``group_id``: TCP ``port`` (all traffic when unset) from (in) or to
        (out) ``cidr`` or the security group ``peer``."""
        RULE_TYPES[direction](
            self,
            construct_id,
            security_group_id=group_id,
            description=description,
            ip_protocol="-1" if port is None else "tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=cidr,
            referenced_security_group_id=peer,
        )


def _protocol(port: int) -> str:
    return {80: "HTTP", 443: "HTTPS"}.get(port, f"TCP {port}")


def _slug(cidr: str) -> str:
    """A CIDR as a construct-ID fragment: ``0.0.0.0/0`` -> ``0-0-0-0-0``."""
    return cidr.replace(".", "-").replace("/", "-")
