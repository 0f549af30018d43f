"""Tier 1: listener-rule conditions and priorities (config/routing.py): the allocation itself, pure
Python, and the routing of ``[services.<name>]`` as an environment file is loaded."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from config import EnvironmentConfig
from config.errors import FieldError
from config.routing import (
    AUTO_FIRST,
    BAND_WIDTH,
    PRIORITY_MAX,
    Route,
    allocate_priorities,
    automatic_priority,
    band,
    canonical_path,
    is_subset,
    matches,
    min_match_length,
    overlap_example,
)
from tests.config_check import Data, fails, parse

OVERLAPPING = [
    Route("top-movies", ("/api/movies/top*",)),
    Route("movie-service", ("/api/movies*",)),
    Route("api-gateway", ("/api/*",)),
    Route("frontend", ("/*",)),
]


def test_more_specific_patterns_are_evaluated_first() -> None:
    priorities = allocate_priorities(OVERLAPPING)
    order = sorted(priorities, key=priorities.__getitem__)
    assert order == ["top-movies", "movie-service", "api-gateway", "frontend"]


def test_automatic_priorities_are_inside_the_automatic_range() -> None:
    for priority in allocate_priorities(OVERLAPPING).values():
        assert AUTO_FIRST <= priority <= PRIORITY_MAX


def test_declaration_order_does_not_matter() -> None:
    expected = allocate_priorities(OVERLAPPING)
    for permutation in itertools.permutations(OVERLAPPING):
        assert allocate_priorities(list(permutation)) == expected


def allocation_or_error(routes: list[Route]) -> dict[str, int] | str:
    try:
        return allocate_priorities(routes)
    except FieldError as error:
        return error.message


@pytest.mark.slow  # allocates priorities 200 times over
def test_adding_an_unrelated_service_never_renumbers_existing_rules() -> None:
    """Each addition either leaves every existing number alone or is refused (slot collision)."""
    base = [*OVERLAPPING, Route("customer-service", ("/api/customers/*",))]
    before = allocate_priorities(base)
    added = refused = 0
    for index in range(200):
        newcomer = Route(f"service-{index}", (f"/svc{index}/*",))
        after = allocation_or_error([*base, newcomer])
        if isinstance(after, str):
            assert "already taken" in after
            refused += 1
            continue
        added += 1
        assert {name: after[name] for name in before} == before
    assert added > 150  # collisions are the rare exception
    assert refused < 10


def test_a_rule_priority_depends_only_on_that_rule() -> None:
    priorities = allocate_priorities(OVERLAPPING)
    for route in OVERLAPPING:
        assert priorities[route.service] == automatic_priority(route)


def test_explicit_priority_overrides_allocation() -> None:
    routes = [Route("movie-service", ("/api/movies*",), priority=7), Route("api", ("/api/*",))]
    priorities = allocate_priorities(routes)
    assert priorities["movie-service"] == 7
    assert priorities["api"] == automatic_priority(routes[1])


def test_host_header_rule_wins_over_same_path_without_host() -> None:
    routes = [Route("admin", ("/api/*",), ("admin.example.com",)), Route("api", ("/api/*",))]
    priorities = allocate_priorities(routes)
    assert priorities["admin"] < priorities["api"]


def test_same_pattern_on_disjoint_hosts_is_allowed() -> None:
    routes = [Route("shop", ("/*",), ("shop.example.com",)), Route("blog", ("/*",), ("blog.example.com",))]
    assert set(allocate_priorities(routes)) == {"shop", "blog"}


def test_host_only_rule_counts_as_every_path_of_its_host() -> None:
    routes = [Route("site", (), ("www.example.com",)), Route("site-api", ("/api/*",), ("www.example.com",))]
    priorities = allocate_priorities(routes)
    assert priorities["site-api"] < priorities["site"]


def test_fails_when_two_services_use_the_same_pattern() -> None:
    with pytest.raises(FieldError, match=r"matches exactly the requests of services\.a\.path_patterns\[0\]") as caught:
        allocate_priorities([Route("a", ("/api/*",)), Route("b", ("/x", "/api/*"))])
    assert caught.value.path == ("b", "path_patterns", 1)


def test_fails_when_two_patterns_are_written_differently_but_match_the_same_paths() -> None:
    with pytest.raises(FieldError, match="two services cannot route the same pattern"):
        allocate_priorities([Route("a", ("/api/**",)), Route("b", ("/api/*",))])


def test_fails_when_explicit_priority_puts_general_pattern_first() -> None:
    routes = [Route("api", ("/api/*",), priority=5), Route("movie-service", ("/api/movies*",))]
    with pytest.raises(FieldError, match=r"services\.movie-service .* is more specific than services\.api") as caught:
        allocate_priorities(routes)
    assert caught.value.path == ("api", "rule_priority")
    assert caught.value.value == 5


def test_fails_when_explicit_priorities_clash() -> None:
    routes = [Route("a", ("/a/*",), priority=10), Route("b", ("/b/*",), priority=10)]
    with pytest.raises(FieldError, match=r"is also the rule priority of services\.a") as caught:
        allocate_priorities(routes)
    assert caught.value.path == ("b", "rule_priority")


def test_fails_when_explicit_priority_takes_an_automatic_one() -> None:
    taken = automatic_priority(Route("a", ("/a/*",)))
    with pytest.raises(FieldError, match=r"is also the automatic rule priority of services\.a") as caught:
        allocate_priorities([Route("a", ("/a/*",)), Route("b", ("/b/*",), priority=taken)])
    assert caught.value.path == ("b", "rule_priority")


def test_fails_when_overlapping_patterns_are_equally_specific() -> None:
    routes = [Route("a", ("/api/*/admin",)), Route("b", ("/api/movies*",))]
    with pytest.raises(FieldError, match=r"both match e\.g\. '/api/movies/admin'.*set rule_priority"):
        allocate_priorities(routes)


def test_equally_specific_overlap_is_fine_once_one_priority_is_explicit() -> None:
    routes = [Route("a", ("/api/*/admin",), priority=1), Route("b", ("/api/movies*",))]
    assert allocate_priorities(routes)["a"] == 1


def colliding_pair() -> tuple[Route, Route]:
    """Two services whose names hash to the same slot, with disjoint patterns of one band."""
    seen: dict[int, Route] = {}
    for index in range(10_000):
        route = Route(f"svc-{index}", (f"/x{index:05d}/*",))
        slot = automatic_priority(route)
        if slot in seen:
            return seen[slot], route
        seen[slot] = route
    raise AssertionError("no collision found")


def test_fails_when_two_automatic_priorities_collide_and_names_a_free_one() -> None:
    first, second = colliding_pair()
    with pytest.raises(FieldError, match=r"already taken by services\.svc-\d+; set rule_priority = (\d+)") as caught:
        allocate_priorities([first, second])
    suggested = int(re.search(r"rule_priority = (\d+)", caught.value.message)[1])  # type: ignore[index]
    newcomer = second if caught.value.path[0] == second.service else first
    other = first if newcomer is second else second
    fixed = Route(newcomer.service, newcomer.path_patterns, priority=suggested)
    assert allocate_priorities([other, fixed])[fixed.service] == suggested


def test_band_layout_fits_aws_range() -> None:
    highest = AUTO_FIRST + (2 * 64) * BAND_WIDTH - 1
    assert highest <= PRIORITY_MAX
    assert band(Route("a", ("/*",), ("a.example.com",))) < band(Route("b", ("/" + "x" * 100,)))


# --- the pattern language engine, checked against brute force ------------------------------------


def brute_force_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z")


WORDS = ["".join(w) for n in range(7) for w in itertools.product("/ab", repeat=n)]


def random_patterns(count: int) -> list[str]:
    generator = random.Random(1234)
    return ["".join(generator.choice("ab*?/") for _ in range(generator.randint(1, 4))) for _ in range(count)]


@pytest.mark.parametrize("pattern", random_patterns(40))
def test_matches_agrees_with_a_regex(pattern: str) -> None:
    regex = brute_force_regex(pattern)
    for word in WORDS:
        assert matches(pattern, word) == bool(regex.match(word)), (pattern, word)


def test_subset_and_overlap_agree_with_brute_force() -> None:
    patterns = random_patterns(30)
    languages = {p: {w for w in WORDS if brute_force_regex(p).match(w)} for p in patterns}
    for a, b in itertools.product(patterns, repeat=2):
        # Words up to 6 characters are enough to tell these short patterns apart.
        assert is_subset(a, b) == (languages[a] <= languages[b]), (a, b)
        example = overlap_example(a, b)
        assert (example is not None) == bool(languages[a] & languages[b]), (a, b)
        if example is not None:
            assert matches(a, example)
            assert matches(b, example)


def test_nested_pattern_never_has_a_shorter_minimum_match() -> None:
    """The property the band layout relies on: p inside q implies len_min(p) >= len_min(q)."""
    patterns = [canonical_path(p) for p in random_patterns(60)]
    for a, b in itertools.product(patterns, repeat=2):
        if is_subset(a, b):
            assert min_match_length(a) >= min_match_length(b), (a, b)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("*.jpg", "/*.jpg"), ("?api/*", "/api/*"), ("/a**b", "/a*b"), ("/api/movies*", "/api/movies*")],
)
def test_canonical_path_keeps_the_request_paths_a_pattern_matches(written: str, canonical: str) -> None:
    assert canonical_path(written) == canonical


# --- [services.<name>] routing loads or fails --------------------------------------------------


@pytest.fixture
def dev(env_data: dict[str, Data]) -> Data:
    return env_data["dev"]


def movie(dev: Data) -> Data:
    service: Data = dev["services"]["movie-service"]
    return service


def test_seed_routes_are_configured(environments: dict[str, EnvironmentConfig]) -> None:
    for config in environments.values():
        assert config.services["movie-service"].path_patterns == ["/api/movies*"]
        assert config.services["customer-service"].path_patterns == ["/api/customers/*"]


def test_priorities_are_exposed_per_service(environments: dict[str, EnvironmentConfig]) -> None:
    priorities = environments["prod"].listener_rule_priorities()
    assert set(priorities) == {"movie-service", "customer-service"}
    assert len(set(priorities.values())) == 2


def test_explicit_priority_is_used(dev: Data) -> None:
    movie(dev)["rule_priority"] = 10
    assert parse(dev).listener_rule_priorities()["movie-service"] == 10


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("/api/movies#", "is not a valid ALB path pattern; allowed characters: .*"),
        ("/api/mov ies", "is not a valid ALB path pattern; allowed characters: .*"),
        ("api/movies*", "must start with / .*"),
        ("/" + "a" * 128, r"must be 1-128 characters \(got 129\)"),
    ],
)
def test_fails_when_a_path_pattern_is_not_a_valid_alb_pattern(dev: Data, pattern: str, message: str) -> None:
    movie(dev)["path_patterns"] = ["/api/movies*", pattern]
    fails(dev, rf"services\.movie-service\.path_patterns\[1\] = '{re.escape(pattern)}': {message}")


def test_fails_when_a_host_header_has_no_dot(dev: Data) -> None:
    movie(dev)["host_headers"] = ["localhost"]
    fails(dev, r"services\.movie-service\.host_headers\[0\] = 'localhost': must contain at least one '\.'.*")


def test_fails_when_a_host_header_has_bad_characters(dev: Data) -> None:
    movie(dev)["host_headers"] = ["api_x.example.com"]
    fails(dev, r"services\.movie-service\.host_headers\[0\] = 'api_x\.example\.com': is not a valid ALB host header.*")


def test_fails_when_a_service_has_no_route(dev: Data) -> None:
    movie(dev)["path_patterns"] = []
    fails(
        dev,
        r"services\.movie-service\.path_patterns = \[\]: a routed service needs at least one path pattern or host header",
    )


def test_fails_when_a_condition_has_more_than_three_values(dev: Data) -> None:
    movie(dev)["path_patterns"] = ["/a", "/b", "/c", "/d"]
    fails(dev, r"services\.movie-service\.path_patterns = \[.*\]: has 4 values; an ALB condition takes at most 3")


def test_fails_when_a_rule_has_more_than_five_condition_values(dev: Data) -> None:
    movie(dev)["path_patterns"] = ["/a", "/b", "/c"]
    movie(dev)["host_headers"] = ["a.example.com", "b.example.com", "c.example.com"]
    fails(
        dev,
        r"services\.movie-service\.path_patterns = \[.*\]: path_patterns and host_headers have 6 values together; "
        r"an ALB rule takes at most 5 condition values",
    )


def test_fails_when_a_rule_has_more_than_five_wildcards(dev: Data) -> None:
    movie(dev)["path_patterns"] = ["/a*/*", "/b*/*"]
    movie(dev)["host_headers"] = ["*.example.?om"]
    fails(
        dev,
        r"services\.movie-service\.path_patterns = \[.*\]: path_patterns and host_headers use 6 wildcards together; "
        r"an ALB rule allows at most 5",
    )


def test_fails_when_a_pattern_is_listed_twice_in_one_service(dev: Data) -> None:
    movie(dev)["path_patterns"] = ["/api/movies*", "/api/movies*"]
    fails(dev, r"services\.movie-service\.path_patterns\[1\] = '/api/movies\*': is listed twice")


def test_fails_when_two_services_route_the_same_pattern(dev: Data) -> None:
    dev["services"]["customer-service"]["path_patterns"] = ["/api/movies*"]
    fails(
        dev,
        r"services\.movie-service\.path_patterns\[0\] = '/api/movies\*': matches exactly the requests of "
        r"services\.customer-service\.path_patterns\[0\] = '/api/movies\*'; two services cannot route the same pattern",
    )


@pytest.mark.parametrize("priority", [0, 50001, -3])
def test_fails_when_priority_is_outside_the_aws_range(dev: Data, priority: int) -> None:
    movie(dev)["rule_priority"] = priority
    fails(dev, rf"services\.movie-service\.rule_priority = {priority}: must be between 1 and 50000 .*")


def test_fails_when_two_priorities_clash(dev: Data) -> None:
    movie(dev)["rule_priority"] = 20
    dev["services"]["customer-service"]["rule_priority"] = 20
    fails(
        dev,
        r"services\.movie-service\.rule_priority = 20: is also the rule priority of services\.customer-service; "
        r"each listener rule needs its own .*",
    )


def test_fails_when_an_explicit_priority_would_shadow_a_more_specific_rule(dev: Data) -> None:
    dev["services"]["customer-service"]["path_patterns"] = ["/api/*"]
    dev["services"]["customer-service"]["rule_priority"] = 1
    fails(
        dev,
        r"services\.customer-service\.rule_priority = 1: services\.movie-service \('/api/movies\*', priority \d+\) "
        r"is more specific than services\.customer-service \('/api/\*', priority 1\) but would be evaluated after it.*",
    )


def test_fails_when_equally_specific_patterns_overlap(dev: Data) -> None:
    dev["services"]["customer-service"]["path_patterns"] = ["/api/*/admin"]
    fails(
        dev,
        r"services\.movie-service\.path_patterns\[0\] = '/api/movies\*': overlaps .*\(both match e\.g\. '/api/movies/admin'\).*",
    )
