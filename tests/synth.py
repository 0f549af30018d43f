"""Helpers for per-construct tests: synthesize a small stack and query its resources."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import cdktf
from cdktf import App, TerraformStack

from modules import AwsProviders
from modules.block import Naming

Json = dict[str, Any]


def synth_construct(build: Callable[[TerraformStack], object], *, region: str = "eu-west-1") -> Json:
    """Synthesize a stack holding only an AWS provider plus whatever ``build`` adds."""
    app = App()
    stack = TerraformStack(app, "test")
    AwsProviders(stack, naming=Naming(project="test", environment="unit", region=region))
    build(stack)
    return synth_stack(stack)


def synth_stack(stack: TerraformStack) -> Json:
    """The stack's Terraform JSON as a dict (no files written)."""
    document: Json = json.loads(cdktf.Testing.synth(stack))
    return document


def resources(document: Json, resource_type: str) -> dict[str, Json]:
    """All resources of one type, by logical id (empty when there are none)."""
    found: dict[str, Json] = document.get("resource", {}).get(resource_type, {})
    return found


def only(document: Json, resource_type: str) -> Json:
    """The single resource of a type; fails when there are zero or several."""
    found = resources(document, resource_type)
    assert len(found) == 1, f"expected exactly one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def ref(document: Json, resource_type: str, body: Json, attribute: str = "id") -> str:
    """The Terraform expression another resource uses to reference ``body``."""
    for logical_id, candidate in resources(document, resource_type).items():
        if candidate is body:
            return f"${{{resource_type}.{logical_id}.{attribute}}}"
    raise AssertionError(f"resource not found among {resource_type}")
