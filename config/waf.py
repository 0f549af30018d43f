"""AWS WAF in front of the environment's entry points (``[waf]``)."""

from __future__ import annotations

from pydantic import Field

from .base import RetentionDays, Strict


class WafConfig(Strict):
    """AWS WAF in front of the load balancer and the distribution (``[waf]``): one web ACL each with
    AWS managed rule groups (common exploits, known bad inputs such as Log4Shell, IP reputation,
    anonymizing proxies), CloudWatch metrics, sampled requests and logs."""

    enabled: bool = Field(
        default=True,
        description="Create the web ACLs: REGIONAL on the load balancer, CLOUDFRONT (in us-east-1) on the "
        "distribution unless frontend.web_acl_arn names one. Off: no WAF (each ACL costs about $5 a month "
        "plus $1 per rule group and $0.60 per million requests).",
    )
    log_retention_days: RetentionDays = Field(
        default=365,
        description="Retention of the WAF log groups (every request WAF evaluates, with the authorization and "
        "cookie headers redacted); a CloudWatch period.",
    )
