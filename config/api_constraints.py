"""What the AWS APIs accept in the names, identifiers, descriptions and tags the stacks emit.

``terraform validate``, checkov and the moto emulator let through values that AWS rejects at apply
time (a WAFv2 description with parentheses: the provider checks only its length, CreateWebACL fails).
The APIs' own input constraints ship in botocore's service models as shape ``pattern``, ``min``,
``max`` and ``enum``. ``ATTRIBUTES`` maps each Terraform attribute the stacks emit to the API input
member it becomes; ``check_document`` checks every literal value of a synthesized ``cdk.tf.json``
against that member's shape, plus ``DOCUMENTED`` where the model is silent but the AWS API reference
states a rule.

Patterns are Java regular expressions (``\\p{L}``, ``\\p{Print}``) that must match the whole value;
the ``regex`` package runs them as written. Models are read lazily, once per service per process,
from the files botocore ships (the newest API version, as its loader picks) without importing
botocore, whose loader alone takes about 0.13 s to import.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import regex


@dataclass(frozen=True)
class ApiField:
    """One input member of one AWS API operation, named as in botocore's service model."""

    service: str
    """botocore's name for the service (its data directory): ``wafv2``, ``elbv2``, ``application-autoscaling``."""
    operation: str
    member: str
    """Path from the operation's input: ``Rules[].VisibilityConfig.MetricName``. ``[]`` steps into a
    list's member, ``{key}`` / ``{value}`` into a map's key or value shape."""

    def __str__(self) -> str:
        return f"{self.service} {self.operation} {self.member}"


def _api(service: str, operation: str, member: str) -> ApiField:
    return ApiField(service, operation, member)


# Terraform resource attribute -> the API input member its value is sent as. Attribute paths use
# ``block[]`` for a nested block (a list of blocks, or the single object cdktf writes for one).
ATTRIBUTES: dict[tuple[str, str], ApiField] = {
    ("aws_wafv2_web_acl", "name"): _api("wafv2", "CreateWebACL", "Name"),
    ("aws_wafv2_web_acl", "description"): _api("wafv2", "CreateWebACL", "Description"),
    ("aws_wafv2_web_acl", "visibility_config[].metric_name"): _api(
        "wafv2", "CreateWebACL", "VisibilityConfig.MetricName"
    ),
    ("aws_wafv2_web_acl", "rule[].name"): _api("wafv2", "CreateWebACL", "Rules[].Name"),
    ("aws_wafv2_web_acl", "rule[].visibility_config[].metric_name"): _api(
        "wafv2", "CreateWebACL", "Rules[].VisibilityConfig.MetricName"
    ),
    # aws_wafv2_web_acl_logging_configuration names nothing: it links an ACL ARN to a destination ARN.
    ("aws_lb", "name"): _api("elbv2", "CreateLoadBalancer", "Name"),
    ("aws_lb_target_group", "name"): _api("elbv2", "CreateTargetGroup", "Name"),
    ("aws_db_instance", "identifier"): _api("rds", "CreateDBInstance", "DBInstanceIdentifier"),
    ("aws_db_parameter_group", "name_prefix"): _api("rds", "CreateDBParameterGroup", "DBParameterGroupName"),
    ("aws_db_parameter_group", "description"): _api("rds", "CreateDBParameterGroup", "Description"),
    ("aws_db_subnet_group", "name"): _api("rds", "CreateDBSubnetGroup", "DBSubnetGroupName"),
    ("aws_db_subnet_group", "description"): _api("rds", "CreateDBSubnetGroup", "DBSubnetGroupDescription"),
    ("aws_db_proxy", "name"): _api("rds", "CreateDBProxy", "DBProxyName"),
    ("aws_elasticache_replication_group", "replication_group_id"): _api(
        "elasticache", "CreateReplicationGroup", "ReplicationGroupId"
    ),
    ("aws_elasticache_replication_group", "description"): _api(
        "elasticache", "CreateReplicationGroup", "ReplicationGroupDescription"
    ),
    ("aws_elasticache_subnet_group", "name"): _api("elasticache", "CreateCacheSubnetGroup", "CacheSubnetGroupName"),
    ("aws_elasticache_subnet_group", "description"): _api(
        "elasticache", "CreateCacheSubnetGroup", "CacheSubnetGroupDescription"
    ),
    ("aws_elasticache_user", "user_id"): _api("elasticache", "CreateUser", "UserId"),
    ("aws_elasticache_user", "user_name"): _api("elasticache", "CreateUser", "UserName"),
    ("aws_elasticache_user_group", "user_group_id"): _api("elasticache", "CreateUserGroup", "UserGroupId"),
    ("aws_iam_role", "name"): _api("iam", "CreateRole", "RoleName"),
    ("aws_iam_role", "description"): _api("iam", "CreateRole", "Description"),
    ("aws_iam_role", "path"): _api("iam", "CreateRole", "Path"),
    ("aws_iam_role_policy", "name"): _api("iam", "PutRolePolicy", "PolicyName"),
    ("aws_iam_policy", "name"): _api("iam", "CreatePolicy", "PolicyName"),
    ("aws_iam_policy", "description"): _api("iam", "CreatePolicy", "Description"),
    ("aws_iam_instance_profile", "name"): _api("iam", "CreateInstanceProfile", "InstanceProfileName"),
    ("aws_security_group", "name"): _api("ec2", "CreateSecurityGroup", "GroupName"),
    ("aws_security_group", "description"): _api("ec2", "CreateSecurityGroup", "Description"),
    # The rule resources send the description with the rule's CIDR (IpRanges) or, for a referenced
    # group, in UserIdGroupPairs; the API reference documents the same character set for both
    # (its UserIdGroupPair text drops the "&", an HTML-escaping slip next to IpRange's "&amp;").
    ("aws_vpc_security_group_ingress_rule", "description"): _api(
        "ec2", "AuthorizeSecurityGroupIngress", "IpPermissions[].IpRanges[].Description"
    ),
    ("aws_vpc_security_group_egress_rule", "description"): _api(
        "ec2", "AuthorizeSecurityGroupEgress", "IpPermissions[].IpRanges[].Description"
    ),
    ("aws_secretsmanager_secret", "name"): _api("secretsmanager", "CreateSecret", "Name"),
    ("aws_secretsmanager_secret", "description"): _api("secretsmanager", "CreateSecret", "Description"),
    ("aws_cloudwatch_log_group", "name"): _api("logs", "CreateLogGroup", "logGroupName"),
    ("aws_cloudwatch_metric_alarm", "alarm_name"): _api("cloudwatch", "PutMetricAlarm", "AlarmName"),
    ("aws_cloudwatch_metric_alarm", "alarm_description"): _api("cloudwatch", "PutMetricAlarm", "AlarmDescription"),
    ("aws_cloudwatch_metric_alarm", "namespace"): _api("cloudwatch", "PutMetricAlarm", "Namespace"),
    ("aws_cloudwatch_metric_alarm", "metric_name"): _api("cloudwatch", "PutMetricAlarm", "MetricName"),
    ("aws_sns_topic", "name"): _api("sns", "CreateTopic", "Name"),
    ("aws_kms_alias", "name"): _api("kms", "CreateAlias", "AliasName"),
    ("aws_kms_key", "description"): _api("kms", "CreateKey", "Description"),
    ("aws_kms_replica_key", "description"): _api("kms", "ReplicateKey", "Description"),
    ("aws_ecr_repository", "name"): _api("ecr", "CreateRepository", "repositoryName"),
    ("aws_ecs_cluster", "name"): _api("ecs", "CreateCluster", "clusterName"),
    ("aws_ecs_service", "name"): _api("ecs", "CreateService", "serviceName"),
    ("aws_ecs_task_definition", "family"): _api("ecs", "RegisterTaskDefinition", "family"),
    ("aws_scheduler_schedule", "name"): _api("scheduler", "CreateSchedule", "Name"),
    ("aws_scheduler_schedule", "group_name"): _api("scheduler", "CreateSchedule", "GroupName"),
    ("aws_scheduler_schedule", "description"): _api("scheduler", "CreateSchedule", "Description"),
    ("aws_scheduler_schedule", "schedule_expression"): _api("scheduler", "CreateSchedule", "ScheduleExpression"),
    ("aws_scheduler_schedule", "schedule_expression_timezone"): _api(
        "scheduler", "CreateSchedule", "ScheduleExpressionTimezone"
    ),
    ("aws_sqs_queue", "name"): _api("sqs", "CreateQueue", "QueueName"),
    ("aws_service_discovery_http_namespace", "name"): _api("servicediscovery", "CreateHttpNamespace", "Name"),
    ("aws_service_discovery_http_namespace", "description"): _api(
        "servicediscovery", "CreateHttpNamespace", "Description"
    ),
    ("aws_cloudfront_distribution", "comment"): _api(
        "cloudfront", "CreateDistributionWithTags", "DistributionConfigWithTags.DistributionConfig.Comment"
    ),
    ("aws_cloudfront_function", "name"): _api("cloudfront", "CreateFunction", "Name"),
    ("aws_cloudfront_function", "comment"): _api("cloudfront", "CreateFunction", "FunctionConfig.Comment"),
    ("aws_cloudfront_response_headers_policy", "name"): _api(
        "cloudfront", "CreateResponseHeadersPolicy", "ResponseHeadersPolicyConfig.Name"
    ),
    ("aws_cloudfront_response_headers_policy", "comment"): _api(
        "cloudfront", "CreateResponseHeadersPolicy", "ResponseHeadersPolicyConfig.Comment"
    ),
    ("aws_cloudfront_origin_access_control", "name"): _api(
        "cloudfront", "CreateOriginAccessControl", "OriginAccessControlConfig.Name"
    ),
    ("aws_cloudfront_origin_access_control", "description"): _api(
        "cloudfront", "CreateOriginAccessControl", "OriginAccessControlConfig.Description"
    ),
    ("aws_acm_certificate", "domain_name"): _api("acm", "RequestCertificate", "DomainName"),
    ("aws_route53_record", "name"): _api(
        "route53", "ChangeResourceRecordSets", "ChangeBatch.Changes[].ResourceRecordSet.Name"
    ),
    ("aws_elastic_beanstalk_application", "name"): _api("elasticbeanstalk", "CreateApplication", "ApplicationName"),
    ("aws_elastic_beanstalk_application", "description"): _api("elasticbeanstalk", "CreateApplication", "Description"),
    ("aws_elastic_beanstalk_environment", "name"): _api("elasticbeanstalk", "CreateEnvironment", "EnvironmentName"),
    ("aws_elastic_beanstalk_environment", "description"): _api("elasticbeanstalk", "CreateEnvironment", "Description"),
    ("aws_appautoscaling_policy", "name"): _api("application-autoscaling", "PutScalingPolicy", "PolicyName"),
}

# Terraform appends a unique ID to a ``*_prefix`` attribute (terraform-plugin-sdk
# id.PrefixedUniqueId: an 18-digit UTC timestamp and an 8-hex-digit counter, 26 characters).
# The value is checked as AWS receives it, with a suffix of that shape.
GENERATED_SUFFIX: dict[tuple[str, str], str] = {
    ("aws_db_parameter_group", "name_prefix"): "20260101000000000000000001",
}

# Resource type -> the (key, value) members its own API takes tags as, listed only where that
# service's model constrains them. Every other type is checked against GENERIC_TAG_FIELDS.
# S3 is left out on purpose: its TagSet reuses the object-key shape (min 1 only).
TAGS: dict[str, tuple[ApiField, ApiField]] = {
    "aws_wafv2_web_acl": (_api("wafv2", "CreateWebACL", "Tags[].Key"), _api("wafv2", "CreateWebACL", "Tags[].Value")),
    "aws_acm_certificate": (
        _api("acm", "RequestCertificate", "Tags[].Key"),
        _api("acm", "RequestCertificate", "Tags[].Value"),
    ),
    "aws_lb": (_api("elbv2", "CreateLoadBalancer", "Tags[].Key"), _api("elbv2", "CreateLoadBalancer", "Tags[].Value")),
    "aws_lb_target_group": (
        _api("elbv2", "CreateTargetGroup", "Tags[].Key"),
        _api("elbv2", "CreateTargetGroup", "Tags[].Value"),
    ),
    "aws_lb_listener": (_api("elbv2", "CreateListener", "Tags[].Key"), _api("elbv2", "CreateListener", "Tags[].Value")),
    "aws_lb_listener_rule": (_api("elbv2", "CreateRule", "Tags[].Key"), _api("elbv2", "CreateRule", "Tags[].Value")),
    "aws_iam_role": (_api("iam", "CreateRole", "Tags[].Key"), _api("iam", "CreateRole", "Tags[].Value")),
    "aws_iam_policy": (_api("iam", "CreatePolicy", "Tags[].Key"), _api("iam", "CreatePolicy", "Tags[].Value")),
    "aws_iam_instance_profile": (
        _api("iam", "CreateInstanceProfile", "Tags[].Key"),
        _api("iam", "CreateInstanceProfile", "Tags[].Value"),
    ),
    "aws_cloudwatch_log_group": (
        _api("logs", "CreateLogGroup", "tags{key}"),
        _api("logs", "CreateLogGroup", "tags{value}"),
    ),
    "aws_cloudwatch_metric_alarm": (
        _api("cloudwatch", "PutMetricAlarm", "Tags[].Key"),
        _api("cloudwatch", "PutMetricAlarm", "Tags[].Value"),
    ),
    "aws_sns_topic": (_api("sns", "CreateTopic", "Tags[].Key"), _api("sns", "CreateTopic", "Tags[].Value")),
    "aws_kms_key": (_api("kms", "CreateKey", "Tags[].TagKey"), _api("kms", "CreateKey", "Tags[].TagValue")),
    "aws_kms_replica_key": (
        _api("kms", "ReplicateKey", "Tags[].TagKey"),
        _api("kms", "ReplicateKey", "Tags[].TagValue"),
    ),
    "aws_secretsmanager_secret": (
        _api("secretsmanager", "CreateSecret", "Tags[].Key"),
        _api("secretsmanager", "CreateSecret", "Tags[].Value"),
    ),
    "aws_ecs_cluster": (_api("ecs", "CreateCluster", "tags[].key"), _api("ecs", "CreateCluster", "tags[].value")),
    "aws_ecs_service": (_api("ecs", "CreateService", "tags[].key"), _api("ecs", "CreateService", "tags[].value")),
    "aws_ecs_task_definition": (
        _api("ecs", "RegisterTaskDefinition", "tags[].key"),
        _api("ecs", "RegisterTaskDefinition", "tags[].value"),
    ),
    "aws_service_discovery_http_namespace": (
        _api("servicediscovery", "CreateHttpNamespace", "Tags[].Key"),
        _api("servicediscovery", "CreateHttpNamespace", "Tags[].Value"),
    ),
    "aws_appautoscaling_target": (
        _api("application-autoscaling", "RegisterScalableTarget", "Tags{key}"),
        _api("application-autoscaling", "RegisterScalableTarget", "Tags{value}"),
    ),
    "aws_cloudfront_distribution": (
        _api("cloudfront", "CreateDistributionWithTags", "DistributionConfigWithTags.Tags.Items[].Key"),
        _api("cloudfront", "CreateDistributionWithTags", "DistributionConfigWithTags.Tags.Items[].Value"),
    ),
    "aws_elastic_beanstalk_application": (
        _api("elasticbeanstalk", "CreateApplication", "Tags[].Key"),
        _api("elasticbeanstalk", "CreateApplication", "Tags[].Value"),
    ),
    "aws_elastic_beanstalk_environment": (
        _api("elasticbeanstalk", "CreateEnvironment", "Tags[].Key"),
        _api("elasticbeanstalk", "CreateEnvironment", "Tags[].Value"),
    ),
}

GENERIC_TAG_FIELDS = (
    _api("resourcegroupstaggingapi", "TagResources", "Tags{key}"),
    _api("resourcegroupstaggingapi", "TagResources", "Tags{value}"),
)


@dataclass(frozen=True)
class Documented:
    """A rule the AWS API reference states for a member whose botocore shape does not carry it.

    NOT from botocore: written by hand from ``url``. Checked in addition to the shape's own constraints.
    """

    url: str
    pattern: str | None = None
    """Must match the whole value (Python ``regex`` syntax)."""
    min_length: int | None = None
    max_length: int | None = None


_EC2_SG_TEXT = r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*"
_ALNUM_HYPHEN_INNER = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"  # no leading or trailing hyphen
_LETTER_SINGLE_HYPHENS = r"[a-zA-Z](?:-?[a-zA-Z0-9])*"  # letter first, no trailing or doubled hyphen
_ECS_NAME = r"[a-zA-Z0-9_-]*"

# NOT FROM BOTOCORE: rules stated in the AWS API reference (the same text botocore carries as
# documentation, not as shape constraints). Keep each next to its URL; re-read the page to change one.
DOCUMENTED: dict[ApiField, Documented] = {
    _api("ec2", "CreateSecurityGroup", "GroupName"): Documented(
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
        pattern=rf"(?!sg-){_EC2_SG_TEXT}",
        max_length=255,
    ),
    _api("ec2", "CreateSecurityGroup", "Description"): Documented(
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
        pattern=_EC2_SG_TEXT,
        max_length=255,
    ),
    _api("ec2", "AuthorizeSecurityGroupIngress", "IpPermissions[].IpRanges[].Description"): Documented(
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html",
        pattern=_EC2_SG_TEXT,
        max_length=255,
    ),
    _api("ec2", "AuthorizeSecurityGroupEgress", "IpPermissions[].IpRanges[].Description"): Documented(
        "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html",
        pattern=_EC2_SG_TEXT,
        max_length=255,
    ),
    _api("elbv2", "CreateLoadBalancer", "Name"): Documented(
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
        pattern=rf"(?!internal-){_ALNUM_HYPHEN_INNER}",
        max_length=32,
    ),
    _api("elbv2", "CreateTargetGroup", "Name"): Documented(
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
        pattern=_ALNUM_HYPHEN_INNER,
        max_length=32,
    ),
    _api("rds", "CreateDBInstance", "DBInstanceIdentifier"): Documented(
        "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
        pattern=_LETTER_SINGLE_HYPHENS,
        min_length=1,
        max_length=63,
    ),
    _api("rds", "CreateDBParameterGroup", "DBParameterGroupName"): Documented(
        "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBParameterGroup.html",
        pattern=_LETTER_SINGLE_HYPHENS,
        min_length=1,
        max_length=255,
    ),
    _api("rds", "CreateDBSubnetGroup", "DBSubnetGroupName"): Documented(
        "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html",
        pattern=r"(?!default$)[a-zA-Z][a-zA-Z0-9._ -]*",
        max_length=255,
    ),
    _api("elasticache", "CreateReplicationGroup", "ReplicationGroupId"): Documented(
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html",
        pattern=_LETTER_SINGLE_HYPHENS,
        min_length=1,
        max_length=40,
    ),
    _api("elasticache", "CreateCacheSubnetGroup", "CacheSubnetGroupName"): Documented(
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheSubnetGroup.html",
        pattern=r"[a-zA-Z0-9-]+",
        max_length=255,
    ),
    _api("sns", "CreateTopic", "Name"): Documented(
        "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html",
        pattern=r"[a-zA-Z0-9_-]+(?:\.fifo)?",
        min_length=1,
        max_length=256,
    ),
    _api("secretsmanager", "CreateSecret", "Name"): Documented(
        "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
        pattern=r"[a-zA-Z0-9/_+=.@-]+",
    ),
    _api("cloudwatch", "PutMetricAlarm", "AlarmName"): Documented(
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
        pattern=r"[^\x00-\x1f\x7f]*",  # no ASCII control characters
    ),
    _api("ecs", "CreateCluster", "clusterName"): Documented(
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html",
        pattern=_ECS_NAME,
        max_length=255,
    ),
    _api("ecs", "CreateService", "serviceName"): Documented(
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html",
        pattern=_ECS_NAME,
        max_length=255,
    ),
    _api("ecs", "RegisterTaskDefinition", "family"): Documented(
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
        pattern=_ECS_NAME,
        max_length=255,
    ),
    _api(
        "cloudfront", "CreateDistributionWithTags", "DistributionConfigWithTags.DistributionConfig.Comment"
    ): Documented(
        "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html", max_length=128
    ),
    _api("cloudfront", "CreateResponseHeadersPolicy", "ResponseHeadersPolicyConfig.Comment"): Documented(
        "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ResponseHeadersPolicyConfig.html",
        max_length=128,
    ),
    _api("cloudfront", "CreateOriginAccessControl", "OriginAccessControlConfig.Name"): Documented(
        "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_OriginAccessControlConfig.html",
        max_length=64,
    ),
    _api("elasticbeanstalk", "CreateEnvironment", "EnvironmentName"): Documented(
        "https://docs.aws.amazon.com/elasticbeanstalk/latest/api/API_CreateEnvironment.html",
        pattern=_ALNUM_HYPHEN_INNER,
    ),
}

# NOT FROM BOTOCORE: the aws: prefix (any case) is reserved for AWS on every tag key.
RESERVED_TAG_KEY = Documented(
    "https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/allocation-tag-restrictions.html",
    pattern=r"(?!(?i:aws:))[\s\S]*",
)


class UnknownApiFieldError(LookupError):
    """An ``ApiField`` that names no operation or member in botocore's model."""


@dataclass(frozen=True)
class Violation:
    """One literal value in a synthesized document that the AWS API would reject."""

    address: str
    """``type.logical_id`` (``provider.aws`` / ``provider.aws.<alias>`` for provider default tags)."""
    attribute: str
    """Concrete attribute path: ``rule[2].visibility_config.metric_name``, ``tags``, ``tags["Name"]``."""
    value: str
    api_field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.address} {self.attribute} = {self.value!r}: {self.reason}"


@dataclass(frozen=True)
class _Constraints:
    source: str
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    enum: tuple[str, ...] = ()


def check_value(service: str, operation: str, member_path: str, value: str) -> str | None:
    """None when the API accepts ``value`` for the member, else one line naming the field and every failed constraint."""
    return _check(ApiField(service, operation, member_path), value)


def check_tags(tags: Mapping[str, str]) -> list[str]:
    """Problems with tags applied to every resource (provider default tags): each message names the tag.

    Checked against the generic tag shapes and every service's own in ``TAGS``, since default tags
    reach all of them; a constraint several services share is reported once.
    """
    fields = [GENERIC_TAG_FIELDS, *TAGS.values()]
    return [f"{problem.describe()}: {problem.reason}" for problem in _tag_problems(tags, fields)]


def check_document(document: Mapping[str, Any]) -> list[Violation]:
    """Every literal value of a mapped attribute, tag and provider default tag the API would reject.

    Values containing a Terraform interpolation or template directive are skipped: they are known
    only at apply time.
    """
    violations: list[Violation] = []
    resources: Mapping[str, Any] = document.get("resource") or {}
    for resource_type, instances in resources.items():
        attributes = _by_type().get(resource_type, ())
        for logical_id, body in instances.items():
            if not isinstance(body, Mapping):
                continue
            address = f"{resource_type}.{logical_id}"
            for path, field in attributes:
                suffix = GENERATED_SUFFIX.get((resource_type, path), "")
                for attribute, value in _literals(body, path):
                    reason = _check(field, value + suffix)
                    if reason is not None:
                        if suffix:
                            reason += f" (checked with the {len(suffix)} characters Terraform appends)"
                        violations.append(Violation(address, attribute, value, str(field), reason))
            tags = body.get("tags")
            if isinstance(tags, Mapping):
                violations += _tag_violations(address, "tags", tags, [TAGS.get(resource_type, GENERIC_TAG_FIELDS)])
    taggable = [TAGS[t] for t in resources if t in TAGS]
    for address, attribute, tags in _default_tags(document):
        violations += _tag_violations(address, attribute, tags, [GENERIC_TAG_FIELDS, *taggable])
    return violations


# --- botocore models ---------------------------------------------------------------------------


@cache
def _model(service: str) -> dict[str, Any]:
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("botocore is not installed: pip install -r requirements.txt")
    service_dir = Path(spec.submodule_search_locations[0], "data", service)
    # Like botocore's loader: the newest API version (directories are dates) that has a service model.
    for version in sorted((p for p in service_dir.iterdir() if p.is_dir()), reverse=True):
        for name in ("service-2.json.gz", "service-2.json"):
            path = version / name
            if path.is_file():
                data = path.read_bytes()
                loaded: dict[str, Any] = json.loads(gzip.decompress(data) if name.endswith(".gz") else data)
                return loaded
    raise UnknownApiFieldError(f"botocore has no service model for {service!r}")


_STEP = re.compile(r"(?P<name>[^.\[{]+)(?P<into>\[\]|\{key\}|\{value\})?")


def resolve(field: ApiField) -> tuple[str, dict[str, Any]]:
    """The shape name and shape a member path ends at; raises ``UnknownApiFieldError`` on any unknown step."""
    try:
        model = _model(field.service)
    except FileNotFoundError as error:
        raise UnknownApiFieldError(f"{field}: botocore has no service {field.service!r}") from error
    shapes: dict[str, Any] = model["shapes"]
    operation = model["operations"].get(field.operation)
    if operation is None or "input" not in operation:
        raise UnknownApiFieldError(f"{field}: {field.service} has no operation {field.operation!r} with an input")
    name: str = operation["input"]["shape"]
    for step in field.member.split("."):
        match = _STEP.fullmatch(step)
        members = shapes[name].get("members", {})
        if match is None or match["name"] not in members:
            raise UnknownApiFieldError(f"{field}: shape {name} has no member {step!r} (members: {', '.join(members)})")
        name = members[match["name"]]["shape"]
        into = match["into"]
        if into is not None:
            container = "list" if into == "[]" else "map"
            if shapes[name]["type"] != container:
                raise UnknownApiFieldError(f"{field}: {match['name']} is a {shapes[name]['type']}, not a {container}")
            name = shapes[name]["member" if into == "[]" else into.strip("{}")]["shape"]
    return name, shapes[name]


@cache
def _constraints(field: ApiField) -> tuple[_Constraints, ...]:
    name, shape = resolve(field)
    found = [
        _Constraints(
            f"shape {name}",
            pattern=shape.get("pattern"),
            min_length=shape.get("min"),
            max_length=shape.get("max"),
            enum=tuple(shape.get("enum", ())),
        )
    ]
    documented = DOCUMENTED.get(field)
    if documented is not None:
        found.append(_from_docs(documented))
    return tuple(found)


def _from_docs(documented: Documented) -> _Constraints:
    return _Constraints(
        f"AWS docs, not botocore: {documented.url}",
        pattern=documented.pattern,
        min_length=documented.min_length,
        max_length=documented.max_length,
    )


# --- checking values ---------------------------------------------------------------------------

# Java's POSIX classes (\p{Print}, \p{Alpha}...) are ASCII, like its \w, \d and \s; its Unicode
# categories and scripts (\p{L}, \p{N}, \p{Z}) are not. The regex package's ASCII flag narrows
# both kinds, so it is set only for patterns without a Unicode property; a pattern mixing the two
# (none of the mapped shapes today) then matches \w Unicode-wide: more lenient, never a false alarm.
_JAVA_POSIX = frozenset({"Lower", "Upper", "ASCII", "Alpha", "Digit", "Alnum", "Punct", "Graph", "Print", "Blank", "Cntrl", "XDigit", "Space"})  # fmt: skip
_PROPERTY = re.compile(r"\\[pP](?:\{(\w+)\}|(\w))")


@cache
def _compile(pattern: str) -> regex.Pattern[str]:
    import regex  # on first use: importing it costs more than everything else at import time

    names = {braced or single for braced, single in _PROPERTY.findall(pattern)}
    return regex.compile(pattern, 0 if names - _JAVA_POSIX else regex.ASCII)


class _Failure(NamedTuple):
    rule: str
    """``max 64 characters``, ``pattern ^[\\w\\-]+$``, ``enum a | b``."""
    finding: str
    """``got 65``, ``rejects '(' at index 36``: what two services rejecting alike have in common."""
    source: str

    def __str__(self) -> str:
        return f"{self.rule}, {self.finding} ({self.source})"


def _failures(all_constraints: tuple[_Constraints, ...], value: str) -> list[_Failure]:
    """Each constraint ``value`` breaks."""
    failures: list[_Failure] = []
    for constraints in all_constraints:
        source = constraints.source
        if constraints.min_length is not None and len(value) < constraints.min_length:
            failures.append(_Failure(f"min {constraints.min_length} characters", f"got {len(value)}", source))
        if constraints.max_length is not None and len(value) > constraints.max_length:
            failures.append(_Failure(f"max {constraints.max_length} characters", f"got {len(value)}", source))
        if constraints.enum and value not in constraints.enum:
            failures.append(_Failure(f"enum {' | '.join(constraints.enum)}", "got another value", source))
        if constraints.pattern is not None:
            compiled = _compile(constraints.pattern)
            if compiled.fullmatch(value) is None:
                failures.append(_Failure(f"pattern {constraints.pattern}", _where(compiled, value), source))
    return failures


def _where(compiled: regex.Pattern[str], value: str) -> str:
    # Partial matching says whether a prefix could still grow into a match: the first prefix that
    # cannot ends at the first rejected character.
    for end in range(1, len(value) + 1):
        if compiled.fullmatch(value[:end], partial=True) is None:
            return f"rejects {value[end - 1]!r} at index {end - 1}"
    return "rejects the value as a whole (it cannot end there)"


def _reason(label: str, failures: list[_Failure]) -> str:
    return f"{label}: {'; '.join(map(str, failures))}"


def _check(field: ApiField, value: str) -> str | None:
    failures = _failures(_constraints(field), value)
    return _reason(str(field), failures) if failures else None


# --- walking the document ----------------------------------------------------------------------


@cache
def _by_type() -> dict[str, tuple[tuple[str, ApiField], ...]]:
    grouped: dict[str, list[tuple[str, ApiField]]] = {}
    for (resource_type, path), field in ATTRIBUTES.items():
        grouped.setdefault(resource_type, []).append((path, field))
    return {resource_type: tuple(entries) for resource_type, entries in grouped.items()}


def _is_literal(value: str) -> bool:
    """Terraform takes ``value`` as written: no interpolation (``${``) or template directive (``%{``)."""
    return "${" not in value and "%{" not in value


def _literals(node: Any, path: str, where: str = "") -> Iterator[tuple[str, str]]:
    """(concrete attribute path, value) for each literal string at ``path`` under ``node``."""
    step, _, rest = path.partition(".")
    name = step.removesuffix("[]")
    child = node.get(name) if isinstance(node, Mapping) else None
    here = f"{where}.{name}" if where else name
    if not rest:
        if isinstance(child, str) and _is_literal(child):
            yield here, child
    elif isinstance(child, list):
        for index, block in enumerate(child):
            yield from _literals(block, rest, f"{here}[{index}]")
    elif isinstance(child, Mapping):
        yield from _literals(child, rest, here)


def _default_tags(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    providers = (document.get("provider") or {}).get("aws") or []
    for provider in providers if isinstance(providers, list) else [providers]:
        alias = provider.get("alias")
        address = f"provider.aws.{alias}" if isinstance(alias, str) else "provider.aws"
        blocks = provider.get("default_tags") or []
        for index, block in enumerate(blocks if isinstance(blocks, list) else [blocks]):
            tags = block.get("tags") if isinstance(block, Mapping) else None
            if isinstance(tags, Mapping):
                yield address, f"default_tags[{index}].tags", tags


@dataclass(frozen=True)
class _TagProblem:
    key: str
    text: str
    """The failing text: the key itself, or its value."""
    in_key: bool
    api_field: str
    reason: str

    def describe(self) -> str:
        return f"tag key {self.key!r}" if self.in_key else f"tag {self.key!r} value"


def _tag_problems(tags: Mapping[str, Any], fields: list[tuple[ApiField, ApiField]]) -> Iterator[_TagProblem]:
    """Each failing tag key or value. Services whose shapes fail it the same way (same limit, same
    rejected character) are reported once, under the first."""
    reserved = (_from_docs(RESERVED_TAG_KEY),)
    for key, value in tags.items():
        checks: list[tuple[str, bool, str, tuple[_Constraints, ...]]] = []
        if _is_literal(key):
            checks += [(key, True, str(key_field), _constraints(key_field)) for key_field, _ in fields]
            checks.append((key, True, "any tag key", reserved))
        if isinstance(value, str) and _is_literal(value):
            checks += [(value, False, str(value_field), _constraints(value_field)) for _, value_field in fields]
        seen: set[tuple[bool, tuple[tuple[str, str], ...]]] = set()
        for text, in_key, label, all_constraints in checks:
            failures = _failures(all_constraints, text)
            # Patterns differ in anchors and spelling across services: compare what they reject.
            outcome = (in_key, tuple((failure.rule.split()[0], failure.finding) for failure in failures))
            if failures and outcome not in seen:
                seen.add(outcome)
                yield _TagProblem(key, text, in_key, label, _reason(label, failures))


def _tag_violations(
    address: str, attribute: str, tags: Mapping[str, Any], fields: list[tuple[ApiField, ApiField]]
) -> list[Violation]:
    return [
        Violation(
            address,
            attribute if problem.in_key else f"{attribute}[{json.dumps(problem.key)}]",
            problem.text,
            problem.api_field,
            problem.reason,
        )
        for problem in _tag_problems(tags, fields)
    ]
