"""Tier 1: listener-rule conditions and priorities (config/routing.py): the allocation itself, pure
Python, and the routing of ``[services.<name>]`` as an environment file is loaded."""

from __future__ import annotations

import hashlib
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
    band,
    candidate_pairs,
    canonical_path,
    home_priority,
    is_subset,
    literal_prefix,
    literal_suffix,
    matches,
    min_match_length,
    moves_first,
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


def test_a_rule_alone_on_its_home_number_gets_it() -> None:
    priorities = allocate_priorities(OVERLAPPING)
    for route in OVERLAPPING:
        assert priorities[route.service] == home_priority(route)


def test_explicit_priority_overrides_allocation() -> None:
    routes = [Route("movie-service", ("/api/movies*",), priority=7), Route("api", ("/api/*",))]
    priorities = allocate_priorities(routes)
    assert priorities["movie-service"] == 7
    assert priorities["api"] == home_priority(routes[1])


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


def next_in_band(route: Route, number: int) -> int:
    """The number after ``number`` in ``route``'s band, wrapping to the band's first."""
    first = AUTO_FIRST + band(route) * BAND_WIDTH
    return first + (number - first + 1) % BAND_WIDTH


def test_explicit_priority_on_a_home_number_displaces_the_automatic_rule() -> None:
    automatic = Route("a", ("/a/*",))
    taken = home_priority(automatic)
    priorities = allocate_priorities([automatic, Route("b", ("/b/*",), priority=taken)])
    assert priorities == {"a": next_in_band(automatic, taken), "b": taken}


def test_fails_when_overlapping_patterns_are_equally_specific() -> None:
    routes = [Route("a", ("/api/*/admin",)), Route("b", ("/api/movies*",))]
    with pytest.raises(FieldError, match=r"both match e\.g\. '/api/movies/admin'.*set rule_priority"):
        allocate_priorities(routes)


def test_equally_specific_overlap_is_fine_once_one_priority_is_explicit() -> None:
    routes = [Route("a", ("/api/*/admin",), priority=1), Route("b", ("/api/movies*",))]
    assert allocate_priorities(routes)["a"] == 1


def same_band_route(index: int) -> Route:
    """Disjoint patterns of one length, so all in one band."""
    return Route(f"svc-{index}", (f"/x{index:05d}/*",))


def colliding_pair() -> tuple[Route, Route]:
    """Two services whose names hash to the same home number, with disjoint patterns of one band,
    the one that keeps it first."""
    seen: dict[int, Route] = {}
    for index in range(10_000):
        route = same_band_route(index)
        home = home_priority(route)
        if home in seen:
            keeper, mover = allocate_order([seen[home], route])
            return keeper, mover
        seen[home] = route
    raise AssertionError("no collision found")


def allocate_order(routes: list[Route]) -> list[Route]:
    """``routes`` sorted by who keeps a shared home number: smallest full sha256 first."""
    return sorted(routes, key=lambda r: int.from_bytes(hashlib.sha256(r.service.encode()).digest(), "big"))


def test_colliding_automatic_rules_take_the_next_free_number_of_their_band() -> None:
    keeper, mover = colliding_pair()
    home = home_priority(keeper)
    for routes in ([keeper, mover], [mover, keeper]):
        assert allocate_priorities(routes) == {keeper.service: home, mover.service: next_in_band(mover, home)}


def test_a_displaced_rule_moves_again_when_a_newcomer_claims_its_number_as_home() -> None:
    keeper, mover = colliding_pair()
    probed = next_in_band(mover, home_priority(mover))
    newcomer = next(r for r in map(same_band_route, range(10_000, 30_000)) if home_priority(r) == probed)
    priorities = allocate_priorities([keeper, mover, newcomer])
    assert priorities == {
        keeper.service: home_priority(keeper),
        newcomer.service: probed,
        mover.service: next_in_band(mover, probed),
    }


def test_a_rule_taking_a_displaced_rules_number_is_applied_after_it_moves() -> None:
    keeper, mover = colliding_pair()
    probed = next_in_band(mover, home_priority(mover))
    newcomer = next(r for r in map(same_band_route, range(10_000, 30_000)) if home_priority(r) == probed)
    routes = [keeper, mover, newcomer]
    # mover may have held its home (keeper's now) or probed (newcomer's now) in an earlier state.
    assert moves_first(routes, allocate_priorities(routes)) == {
        keeper.service: [mover.service],
        newcomer.service: [mover.service],
        mover.service: [],
    }


def test_an_explicit_priority_on_a_home_number_waits_for_the_rule_it_displaces() -> None:
    automatic = same_band_route(1)
    explicit = Route("pinned", ("/pinned",), priority=home_priority(automatic))
    routes = [automatic, explicit]
    assert moves_first(routes, allocate_priorities(routes)) == {"pinned": [automatic.service], automatic.service: []}


def test_rules_that_displace_nobody_wait_for_nobody() -> None:
    routes = growing_platform(200)
    priorities = allocate_priorities(routes)
    order = moves_first(routes, priorities)
    displaced = {r.service for r in routes if r.priority is None and priorities[r.service] != home_priority(r)}
    assert displaced, "200 services collide somewhere: the assertion below would prove nothing"
    # Only displaced rules are waited for, and every one of them is (at least by its home's holder).
    assert {o for others in order.values() for o in others} == displaced


def test_fails_when_every_number_of_a_band_is_taken() -> None:
    routes = [same_band_route(index) for index in range(BAND_WIDTH + 1)]
    assert len({band(r) for r in routes}) == 1
    with pytest.raises(FieldError, match=rf"no automatic listener-rule priority is left: all {BAND_WIDTH} numbers"):
        allocate_priorities(routes)
    assert len(allocate_priorities(routes[:BAND_WIDTH])) == BAND_WIDTH


# --- at scale: 200 services, added one at a time ---------------------------------------------------


def growing_platform(count: int) -> list[Route]:
    """The first ``count`` services of a platform as it grows: a frontend catch-all, a host-only site,
    ten areas (``/aN/*``), then services nested in an area (``/aN/sI/*``), all automatic."""
    routes = [Route("frontend", ("/*",)), Route("site", (), ("www.example.com",))]
    routes += [Route(f"area-{area}", (f"/a{area}/*",)) for area in range(10)]
    routes += [Route(f"svc-{index}", (f"/a{index % 10}/s{index}/*",)) for index in range(12, count)]
    return routes[:count]


def shared_homes(routes: list[Route]) -> set[int]:
    homes = [home_priority(r) for r in routes]
    return {home for home in homes if homes.count(home) > 1}


def test_200_services_get_unique_priorities_in_specificity_order() -> None:
    routes = growing_platform(200)
    assert shared_homes(routes), "the generated names must collide somewhere, or this proves nothing"
    priorities = allocate_priorities(routes)
    assert sorted(priorities) == sorted(r.service for r in routes)
    assert len(set(priorities.values())) == 200
    assert all(AUTO_FIRST <= p <= PRIORITY_MAX for p in priorities.values())
    for route in routes[12:]:
        area = f"area-{route.path_patterns[0].split('/')[1][1:]}"
        assert priorities[route.service] < priorities[area] < priorities["frontend"]
    assert priorities["site"] < min(v for k, v in priorities.items() if k != "site")


def test_adding_services_one_at_a_time_moves_only_rules_whose_home_is_shared() -> None:
    routes = growing_platform(200)
    before: dict[str, int] = {}
    moved: set[str] = set()
    for count in range(1, len(routes) + 1):
        after = allocate_priorities(routes[:count])
        assert len(set(after.values())) == count
        contested = shared_homes(routes[:count])
        for route in routes[: count - 1]:
            if home_priority(route) not in contested:
                assert after[route.service] == before[route.service] == home_priority(route), (count, route)
            elif after[route.service] != before[route.service]:
                moved.add(route.service)
        before = after
    assert moved, "some collision should have moved an existing rule, or this proves nothing"
    assert len(moved) < 20


# --- the overlap check compares only what can overlap ----------------------------------------------


def test_overlap_check_compares_no_pair_of_200_disjoint_services() -> None:
    routes = [Route(f"svc-{index}", (f"/svc{index}/*",)) for index in range(200)]
    assert candidate_pairs(routes) == []  # the pairwise loop compared 200 * 199 / 2 = 19900
    with_catch_all = [Route("frontend", ("/*",)), *routes]
    assert len(candidate_pairs(with_catch_all)) == 200  # each one against /* only


def test_overlap_check_compares_no_pair_of_200_host_only_sites() -> None:
    routes = [Route(f"site-{index}", (), (f"site{index}.example.com",)) for index in range(200)]
    assert candidate_pairs(routes) == []
    wildcard = Route("any-site", (), ("*.example.com",))
    assert len(candidate_pairs([wildcard, *routes])) == 200


def test_overlap_check_compares_nested_services_only_with_their_parents() -> None:
    routes = growing_platform(200)
    # frontend against everyone, site against every path rule, each service against its area.
    assert len(candidate_pairs(routes)) == 199 + 198 + 188


def test_candidate_pairs_contain_every_pair_that_can_overlap() -> None:
    generator = random.Random(99)
    paths = random_patterns(40)
    hosts = ["", "*", "a.b", "*.b", "a.*", "?.b", "b.b", "*b", "a*"]
    routes = [
        Route(f"r{index}", (generator.choice(paths),), tuple(h for h in [generator.choice(hosts)] if h))
        for index in range(120)
    ]
    found = set(candidate_pairs(routes))
    for (i, first), (j, second) in itertools.combinations(enumerate(routes), 2):
        host_a, host_b = (r.host_headers[0] if r.host_headers else "*" for r in (first, second))
        path_a, path_b = (canonical_path(r.path_patterns[0]) for r in (first, second))
        if overlap_example(host_a, host_b) is not None and overlap_example(path_a, path_b) is not None:
            assert (i, 0, j, 0) in found, (first, second)
    assert found  # the random routes do overlap somewhere


@pytest.mark.parametrize(
    ("pattern", "prefix", "suffix"),
    [
        ("/api/movies*", "/api/movies", ""),
        ("/a?c*d", "/a", "d"),
        ("*.example.com", "", ".example.com"),
        ("/x", "/x", "/x"),
    ],
)
def test_literal_prefix_and_suffix(pattern: str, prefix: str, suffix: str) -> None:
    assert (literal_prefix(pattern), literal_suffix(pattern)) == (prefix, suffix)


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


def test_200_services_load_from_an_environment_file(dev: Data) -> None:
    for route in growing_platform(200):
        dev["services"][route.service] = {
            "container_port": 8080,
            "path_patterns": list(route.path_patterns),
            "host_headers": list(route.host_headers),
        }
    # dev's own two services sit under /api/, which no area uses.
    priorities = parse(dev).listener_rules.priorities
    assert len(priorities) == 202
    assert len(set(priorities.values())) == 202


def test_priorities_are_exposed_per_service(environments: dict[str, EnvironmentConfig]) -> None:
    priorities = environments["prod"].listener_rules.priorities
    assert set(priorities) == {"movie-service", "customer-service"}
    assert len(set(priorities.values())) == 2


def test_explicit_priority_is_used(dev: Data) -> None:
    movie(dev)["rule_priority"] = 10
    assert parse(dev).listener_rules.priorities["movie-service"] == 10


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
