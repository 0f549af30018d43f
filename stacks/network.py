"""Network wiring: the VPC and its three subnet tiers, and their outputs."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from config import EnvironmentConfig
from modules import Network, PlatformKey
from modules.block import Naming


def build_network(
    stack: TerraformStack, config: EnvironmentConfig, *, naming: Naming, key: PlatformKey | None
) -> Network:
    """The VPC from [network]; outputs its id and the subnet ids per tier."""
    network = Network(stack, "network", settings=config.network, naming=naming, key=key)
    TerraformOutput(stack, "vpc_id", value=network.vpc_id, description="VPC id")
    for tier, ids, shown in (
        ("public", network.public_subnet_ids, "Public"),
        ("private_app", network.private_app_subnet_ids, "Private-app"),
        ("private_data", network.private_data_subnet_ids, "Private-data"),
    ):
        TerraformOutput(stack, f"{tier}_subnet_ids", value=ids, description=f"{shown} subnet ids, AZ order")
    return network
