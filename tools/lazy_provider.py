"""Write the lazy-loading copy of the AWS provider's jsii assembly (see provider_import.py).

    python -m tools.lazy_provider     # run by `make` at set-up, again whenever this file changes

The copy differs from the installed tarball in what node and the jsii kernel do not need, and is
smaller than the original (the kernel hashes the whole tarball on every run):

* ``package/lib/index.js``: every ``exports.<name> = require("./<dir>");`` becomes a getter that
  requires the module on first use.
* ``*.d.ts`` and ``*.map`` are left out: TypeScript declarations and source maps; node's
  ``require`` loads ``.js`` files only.
* ``package/.jsii`` (the assembly) loses the keys the jsii runtime itself drops when it indexes an
  assembly (``slimReplacer`` in @jsii/runtime): ``docs``, ``locationInModule``, ``sourceLine``.
  Documentation and source positions, never used to load or call anything.
* gzip level 9 instead of a fast level.

Every other file is copied byte for byte, so the classes, and the synthesized JSON, are the same.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from provider_import import lazy_tarball, original_tarball

INDEX = "package/lib/index.js"
ASSEMBLY = "package/.jsii"
NEVER_READ = (".d.ts", ".map")
UNUSED_ASSEMBLY_KEYS = frozenset({"docs", "locationInModule", "sourceLine"})
# cdktf's bindings: `exports.vpc = require("./vpc");`; CDK Terrain's (a newer TypeScript):
# `exports.vpc = __importStar(require("./vpc/index"));`. The getter keeps the wrapper.
_EAGER_EXPORT = re.compile(r'^exports\.(\w+) = ((?:__importStar\()?)require\("(\./[^"]+)"\)(\)?);$', re.MULTILINE)


def lazy_index(source: str) -> tuple[str, int]:
    """``index.js`` with every eager submodule export turned into a lazy getter, and how many there were."""

    def getter(match: re.Match[str]) -> str:
        name, wrap, path, close = match.groups()
        if bool(wrap) != bool(close):
            return match.group(0)  # unbalanced: not the form above, left as it is
        return (
            f'Object.defineProperty(exports, "{name}", '
            f'{{ enumerable: true, configurable: true, get: function () {{ return {wrap}require("{path}"){close}; }} }});'
        )

    return _EAGER_EXPORT.subn(getter, source)


def slim_assembly(source: bytes) -> bytes:
    """The assembly JSON without ``UNUSED_ASSEMBLY_KEYS`` at any depth, compact."""

    # Dropped while parsing: the documentation (most of the 130 MB) is never in memory all at once.
    def without_unused(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        return {key: value for key, value in pairs if key not in UNUSED_ASSEMBLY_KEYS}

    document = json.loads(source, object_pairs_hook=without_unused)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def write_lazy_copy(original: Path, target: Path) -> int:
    """Stream ``original`` into ``target`` as described above; returns the number of getters."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    exports = 0
    with (
        tarfile.open(original, "r:gz") as source,
        gzip.open(partial, "wb", compresslevel=9) as compressed,
        tarfile.open(fileobj=compressed, mode="w") as copy,
    ):
        for member in source:
            if member.isfile() and member.name.endswith(NEVER_READ):
                continue
            if member.name in (INDEX, ASSEMBLY):
                data = source.extractfile(member)
                assert data is not None
                if member.name == INDEX:
                    text, exports = lazy_index(data.read().decode())
                    encoded = text.encode()
                else:
                    encoded = slim_assembly(data.read())
                member.size = len(encoded)
                copy.addfile(member, io.BytesIO(encoded))
            else:
                copy.addfile(member, source.extractfile(member) if member.isfile() else None)
    if exports == 0:
        partial.unlink()
        raise SystemExit(f"{original}: no eager exports found in {INDEX}; the provider's layout changed")
    partial.replace(target)  # atomic: a half-written copy is never picked up
    return exports


def main() -> int:
    original = original_tarball()
    if original is None:
        print("cdktf-cdktf-provider-aws is not installed", file=sys.stderr)
        return 1
    target = lazy_tarball(original)
    # Rebuilt for a newly installed provider, and when this generator changed.
    newest_input = max(original.stat().st_mtime, Path(__file__).stat().st_mtime)
    if target.is_file() and target.stat().st_mtime >= newest_input:
        return 0
    started = time.perf_counter()
    exports = write_lazy_copy(original, target)
    print(
        f"lazy provider assembly: {exports} submodules load on first use; {target.stat().st_size / 1e6:.1f} MB "
        f"(installed: {original.stat().st_size / 1e6:.1f} MB) ({time.perf_counter() - started:.1f}s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
