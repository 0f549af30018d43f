"""ALB listener-rule conditions and their priorities: validation and deterministic allocation.

Pure Python, no cdktf: the schema calls it at config load, the stack reads the result.

How a rule's priority is chosen
===============================
Every routed service is one listener rule. A rule with ``rule_priority`` set keeps that number.
Any other rule gets ``AUTO_FIRST + band * BAND_WIDTH + slot``, a function of that rule alone:

* ``band`` orders by specificity. Host-header rules come first (band 0-63), host-less rules after
  (band 64-127). Within each half, the band is ``64 - s`` where ``s`` is the rule's *minimum match
  length*, capped at 64: the number of characters the shortest request path it accepts has, taken
  over its least specific path pattern (``/api/movies/top*`` -> 15, ``/api/movies*`` -> 11,
  ``/api/*`` -> 5; a rule with only host headers counts as ``/*`` -> 1). Longer = more specific =
  lower number = evaluated first.
* ``slot`` is ``sha256(service name) mod BAND_WIDTH``: stable, spreads rules of one band apart.

Why this is correct. If every path a pattern ``p`` matches is also matched by ``q`` (``p`` nested
in ``q``), the shortest path of ``p`` matches ``q``, so ``len_min(p) >= len_min(q)``: a nested
pattern never lands in a later band than the pattern containing it. Equal bands are the only case
the slot decides, so after allocation every pair of rules that can match the same request is
checked exactly (the patterns are compared as languages, not as strings):

* the same pattern (and overlapping hosts) in two services -> error (duplicate);
* ``p`` strictly nested in ``q`` but ``p``'s rule not first -> error naming both and how to fix it;
* overlapping but not nested, same band, both automatic -> error with an example path: which one
  should win is a choice only the author can make (``rule_priority``).

So a config either loads with every more specific pattern ahead of every pattern it overlaps, or
fails to load saying why. Nothing is silently shadowed.

Why adding a service never renumbers another. A rule's automatic priority depends only on its own
name, host headers and patterns, never on the other rules. Two rules landing on the same number is
a load error that names a free priority for the newcomer, instead of moving one of them: no scheme
can both resolve such a collision automatically and promise that the incumbent keeps its number
(with ``{A}`` and ``{B}`` each alone on slot ``s``, ``{A, B}`` must move one of them, and either one
was "existing" in some history). With 382 slots per band this is rare (about 1 in 382 per pair of
rules in the same band), and the fix is one line.

Explicit priorities: 1-50000; ``1..AUTO_FIRST-1`` never clash with an automatic priority and are
evaluated before all of them; a clash with another rule is a load error; explicit rules still get
the nesting check above.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product

from .errors import FieldError

PRIORITY_MIN = 1
PRIORITY_MAX = 50_000
AUTO_FIRST = 1_000
SPECIFICITY_CAP = 64
BAND_COUNT = 2 * SPECIFICITY_CAP
BAND_WIDTH = (PRIORITY_MAX - AUTO_FIRST + 1) // BAND_COUNT  # 382

# AWS limits for one listener rule (Application Load Balancer "Condition basics").
MAX_VALUES_PER_CONDITION = 3
MAX_VALUES_PER_RULE = 5
MAX_WILDCARDS_PER_RULE = 5
MAX_PATTERN_LENGTH = 128

_PATH_PATTERN = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]+$")
_HOST_HEADER = re.compile(r"^[A-Za-z0-9\-.*?]+$")
PATH_CHARACTERS = "A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & and the wildcards * and ?"
HOST_CHARACTERS = "A-Z a-z 0-9 - . and the wildcards * and ?"


@dataclass(frozen=True)
class Route:
    """The listener-rule conditions of one service, as written in its config."""

    service: str
    path_patterns: tuple[str, ...] = ()
    host_headers: tuple[str, ...] = ()
    priority: int | None = None


# --- single values ---------------------------------------------------------------------------


def check_path_pattern(value: str) -> str:
    """A valid ALB path pattern, or FieldError saying what is allowed."""
    if not 1 <= len(value) <= MAX_PATTERN_LENGTH:
        raise FieldError(f"must be 1-{MAX_PATTERN_LENGTH} characters (got {len(value)})", value=value)
    if not _PATH_PATTERN.match(value):
        raise FieldError(f"is not a valid ALB path pattern; allowed characters: {PATH_CHARACTERS}", value=value)
    if value[0] not in "/*?":
        raise FieldError("must start with / (request paths always do) or a wildcard, e.g. /api/movies*", value=value)
    return value


def check_host_header(value: str) -> str:
    """A valid ALB host-header value, or FieldError saying what is allowed."""
    if not 1 <= len(value) <= MAX_PATTERN_LENGTH:
        raise FieldError(f"must be 1-{MAX_PATTERN_LENGTH} characters (got {len(value)})", value=value)
    if not _HOST_HEADER.match(value):
        raise FieldError(f"is not a valid ALB host header; allowed characters: {HOST_CHARACTERS}", value=value)
    if "." not in value:
        raise FieldError("must contain at least one '.', e.g. api.example.com or *.example.com", value=value)
    return value


def check_conditions(path_patterns: Sequence[str], host_headers: Sequence[str]) -> None:
    """AWS per-rule limits. Paths are relative to the service: ``("path_patterns",)`` etc."""
    if not path_patterns and not host_headers:
        raise FieldError(
            "a routed service needs at least one path pattern or host header", path=("path_patterns",), value=[]
        )
    for field, values, key in (
        ("path_patterns", path_patterns, lambda v: v),
        ("host_headers", host_headers, str.lower),
    ):
        if len(values) > MAX_VALUES_PER_CONDITION:
            raise FieldError(
                f"has {len(values)} values; an ALB condition takes at most {MAX_VALUES_PER_CONDITION}",
                path=(field,),
                value=list(values),
            )
        seen: set[str] = set()
        for index, value in enumerate(values):
            if key(value) in seen:
                raise FieldError("is listed twice", path=(field, index), value=value)
            seen.add(key(value))
    total = len(path_patterns) + len(host_headers)
    if total > MAX_VALUES_PER_RULE:
        raise FieldError(
            f"path_patterns and host_headers have {total} values together; an ALB rule takes at most "
            f"{MAX_VALUES_PER_RULE} condition values",
            path=("path_patterns",),
            value=list(path_patterns),
        )
    wildcards = sum(v.count("*") + v.count("?") for v in (*path_patterns, *host_headers))
    if wildcards > MAX_WILDCARDS_PER_RULE:
        raise FieldError(
            f"path_patterns and host_headers use {wildcards} wildcards together; an ALB rule allows at most "
            f"{MAX_WILDCARDS_PER_RULE}",
            path=("path_patterns",),
            value=list(path_patterns),
        )


def check_priority(value: int) -> int:
    """An explicit rule priority inside AWS's range."""
    if not PRIORITY_MIN <= value <= PRIORITY_MAX:
        raise FieldError(
            f"must be between {PRIORITY_MIN} and {PRIORITY_MAX} (AWS listener-rule priorities), got {value}; "
            f"1-{AUTO_FIRST - 1} never clash with automatic priorities",
            value=value,
        )
    return value


# --- pattern languages -----------------------------------------------------------------------

_STAR = "*"
_ONE = "?"


def canonical_path(pattern: str) -> str:
    """The pattern restricted to real request paths (which all start with ``/``).

    ``*x`` matches the same request paths as ``/*x``, and ``?x`` the same as ``/x``; runs of ``*``
    collapse. Two canonical patterns are compared as languages below.
    """
    if pattern.startswith(_STAR):
        pattern = "/" + pattern
    elif pattern.startswith(_ONE):
        pattern = "/" + pattern[1:]
    return re.sub(r"\*+", "*", pattern)


def min_match_length(pattern: str) -> int:
    """Length of the shortest string the pattern matches: every non-``*`` character counts."""
    return len(pattern) - pattern.count(_STAR)


def _closure(pattern: str, states: set[int]) -> frozenset[int]:
    """States reachable without consuming input: a ``*`` may match nothing."""
    out = set(states)
    stack = list(states)
    while stack:
        state = stack.pop()
        if state < len(pattern) and pattern[state] == _STAR and state + 1 not in out:
            out.add(state + 1)
            stack.append(state + 1)
    return frozenset(out)


def _step(pattern: str, states: frozenset[int], symbol: str) -> frozenset[int]:
    nxt: set[int] = set()
    for state in states:
        if state == len(pattern):
            continue
        token = pattern[state]
        if token == _STAR:
            nxt.add(state)
        elif token in (_ONE, symbol):
            nxt.add(state + 1)
    return _closure(pattern, nxt)


def _alphabet(a: str, b: str) -> tuple[str, str]:
    """The literal characters of both patterns plus one character neither uses ("any other")."""
    used = {c for c in a + b if c not in (_STAR, _ONE)}
    other = next(c for c in "xyzqjkw0123456789abcdefghilmnoprstuv" if c not in used)
    return "".join(sorted(used)) + other, other


def _search(a: str, b: str, done: Callable[[bool, bool], bool]) -> str | None:
    """Breadth-first walk of both patterns' subset automata; returns the first string accepted by
    ``done(a_accepts, b_accepts)``, or None. Shortest witness first."""
    alphabet, _ = _alphabet(a, b)
    start = (_closure(a, {0}), _closure(b, {0}))
    seen = {start: ""}
    queue = deque([start])
    while queue:
        sa, sb = queue.popleft()
        text = seen[(sa, sb)]
        if done(len(a) in sa, len(b) in sb):
            return text
        for symbol in alphabet:
            nxt = (_step(a, sa, symbol), _step(b, sb, symbol))
            if not nxt[0] or nxt in seen:
                continue
            seen[nxt] = text + symbol
            queue.append(nxt)
    return None


def matches(pattern: str, text: str) -> bool:
    """Whether ``text`` matches the ALB wildcard ``pattern`` (``*`` any run, ``?`` one character)."""
    states = _closure(pattern, {0})
    for char in text:
        states = _step(pattern, states, char)
    return len(pattern) in states


def overlap_example(a: str, b: str) -> str | None:
    """A shortest string both patterns match, or None when they are disjoint."""
    return _search(a, b, lambda in_a, in_b: in_a and in_b)


def is_subset(a: str, b: str) -> bool:
    """Whether every string ``a`` matches is also matched by ``b``."""
    return _search(a, b, lambda in_a, in_b: in_a and not in_b) is None


# --- rules and priorities --------------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    """One (host, path) pair of a rule: the rule matches the union of its cells."""

    host: str  # lower-cased; "*" when the rule has no host condition
    path: str  # canonical
    field: str  # where to point an error
    index: int
    written: str


def _cells(route: Route) -> list[_Cell]:
    if not route.path_patterns:  # host-only rule: every path of its hosts
        return [_Cell(h.lower(), f"/{_STAR}", "host_headers", i, h) for i, h in enumerate(route.host_headers)]
    hosts = [h.lower() for h in route.host_headers] or [_STAR]
    return [
        _Cell(host, canonical_path(p), "path_patterns", i, p)
        for host in hosts
        for i, p in enumerate(route.path_patterns)
    ]


def specificity(route: Route) -> int:
    """Minimum match length of the rule's least specific path pattern, capped (host-only: 1)."""
    paths = [canonical_path(p) for p in route.path_patterns] or [f"/{_STAR}"]
    return min(SPECIFICITY_CAP, *(min_match_length(p) for p in paths))


def band(route: Route) -> int:
    """0 = evaluated first. Host-header rules occupy the first half."""
    host_tier = 0 if route.host_headers else 1
    return host_tier * SPECIFICITY_CAP + (SPECIFICITY_CAP - specificity(route))


def automatic_priority(route: Route) -> int:
    """The priority a rule gets without ``rule_priority``; depends on this rule only."""
    slot = int(hashlib.sha256(route.service.encode()).hexdigest(), 16) % BAND_WIDTH
    return AUTO_FIRST + band(route) * BAND_WIDTH + slot


def allocate_priorities(routes: Sequence[Route]) -> dict[str, int]:
    """Priority per service; FieldError (path relative to the services map) when impossible."""
    ordered = sorted(routes, key=lambda r: r.service)
    priorities = {r.service: r.priority if r.priority is not None else automatic_priority(r) for r in ordered}
    _check_clashes(ordered, priorities)
    _check_order(ordered, priorities)
    return priorities


def _check_clashes(routes: Sequence[Route], priorities: Mapping[str, int]) -> None:
    owner: dict[int, Route] = {}
    # Automatic rules claim their numbers first, so a clash with an explicit priority is reported
    # at the explicit one (the number someone chose), and two automatic ones at the later name.
    for route in sorted(routes, key=lambda r: (r.priority is not None, r.service)):
        number = priorities[route.service]
        other = owner.get(number)
        if other is None:
            owner[number] = route
            continue
        if route.priority is not None:
            kind = "rule priority" if other.priority is not None else "automatic rule priority"
            raise FieldError(
                f"is also the {kind} of services.{other.service}; each listener rule needs its own "
                f"(1-{AUTO_FIRST - 1} never clash with automatic priorities)",
                path=(route.service, "rule_priority"),
                value=number,
            )
        free = _free_in_band(route, set(priorities.values()))
        raise FieldError(
            f"the automatic listener-rule priority {number} of services.{route.service} is already taken by "
            f"services.{other.service}; set rule_priority = {free} on the service you are adding "
            f"(or any free value 1-{AUTO_FIRST - 1})",
            path=(route.service, "rule_priority"),
            value=None,
        )


def _free_in_band(route: Route, taken: set[int]) -> int:
    first = AUTO_FIRST + band(route) * BAND_WIDTH
    start = automatic_priority(route)
    for offset in range(1, BAND_WIDTH):
        candidate = first + (start - first + offset) % BAND_WIDTH
        if candidate not in taken:
            return candidate
    return next(n for n in range(PRIORITY_MIN, AUTO_FIRST) if n not in taken)


def _check_order(routes: Sequence[Route], priorities: Mapping[str, int]) -> None:
    cells = {r.service: _cells(r) for r in routes}
    for index, first in enumerate(routes):
        for second in routes[index + 1 :]:
            for a, b in product(cells[first.service], cells[second.service]):
                _check_pair(first, a, second, b, priorities)


def _check_pair(ra: Route, a: _Cell, rb: Route, b: _Cell, priorities: Mapping[str, int]) -> None:
    host_example = overlap_example(a.host, b.host)
    path_example = overlap_example(a.path, b.path)
    if host_example is None or path_example is None:
        return  # no request can match both
    a_in_b = is_subset(a.host, b.host) and is_subset(a.path, b.path)
    b_in_a = is_subset(b.host, a.host) and is_subset(b.path, a.path)
    where = (rb.service, b.field, b.index)
    if a_in_b and b_in_a:
        raise FieldError(
            f"matches exactly the requests of services.{ra.service}.{a.field}[{a.index}] = {a.written!r}; "
            "two services cannot route the same pattern",
            path=where,
            value=b.written,
        )
    if a_in_b or b_in_a:
        inner, inner_cell, outer, outer_cell = (ra, a, rb, b) if a_in_b else (rb, b, ra, a)
        if priorities[inner.service] < priorities[outer.service]:
            return
        # Point at the explicit priority that caused it. Two automatic priorities disagree only when
        # a rule mixes patterns of different specificity: point at the pattern then.
        culprit: tuple[str | int, ...]
        shown: object
        if inner.priority is not None:
            culprit, shown = (inner.service, "rule_priority"), inner.priority
        elif outer.priority is not None:
            culprit, shown = (outer.service, "rule_priority"), outer.priority
        else:
            culprit, shown = (inner.service, inner_cell.field, inner_cell.index), inner_cell.written
        raise FieldError(
            f"services.{inner.service} ({inner_cell.written!r}, priority {priorities[inner.service]}) is more "
            f"specific than services.{outer.service} ({outer_cell.written!r}, priority "
            f"{priorities[outer.service]}) but would be evaluated after it and never receive those requests; "
            f"give services.{inner.service} a lower rule_priority than services.{outer.service}, or "
            "remove an explicit rule_priority",
            path=culprit,
            value=shown,
        )
    if ra.priority is None and rb.priority is None and band(ra) == band(rb):
        request = path_example if a.host == b.host == _STAR else f"{host_example}{path_example}"
        raise FieldError(
            f"overlaps services.{ra.service}.{a.field}[{a.index}] = {a.written!r} (both match e.g. {request!r}) "
            "with the same specificity, so neither is clearly first; set rule_priority on the one that "
            "should win",
            path=where,
            value=b.written,
        )
