"""ALB listener-rule conditions and their priorities: validation and deterministic allocation.

Pure Python, no cdktf: the schema calls it at config load, the stack reads the result.

How a rule's priority is chosen
===============================
Every routed service is one listener rule. A rule with ``rule_priority`` set keeps that number.
Any other rule has a *home* number, ``AUTO_FIRST + band * BAND_WIDTH + slot``, a function of that
rule alone, and gets it unless another rule claims it too:

* ``band`` orders by specificity. Host-header rules come first (band 0-63), host-less rules after
  (band 64-127). Within each half, the band is ``64 - s`` where ``s`` is the rule's *minimum match
  length*, capped at 64: the number of characters the shortest request path it accepts has, taken
  over its least specific path pattern (``/api/movies/top*`` -> 15, ``/api/movies*`` -> 11,
  ``/api/*`` -> 5; a rule with only host headers counts as ``/*`` -> 1). Longer = more specific =
  lower number = evaluated first.
* ``slot`` is ``sha256(service name) mod BAND_WIDTH``: stable, spreads rules of one band apart.

Collisions are resolved, not reported. Explicit priorities are taken first (two equal explicit
ones are a load error). Then every home number wanted by exactly one automatic rule, and by no
explicit priority, goes to that rule. Where several automatic rules share a home number, the one
with the smallest full sha256 (then name) keeps it; the others, and any automatic rule whose home
an explicit priority took, are *displaced*: in order of home number, then hash, each probes
forward to the next number of its own band that no explicit priority, home and earlier displaced
rule holds (wrapping to the band's first number). A band holds 382 rules; a full band is a load
error.

Why this is correct. If every path a pattern ``p`` matches is also matched by ``q`` (``p`` nested
in ``q``), the shortest path of ``p`` matches ``q``, so ``len_min(p) >= len_min(q)``: a nested
pattern never lands in a later band than the pattern containing it, and probing never leaves a
band. Equal bands are the only case the slot (or probing) decides, so after allocation every pair
of rules that can match the same request is checked exactly (the patterns are compared as
languages, not as strings):

* the same pattern (and overlapping hosts) in two services -> error (duplicate);
* ``p`` strictly nested in ``q`` but ``p``'s rule not first -> error naming both and how to fix it;
* overlapping but not nested, same band, both automatic -> error with an example path: which one
  should win is a choice only the author can make (``rule_priority``). Ordering them by slot would
  load, but the winner would be an accident of two hashes, and a displaced rule's number can move
  when services are added, so the winner could change in a later, unrelated change.

So a config either loads with every more specific pattern ahead of every pattern it overlaps, or
fails to load saying why. Nothing is silently shadowed.

Only the pairs that can overlap are compared: a pattern matches only strings that start with its
literal prefix (the part before its first wildcard), and a host only names that end with its
literal suffix, so two cells can share a request only if one prefix starts the other and one
suffix ends the other. The cells are indexed on both (``candidate_pairs``), which keeps the check
near-linear: 200 services with disjoint patterns need no comparison at all.

What can move when a service is added. A rule that holds its home number alone keeps it; nothing
another rule does can take it, except an explicit ``rule_priority`` set to that very number. What
can change is confined to a collision: when a newcomer's home number is the home of an existing
rule, the one with the larger hash moves to the next free number of the band (with ``{A}`` and
``{B}`` each alone on slot ``s``, ``{A, B}`` must move one of them, and which one was "existing"
is history the config does not have), and a displaced rule moves again if a newcomer's home is
the number it probed to. Removing a service can likewise let a displaced rule move back. With 382
slots per band this is rare (about 1 in 382 per pair of rules in the same band). It is safe for a
listener: a changed ``priority`` of ``aws_lb_listener_rule`` is updated in place (the AWS provider
calls SetRulePriorities, it is not ForceNew), so the rule is never deleted or recreated; and a
move stays inside its band, so it never passes a rule of another specificity, while rules that
overlap within a band are ordered by the check above before and after.

Explicit priorities: 1-50000; ``1..AUTO_FIRST-1`` never clash with an automatic priority and are
evaluated before all of them; an explicit priority inside the automatic range displaces the
automatic rule whose home it is; explicit rules still get the nesting check above.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

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
_WILDCARD = re.compile(r"[*?]")


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


# Cached: the same few patterns meet many others, and every load of an environment asks again.
@lru_cache(maxsize=16_384)
def overlap_example(a: str, b: str) -> str | None:
    """A shortest string both patterns match, or None when they are disjoint."""
    return _search(a, b, lambda in_a, in_b: in_a and in_b)


@lru_cache(maxsize=16_384)
def is_subset(a: str, b: str) -> bool:
    """Whether every string ``a`` matches is also matched by ``b``."""
    return _search(a, b, lambda in_a, in_b: in_a and not in_b) is None


def literal_prefix(pattern: str) -> str:
    """The part before the first wildcard: every string the pattern matches starts with it."""
    match = _WILDCARD.search(pattern)
    return pattern if match is None else pattern[: match.start()]


def literal_suffix(pattern: str) -> str:
    """The part after the last wildcard: every string the pattern matches ends with it."""
    return literal_prefix(pattern[::-1])[::-1]


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


def _hash(route: Route) -> int:
    return int.from_bytes(hashlib.sha256(route.service.encode()).digest(), "big")


def home_priority(route: Route) -> int:
    """The priority an automatic rule gets unless another rule claims it too; depends on this rule only."""
    return AUTO_FIRST + band(route) * BAND_WIDTH + _hash(route) % BAND_WIDTH


def allocate_priorities(routes: Sequence[Route]) -> dict[str, int]:
    """Priority per service; FieldError (path relative to the services map) when impossible."""
    ordered = sorted(routes, key=lambda r: r.service)
    priorities = _assign(ordered)
    _check_order(ordered, priorities)
    return priorities


@dataclass(frozen=True)
class RulePlan:
    """Every routed service's listener-rule priority, and the order moves must be applied in."""

    priorities: dict[str, int]
    moved_first: dict[str, list[str]]
    """Per service, the services whose rules leave its number before its rule takes it (``moves_first``)."""


def plan_rules(routes: Sequence[Route]) -> RulePlan:
    """Allocate the priorities of ``routes`` (FieldError when impossible) and order their moves."""
    priorities = allocate_priorities(routes)
    return RulePlan(priorities=priorities, moved_first=moves_first(routes, priorities))


def moves_first(routes: Sequence[Route], priorities: Mapping[str, int]) -> dict[str, list[str]]:
    """For each service, the services whose rules must be applied before its own: those that may hold
    its number in the state being changed. Listener rules cannot share a priority even for a moment,
    and Terraform orders nothing between one rule's create (or move) and another's move by itself
    (PriorityInUse otherwise). A displaced rule took the first free number after its home, so every
    number from its home up to (not including) its own is held by a rule it may have sat on before,
    with fewer services: each of those rules waits for it. Edges that would close a cycle (possible
    only where a nearly full band wraps) are left out. Empty for every rule when nothing is
    displaced: all rules of the environments."""
    holder = {number: service for service, number in priorities.items()}
    after: dict[str, set[str]] = {route.service: set() for route in routes}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = {start}, [start]
        while todo:
            for nxt in after[todo.pop()]:
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    for route in sorted(routes, key=lambda r: r.service):
        if route.priority is not None:
            continue
        home, first = home_priority(route), AUTO_FIRST + band(route) * BAND_WIDTH
        for offset in range((priorities[route.service] - home) % BAND_WIDTH):
            waiting = holder.get(first + (home - first + offset) % BAND_WIDTH)
            if waiting is not None and not reaches(route.service, waiting):
                after[waiting].add(route.service)
    return {service: sorted(waits) for service, waits in after.items()}


def _assign(routes: Sequence[Route]) -> dict[str, int]:
    """Explicit priorities, then uncontested homes, then displaced rules probing (module docstring)."""
    owner: dict[int, Route] = {}
    for route in routes:  # sorted by name: a clash is reported at the later name
        if route.priority is None:
            continue
        other = owner.get(route.priority)
        if other is not None:
            raise FieldError(
                f"is also the rule priority of services.{other.service}; each listener rule needs its own "
                f"(or leave it unset for an automatic one)",
                path=(route.service, "rule_priority"),
                value=route.priority,
            )
        owner[route.priority] = route
    contenders: dict[int, list[Route]] = defaultdict(list)
    for route in routes:
        if route.priority is None:
            contenders[home_priority(route)].append(route)
    displaced: list[Route] = []
    for home, group in contenders.items():
        group.sort(key=lambda r: (_hash(r), r.service))
        if home not in owner:
            owner[home] = group.pop(0)
        displaced.extend(group)
    for route in sorted(displaced, key=lambda r: (home_priority(r), _hash(r), r.service)):
        owner[_probe(route, owner)] = route
    number = {route.service: n for n, route in owner.items()}
    return {route.service: number[route.service] for route in routes}


def _probe(route: Route, owner: Mapping[int, Route]) -> int:
    """The next number after ``route``'s home that nobody holds, inside its band."""
    first = AUTO_FIRST + band(route) * BAND_WIDTH
    home = home_priority(route)
    for offset in range(1, BAND_WIDTH):
        candidate = first + (home - first + offset) % BAND_WIDTH
        if candidate not in owner:
            return candidate
    raise FieldError(
        f"no automatic listener-rule priority is left: all {BAND_WIDTH} numbers for rules as specific as this "
        f"one ({first}-{first + BAND_WIDTH - 1}) are taken; set rule_priority on this service",
        path=(route.service, "rule_priority"),
        value=None,
    )


def candidate_pairs(routes: Sequence[Route]) -> list[tuple[int, int, int, int]]:
    """Every ``(i, a, j, b)``, ``i < j``, where cell ``a`` of ``routes[i]`` and cell ``b`` of ``routes[j]``
    may match one request, in the order of the pairwise loop it replaces; the pairs that cannot (see
    the module docstring) are left out."""
    return _candidate_pairs([_cells(route) for route in routes])


def _candidate_pairs(cells: Sequence[Sequence[_Cell]]) -> list[tuple[int, int, int, int]]:
    # Cells are visited by ascending length of their path's literal prefix, so a cell can only
    # overlap an earlier one whose prefix starts its own: found by looking up each of its prefixes.
    # Among those, hosts are matched by literal suffix, in both directions (_HostIndex).
    keyed = sorted(
        (
            (literal_prefix(cell.path), literal_suffix(cell.host), i, a)
            for i, row in enumerate(cells)
            for a, cell in enumerate(row)
        ),
        key=lambda key: len(key[0]),
    )
    by_prefix: dict[str, _HostIndex] = {}
    pairs: list[tuple[int, int, int, int]] = []
    for prefix, suffix, i, a in keyed:
        for length in range(len(prefix) + 1):
            index = by_prefix.get(prefix[:length])
            if index is None:
                continue
            for j, b in index.comparable(suffix):
                if j != i:
                    pairs.append((i, a, j, b) if i < j else (j, b, i, a))
        by_prefix.setdefault(prefix, _HostIndex()).add((i, a), suffix)
    return sorted(pairs, key=lambda pair: (pair[0], pair[2], pair[1], pair[3]))


class _HostIndex:
    """Cells by the literal suffix of their host: which ones end with, or are ended by, a given suffix."""

    def __init__(self) -> None:
        self._exact: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._longer: dict[str, list[tuple[int, int]]] = defaultdict(list)  # keyed by each proper suffix

    def add(self, cell: tuple[int, int], suffix: str) -> None:
        self._exact[suffix].append(cell)
        for start in range(1, len(suffix) + 1):
            self._longer[suffix[start:]].append(cell)

    def comparable(self, suffix: str) -> list[tuple[int, int]]:
        found = list(self._longer.get(suffix, ()))
        for start in range(len(suffix) + 1):
            found.extend(self._exact.get(suffix[start:], ()))
        return found


def _check_order(routes: Sequence[Route], priorities: Mapping[str, int]) -> None:
    cells = [_cells(r) for r in routes]
    for i, a, j, b in _candidate_pairs(cells):
        _check_pair(routes[i], cells[i][a], routes[j], cells[j][b], priorities)


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
