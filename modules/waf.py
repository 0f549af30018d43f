"""AWS WAF (v2) web ACL of AWS managed rule groups, with metrics, sampled requests and logs, for a
load balancer (REGIONAL) or a CloudFront distribution (CLOUDFRONT, managed in us-east-1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from .block import Block
from .provider import AwsProviders

Scope = Literal["REGIONAL", "CLOUDFRONT"]
# WAF manages CLOUDFRONT-scoped ACLs (and their log groups) in us-east-1 only.
CLOUDFRONT_REGION = "us-east-1"
# WAF only logs to CloudWatch log groups whose name starts with this.
LOG_GROUP_PREFIX = "aws-waf-logs-"
NAME_MAX = 128


@dataclass(frozen=True, kw_only=True)
class ManagedRuleGroup:
    """An AWS managed rule group, evaluated in list order."""

    name: str
    """Rule group name, e.g. ``AWSManagedRulesCommonRuleSet``."""
    count_rules: tuple[str, ...] = ()
    """Rules of the group that only count matches instead of blocking; every rule blocks by default."""


DEFAULT_RULE_GROUPS = (
    # Addresses AWS threat intelligence has seen attacking, scanning or running bots.
    ManagedRuleGroup(name="AWSManagedRulesAmazonIpReputationList"),
    # Tor, VPNs and other anonymizers. Cloud hosting ranges only count: server-to-server clients
    # and monitoring probes run there.
    ManagedRuleGroup(name="AWSManagedRulesAnonymousIpList", count_rules=("HostingProviderIPList",)),
    # Request patterns of known exploits, Log4Shell (Log4JRCE) included.
    ManagedRuleGroup(name="AWSManagedRulesKnownBadInputsRuleSet"),
    # OWASP-style protection: XSS, path traversal, oversized or malformed requests.
    ManagedRuleGroup(name="AWSManagedRulesCommonRuleSet"),
)
# Headers whose values are credentials: logged as REDACTED.
REDACTED_HEADERS = ("authorization", "cookie")


@dataclass(frozen=True, kw_only=True)
class WebAclProps:
    """One web ACL, where it applies and where it logs."""

    name: str
    """Name of the ACL, its metrics and (after ``aws-waf-logs-``) its log group, e.g. ``netflux-prod-alb``."""
    scope: Scope
    """REGIONAL: load balancers of the stack's region; CLOUDFRONT: distributions (managed in us-east-1)."""
    rule_groups: tuple[ManagedRuleGroup, ...] = DEFAULT_RULE_GROUPS
    """AWS managed rule groups, evaluated in this order; requests no rule blocks are allowed."""
    resource_arn: str | None = None
    """REGIONAL: the load balancer to protect. CLOUDFRONT ACLs are attached by the distribution
    (``web_acl_id``), so this stays unset for them."""
    log_retention_days: int = 365
    """Retention of the log group this construct creates (every request WAF evaluates)."""
    log_kms_key_arn: str | None = None
    """KMS key of the log group, in the ACL's region (us-east-1 for CLOUDFRONT); CloudWatch's default
    encryption when unset."""
    redacted_headers: tuple[str, ...] = field(default=REDACTED_HEADERS)
    """Headers logged as REDACTED instead of their value."""


def _rule(index: int, group: ManagedRuleGroup, acl_name: str) -> Wafv2WebAclRule:
    statement: dict[str, Any] = {"managed_rule_group_statement": {"name": group.name, "vendor_name": "AWS"}}
    if group.count_rules:
        statement["managed_rule_group_statement"]["rule_action_override"] = [
            {"name": rule, "action_to_use": {"count": {}}} for rule in group.count_rules
        ]
    return Wafv2WebAclRule(
        name=group.name,
        priority=index,
        # "none" keeps each rule's own action (block); "count" would disarm the whole group.
        override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
        statement=statement,
        visibility_config=Wafv2WebAclRuleVisibilityConfig(
            cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=f"{acl_name}-{group.name}"
        ),
    )


class WebAcl(Block):
    """A web ACL allowing what no managed rule blocks, its association (REGIONAL), and its logs."""

    stateful_types = frozenset({"aws_cloudwatch_log_group"})

    acl: Wafv2WebAcl
    arn: str
    log_group: CloudwatchLogGroup

    def __init__(self, scope: Construct, construct_id: str, *, props: WebAclProps) -> None:
        super().__init__(scope, construct_id)
        _validate(props)
        # CLOUDFRONT ACLs and their logs live in us-east-1: the provider aliased there, unless the stack
        # is in us-east-1 itself.
        provider = AwsProviders.of(self).in_region(CLOUDFRONT_REGION) if props.scope == "CLOUDFRONT" else None
        self.acl = Wafv2WebAcl(
            self,
            "acl",
            name=props.name,
            # WAF descriptions allow letters, digits, spaces and _+=:#@/-,. only: no parentheses
            # (EntityDescription's pattern; the provider checks the length alone).
            description=f"{props.name}: {len(props.rule_groups)} AWS managed rule groups, default allow",
            scope=props.scope,
            provider=provider,
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=[_rule(index, group, props.name) for index, group in enumerate(props.rule_groups)],
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=props.name
            ),
            tags={"Name": props.name},
        )
        self.arn = self.acl.arn
        if props.resource_arn is not None:
            Wafv2WebAclAssociation(self, "association", resource_arn=props.resource_arn, web_acl_arn=self.acl.arn)

        # WAF adds itself to the log group's resource policy (delivery.logs.amazonaws.com) when
        # logging is turned on; a policy managed here would count against the 10-per-region quota.
        self.log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"{LOG_GROUP_PREFIX}{props.name}",
            provider=provider,
            retention_in_days=props.log_retention_days,
            kms_key_id=props.log_kms_key_arn,
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            provider=provider,
            resource_arn=self.acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in props.redacted_headers
            ],
        )


def _validate(props: WebAclProps) -> None:
    """Fail before any resource exists, naming the field, the value and what is allowed."""
    if not 1 <= len(props.name) <= NAME_MAX - len(LOG_GROUP_PREFIX):
        raise ValueError(f"name must be 1-{NAME_MAX - len(LOG_GROUP_PREFIX)} characters, got {props.name!r}")
    if not props.rule_groups:
        raise ValueError("rule_groups must list at least one managed rule group")
    names = [group.name for group in props.rule_groups]
    if len(set(names)) != len(names):
        raise ValueError(f"rule_groups lists a group twice: {names}")
    if props.scope == "CLOUDFRONT" and props.resource_arn is not None:
        raise ValueError("resource_arn is for REGIONAL ACLs; a distribution attaches a CLOUDFRONT ACL by web_acl_id")
    for header in props.redacted_headers:
        if header != header.lower() or not header:
            raise ValueError(f"redacted_headers must be lowercase header names, got {header!r}")
