"""Network wiring: the VPC and its three subnet tiers, and their outputs."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from modules import Network, NetworkProps


def build_network(stack: TerraformStack, config: EnvironmentConfig, *, kms_key_arn: str | None) -> Network:
    """The VPC from [network]; outputs its id and the subnet ids per tier."""
    net = config.network
    cidrs = net.subnet_cidrs()
    network = Network(
        stack,
        "network",
        props=NetworkProps(
            name=config.stack_name,
            region=config.region,
            vpc_cidr=net.vpc_cidr,
            availability_zones=list(net.availability_zones),
            public_subnet_cidrs=cidrs["public"],
            private_app_subnet_cidrs=cidrs["private_app"],
            private_data_subnet_cidrs=cidrs["private_data"],
            nat=net.nat,
            flow_logs_enabled=net.flow_logs.enabled,
            flow_logs_retention_days=net.flow_logs.retention_days,
            flow_logs_traffic_type=net.flow_logs.traffic_type,
            log_kms_key_arn=kms_key_arn,
            s3_gateway_endpoint=net.endpoints.s3_gateway,
            interface_endpoints=list(net.endpoints.interface),
        ),
    )

    TerraformOutput(stack, "vpc_id", value=network.vpc_id, description="VPC id")
    TerraformOutput(
        stack, "public_subnet_ids", value=network.public_subnet_ids, description="Public subnet ids, AZ order"
    )
    TerraformOutput(
        stack,
        "private_app_subnet_ids",
        value=network.private_app_subnet_ids,
        description="Private-app subnet ids, AZ order",
    )
    TerraformOutput(
        stack,
        "private_data_subnet_ids",
        value=network.private_data_subnet_ids,
        description="Private-data subnet ids, AZ order",
    )
    return network
