"""The AWS regions that exist, and the partition each belongs to, from the endpoints data botocore
ships (``botocore/data/endpoints.json``: the same table the AWS SDKs resolve endpoints from). What
only the account knows (the availability zones a region offers it, the instance classes offered
there) is checked at plan time instead, with Terraform preconditions.

The file is read directly, once (importing botocore's loader costs ~0.1 s and brings nothing more).
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Partition:
    """One AWS partition: ``aws``, ``aws-cn``, ``aws-us-gov``, ..."""

    name: str
    regions: frozenset[str]


@cache
def partitions() -> tuple[Partition, ...]:
    """Every partition and its regions."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed (requirements.txt)")
    endpoints = Path(next(iter(spec.submodule_search_locations))) / "data" / "endpoints.json"
    document = json.loads(endpoints.read_text())
    return tuple(Partition(p["partition"], frozenset(p["regions"])) for p in document["partitions"])


def partition_of(region: str) -> str | None:
    """The partition a region belongs to, or None when no partition has it."""
    for partition in partitions():
        if region in partition.regions:
            return partition.name
    return None


def known_regions(partition: str = "aws") -> list[str]:
    """The regions of ``partition``, sorted."""
    return sorted(next((p.regions for p in partitions() if p.name == partition), frozenset()))


def partition(region: str) -> str:
    """The partition of a region the config has already validated (``arn:<partition>:...``)."""
    found = partition_of(region)
    if found is None:
        raise ValueError(f"{region!r} is in no AWS partition; the config validates regions before they get here")
    return found
