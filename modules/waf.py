"""AWS WAF (v2) web ACL of AWS managed rule groups, with metrics, sampled requests and logs, for a
load balancer (REGIONAL) or a CloudFront distribution (CLOUDFRONT, managed in us-east-1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.provider import AwsProvider
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

from config.frontend import CLOUDFRONT_REGION
from config.waf import WafConfig

from .block import Block, Naming
from .kms import PlatformKey
from .provider import AwsProviders

Scope = Literal["REGIONAL", "CLOUDFRONT"]
# WAF only logs to CloudWatch log groups whose name starts with this; an ACL's name is at most 128.
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

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: WafConfig,
        naming: Naming,
        key: PlatformKey | None,
        load_balancer_arn: str | None = None,
    ) -> None:
        """``load_balancer_arn``: a REGIONAL ACL protecting that load balancer (the platform's or
        Beanstalk's); None: a CLOUDFRONT ACL, which the distribution attaches by ``web_acl_id``.
        ``key`` encrypts the log group, through its replica in us-east-1 for a CLOUDFRONT ACL."""
        super().__init__(scope, construct_id)
        acl_scope: Scope = "CLOUDFRONT" if load_balancer_arn is None else "REGIONAL"
        # Names the ACL, its metrics and (after the prefix) its log group, e.g. netflux-prod-alb.
        name = naming.name(
            "cloudfront" if acl_scope == "CLOUDFRONT" else "alb", max_length=NAME_MAX - len(LOG_GROUP_PREFIX)
        )
        # CLOUDFRONT ACLs and their logs live in us-east-1: the provider aliased there, unless the stack
        # is in us-east-1 itself.
        provider = AwsProviders.of(self).in_region(CLOUDFRONT_REGION) if acl_scope == "CLOUDFRONT" else None
        self.acl = Wafv2WebAcl(
            self,
            "acl",
            name=name,
            # WAF descriptions allow letters, digits, spaces and _+=:#@/-,. only: no parentheses
            # (EntityDescription's pattern; the provider checks the length alone).
            description=f"{name}: {len(DEFAULT_RULE_GROUPS)} AWS managed rule groups, default allow",
            scope=acl_scope,
            provider=provider,
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=[_rule(index, group, name) for index, group in enumerate(DEFAULT_RULE_GROUPS)],
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=name
            ),
            tags={"Name": name},
        )
        self.arn = self.acl.arn
        if load_balancer_arn is not None:
            Wafv2WebAclAssociation(self, "association", resource_arn=load_balancer_arn, web_acl_arn=self.acl.arn)

        self.log_group = self._logs(name, settings.log_retention_days, _log_key(key, acl_scope), provider)

    def _logs(
        self, name: str, retention_days: int, kms_key_arn: str | None, provider: AwsProvider | None
    ) -> CloudwatchLogGroup:
        """The log group of every request WAF evaluates, with credential headers redacted."""
        # WAF adds itself to the log group's resource policy (delivery.logs.amazonaws.com) when
        # logging is turned on; a policy managed here would count against the 10-per-region quota.
        log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"{LOG_GROUP_PREFIX}{name}",
            provider=provider,
            retention_in_days=retention_days,
            kms_key_id=kms_key_arn,
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            provider=provider,
            resource_arn=self.acl.arn,
            log_destination_configs=[log_group.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in REDACTED_HEADERS
            ],
        )
        return log_group


def _log_key(key: PlatformKey | None, acl_scope: Scope) -> str | None:
    """The key's ARN in the log group's region (us-east-1 for a CLOUDFRONT ACL); None: CloudWatch's encryption."""
    if key is None:
        return None
    return key.arn_in(CLOUDFRONT_REGION) if acl_scope == "CLOUDFRONT" else key.arn
