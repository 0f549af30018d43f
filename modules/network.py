"""VPC with public, private-app and private-data subnet tiers across availability zones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from .block import Block
from .iam import allow, service_role

NatStrategy = Literal["none", "single", "per_az"]
ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    """What the network is built from. Subnet lists are in ``availability_zones`` order."""

    name: str
    """Prefix for resource names and Name tags, e.g. ``netflux-prod``."""
    region: str
    """AWS region, used for endpoint service names."""
    vpc_cidr: str
    """VPC IPv4 CIDR."""
    availability_zones: list[str]
    """AZ names; one subnet per tier in each, in this order."""
    public_subnet_cidrs: list[str]
    """Public tier: ALB and NAT gateways; routes to the internet gateway."""
    private_app_subnet_cidrs: list[str]
    """Private-app tier: services; egress only through NAT (or endpoints)."""
    private_data_subnet_cidrs: list[str]
    """Private-data tier: databases and caches; no route to the internet at all."""
    nat: NatStrategy = "per_az"
    """per_az: one NAT gateway per AZ, egress survives an AZ outage; single: one NAT gateway in
    the first AZ shared by all; none: private-app subnets have no internet egress."""
    flow_logs_enabled: bool = True
    """VPC flow logs to a CloudWatch log group owned by this module."""
    flow_logs_retention_days: int = 365
    """Flow-log retention."""
    flow_logs_traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = "ALL"
    """Which flows are recorded."""
    log_kms_key_arn: str | None = None
    """KMS key for the flow-log group; CloudWatch's default encryption when unset."""
    s3_gateway_endpoint: bool = True
    """S3 gateway endpoint on the private-app and private-data route tables."""
    interface_endpoints: list[str] = field(default_factory=list)
    """Interface endpoint services (``ecr.api``, ``logs``...) in the private-app subnets."""


class Network(Block):
    """VPC, three subnet tiers, IGW, NAT, route tables, flow logs, locked default SG, endpoints."""

    stateful_types = frozenset({"aws_cloudwatch_log_group"})

    vpc_id: str
    vpc_cidr: str
    availability_zones: list[str]
    public_subnet_ids: list[str]
    private_app_subnet_ids: list[str]
    private_data_subnet_ids: list[str]
    private_app_route_table_ids: list[str]
    private_data_route_table_id: str
    endpoint_security_group_id: str | None

    def __init__(self, scope: Construct, construct_id: str, *, props: NetworkProps) -> None:
        super().__init__(scope, construct_id)
        azs = props.availability_zones
        for tier, cidrs in (
            ("public", props.public_subnet_cidrs),
            ("private-app", props.private_app_subnet_cidrs),
            ("private-data", props.private_data_subnet_cidrs),
        ):
            if len(cidrs) != len(azs):
                raise ValueError(f"{tier} subnet CIDRs must have one entry per AZ ({len(azs)}), got {len(cidrs)}")
        self.availability_zones = list(azs)
        self.vpc_cidr = props.vpc_cidr

        vpc = Vpc(
            self,
            "vpc",
            cidr_block=props.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": props.name},
        )
        self.vpc_id = vpc.id

        # Take over the default SG with no rules, so nothing attached to it by accident can talk.
        DefaultSecurityGroup(
            self, "default-sg", vpc_id=vpc.id, ingress=[], egress=[], tags={"Name": f"{props.name}-default-locked"}
        )

        igw = InternetGateway(self, "igw", vpc_id=vpc.id, tags={"Name": props.name})

        def subnets(tier: str, cidrs: list[str]) -> list[Subnet]:
            # Construct IDs carry the AZ, not a list index: adding an AZ never renames a subnet.
            return [
                Subnet(
                    self,
                    f"{tier}-{az}",
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=az,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{props.name}-{tier}-{az}", "tier": tier},
                )
                for az, cidr in zip(azs, cidrs, strict=True)
            ]

        public = subnets("public", props.public_subnet_cidrs)
        app = subnets("private-app", props.private_app_subnet_cidrs)
        data = subnets("private-data", props.private_data_subnet_cidrs)
        self.public_subnet_ids = [s.id for s in public]
        self.private_app_subnet_ids = [s.id for s in app]
        self.private_data_subnet_ids = [s.id for s in data]

        public_rt = RouteTable(self, "public-rt", vpc_id=vpc.id, tags={"Name": f"{props.name}-public"})
        Route(self, "public-internet", route_table_id=public_rt.id, destination_cidr_block=ANYWHERE, gateway_id=igw.id)
        for az, subnet in zip(azs, public, strict=True):
            RouteTableAssociation(self, f"public-rta-{az}", subnet_id=subnet.id, route_table_id=public_rt.id)

        nat_azs = {"none": [], "single": azs[:1], "per_az": azs}[props.nat]
        nat_ids: dict[str, str] = {}
        for az, subnet in zip(azs, public, strict=True):
            if az not in nat_azs:
                continue
            eip = Eip(self, f"nat-eip-{az}", domain="vpc", tags={"Name": f"{props.name}-nat-{az}"})
            nat = NatGateway(
                self,
                f"nat-{az}",
                allocation_id=eip.id,
                subnet_id=subnet.id,
                tags={"Name": f"{props.name}-nat-{az}"},
                depends_on=[igw],  # a NAT gateway needs the IGW attached before it can route
            )
            nat_ids[az] = nat.id

        # One private-app route table per AZ so each AZ egresses through its own NAT when per_az.
        app_rts: list[RouteTable] = []
        for az, subnet in zip(azs, app, strict=True):
            rt = RouteTable(
                self, f"private-app-rt-{az}", vpc_id=vpc.id, tags={"Name": f"{props.name}-private-app-{az}"}
            )
            nat_id = nat_ids.get(az) or (nat_ids.get(azs[0]) if props.nat == "single" else None)
            if nat_id is not None:
                Route(
                    self,
                    f"private-app-nat-{az}",
                    route_table_id=rt.id,
                    destination_cidr_block=ANYWHERE,
                    nat_gateway_id=nat_id,
                )
            RouteTableAssociation(self, f"private-app-rta-{az}", subnet_id=subnet.id, route_table_id=rt.id)
            app_rts.append(rt)
        self.private_app_route_table_ids = [rt.id for rt in app_rts]

        # The data tier's route table has only the implicit local route: no IGW, no NAT.
        data_rt = RouteTable(self, "private-data-rt", vpc_id=vpc.id, tags={"Name": f"{props.name}-private-data"})
        for az, subnet in zip(azs, data, strict=True):
            RouteTableAssociation(self, f"private-data-rta-{az}", subnet_id=subnet.id, route_table_id=data_rt.id)
        self.private_data_route_table_id = data_rt.id

        if props.flow_logs_enabled:
            self._flow_logs(props, vpc)

        if props.s3_gateway_endpoint:
            VpcEndpoint(
                self,
                "endpoint-s3",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{props.region}.s3",
                vpc_endpoint_type="Gateway",
                route_table_ids=[*self.private_app_route_table_ids, data_rt.id],
                tags={"Name": f"{props.name}-s3"},
            )

        self.endpoint_security_group_id = None
        if props.interface_endpoints:
            sg = SecurityGroup(
                self,
                "endpoints-sg",
                name=f"{props.name}-vpc-endpoints",
                description="VPC interface endpoints: HTTPS from inside the VPC",
                vpc_id=vpc.id,
                tags={"Name": f"{props.name}-vpc-endpoints"},
            )
            VpcSecurityGroupIngressRule(
                self,
                "endpoints-https-from-vpc",
                security_group_id=sg.id,
                description="HTTPS to AWS APIs from workloads in this VPC",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=props.vpc_cidr,
            )
            self.endpoint_security_group_id = sg.id
            for service in props.interface_endpoints:
                VpcEndpoint(
                    self,
                    f"endpoint-{service.replace('.', '-')}",
                    vpc_id=vpc.id,
                    service_name=f"com.amazonaws.{props.region}.{service}",
                    vpc_endpoint_type="Interface",
                    private_dns_enabled=True,
                    subnet_ids=self.private_app_subnet_ids,
                    security_group_ids=[sg.id],
                    tags={"Name": f"{props.name}-{service}"},
                )

    def _flow_logs(self, props: NetworkProps, vpc: Vpc) -> None:
        group = CloudwatchLogGroup(
            self,
            "flow-logs",
            name=f"/aws/vpc/{props.name}/flow-logs",
            retention_in_days=props.flow_logs_retention_days,
            kms_key_id=props.log_kms_key_arn,
        )
        role = service_role(
            self,
            "flow-logs-role",
            name=f"{props.name}-vpc-flow-logs",
            service="vpc-flow-logs.amazonaws.com",
            # Only flow logs of this account may assume it (confused deputy).
            condition={"StringEquals": {"aws:SourceAccount": DataAwsCallerIdentity(self, "account").account_id}},
            # Scoped to this one log group: the role cannot write anywhere else.
            inline_policy=[
                allow(
                    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    [group.arn, f"{group.arn}:*"],
                )
            ],
        )
        FlowLog(
            self,
            "flow-log",
            vpc_id=vpc.id,
            traffic_type=props.flow_logs_traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{props.name}-flow-log"},
        )
