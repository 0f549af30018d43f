"""AWS API input constraints: the checker on hand-written values, its table against botocore's models and
the provider bindings, and every synthesized stack (tier 3)."""

from __future__ import annotations

import importlib
import typing
from types import ModuleType

import pytest

from config.api_constraints import (
    ATTRIBUTES,
    DOCUMENTED,
    GENERIC_TAG_FIELDS,
    TAGS,
    ApiField,
    UnknownApiFieldError,
    check_document,
    check_tags,
    check_value,
    resolve,
)
from tests.synth import Json

WAF_DESCRIPTION = (
    "netflux-prod-alb: AWS managed rules (AWSManagedRulesAmazonIpReputationList, AWSManagedRulesAnonymousIpList)"
)
ACL = "aws_wafv2_web_acl.acl"


def addresses(document: Json) -> set[tuple[str, str]]:
    return {(violation.address, violation.attribute) for violation in check_document(document)}


# --- values ------------------------------------------------------------------------------------


def test_fails_when_a_waf_description_has_parentheses() -> None:
    reason = check_value("wafv2", "CreateWebACL", "Description", WAF_DESCRIPTION)

    assert reason is not None
    assert reason.startswith("wafv2 CreateWebACL Description: pattern ")
    assert "rejects '(' at index 36" in reason
    assert "\n" not in reason


def test_a_waf_description_without_parentheses_passes() -> None:
    description = (
        "netflux-prod-alb: AWS managed rules AWSManagedRulesAmazonIpReputationList, AWSManagedRulesAnonymousIpList"
    )

    assert check_value("wafv2", "CreateWebACL", "Description", description) is None


def test_fails_when_an_iam_role_name_is_over_64_characters() -> None:
    assert check_value("iam", "CreateRole", "RoleName", "r" * 64) is None
    reason = check_value("iam", "CreateRole", "RoleName", "r" * 65)

    assert reason == "iam CreateRole RoleName: max 64 characters, got 65 (shape roleNameType)"


def test_fails_when_a_log_group_name_has_a_space() -> None:
    assert check_value("logs", "CreateLogGroup", "logGroupName", "/netflux/prod/api") is None
    reason = check_value("logs", "CreateLogGroup", "logGroupName", "/netflux/prod/api logs")

    assert reason is not None
    assert "rejects ' ' at index 17" in reason


@pytest.mark.parametrize("key", ["aws:team", "AWS:team", "Aws:Team"])
def test_fails_when_a_tag_key_has_the_reserved_aws_prefix(key: str) -> None:
    problems = check_tags({key: "platform", "team": "platform"})

    assert len(problems) == 1
    assert problems[0].startswith(f"tag key {key!r}: any tag key: pattern")
    assert "not botocore" in problems[0]


def test_fails_when_a_tag_key_is_over_128_characters() -> None:
    problems = check_tags({"k" * 129: "v"})

    # Every service caps keys at 128: reported once, not once per service.
    assert len(problems) == 1
    assert "max 128 characters, got 129" in problems[0]
    assert check_tags({"k" * 128: "v"}) == []


def test_tag_patterns_keep_java_unicode_classes_and_ascii_word_characters() -> None:
    # \p{L} is Unicode in Java and here; Java's \w is ASCII, so an accented WAF name is rejected.
    assert check_value("wafv2", "CreateWebACL", "Tags[].Value", "équipe plateforme") is None
    assert check_value("wafv2", "CreateWebACL", "Name", "équipe") is not None
    assert check_value("wafv2", "CreateWebACL", "Name", "equipe_1-a") is None


def test_print_class_is_ascii_printable() -> None:
    assert check_value("application-autoscaling", "PutScalingPolicy", "PolicyName", "api cpu 70%") is None
    assert check_value("application-autoscaling", "PutScalingPolicy", "PolicyName", "api\tcpu") is not None


def test_fails_when_a_value_is_not_in_the_enum() -> None:
    reason = check_value("cloudfront", "CreateFunction", "FunctionConfig.Runtime", "cloudfront-js-9.0")

    assert reason is not None
    assert "enum cloudfront-js-1.0 | cloudfront-js-2.0, got another value" in reason


def test_fails_when_the_pattern_fails_only_at_the_end() -> None:
    reason = check_value("wafv2", "CreateWebACL", "Description", "ends with a space ")

    assert reason is not None
    assert "as a whole" in reason


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (ApiField("ec2", "CreateSecurityGroup", "Description"), "app <-> db"),
        (ApiField("ec2", "CreateSecurityGroup", "GroupName"), "sg-netflux"),
        (ApiField("elbv2", "CreateLoadBalancer", "Name"), "netflux-staging-alb-with-a-long-name"),
        (ApiField("elbv2", "CreateLoadBalancer", "Name"), "internal-netflux"),
        (ApiField("elbv2", "CreateTargetGroup", "Name"), "netflux-api-"),
        (ApiField("rds", "CreateDBInstance", "DBInstanceIdentifier"), "netflux--db"),
        (ApiField("elasticache", "CreateReplicationGroup", "ReplicationGroupId"), "1netflux"),
    ],
    ids=str,
)
def test_fails_when_a_value_breaks_a_documented_rule_botocore_lacks(field: ApiField, value: str) -> None:
    reason = check_value(field.service, field.operation, field.member, value)

    assert reason is not None
    assert "AWS docs, not botocore: https://docs.aws.amazon.com/" in reason


def test_documented_rules_pass_what_the_project_writes() -> None:
    assert check_value("ec2", "CreateSecurityGroup", "Description", "ALB: HTTPS from the internet (443)") is None
    assert check_value("elbv2", "CreateTargetGroup", "Name", "netflux-prod-api") is None
    assert check_value("rds", "CreateDBInstance", "DBInstanceIdentifier", "netflux-prod-db") is None


# --- documents ---------------------------------------------------------------------------------


def test_nested_blocks_are_checked_whether_written_as_lists_or_objects() -> None:
    document: Json = {
        "resource": {
            "aws_wafv2_web_acl": {
                "acl": {
                    "name": "netflux-prod-alb",
                    "description": WAF_DESCRIPTION,
                    "visibility_config": {"metric_name": "netflux prod"},
                    "rule": [
                        {"name": "ip-reputation", "visibility_config": {"metric_name": "netflux-ip"}},
                        {"name": "bad name!", "visibility_config": [{"metric_name": "x y"}]},
                    ],
                }
            }
        }
    }

    assert addresses(document) == {
        (ACL, "description"),
        (ACL, "visibility_config.metric_name"),
        (ACL, "rule[1].name"),
        (ACL, "rule[1].visibility_config[0].metric_name"),
    }


def test_a_violation_names_the_resource_the_value_the_api_field_and_the_reason() -> None:
    document: Json = {"resource": {"aws_wafv2_web_acl": {"acl": {"description": WAF_DESCRIPTION}}}}

    (violation,) = check_document(document)

    assert violation.address == ACL
    assert violation.attribute == "description"
    assert violation.value == WAF_DESCRIPTION
    assert violation.api_field == "wafv2 CreateWebACL Description"
    assert violation.reason == check_value("wafv2", "CreateWebACL", "Description", WAF_DESCRIPTION)


def test_interpolated_values_are_skipped() -> None:
    document: Json = {
        "resource": {
            "aws_iam_role": {"task": {"name": "${var.prefix} task role", "description": "%{if true}(x)%{endif}"}},
            "aws_lb": {"alb": {"name": "${local.name}", "tags": {"aws:x": "${var.owner}", "team": "${var.team}"}}},
        }
    }

    assert addresses(document) == {("aws_lb.alb", "tags")}  # a literal key is still checked


def test_tags_use_the_resource_services_shapes_and_fall_back_to_the_generic_ones() -> None:
    document: Json = {
        "resource": {
            "aws_lb": {"alb": {"tags": {"owner": "platform (ops)"}}},
            "aws_vpc": {"vpc": {"tags": {"owner": "platform (ops)", "aws:name": "x"}}},
        }
    }

    by_address = {(violation.address, violation.attribute): violation for violation in check_document(document)}

    assert by_address[("aws_lb.alb", 'tags["owner"]')].api_field == "elbv2 CreateLoadBalancer Tags[].Value"
    # EC2's model leaves tags unconstrained: the generic TagValue takes any character.
    assert set(by_address) == {("aws_lb.alb", 'tags["owner"]'), ("aws_vpc.vpc", "tags")}


def test_provider_default_tags_are_checked_against_the_services_in_the_document() -> None:
    document: Json = {
        "provider": {"aws": [{"alias": "us-east-1", "default_tags": [{"tags": {"owner": "platform (ops)"}}]}]},
        "resource": {"aws_lb": {"alb": {"name": "netflux-prod-alb"}}},
    }

    (violation,) = check_document(document)

    assert (violation.address, violation.attribute) == ("provider.aws.us-east-1", 'default_tags[0].tags["owner"]')
    assert violation.api_field == "elbv2 CreateLoadBalancer Tags[].Value"


def test_name_prefix_is_checked_with_the_suffix_terraform_appends() -> None:
    def prefix(value: str) -> Json:
        return {"resource": {"aws_db_parameter_group": {"pg": {"name_prefix": value}}}}

    assert check_document(prefix("netflux-prod-postgres-")) == []
    (violation,) = check_document(prefix("p" * 230))
    assert "max 255 characters, got 256" in violation.reason
    assert "Terraform appends" in violation.reason


# --- the table ---------------------------------------------------------------------------------

FIELDS = sorted(
    {*ATTRIBUTES.values(), *DOCUMENTED, *GENERIC_TAG_FIELDS, *(field for pair in TAGS.values() for field in pair)},
    key=str,
)


@pytest.mark.parametrize("field", FIELDS, ids=str)
def test_every_api_field_is_a_string_member_of_an_existing_operation(field: ApiField) -> None:
    _, shape = resolve(field)

    assert shape["type"] == "string"


@pytest.mark.parametrize(
    "field",
    [
        ApiField("wafv2", "CreateWebAcl", "Description"),
        ApiField("wafv2", "CreateWebACL", "Descripton"),
        ApiField("wafv2", "CreateWebACL", "Rules.Name"),
        ApiField("waf-v2", "CreateWebACL", "Description"),
    ],
    ids=str,
)
def test_fails_when_an_api_field_has_a_typo(field: ApiField) -> None:
    with pytest.raises(UnknownApiFieldError):
        resolve(field)


def test_every_documented_rule_belongs_to_a_mapped_attribute() -> None:
    assert set(DOCUMENTED) <= set(ATTRIBUTES.values())


@pytest.mark.parametrize("resource_type", sorted(TAGS))
def test_own_service_tag_shapes_are_listed_only_where_the_model_constrains_them(resource_type: str) -> None:
    for field in TAGS[resource_type]:
        _, shape = resolve(field)
        assert {"pattern", "min", "max"} & set(shape), field


def binding_module(resource_type: str) -> ModuleType:
    return importlib.import_module(f"cdktf_cdktf_provider_aws.{resource_type.removeprefix('aws_')}")


def binding_attribute(resource_type: str, path: str) -> object:
    """The bindings' declared type of a Terraform attribute path, following ``block[]`` into its struct."""
    module = binding_module(resource_type)
    resource = next(
        cls
        for cls in vars(module).values()
        if isinstance(cls, type) and getattr(cls, "TF_RESOURCE_TYPE", None) == resource_type
    )
    struct: type = getattr(module, f"{resource.__name__}Config")
    declared: object = None
    for step in path.split("."):
        name = step.removesuffix("[]")
        prop = getattr(struct, name, None)
        assert isinstance(prop, property), f"{struct.__name__} has no attribute {name!r}"
        declared = typing.get_type_hints(prop.fget)["return"]
        if step.endswith("[]"):
            struct = next(t for t in nested_types(declared) if t.__module__ == module.__name__)
    return declared


def nested_types(declared: object) -> list[type]:
    args = typing.get_args(declared)
    if not args:
        return [declared] if isinstance(declared, type) else []
    return [found for arg in args for found in nested_types(arg)]


MAPPED = sorted({*ATTRIBUTES, *((resource_type, "tags") for resource_type in TAGS)})


@pytest.mark.parametrize(("resource_type", "path"), MAPPED, ids=[f"{t}.{p}" for t, p in MAPPED])
def test_every_mapped_terraform_attribute_exists_in_the_provider_bindings(resource_type: str, path: str) -> None:
    declared = binding_attribute(resource_type, path)

    # A required argument is declared as its type, an optional one as Optional of it.
    expected = typing.Mapping[str, str] if path == "tags" else str
    assert declared in (expected, typing.Optional[expected])  # noqa: UP045


# --- every stack -------------------------------------------------------------------------------


def test_no_synthesized_stack_sends_a_value_the_aws_api_rejects(
    synthesized: dict[str, Json], synthesized_examples: dict[str, Json]
) -> None:
    found = [
        f"{environment}: {violation}"
        for environment, document in {**synthesized, **synthesized_examples}.items()
        for violation in check_document(document)
    ]

    assert not found, "\n".join(found)
