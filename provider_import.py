"""Load only the parts of the AWS provider bindings the project uses, in Python and in node.

``modules`` calls ``install()`` before it imports any provider class; ``tools/lazy_provider.py``
builds the lazy node copy. This file stands alone (no project imports) so both can use it cheaply.

Python: ``import cdktf_cdktf_provider_aws.vpc`` first runs the package's root ``__init__``, which
imports all ~1500 resource submodules: about 9.6 s of a 14 s synth on this machine class.
Registering the package without running that ``__init__`` lets each
``from cdktf_cdktf_provider_aws.<x> import ...`` load just ``_jsii`` and ``<x>``.

Node: the jsii kernel ``require``s the provider's ``lib/index.js``, which eagerly requires the same
~2200 JavaScript modules (1.6 s and ~450 MB). ``tools/lazy_provider.py`` (run by the Makefile at
set-up) writes a copy of the assembly tarball whose ``index.js`` exports each submodule through a
getter, so node loads a module when a class of it is first used. When that copy exists, the kernel
is pointed at it; otherwise the original loads, which is slower but the same.

Either way the classes, and so the synthesized JSON, are identical: a test synthesizes once with
the full import done first (which makes this a no-op) and compares both outputs byte for byte.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

PACKAGE = "cdktf_cdktf_provider_aws"
ASSEMBLY = "@cdktf/provider-aws"


def original_tarball() -> Path | None:
    """The provider's jsii assembly tarball as installed, or None when the package is missing."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(spec.submodule_search_locations[0], "_jsii").glob("*.jsii.tgz"))
    return found[0] if found else None


def lazy_tarball(original: Path) -> Path:
    """Where the lazy-loading copy of ``original`` lives: inside the virtualenv, next to the original's version."""
    return Path(sys.prefix) / "share" / "jsii-lazy" / original.name


def install() -> None:
    """Register the provider package without its root ``__init__``; a no-op if already imported."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        return  # not installed: the real import will raise the usual, clear ImportError
    # module_from_spec sets __path__, __spec__ and __loader__, so submodule imports resolve
    # normally; skipping exec_module is what skips the root __init__.
    sys.modules[PACKAGE] = importlib.util.module_from_spec(spec)
    _route_assembly_to_lazy_copy()


def _route_assembly_to_lazy_copy() -> None:
    original = original_tarball()
    if original is None:
        return
    lazy = lazy_tarball(original)
    # A copy older than the installed original belongs to an earlier install: ignore it.
    if not lazy.is_file() or lazy.stat().st_mtime < original.stat().st_mtime:
        return
    from jsii import _runtime

    kernel = _runtime.kernel
    load = kernel.load

    def load_lazy_provider(name: str, version: str, tarball: str, *args: Any, **kwargs: Any) -> Any:
        if name == ASSEMBLY and Path(tarball).name == original.name:
            tarball = str(lazy)
        return load(name, version, tarball, *args, **kwargs)

    kernel.load = load_lazy_provider  # type: ignore[method-assign]
