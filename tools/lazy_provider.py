"""Write the lazy-loading copy of the AWS provider's jsii assembly (see provider_import.py).

    python -m tools.lazy_provider     # run by `make` after installing requirements

The copy differs from the installed tarball in one file, ``package/lib/index.js``: every
``exports.<name> = require("./<dir>");`` becomes a getter that requires the module on first use.
Nothing else in the tarball changes.
"""

from __future__ import annotations

import gzip
import io
import re
import sys
import tarfile
import time
from pathlib import Path

from provider_import import lazy_tarball, original_tarball

INDEX = "package/lib/index.js"
_EAGER_EXPORT = re.compile(r'^exports\.(\w+) = require\("(\./[^"]+)"\);$', re.MULTILINE)


def lazy_index(source: str) -> tuple[str, int]:
    """``index.js`` with every eager submodule export turned into a lazy getter, and how many there were."""

    def getter(match: re.Match[str]) -> str:
        name, path = match.groups()
        return (
            f'Object.defineProperty(exports, "{name}", '
            f'{{ enumerable: true, configurable: true, get: function () {{ return require("{path}"); }} }});'
        )

    return _EAGER_EXPORT.subn(getter, source)


def write_lazy_copy(original: Path, target: Path) -> int:
    """Stream ``original`` into ``target`` with a lazy ``index.js``; returns the number of getters."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    exports = 0
    with (
        tarfile.open(original, "r:gz") as source,
        gzip.open(partial, "wb", compresslevel=1) as compressed,
        tarfile.open(fileobj=compressed, mode="w") as copy,
    ):
        for member in source:
            if member.name == INDEX:
                data = source.extractfile(member)
                assert data is not None
                text, exports = lazy_index(data.read().decode())
                encoded = text.encode()
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
    if target.is_file() and target.stat().st_mtime >= original.stat().st_mtime:
        return 0
    started = time.perf_counter()
    exports = write_lazy_copy(original, target)
    print(f"lazy provider assembly: {exports} submodules load on first use ({time.perf_counter() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
