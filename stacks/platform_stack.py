"""One TerraformStack per environment, built from that environment's validated config.

The stack is wired here and in the sibling files (one per tier); modules/ never see config.
"""

from __future__ import annotations

from typing import Literal

from cdktf import TerraformStack
from constructs import Construct

from config import EnvironmentConfig
from config.backends import CloudBackendConfig, S3BackendConfig
from modules import (
    AwsProviderVersion,
    BackendProps,
    Beanstalk,
    Cluster,
    ProviderProps,
    Service,
    aws_provider,
    state_backend,
)
from modules.block import Block
from modules.provider import BINDINGS_AWS_PROVIDER

from .compute import build_beanstalk, build_fargate
from .data import build_data_tier
from .edge import build_frontend, build_monitoring
from .network import build_network
from .security import build_key, build_web_acls
from .traffic import build_traffic

BackendChoice = Literal["configured", "local"]


class PlatformStack(TerraformStack):
    """The whole platform for one environment.

    ``backend="local"`` replaces the environment's configured backend with local state, so every
    environment can be synthesized and planned on a machine without access to shared state.
    ``aws_provider_version`` is the AWS provider release the JSON is written for (see ``ProviderProps.version``).
    ``first_deploy`` creates every Fargate service at zero tasks: the first apply of a fresh environment
    creates the repositories its pinned images live in (README: First deploy).
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
        aws_provider(
            self,
            props=ProviderProps(
                region=config.region,
                project=config.project,
                environment=config.environment,
                extra_tags=dict(config.tags),
                version=aws_provider_version,
            ),
        )
        state_backend(self, props=backend_props(config, backend))
        self.key = build_key(self, config)
        key_arn = self.key.arn if self.key else None

        network = build_network(self, config, kms_key_arn=key_arn)
        self.security_groups, self.load_balancer = build_traffic(self, config, network)
        self.data = build_data_tier(self, config, network, self.security_groups, kms_key_arn=key_arn)
        self.beanstalk: Beanstalk | None = None
        self.cluster: Cluster | None = None
        self.services: dict[str, Service] = {}
        if self.load_balancer is None:  # compute.kind = "beanstalk": it brings its own load balancer
            self.beanstalk = build_beanstalk(
                self, config, network, self.security_groups, self.data, kms_key_arn=key_arn
            )
            load_balancer_arn = self.beanstalk.load_balancer_arn
        else:
            self.cluster, self.services = build_fargate(
                self,
                config,
                network,
                self.security_groups,
                self.load_balancer,
                self.data,
                kms_key_arn=key_arn,
                first_deploy=first_deploy,
            )
            load_balancer_arn = self.load_balancer.alb.arn
        self.web_acls = build_web_acls(self, config, key=self.key, load_balancer_arn=load_balancer_arn)
        api_origin = (
            self.beanstalk.cname if self.beanstalk else self.load_balancer.dns_name if self.load_balancer else None
        )
        self.frontend = build_frontend(
            self,
            config,
            api_origin_domain_name=api_origin,
            kms_key_arn=key_arn,
            web_acl_arn=self.web_acls.cloudfront_arn,
        )
        watched: list[Block] = [
            block
            for block in (
                self.data.database,
                self.load_balancer,
                self.beanstalk,
                *self.services.values(),
                self.data.cache,
            )
            if block is not None
        ]
        self.monitoring = build_monitoring(self, config, watched)


def backend_props(config: EnvironmentConfig, backend: BackendChoice) -> BackendProps:
    """Translate the environment's backend config (or the local override) into BackendProps."""
    state_key = f"{config.project}/{config.environment}"
    chosen = config.backend
    if backend == "local" or chosen.type == "local":
        return BackendProps(kind="local", state_key=state_key)
    if isinstance(chosen, S3BackendConfig):
        return BackendProps(
            kind="s3",
            state_key=state_key,
            s3_bucket=chosen.bucket,
            s3_region=chosen.region or config.region,
            s3_locking=chosen.locking,
            s3_dynamodb_table=chosen.dynamodb_table,
            s3_kms_key_id=chosen.kms_key_id,
        )
    assert isinstance(chosen, CloudBackendConfig)
    return BackendProps(
        kind="cloud",
        state_key=state_key,
        cloud_organization=chosen.organization,
        cloud_workspace=chosen.workspace or config.stack_name,
        cloud_hostname=chosen.hostname,
    )
