"""Reuse the result of an expensive, deterministic computation whose inputs have not changed, as
build systems cache test actions: terraform validate of a stack (a pure function of its JSON, the
terraform release and the provider release) and the full-provider-import reference synth (a pure
function of the sources it reads).

The key is a SHA-256 over every input; any change recomputes. Results live in build/test-cache/
(gitignored), so a clean checkout, as CI has, always computes everything; ``FRESH=1`` (or
``make test FRESH=1``) ignores the cache for one run. What is cached is a reference the test then
compares current output against, never a verdict on the current output itself.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "test-cache"
T = TypeVar("T")


def digest(parts: Iterable[str | bytes]) -> str:
    """SHA-256 over ``parts``, each length-prefixed so concatenations cannot collide."""
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        sha.update(len(data).to_bytes(8, "big"))
        sha.update(data)
    return sha.hexdigest()


def source_files(*patterns: str) -> list[Path]:
    """Files of the project matching glob ``patterns`` (relative to the root), sorted."""
    return sorted({path for pattern in patterns for path in ROOT.glob(pattern) if path.is_file()})


def files_digest(paths: Iterable[Path]) -> list[str | bytes]:
    """Name and content of each file, as digest parts."""
    parts: list[str | bytes] = []
    for path in paths:
        parts += [str(path.relative_to(ROOT)), path.read_bytes()]
    return parts


def cached(name: str, key_parts: Iterable[str | bytes], compute: Callable[[], Any]) -> Any:
    """``compute()``'s JSON-serializable result for these inputs, from the cache when it has one."""
    path = CACHE / f"{name}-{digest(key_parts)}.json"
    if path.is_file() and os.environ.get("FRESH") != "1":
        return json.loads(path.read_text())
    value = compute()
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")  # test workers may race for the same key
    partial.write_text(json.dumps(value))
    partial.rename(path)
    return value
