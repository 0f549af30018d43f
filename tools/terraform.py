"""Terraform as users run it: one place that finds the binary and the AWS provider, and runs
init / validate / plan / apply / destroy in a stack's directory.

Where the provider comes from (the first that applies):
1. ``TF_PROVIDER_MIRROR``: a filesystem mirror (the layout ``terraform providers mirror`` writes:
   ``<dir>/registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/``). Nothing else is searched.
2. The public registry, Terraform's own default, when it is reachable.
3. Offline, a filesystem mirror found on this machine (Terraform's implicit mirror directories first,
   then the whole filesystem), cached in ``build/terraform/mirror``, announced in one line.

Every stack shares one plugin cache (``TF_PLUGIN_CACHE_DIR``, default ``build/terraform/plugin-cache``),
so the ~700 MB provider is linked, never copied, per stack: filled by the first ``terraform init`` (one
at a time across processes), then only linked from (``plugin_cache_may_break_dependency_lock_file``).
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "terraform"
MIRROR_ENV = "TF_PROVIDER_MIRROR"
PROVIDER = "registry.terraform.io/hashicorp/aws"
REGISTRY_HOST = "registry.terraform.io"
# Terraform's implicit local mirror directories (CLI configuration docs, "Implied Local Mirror
# Directories"), searched before the rest of the filesystem.
IMPLIED_MIRRORS = (
    Path.home() / ".terraform.d" / "plugins",
    Path.home() / ".local" / "share" / "terraform" / "plugins",
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
)
# Directories a whole-filesystem search skips: virtual file systems and package trees.
_PRUNE = ("/proc", "/sys", "/dev", "/run")
_PRUNE_NAMES = ("node_modules", "site-packages", ".git", ".terraform")


class TerraformUnavailableError(RuntimeError):
    """Terraform or the AWS provider cannot be had here; the message says which and what to set."""


def terraform_binary(environ: Mapping[str, str] | None = None) -> str | None:
    """The terraform executable (``TERRAFORM`` or the one on PATH), or None."""
    environ = os.environ if environ is None else environ
    explicit = environ.get("TERRAFORM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return shutil.which("terraform", path=environ.get("PATH"))


def terraform_version(binary: str) -> str:
    result = subprocess.run([binary, "version", "-json"], capture_output=True, text=True, check=False)
    try:
        return str(json.loads(result.stdout)["terraform_version"])
    except (ValueError, KeyError):
        return "unknown"


def _os_arch() -> str:
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{platform.system().lower()}_{machine}"


def _is_mirror(path: Path, version: str | None = None) -> bool:
    provider = path / PROVIDER
    if not provider.is_dir():
        return False
    versions = [provider / version] if version else list(provider.iterdir())
    return any((v / _os_arch()).is_dir() for v in versions)


def _registry_reachable(timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((REGISTRY_HOST, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def _search_filesystem(version: str | None) -> Path | None:
    for candidate in IMPLIED_MIRRORS:
        if _is_mirror(candidate, version):
            return candidate
    for directory, subdirs, files in os.walk("/", topdown=True):
        subdirs[:] = [d for d in subdirs if d not in _PRUNE_NAMES and not (directory == "/" and f"/{d}" in _PRUNE)]
        if any(f.startswith("terraform-provider-aws_") for f in files):
            # <mirror>/registry.terraform.io/hashicorp/aws/<version>/<os_arch>/terraform-provider-aws_*
            mirror = Path(directory).parents[4]
            if _is_mirror(mirror, version):
                return mirror
    return None


@dataclass(frozen=True)
class ProviderSource:
    """Where ``terraform init`` takes the AWS provider from."""

    mirror: Path | None
    """A filesystem mirror, or None for the registry."""
    how: str
    """One line for the log: which source, and why."""


def provider_source(version: str | None = None, environ: Mapping[str, str] | None = None) -> ProviderSource:
    """Resolve the provider source as the module docstring describes. Raises TerraformUnavailableError
    when ``TF_PROVIDER_MIRROR`` names no mirror, or when offline with no mirror anywhere."""
    environ = os.environ if environ is None else environ
    explicit = environ.get(MIRROR_ENV)
    if explicit:
        if not _is_mirror(Path(explicit), version):
            raise TerraformUnavailableError(
                f"{MIRROR_ENV}={explicit} holds no {PROVIDER} {version or ''} for {_os_arch()} "
                f"(expected {explicit}/{PROVIDER}/<version>/{_os_arch()}/)"
            )
        return ProviderSource(Path(explicit), f"provider from {MIRROR_ENV}={explicit}")
    if _registry_reachable():
        return ProviderSource(None, f"provider from {REGISTRY_HOST}")
    cached = BUILD / "mirror"
    if cached.is_file() and _is_mirror(Path(cached.read_text().strip()), version):
        found: Path | None = Path(cached.read_text().strip())
    else:
        found = _search_filesystem(version)
        if found is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(f"{found}\n")
    if found is None:
        raise TerraformUnavailableError(
            f"{REGISTRY_HOST} is unreachable and no filesystem mirror of {PROVIDER} {version or ''} was found; "
            f"set {MIRROR_ENV} to one (terraform providers mirror <dir> writes it)"
        )
    return ProviderSource(
        found, f"{REGISTRY_HOST} unreachable: provider from the mirror at {found} (set {MIRROR_ENV} to choose)"
    )


def cli_config(source: ProviderSource, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables for every terraform call: a CLI config with the provider source and the
    shared plugin cache, no telemetry, automation mode."""
    environ = os.environ if environ is None else environ
    cache = Path(environ.get("TF_PLUGIN_CACHE_DIR") or BUILD / "plugin-cache")
    cache.mkdir(parents=True, exist_ok=True)
    installation = ""
    if source.mirror is not None:
        installation = (
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{source.mirror}"\n    include = ["{PROVIDER}"]\n  }}\n'
            f'  direct {{\n    exclude = ["{PROVIDER}"]\n  }}\n'
            "}\n"
        )
    BUILD.mkdir(parents=True, exist_ok=True)
    config = BUILD / ("terraformrc-mirror" if source.mirror else "terraformrc-registry")
    # Without a lock file entry (every directory these tools create is new), terraform init does not
    # link the cached provider but installs it into the cache again, replacing the entry that stacks
    # already initialized are running plan or validate from ("no package for ... cached in
    # .terraform/providers"; checked: the entry's mtime changes on each init). Reusing the cache entry
    # writes a lock file with the local platform's hash only: fine for these throwaway directories,
    # and users' own `cdktf` runs do not use this configuration.
    config.write_text(
        f'{installation}plugin_cache_dir = "{cache}"\nplugin_cache_may_break_dependency_lock_file = true\n'
    )
    return {
        "TF_CLI_CONFIG_FILE": str(config),
        "TF_PLUGIN_CACHE_DIR": str(cache),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    }


@dataclass(frozen=True)
class Result:
    """A finished terraform command."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float


_INIT_LOCK = threading.Lock()


@contextmanager
def _one_init_at_a_time(cache: str | None) -> Iterator[None]:
    """Hold the plugin cache for one ``terraform init``, across threads and processes (xdist workers,
    ``make review`` beside the tests). The cache is not safe for concurrent installs: two inits that
    both find it empty both install the provider ("mkdir ...: file exists"), and the second replaces
    the directory a stack the first one linked is being validated with ("could not read package
    directory ... no such file or directory", seen in a fresh clone's ``make test``)."""
    with _INIT_LOCK:
        if not cache:
            yield
            return
        with open(Path(cache) / ".init.lock", "a") as lock:  # flock: released when the file closes
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield


class Workspace:
    """One stack's directory (``cdk.tf.json`` plus override files) and the terraform that runs there."""

    def __init__(self, directory: Path, *, binary: str, environ: Mapping[str, str]) -> None:
        self.directory = directory
        self.binary = binary
        self.environ = dict(environ)

    def run(self, *args: str, check: bool = False, timeout: float | None = None) -> Result:
        """Run ``terraform <args>`` here; on timeout its whole process group (provider plugins too) is killed."""
        started = time.perf_counter()
        process = subprocess.Popen(
            [self.binary, *args],
            cwd=self.directory,
            env=self.environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            stderr += f"\nterraform {args[0]} killed after {timeout:.0f}s"
        result = Result(process.returncode, stdout, stderr, time.perf_counter() - started)
        if check and result.returncode != 0:
            raise TerraformCommandError(f"terraform {' '.join(args)} in {self.directory}", result)
        return result

    def init(self, *, backend: bool = False, backend_config: Sequence[str] = ()) -> Result:
        args = ["init", "-no-color", "-input=false"]
        args += ["-reconfigure", *(f"-backend-config={c}" for c in backend_config)] if backend else ["-backend=false"]
        with _one_init_at_a_time(self.environ.get("TF_PLUGIN_CACHE_DIR")):
            return self.run(*args, check=True)

    def validate(self) -> list[Diagnostic]:
        """Every error and warning of ``terraform validate``, with the resource address when known."""
        result = self.run("validate", "-no-color", "-json")
        try:
            report = json.loads(result.stdout)
        except ValueError as error:
            raise TerraformCommandError("terraform validate printed no JSON", result) from error
        return [Diagnostic.from_json(d) for d in report.get("diagnostics", [])]

    def show_plan(self, plan_file: str) -> dict[str, Any]:
        shown: dict[str, Any] = json.loads(self.run("show", "-json", plan_file, check=True).stdout)
        return shown

    def state_addresses(self) -> set[str]:
        result = self.run("state", "list")
        return set(result.stdout.split()) if result.returncode == 0 else set()


@dataclass(frozen=True)
class Diagnostic:
    """One validate/plan diagnostic."""

    severity: str
    summary: str
    detail: str
    address: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Diagnostic:
        context = (data.get("snippet") or {}).get("context") or ""
        address = context.removeprefix("resource.") if context.startswith(("resource.", "data.")) else context
        if not address and data.get("range"):
            address = f"{data['range'].get('filename', '?')}:{data['range'].get('start', {}).get('line', '?')}"
        return cls(
            severity=str(data.get("severity", "error")),
            summary=str(data.get("summary", "")),
            detail=" ".join(str(data.get("detail", "")).split()),
            address=address or "<configuration>",
        )

    def __str__(self) -> str:
        return f"{self.address}: {self.summary}" + (f": {self.detail}" if self.detail else "")


class TerraformCommandError(RuntimeError):
    """A terraform command exited non-zero; carries its output."""

    def __init__(self, what: str, result: Result) -> None:
        super().__init__(f"{what} failed (exit {result.returncode}):\n{result.stderr or result.stdout}")
        self.result = result


def prepare(version: str | None = None) -> tuple[str, dict[str, str], ProviderSource]:
    """The terraform binary, the environment to run it in and the provider source; raises
    TerraformUnavailableError with one line when any is missing."""
    binary = terraform_binary()
    if binary is None:
        raise TerraformUnavailableError(
            "terraform is not on PATH (set TERRAFORM to its path, or install terraform >= 1.10)"
        )
    source = provider_source(version)
    environ = {**os.environ, **cli_config(source)}
    return binary, environ, source
