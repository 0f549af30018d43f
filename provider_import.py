"""Which CDK toolchain runs the code, and loading only the parts of its AWS provider bindings the project uses.

The one aliasing point between the two toolchains (docs/toolchain.md):

* ``cdktf``: CDK for Terraform 0.21 with ``cdktf-cdktf-provider-aws`` (the default: what the design
  names; archived on 2025-12-10).
* ``cdktn``: CDK Terrain, CDKTF's community fork, with ``cdktn-provider-aws``: the same API under the
  module names ``cdktn`` and ``cdktn_provider_aws``.

The project's code imports ``cdktf`` and ``cdktf_cdktf_provider_aws.<x>`` only (so mypy and readers
follow one set of names). With ``TOOLCHAIN=cdktn`` (or when only CDK Terrain is installed),
``install()`` registers those names as aliases of the CDK Terrain modules: the same module objects
under a second name, each loaded once. ``modules`` and ``stacks`` call ``install()`` before they
import anything from the bindings.

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

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

TOOLCHAIN_ENV = "TOOLCHAIN"
PACKAGE = "cdktf_cdktf_provider_aws"
"""The provider package's name in the project's code, whichever toolchain runs it."""
CORE = "cdktf"
"""The core library's name in the project's code."""


@dataclass(frozen=True)
class Toolchain:
    """One CDK toolchain: the Python packages it is installed as and what its bindings are generated for."""

    name: str
    core: str
    """The core library's Python package."""
    provider: str
    """The AWS provider bindings' Python package."""
    assembly: str
    """The bindings' jsii assembly (npm) name."""
    aws_provider: str
    """The hashicorp/aws release the bindings are generated for (the JSON's default provider pin)."""


TOOLCHAINS = {
    "cdktf": Toolchain("cdktf", "cdktf", "cdktf_cdktf_provider_aws", "@cdktf/provider-aws", "6.25.0"),
    "cdktn": Toolchain("cdktn", "cdktn", "cdktn_provider_aws", "@cdktn/provider-aws", "6.69.1"),
}


class ToolchainError(RuntimeError):
    """TOOLCHAIN names no toolchain, or one that is not installed in this Python."""


@functools.cache
def selected() -> Toolchain:
    """``$TOOLCHAIN`` when set; otherwise the installed one (CDKTF first). Decided once per process."""
    name = os.environ.get(TOOLCHAIN_ENV, "")
    if name:
        if name not in TOOLCHAINS:
            raise ToolchainError(f"{TOOLCHAIN_ENV}={name!r}: allowed: {', '.join(TOOLCHAINS)}")
        return TOOLCHAINS[name]
    for toolchain in TOOLCHAINS.values():
        if importlib.util.find_spec(toolchain.core) is not None:
            return toolchain
    return TOOLCHAINS["cdktf"]  # neither installed: the real import raises the usual ImportError


def problem() -> str | None:
    """Why this Python cannot run the selected toolchain (an unknown TOOLCHAIN, packages not installed),
    or None. Entry points check it first, to say so in one line."""
    try:
        toolchain = selected()
    except ToolchainError as error:
        return str(error)
    missing = [package for package in (toolchain.core, toolchain.provider) if importlib.util.find_spec(package) is None]
    if not missing:
        return None
    return (
        f"{TOOLCHAIN_ENV}={toolchain.name}: {' and '.join(missing)} not installed in {sys.prefix} "
        f"(`TOOLCHAIN={toolchain.name} make setup` installs it)"
    )


def original_tarball(toolchain: Toolchain | None = None) -> Path | None:
    """The provider's jsii assembly tarball as installed, or None when the package is missing."""
    spec = importlib.util.find_spec((toolchain or selected()).provider)
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(spec.submodule_search_locations[0], "_jsii").glob("*.jsii.tgz"))
    return found[0] if found else None


def lazy_tarball(original: Path) -> Path:
    """Where the lazy-loading copy of ``original`` lives: inside the virtualenv, next to the original's version."""
    return Path(sys.prefix) / "share" / "jsii-lazy" / original.name


def install() -> None:
    """Alias the toolchain's modules to the project's names, and register the provider package without
    its root ``__init__``; a no-op when already done (or when the package was imported in full)."""
    toolchain = selected()
    if toolchain.core != CORE:
        _alias(toolchain)
    if toolchain.provider in sys.modules:
        return
    spec = importlib.util.find_spec(toolchain.provider)
    if spec is None or spec.submodule_search_locations is None:
        if toolchain.core != CORE:
            raise ToolchainError(
                f"{TOOLCHAIN_ENV}={toolchain.name}: {toolchain.provider} is not installed in {sys.prefix}"
            )
        return  # not installed: the real import will raise the usual, clear ImportError
    # module_from_spec sets __path__, __spec__ and __loader__, so submodule imports resolve
    # normally; skipping exec_module is what skips the root __init__.
    sys.modules[toolchain.provider] = importlib.util.module_from_spec(spec)
    _route_assembly_to_lazy_copy(toolchain)


def _alias(toolchain: Toolchain) -> None:
    if any(isinstance(finder, _Alias) for finder in sys.meta_path):
        return
    if importlib.util.find_spec(toolchain.core) is None:
        raise ToolchainError(f"{TOOLCHAIN_ENV}={toolchain.name}: {toolchain.core} is not installed in {sys.prefix}")
    sys.meta_path.insert(0, _Alias({CORE: toolchain.core, PACKAGE: toolchain.provider}))


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``<alias>[.x]`` as the module ``<real>[.x]``: one module object under both names."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in self.names:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        head, dot, rest = spec.name.partition(".")
        real = self.names[head] + dot + rest
        # The package root may be registered already without its __init__ (install()): take that one.
        return sys.modules.get(real) or importlib.import_module(real)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing: the real module ran (or, for the provider's root, deliberately did not)."""


def _route_assembly_to_lazy_copy(toolchain: Toolchain) -> None:
    original = original_tarball(toolchain)
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
        if name == toolchain.assembly and Path(tarball).name == original.name:
            tarball = str(lazy)
        return load(name, version, tarball, *args, **kwargs)

    kernel.load = load_lazy_provider  # type: ignore[method-assign]
