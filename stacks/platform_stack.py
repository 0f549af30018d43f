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
from modules import AwsProviders, Beanstalk, Cluster, Job, LoadBalancer, Queue, Service, state_backend
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
        entry: Beanstalk | LoadBalancer
        if self.load_balancer is None:  # compute.kind = "beanstalk": it brings its own load balancer
            self.beanstalk = entry = build_beanstalk(
                self,
                config,
                network,
                self.security_groups,
                self.data,
                naming=naming,
                key=self.key,
                certificate_arn=certificate_arn,
            )
            load_balancer_arn, api_origin = self.beanstalk.load_balancer_arn, self.beanstalk.cname
        else:
            entry = self.load_balancer
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
            load_balancer_arn, api_origin = self.load_balancer.alb.arn, self.load_balancer.dns_name
        self.web_acls = build_web_acls(self, config, naming=naming, key=self.key, load_balancer_arn=load_balancer_arn)
        # check_frontend_origin: with [alb]'s certificate, frontend.api_origin_domain names the origin.
        api_https = config.alb.certificate_arn is not None
        if self.domain is not None:
            # CloudFront reaches the load balancer by the API's record, a name on its certificate.
            api_origin, api_https = route_api(self, self.domain, entry.alias_target()), True
        self.frontend = build_frontend(
            self,
            config,
            naming=naming,
            key=self.key,
            web_acl=self.web_acls.cloudfront,
            load_balancer_dns_name=api_origin,
            load_balancer_https=api_https,
            site_domain=self.domain.site if self.domain else None,
        )
        if self.domain is not None and self.frontend is not None:
            route_site(self, self.domain, self.frontend)
        watched: list[Block] = [
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
        self.monitoring = build_monitoring(self, config, watched, naming=naming)
