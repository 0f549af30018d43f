"""The partial-import machinery: lazy node exports and the Python package registration."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

import provider_import
import tools.lazy_provider
from tools.lazy_provider import ASSEMBLY, INDEX, lazy_index, slim_assembly, write_lazy_copy

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


ASSEMBLY_JSON = {
    "name": "@cdktf/provider-aws",
    "docs": {"summary": "the provider"},
    "types": {
        "@cdktf/provider-aws.vpc.Vpc": {
            "kind": "class",
            "docs": {"summary": "a VPC"},
            "locationInModule": {"filename": "src/vpc/index.ts", "line": 1},
            "properties": [{"name": "cidrBlock", "docs": {}, "type": {"primitive": "string"}}],
        }
    },
}


def build_tarball(path: Path, index: str) -> None:
    files = {
        INDEX: index,
        "package/lib/vpc/index.js": "exports.Vpc = class {};\n",
        "package/lib/vpc/index.d.ts": "export declare class Vpc {}\n",
        "package/lib/vpc/index.js.map": "{}\n",
        ASSEMBLY: json.dumps(ASSEMBLY_JSON, indent=2),
        "package/package.json": '{"main": "lib/index.js"}\n',
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            data = text.encode()
            info.size = len(data)

            archive.addfile(info, io.BytesIO(data))


def test_slim_assembly_drops_what_the_jsii_runtime_drops_and_keeps_the_rest() -> None:
    slim = json.loads(slim_assembly(json.dumps(ASSEMBLY_JSON).encode()))
    assert slim == {
        "name": "@cdktf/provider-aws",
        "types": {
            "@cdktf/provider-aws.vpc.Vpc": {
                "kind": "class",
                "properties": [{"name": "cidrBlock", "type": {"primitive": "string"}}],
            }
        },
    }


def test_lazy_copy_rewrites_index_js_slims_the_assembly_and_leaves_out_declarations(tmp_path: Path) -> None:
    original, copy = tmp_path / "p.jsii.tgz", tmp_path / "out" / "p.jsii.tgz"
    build_tarball(original, EAGER)
    assert write_lazy_copy(original, copy) == 2
    with tarfile.open(original) as before, tarfile.open(copy) as after:
        left_out = {"package/lib/vpc/index.d.ts", "package/lib/vpc/index.js.map"}
        assert after.getnames() == [name for name in before.getnames() if name not in left_out]
        for name in after.getnames():
            old, new = before.extractfile(name), after.extractfile(name)
            assert old is not None
            assert new is not None
            if name == INDEX:
                assert new.read().decode() == lazy_index(EAGER)[0]
            elif name == ASSEMBLY:
                assert new.read() == slim_assembly(old.read())
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
    generator = Path(tools.lazy_provider.__file__)
    assert lazy.stat().st_mtime >= generator.stat().st_mtime, "the generator changed since: run `make setup`"
    # The jsii kernel hashes the whole tarball on every run: the copy must not cost more than the original.
    assert lazy.stat().st_size < original.stat().st_size
