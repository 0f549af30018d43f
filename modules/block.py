"""What every building block declares about itself, so nothing central has to be edited (or can be
forgotten) when a block is added: the alarms it wants, the resource types whose loss loses data, and
how the architecture diagram shows it.

A block is a construct class deriving from ``Block``. Subclassing registers it: ``stateful_types()``
and ``diagram_labels()`` read every registered block, ``Monitoring`` turns each block's ``alarms()``
into CloudWatch alarms (as aws-cdk constructs offer ``metric*()`` methods).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import ClassVar

from constructs import Construct

from config.naming import DEFAULT_NAME_MAX, resource_name


class Comparison(StrEnum):
    """How a metric is compared with an alarm's threshold."""

    ABOVE = "GreaterThanThreshold"
    AT_OR_ABOVE = "GreaterThanOrEqualToThreshold"
    BELOW = "LessThanThreshold"


class Statistic(StrEnum):
    """Which statistic of a period's data points an alarm evaluates."""

    AVERAGE = "Average"
    MAXIMUM = "Maximum"
    MINIMUM = "Minimum"
    SUM = "Sum"


class Signal(Enum):
    """What kind of metric it is, which decides what missing data means."""

    GAUGE = ("missing", "always reported while the resource runs; a gap is not evidence of the condition")
    """Reported every period while the resource runs: a gap (reboot, maintenance, scaled to zero) is
    not evidence of load, so the alarm keeps its state."""
    SPARSE = ("notBreaching", "published only when non-zero, so no data means none happened")
    """A counter CloudWatch publishes only when non-zero: no data means zero errors or evictions."""
    STORAGE = ("breaching", "a running instance always reports it; losing it hides a filling disk")
    """Free storage vanishing means the instance stopped reporting while it should: worth a page."""
    QUEUE = (
        "notBreaching",
        "SQS publishes a queue's metrics while it holds messages or is in use, so no data means idle and empty",
    )
    """An SQS queue's metrics stop six hours after its last message and call: no data means an empty queue."""

    @property
    def treat_missing_data(self) -> str:
        return self.value[0]

    @property
    def reason(self) -> str:
        return self.value[1]


@dataclass(frozen=True, kw_only=True)
class AlarmPolicy:
    """How every alarm of an environment evaluates (``[monitoring]``)."""

    period_seconds: int
    evaluation_periods: int

    def periods_for(self, sustained_seconds: int | None) -> int:
        """Evaluation periods of an alarm that must see the condition for ``sustained_seconds`` at least."""
        if sustained_seconds is None:
            return self.evaluation_periods
        return max(self.evaluation_periods, -(-sustained_seconds // self.period_seconds))


@dataclass(frozen=True, kw_only=True)
class Alarm:
    """One CloudWatch alarm a block wants; ``Monitoring`` creates it under its own scope."""

    construct_id: str
    """Construct id under the monitoring construct (and the alarm name's suffix): a contract."""
    namespace: str
    metric: str
    dimensions: Mapping[str, str]
    threshold: float
    description: str
    """What firing means, without the missing-data note (added from ``signal``)."""
    comparison: Comparison = Comparison.ABOVE
    statistic: Statistic = Statistic.AVERAGE
    signal: Signal = Signal.GAUGE
    evaluation_periods: int | None = None
    """Consecutive breaching periods; the environment's ``[monitoring] evaluation_periods`` when unset."""


@dataclass(frozen=True)
class DiagramNode:
    """How the architecture diagram shows resources of one type."""

    label: str
    tier: str = "data"


class Block(Construct):
    """Base of every building block. Subclasses declare, as class attributes, what the platform's
    tools need to know about them; defining the subclass is the registration."""

    stateful_types: ClassVar[frozenset[str]] = frozenset()
    """Resource types of this block whose destruction loses data or identity (make review flags them)."""
    diagram_nodes: ClassVar[Mapping[str, DiagramNode]] = {}
    """Resource types the diagram draws as nodes of their own, with their label."""
    registered: ClassVar[list[type[Block]]] = []

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        Block.registered.append(cls)

    def alarms(self, policy: AlarmPolicy) -> list[Alarm]:
        """The alarms this block wants; none by default."""
        return []


def stateful_types() -> frozenset[str]:
    """Every registered block's stateful resource types."""
    found: set[str] = set()
    for block in Block.registered:
        found |= block.stateful_types
    return frozenset(found)


def diagram_nodes() -> dict[str, DiagramNode]:
    """Every registered block's diagram nodes, by resource type."""
    found: dict[str, DiagramNode] = {}
    for block in Block.registered:
        found.update(block.diagram_nodes)
    return found


@dataclass(frozen=True, kw_only=True)
class Naming:
    """The environment a block is built for, and how it names what it creates."""

    project: str
    environment: str
    region: str

    @property
    def prefix(self) -> str:
        """``<project>-<environment>``, e.g. ``netflux-prod``: the stack name and every name's start."""
        return f"{self.project}-{self.environment}"

    def name(self, role: str, *, max_length: int = DEFAULT_NAME_MAX) -> str:
        """``<project>-<environment>-<role>``, shortened with a stable hash to fit ``max_length``."""
        return resource_name(self.project, self.environment, role, max_length=max_length)
