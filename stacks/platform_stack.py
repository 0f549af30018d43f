"""One TerraformStack per environment, built from that environment's validated config.

The stack is wired here and in the sibling files: each building block gets its own settings object
(the part of the config it is built from) and the objects it depends on; modules never read files,
environment variables or other environments.
"""

from __future__ import annotations

from typing import Literal

from cdktf import TerraformStack
from constructs import Construct

from config import EnvironmentConfig
from config.backends import LocalBackendConfig
from config.provider import BINDINGS_AWS_PROVIDER, AwsProviderVersion
from modules import (
    AwsProviders,
    Beanstalk,
    Cluster,
    Frontend,
    Job,
    LoadBalancer,
    Network,
    Queue,
    Service,
    state_backend,
)
from modules.block import Block, Naming

from .beanstalk import build_beanstalk
from .compute import build_fargate
from .data import build_data_tier
from .domain import build_domain, route_api, route_site
from .edge import build_frontend, build_monitoring
from .network import build_network
from .security import build_key
from .traffic import build_traffic
from .waf import build_web_acls

BackendChoice = Literal["configured", "local"]


class PlatformStack(TerraformStack):
    """The whole platform for one environment.

    ``backend="local"`` replaces the environment's configured backend with local state, so every
    environment can be synthesized and planned on a machine without access to shared state.
    ``aws_provider_version`` is the AWS provider release the JSON is written for (see ``AwsProviders``).
    ``first_deploy`` creates every Fargate service at zero tasks: the first apply of a fresh environment
    creates the repositories its pinned images live in (docs/operations.md: First deploy).
    """

    def __init__(
        self,
        scope: Construct,
        config: EnvironmentConfig,
        *,
        backend: BackendChoice = "configured",
        aws_provider_version: AwsProviderVersion = BINDINGS_AWS_PROVIDER,
        first_deploy: bool = False,
    ) -> None:
        super().__init__(scope, config.stack_name)
        naming = Naming(project=config.project, environment=config.environment, region=config.region)
        AwsProviders(self, naming=naming, tags=config.tags, account=config.account, version=aws_provider_version)
        state_backend(self, settings=LocalBackendConfig() if backend == "local" else config.backend, naming=naming)
        self.key = build_key(self, config, naming=naming)

        network = build_network(self, config, naming=naming, key=self.key)
        # The certificates first: the load balancer and the distribution serve them.
        self.domain = build_domain(self, config, naming=naming)
        certificate_arn = self.domain.api_certificate_arn if self.domain else None
        self.security_groups, self.load_balancer = build_traffic(
            self, config, network, naming=naming, certificate_arn=certificate_arn
        )
        self.data = build_data_tier(self, config, network, self.security_groups, naming=naming, key=self.key)
        self.beanstalk: Beanstalk | None = None
        self.cluster: Cluster | None = None
        self.services: dict[str, Service] = {}
        self.jobs: dict[str, Job] = {}
        self.queues: dict[str, Queue] = {}
        entry, load_balancer_arn, api_origin = self._compute(
            config, network, naming=naming, certificate_arn=certificate_arn, first_deploy=first_deploy
        )
        self.web_acls = build_web_acls(self, config, naming=naming, key=self.key, load_balancer_arn=load_balancer_arn)
        self.frontend = self._frontend(config, naming=naming, entry=entry, api_origin=api_origin)
        self.monitoring = build_monitoring(self, config, self._watched(), naming=naming)

    def _compute(
        self,
        config: EnvironmentConfig,
        network: Network,
        *,
        naming: Naming,
        certificate_arn: str | None,
        first_deploy: bool,
    ) -> tuple[Beanstalk | LoadBalancer, str, str]:
        """Beanstalk or the Fargate cluster and services; returns the API's entry, its load balancer's ARN and DNS name."""
        if self.load_balancer is None:  # compute.kind = "beanstalk": it brings its own load balancer
            self.beanstalk = build_beanstalk(
                self,
                config,
                network,
                self.security_groups,
                self.data,
                naming=naming,
                key=self.key,
                certificate_arn=certificate_arn,
            )
            return self.beanstalk, self.beanstalk.load_balancer_arn, self.beanstalk.cname
        compute = build_fargate(
            self,
            config,
            network,
            self.security_groups,
            self.load_balancer,
            self.data,
            naming=naming,
            key=self.key,
            first_deploy=first_deploy,
        )
        self.cluster, self.services = compute.cluster, compute.services
        self.queues, self.jobs = compute.queues, compute.jobs
        return self.load_balancer, self.load_balancer.alb.arn, self.load_balancer.dns_name

    def _frontend(
        self, config: EnvironmentConfig, *, naming: Naming, entry: Beanstalk | LoadBalancer, api_origin: str
    ) -> Frontend | None:
        """The distribution (its API origin by the API's record when there is a domain) and the site's records."""
        # check_frontend_origin: with [alb]'s certificate, frontend.api_origin_domain names the origin.
        api_https = config.alb.certificate_arn is not None
        if self.domain is not None:
            # CloudFront reaches the load balancer by the API's record, a name on its certificate.
            api_origin, api_https = route_api(self, self.domain, entry.alias_target()), True
        frontend = build_frontend(
            self,
            config,
            naming=naming,
            key=self.key,
            web_acl=self.web_acls.cloudfront,
            load_balancer_dns_name=api_origin,
            load_balancer_https=api_https,
            site_domain=self.domain.site if self.domain else None,
        )
        if self.domain is not None and frontend is not None:
            route_site(self, self.domain, frontend)
        return frontend

    def _watched(self) -> list[Block]:
        """The blocks whose alarms the monitoring creates, in this order."""
        return [
            block
            for block in (
                self.data.database,
                self.load_balancer,
                self.beanstalk,
                *self.services.values(),
                *self.queues.values(),
                self.data.cache,
                *self.jobs.values(),
            )
            if block is not None
        ]
