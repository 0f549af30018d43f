"""Security groups: the ALB -> app -> database/cache chain, with backend and worker services in groups of
their own, or one shared group (opt-in)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from config.cache import CACHE_PORT
from config.database import POSTGRES_PORT
from config.load_balancer import HTTP_PORT, HTTPS_PORT, AlbConfig, listener_ports
from config.security_groups import SecurityGroupMode, SecurityGroupsConfig
from config.service import ServiceConfig, ServiceKind

from .block import Block, Naming
from .network import Network

Direction = Literal["in", "out"]
RULE_TYPES: dict[Direction, type[VpcSecurityGroupIngressRule] | type[VpcSecurityGroupEgressRule]] = {
    "in": VpcSecurityGroupIngressRule,
    "out": VpcSecurityGroupEgressRule,
}
ANYWHERE = "0.0.0.0/0"
# Where tasks may open HTTPS connections: ECR image pulls, CloudWatch Logs, Secrets Manager and other
# AWS APIs, through NAT or VPC endpoints.
APP_HTTPS_EGRESS_CIDRS = (ANYWHERE,)
# Who is in each services' group (by its role), for rule descriptions.
_MEMBERS = {"app": "the web services", "backend": "the backend services", "worker": "the workers"}


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
    """The web services' group (and Elastic Beanstalk's instances')."""
    backend_sg_id: str | None
    """The backend services' group: their ports from the other services only (None without backends)."""
    worker_sg_id: str | None
    """The workers' group: no ingress at all (None without workers)."""
    database_sg_id: str | None
    cache_sg_id: str | None
    database_proxy_sg_id: str | None

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: SecurityGroupsConfig,
        naming: Naming,
        network: Network,
        load_balancer: AlbConfig | None,
        services: Mapping[str, ServiceConfig],
        load_balancer_https: bool = False,
        database: bool = False,
        database_proxy: bool = False,
        cache: bool = False,
    ) -> None:
        """``load_balancer``: the platform ALB's settings (who may reach which listener port); None when the
        compute brings its own load balancer (Elastic Beanstalk). ``load_balancer_https``: it serves HTTPS
        with a certificate its settings do not name (``[domain]``'s). ``services``: the services by name; their
        kind says which group they are in and who reaches them (the ALB only web services' ports; every
        service the web and backend ports, workers none), their data access which groups reach the data tier.
        ``database``, ``database_proxy``, ``cache``: whether the environment has them (an RDS Proxy group
        takes the database port in from the services and out to the database only; in shared mode the
        proxy joins the shared group)."""
        super().__init__(scope, construct_id)
        self.mode = settings.mode
        self._name = naming.prefix
        self._vpc_id = network.vpc_id
        self._services = services
        # Several services may share a port: one rule per port, its description names them all.
        self._ports: dict[ServiceKind, dict[int, list[str]]] = {"web": {}, "backend": {}}
        for service, config in sorted(services.items()):
            if config.kind in self._ports and config.container_port is not None:
                self._ports[config.kind].setdefault(config.container_port, []).append(service)
        kinds = {config.kind for config in services.values()}

        alb = (
            self._load_balancer_group(load_balancer, network.vpc_cidr, https=load_balancer_https)
            if load_balancer is not None
            else None
        )
        self.alb_sg_id = alb.id if alb is not None else None
        self.database_sg_id = self.cache_sg_id = self.database_proxy_sg_id = None
        self.backend_sg_id = self.worker_sg_id = None
        if settings.mode == "shared":
            self._shared(alb, kinds, database_proxy=database and database_proxy)
        else:
            self._tiered(alb, kinds, database=database, database_proxy=database_proxy, cache=cache)

    def _shared(self, alb: SecurityGroup | None, kinds: set[ServiceKind], *, database_proxy: bool) -> None:
        app = self._group("shared", "App, database and cache: all traffic among members of this group")
        self._rule("in", "shared-in-all", app.id, "All traffic from members of this group", peer=app.id)
        self._rule("out", "shared-out-all", app.id, "All traffic to members of this group", peer=app.id)
        self.app_sg_id = self.database_sg_id = self.cache_sg_id = app.id
        # Backends and workers join the one group too; the ALB still reaches only the web ports (a backend
        # on a web service's port is refused at load: config/schema.py).
        if "backend" in kinds:
            self.backend_sg_id = self.app_sg_id
        if "worker" in kinds:
            self.worker_sg_id = self.app_sg_id
        if database_proxy:
            self.database_proxy_sg_id = self.app_sg_id
        if alb is not None:
            self._alb_to_app(alb, app)
        self._https_out(app, "shared")

    def _tiered(
        self,
        alb: SecurityGroup | None,
        kinds: set[ServiceKind],
        *,
        database: bool,
        database_proxy: bool,
        cache: bool,
    ) -> None:
        app = self._group("app", "Services: their ports from the ALB and from each other")
        self.app_sg_id = app.id
        callers = [app]
        backend = worker = None
        if "backend" in kinds:
            backend = self._group("backend", "Backend services: their ports from the other services only")
            self.backend_sg_id = backend.id
            callers.append(backend)
        if "worker" in kinds:
            worker = self._group("worker", "Workers: no inbound traffic; out to the services, data tier and AWS APIs")
            self.worker_sg_id = worker.id
            callers.append(worker)
        if alb is not None:
            self._alb_to_app(alb, app)
        # Every service may call every web and backend service's port (movie-service -> customer-service,
        # a worker -> a backend); the ALB reaches web ports only, and nothing reaches a worker.
        targets: list[tuple[SecurityGroup, ServiceKind]] = [(app, "web")]
        if backend is not None:
            targets.append((backend, "backend"))
        for target, kind in targets:
            for port, services in self._ports[kind].items():
                names = ", ".join(services)
                for caller in callers:
                    # The app group's own rules keep their wording (no change for environments of web services).
                    source = "other services" if caller is app and target is app else _MEMBERS[caller.node.id]
                    self._hop(caller, target, port, ingress=f"{names} from {source}", egress=f"Calls to {names}")
        for group in callers:
            self._https_out(group, group.node.id)
        if database:
            clients = [app, *self._data_clients(backend, worker, "uses_database")]
            group = self._data_group(clients, "database", POSTGRES_PORT)
            self.database_sg_id = group.id
            if database_proxy:
                self._database_proxy(clients, group)
        if cache:
            clients = [app, *self._data_clients(backend, worker, "uses_cache")]
            self.cache_sg_id = self._data_group(clients, "cache", CACHE_PORT).id

    def _data_clients(
        self, backend: SecurityGroup | None, worker: SecurityGroup | None, uses: str
    ) -> list[SecurityGroup]:
        """The backend and worker groups, each when one of its services uses the data store (``uses``:
        the ``data_access`` switch). The app group always reaches the data tier (Elastic Beanstalk's
        instances are in it, and its rules predate the other kinds)."""
        found: list[SecurityGroup] = []
        for group, kind in ((backend, "backend"), (worker, "worker")):
            if group is not None and any(
                s.kind == kind and getattr(s.data_access, uses) for s in self._services.values()
            ):
                found.append(group)
        return found

    def _load_balancer_group(self, settings: AlbConfig, vpc_cidr: str, *, https: bool) -> SecurityGroup:
        """The ALB's group: its listener ports from the allowed clients (egress: see ``_alb_to_app``)."""
        alb = self._group("alb", "ALB: HTTP(S) from the allowed clients, out only to the services")
        for port in sorted(listener_ports(https=https or settings.certificate_arn is not None)):
            for cidr in settings.effective_ingress_cidrs(vpc_cidr):
                self._rule(
                    "in",
                    f"alb-in-{port}-{_slug(cidr)}",
                    alb.id,
                    f"{_protocol(port)} to the ALB listener from {cidr}",
                    port=port,
                    cidr=cidr,
                )
        return alb

    def _data_group(self, clients: list[SecurityGroup], role: str, port: int) -> SecurityGroup:
        """A data-tier group reachable on ``port`` from the services' ``clients`` groups only, with no
        egress at all."""
        group = self._group(role, f"{role.capitalize()}: {port} from the services only")
        for client in clients:
            ingress = f"{role.capitalize()} from {self._services_in(client)}"
            self._hop(client, group, port, ingress=ingress, egress=f"Services to the {role}")
        return group

    def _database_proxy(self, clients: list[SecurityGroup], database: SecurityGroup) -> None:
        port = POSTGRES_PORT
        proxy = self._group("database-proxy", f"RDS Proxy: {port} from the services, out to the database only")
        self.database_proxy_sg_id = proxy.id
        for client in clients:
            ingress = f"RDS Proxy from {self._services_in(client)}"
            self._hop(client, proxy, port, ingress=ingress, egress="Services to the RDS Proxy")
        self._hop(proxy, database, port, ingress="Database from the RDS Proxy", egress="RDS Proxy to the database")

    def _services_in(self, group: SecurityGroup) -> str:
        # The app group's rules keep their wording (no change for environments of web services only).
        return "the services" if group.node.id == "app" else _MEMBERS[group.node.id]

    def _group(self, role: str, description: str) -> SecurityGroup:
        """A group without rules; its construct ID is ``role``, which names its rules (see ``_hop``)."""
        name = f"{self._name}-{role}"
        return SecurityGroup(self, role, name=name, description=description, vpc_id=self._vpc_id, tags={"Name": name})

    def _alb_to_app(self, alb: SecurityGroup, app: SecurityGroup) -> None:
        for port, services in self._ports["web"].items():
            names = ", ".join(services)
            self._hop(alb, app, port, ingress=f"{names} from the ALB", egress=f"ALB to {names}")

    def _https_out(self, app: SecurityGroup, role: str) -> None:
        for cidr in APP_HTTPS_EGRESS_CIDRS:
            self._rule(
                "out",
                f"{role}-out-{HTTPS_PORT}-{_slug(cidr)}",
                app.id,
                f"HTTPS to {cidr}: ECR image pulls, CloudWatch Logs, Secrets Manager and other AWS APIs",
                port=HTTPS_PORT,
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
    return {HTTP_PORT: "HTTP", HTTPS_PORT: "HTTPS"}.get(port, f"TCP {port}")


def _slug(cidr: str) -> str:
    """A CIDR as a construct-ID fragment: ``0.0.0.0/0`` -> ``0-0-0-0-0``."""
    return cidr.replace(".", "-").replace("/", "-")
