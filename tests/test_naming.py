"""resource_name: deterministic, within AWS limits, no collisions after truncation."""

from __future__ import annotations

import itertools

import pytest

from config.naming import ALB_NAME_MAX, TARGET_GROUP_NAME_MAX, resource_name


def test_short_names_are_project_environment_role() -> None:
    assert resource_name("netflux", "dev", "alb", max_length=ALB_NAME_MAX) == "netflux-dev-alb"


def test_long_names_are_truncated_to_the_limit_with_a_hash() -> None:
    full = "netflux-platform-staging-customer-service-tg"
    name = resource_name("netflux-platform", "staging", "customer-service-tg", max_length=TARGET_GROUP_NAME_MAX)
    assert len(name) <= TARGET_GROUP_NAME_MAX < len(full)
    assert name.startswith("netflux-platform-staging-")
    assert name.rsplit("-", 1)[1] != "tg"  # ends in the hash, not in a cut-off role


def test_names_are_deterministic() -> None:
    first = resource_name("netflux-platform", "prod", "movie-service-recommendations", max_length=32)
    assert first == resource_name("netflux-platform", "prod", "movie-service-recommendations", max_length=32)


def test_long_names_sharing_a_prefix_do_not_collide() -> None:
    roles = [f"service-with-a-very-long-name-{suffix}" for suffix in ("a", "b", "c", "movies", "customers")]
    names = [
        resource_name(p, e, r, max_length=32) for p, e, r in itertools.product(["netflux"], ["dev", "prod"], roles)
    ]
    assert all(len(n) <= 32 for n in names)
    assert len(set(names)) == len(names)


def test_truncation_never_leaves_a_trailing_hyphen_before_the_hash() -> None:
    # The cut falls right after a hyphen: "netflux-dev-ab-" would be followed by "-<hash>".
    name = resource_name("netflux", "dev", "ab-cdefghijklmnopqrstuvwxyz", max_length=22)
    assert "--" not in name
    assert len(name) <= 22


@pytest.mark.parametrize("role", ["Bad_Role", "-leading", "trailing-", "double--hyphen", "spa ce"])
def test_fails_when_the_name_has_characters_aws_rejects(role: str) -> None:
    with pytest.raises(ValueError, match="lowercase letters, digits and single hyphens"):
        resource_name("netflux", "dev", role)
