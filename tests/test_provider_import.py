"""The partial-import machinery: lazy node exports and the Python package registration."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

import provider_import
from tools.lazy_provider import INDEX, lazy_index, write_lazy_copy

EAGER = """"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.vpc = exports.subnet = void 0;
exports.subnet = require("./subnet");
exports.vpc = require("./vpc");
"""


def test_every_eager_export_becomes_a_getter() -> None:
    lazy, count = lazy_index(EAGER)
    assert count == 2
    assert 'require("./vpc");' not in lazy.replace("return require", "")
    assert (
        'Object.defineProperty(exports, "vpc", { enumerable: true, configurable: true, get: function () { return require("./vpc"); } });'
        in lazy
    )
    # Everything else is kept as it was.
    assert lazy.splitlines()[:3] == EAGER.splitlines()[:3]


def build_tarball(path: Path, index: str) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in ((INDEX, index), ("package/lib/vpc/index.js", "exports.Vpc = class {};\n")):
            info = tarfile.TarInfo(name)
            data = text.encode()
            info.size = len(data)

            archive.addfile(info, io.BytesIO(data))


def test_lazy_copy_changes_only_index_js(tmp_path: Path) -> None:
    original, copy = tmp_path / "p.jsii.tgz", tmp_path / "out" / "p.jsii.tgz"
    build_tarball(original, EAGER)
    assert write_lazy_copy(original, copy) == 2
    with tarfile.open(original) as before, tarfile.open(copy) as after:
        assert before.getnames() == after.getnames()
        for name in before.getnames():
            old, new = before.extractfile(name), after.extractfile(name)
            assert old is not None
            assert new is not None
            if name == INDEX:
                assert new.read().decode() == lazy_index(EAGER)[0]
            else:
                assert new.read() == old.read()


def test_fails_when_the_provider_layout_changed(tmp_path: Path) -> None:
    original = tmp_path / "p.jsii.tgz"
    build_tarball(original, "module.exports = {};\n")
    with pytest.raises(SystemExit, match="no eager exports found"):
        write_lazy_copy(original, tmp_path / "out.tgz")
    assert not (tmp_path / "out.tgz").exists()


def test_make_built_the_lazy_copy_for_the_installed_provider() -> None:
    original = provider_import.original_tarball()
    assert original is not None
    lazy = provider_import.lazy_tarball(original)
    assert lazy.is_file(), "run the suite through `make test`, whose set-up builds it"
    assert lazy.stat().st_mtime >= original.stat().st_mtime
