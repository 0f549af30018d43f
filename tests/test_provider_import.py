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


# --- the toolchain alias -------------------------------------------------------------------------


def test_an_alias_is_the_same_module_under_a_second_name(monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import json.decoder
    import sys

    monkeypatch.setattr(sys, "meta_path", [provider_import._Alias({"json_alias": "json"}), *sys.meta_path])
    for name in ("json_alias", "json_alias.decoder"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import json_alias.decoder  # type: ignore[import-not-found]

    assert json_alias is json
    assert json_alias.decoder is json.decoder
    assert sys.modules["json_alias.decoder"] is json.decoder


def test_other_names_are_not_aliased() -> None:
    alias = provider_import._Alias({"cdktf": "cdktn"})
    assert alias.find_spec("cdktfx", None) is None
    assert alias.find_spec("constructs", None) is None
    spec = alias.find_spec("cdktf.x", None)
    assert spec is not None
    assert spec.loader is alias


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("terrain", "TOOLCHAIN='terrain': allowed: cdktf, cdktn"),
        ("CDKTN", "TOOLCHAIN='CDKTN': allowed: cdktf, cdktn"),
    ],
)
def test_an_unknown_toolchain_is_refused(monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    monkeypatch.setenv("TOOLCHAIN", value)
    provider_import.selected.cache_clear()
    try:
        with pytest.raises(provider_import.ToolchainError) as raised:
            provider_import.selected()
        assert str(raised.value) == message
    finally:
        monkeypatch.delenv("TOOLCHAIN")
        provider_import.selected.cache_clear()


def test_a_toolchain_that_is_not_installed_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = provider_import.Toolchain("x", "no_such_core", "no_such_provider", "@x/provider-aws", "6.0.0")
    monkeypatch.setattr(provider_import.sys, "meta_path", list(provider_import.sys.meta_path))
    with pytest.raises(provider_import.ToolchainError, match=r"TOOLCHAIN=x: no_such_core is not installed in "):
        provider_import._alias(missing)


def test_the_default_toolchain_is_cdktf_when_it_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOOLCHAIN", raising=False)
    provider_import.selected.cache_clear()
    try:
        assert provider_import.selected() is provider_import.TOOLCHAINS["cdktf"]
    finally:
        provider_import.selected.cache_clear()


def test_the_lazy_index_keeps_cdk_terrains_import_wrapper() -> None:
    source = 'exports.vpc = __importStar(require("./vpc/index"));\nexports.subnet = require("./subnet");\n'
    lazy, count = lazy_index(source)
    assert count == 2
    assert 'get: function () { return __importStar(require("./vpc/index")); }' in lazy
    assert 'get: function () { return require("./subnet"); }' in lazy


def test_problem_says_what_this_python_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    provider_import.selected.cache_clear()
    try:
        monkeypatch.delenv("TOOLCHAIN", raising=False)
        assert provider_import.problem() is None  # .venv has CDKTF
        provider_import.selected.cache_clear()
        monkeypatch.setenv("TOOLCHAIN", "cdktn")
        problem = provider_import.problem()
        assert problem is not None
        assert problem.startswith("TOOLCHAIN=cdktn: cdktn and cdktn_provider_aws not installed in ")
        assert problem.endswith("(`TOOLCHAIN=cdktn make setup` installs it)")
    finally:
        provider_import.selected.cache_clear()
