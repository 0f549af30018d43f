"""VPC with public, private-app and private-data subnet tiers across availability zones."""

from __future__ import annotations

from collections.abc import Iterable

from cdktf import Fn, Precondition, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_ec2_instance_type_offerings import (
    DataAwsEc2InstanceTypeOfferings,
    DataAwsEc2InstanceTypeOfferingsFilter,
)
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

from config.network import FlowLogsConfig, NatStrategy, NetworkConfig, VpcEndpointsConfig

from .block import Block, Naming
from .iam import allow, service_role
from .kms import PlatformKey

ANYWHERE = "0.0.0.0/0"


def config_file(naming: Naming) -> str:
    """The environment file a plan-time check's message names (the loader makes its name the environment's)."""
    return f"{naming.environment}.toml"


def instance_type_offerings(scope: Construct, construct_id: str, instance_types: Iterable[str]) -> list[str]:
    """Those of ``instance_types`` that EC2 offers the account in the stack's region, looked up when
    Terraform plans. RDS and ElastiCache classes run on these types (db.t4g.micro on t4g.micro), and
    neither service has a lookup the plan can use for its own classes that the emulator serves
    (RDS DescribeOrderableDBInstanceOptions: moto answers only for Aurora PostgreSQL and Neptune;
    ElastiCache has none): a type missing here rules its class out."""
    return DataAwsEc2InstanceTypeOfferings(
        scope,
        construct_id,
        location_type="region",
        filter=[DataAwsEc2InstanceTypeOfferingsFilter(name="instance-type", values=sorted(set(instance_types)))],
    ).instance_types


def offered(
    offerings: list[str], instance_type: str, *, naming: Naming, setting: str, value: str, where: str
) -> Precondition:
    """A precondition that ``offerings`` holds ``instance_type``, naming the setting that chose it;
    ``where`` says how to list what the region does offer."""
    return Precondition(
        condition=Fn.contains(offerings, instance_type),
        error_message=f"{config_file(naming)}: {setting} = {value!r}: {naming.region} does not offer this account "
        f"{instance_type}, the EC2 instance type it runs on; choose one the region offers ({where})",
    )


class Network(Block):
    """VPC, three subnet tiers, IGW, NAT, route tables, flow logs, locked default SG, endpoints.

    Subnet lists are in ``availability_zones`` order. The public tier holds the ALB and the NAT
    gateways and routes to the internet gateway; the private-app tier holds the services and egresses
    only through NAT (or endpoints); the private-data tier holds databases and caches and has no route
    to the internet at all."""

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

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: NetworkConfig, naming: Naming, key: PlatformKey | None
    ) -> None:
        """``key`` encrypts the flow-log group; CloudWatch's default encryption when None."""
        super().__init__(scope, construct_id)
        self._name = naming.prefix
        self._region = naming.region
        self.availability_zones = list(settings.availability_zones)
        self.vpc_cidr = settings.vpc_cidr
        vpc = Vpc(
            self,
            "vpc",
            cidr_block=settings.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": self._name},
            lifecycle=TerraformResourceLifecycle(precondition=[self._zones_offered(naming)]),
        )
        self.vpc_id = vpc.id
        # Take over the default SG with no rules, so nothing attached to it by accident can talk.
        DefaultSecurityGroup(
            self, "default-sg", vpc_id=vpc.id, ingress=[], egress=[], tags={"Name": f"{self._name}-default-locked"}
        )
        igw = InternetGateway(self, "igw", vpc_id=vpc.id, tags={"Name": self._name})

        cidrs = settings.subnet_cidrs()
        public = self._subnets("public", cidrs["public"])
        app = self._subnets("private-app", cidrs["private_app"])
        data = self._subnets("private-data", cidrs["private_data"])
        self.public_subnet_ids = [s.id for s in public]
        self.private_app_subnet_ids = [s.id for s in app]
        self.private_data_subnet_ids = [s.id for s in data]

        self._public_routes(public, igw)
        self._private_app_routes(app, self._nat_gateways(settings.nat, public, igw))
        self._private_data_routes(data)
        if settings.flow_logs.enabled:
            self._flow_logs(settings.flow_logs, key)
        self._endpoints(settings.endpoints)

    def _zones_offered(self, naming: Naming) -> Precondition:
        """Every configured AZ is one the region offers this account: only the account knows (the load
        checks that each is named after the region). The lookup asks for exactly the configured names
        (an allow-list: the result cannot grow when AWS adds a zone), in every state, not only
        "available": an impaired zone must not block the plans that work around it."""
        found = DataAwsAvailabilityZones(
            self,
            "zones",
            filter=[DataAwsAvailabilityZonesFilter(name="zone-name", values=self.availability_zones)],
        ).names
        missing = Fn.setsubtract(self.availability_zones, found)
        return Precondition(
            condition=Fn.alltrue([Fn.contains(found, zone) for zone in self.availability_zones]),
            error_message=f"{config_file(naming)}: network.availability_zones = {self.availability_zones!r}: "
            f"{naming.region} does not offer this account {Fn.join(', ', missing)}; list the zones it offers with "
            f"aws ec2 describe-availability-zones --region {naming.region}",
        )

    def _subnets(self, tier: str, cidrs: list[str]) -> list[Subnet]:
        # Construct IDs carry the AZ, not a list index: adding an AZ never renames a subnet.
        return [
            Subnet(
                self,
                f"{tier}-{az}",
                vpc_id=self.vpc_id,
                cidr_block=cidr,
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags={"Name": f"{self._name}-{tier}-{az}", "tier": tier},
            )
            for az, cidr in zip(self.availability_zones, cidrs, strict=True)
        ]

    def _public_routes(self, public: list[Subnet], igw: InternetGateway) -> None:
        table = RouteTable(self, "public-rt", vpc_id=self.vpc_id, tags={"Name": f"{self._name}-public"})
        Route(self, "public-internet", route_table_id=table.id, destination_cidr_block=ANYWHERE, gateway_id=igw.id)
        for az, subnet in zip(self.availability_zones, public, strict=True):
            RouteTableAssociation(self, f"public-rta-{az}", subnet_id=subnet.id, route_table_id=table.id)

    def _nat_gateways(self, nat: NatStrategy, public: list[Subnet], igw: InternetGateway) -> dict[str, str]:
        """The NAT gateway each AZ's private-app subnet egresses through, by AZ: its own (per_az), the
        first AZ's (single), or none."""
        azs = self.availability_zones
        gateways: dict[str, str] = {}
        for az, subnet in zip(azs, public, strict=True):
            if nat == "none" or (nat == "single" and az != azs[0]):
                continue
            eip = Eip(self, f"nat-eip-{az}", domain="vpc", tags={"Name": f"{self._name}-nat-{az}"})
            gateways[az] = NatGateway(
                self,
                f"nat-{az}",
                allocation_id=eip.id,
                subnet_id=subnet.id,
                tags={"Name": f"{self._name}-nat-{az}"},
                depends_on=[igw],  # a NAT gateway needs the IGW attached before it can route
            ).id
        if nat == "single":
            return dict.fromkeys(azs, gateways[azs[0]])
        return gateways

    def _private_app_routes(self, app: list[Subnet], nat_gateways: dict[str, str]) -> None:
        # One private-app route table per AZ so each AZ egresses through its own NAT when per_az.
        tables: list[RouteTable] = []
        for az, subnet in zip(self.availability_zones, app, strict=True):
            table = RouteTable(
                self, f"private-app-rt-{az}", vpc_id=self.vpc_id, tags={"Name": f"{self._name}-private-app-{az}"}
            )
            if az in nat_gateways:
                Route(
                    self,
                    f"private-app-nat-{az}",
                    route_table_id=table.id,
                    destination_cidr_block=ANYWHERE,
                    nat_gateway_id=nat_gateways[az],
                )
            RouteTableAssociation(self, f"private-app-rta-{az}", subnet_id=subnet.id, route_table_id=table.id)
            tables.append(table)
        self.private_app_route_table_ids = [table.id for table in tables]

    def _private_data_routes(self, data: list[Subnet]) -> None:
        # The data tier's route table has only the implicit local route: no IGW, no NAT.
        table = RouteTable(self, "private-data-rt", vpc_id=self.vpc_id, tags={"Name": f"{self._name}-private-data"})
        for az, subnet in zip(self.availability_zones, data, strict=True):
            RouteTableAssociation(self, f"private-data-rta-{az}", subnet_id=subnet.id, route_table_id=table.id)
        self.private_data_route_table_id = table.id

    def _flow_logs(self, settings: FlowLogsConfig, key: PlatformKey | None) -> None:
        group = CloudwatchLogGroup(
            self,
            "flow-logs",
            name=f"/aws/vpc/{self._name}/flow-logs",
            retention_in_days=settings.retention_days,
            kms_key_id=key.arn if key else None,
        )
        role = service_role(
            self,
            "flow-logs-role",
            name=f"{self._name}-vpc-flow-logs",
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
            vpc_id=self.vpc_id,
            traffic_type=settings.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{self._name}-flow-log"},
        )

    def _endpoints(self, settings: VpcEndpointsConfig) -> None:
        if settings.s3_gateway:
            VpcEndpoint(
                self,
                "endpoint-s3",
                vpc_id=self.vpc_id,
                service_name=f"com.amazonaws.{self._region}.s3",
                vpc_endpoint_type="Gateway",
                route_table_ids=[*self.private_app_route_table_ids, self.private_data_route_table_id],
                tags={"Name": f"{self._name}-s3"},
            )
        self.endpoint_security_group_id = None
        if not settings.interface:
            return
        group = SecurityGroup(
            self,
            "endpoints-sg",
            name=f"{self._name}-vpc-endpoints",
            description="VPC interface endpoints: HTTPS from inside the VPC",
            vpc_id=self.vpc_id,
            tags={"Name": f"{self._name}-vpc-endpoints"},
        )
        VpcSecurityGroupIngressRule(
            self,
            "endpoints-https-from-vpc",
            security_group_id=group.id,
            description="HTTPS to AWS APIs from workloads in this VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=self.vpc_cidr,
        )
        self.endpoint_security_group_id = group.id
        for service in settings.interface:
            VpcEndpoint(
                self,
                f"endpoint-{service.replace('.', '-')}",
                vpc_id=self.vpc_id,
                service_name=f"com.amazonaws.{self._region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_app_subnet_ids,
                security_group_ids=[group.id],
                tags={"Name": f"{self._name}-{service}"},
            )
