"""An emulated AWS on loopback for Terraform: moto's server mode, and the override file that points a
stack's providers at it.

One server per run (``Emulator``), on a free loopback port, in its own process group, stopped by its
own pid. moto runs from ``.venv-emulator`` (``requirements-emulator.txt``), apart from the project's
virtualenv. Terraform reaches it through ``AWS_ENDPOINT_URL`` (every service of the AWS SDK the
provider is built on) and a ``*_override.tf.json`` giving every provider block fake credentials, so
nothing can reach a real account: the harness also strips every other ``AWS_*`` variable.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.regions import partition_of

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_PYTHON = ROOT / ".venv-emulator" / "bin" / "python"
OVERRIDE_FILE = "emulator_override.tf.json"
FAKE_CREDENTIALS = {"access_key": "emulator", "secret_key": "emulator"}
ACCOUNT_ID = "123456789012"  # moto's default account
# The role the fake credentials assume in the account a provider's allowed_account_ids names, when the
# stack assumes none itself (provider_override).
EMULATOR_ROLE = "emulator"
_CERTIFICATE_ARN = re.compile(r"arn:aws[\w-]*:acm:([a-z0-9-]+):\d{12}:certificate/[\w-]+")


class EmulatorUnavailableError(RuntimeError):
    """The emulator cannot run here; the message says what is missing."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Emulator:
    """One moto server for the whole run. Use as a context manager."""

    def __init__(self, workdir: Path, python: Path = EMULATOR_PYTHON) -> None:
        if not python.is_file():
            raise EmulatorUnavailableError(
                f"{python} is missing: run `make e2e` (it installs requirements-emulator.txt)"
            )
        self.python = python
        self.workdir = workdir
        self.error_log = workdir / "emulator-errors.jsonl"
        self.server_log = workdir / "emulator-server.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Emulator:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.error_log.write_text("")
        self.port = _free_port()
        with self.server_log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    str(self.python),
                    "-m",
                    "tools.emulator_server",
                    "--port",
                    str(self.port),
                    "--error-log",
                    str(self.error_log),
                ],
                cwd=ROOT,
                # AWS managed policies (service-role/AmazonRDSEnhancedMonitoringRole...) exist in every
                # account; moto only knows them when asked (moto/settings.py load_iam_aws_managed_policies).
                # ACM issues a DNS-validated certificate once its validation records resolve; moto issues it
                # this many seconds after the request, records or not (moto/acm/models.py CertBundle.check,
                # 60 by default in moto/settings.py): sooner than the records take to create, so
                # aws_acm_certificate_validation finds it issued instead of waiting out the default.
                env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ACM_VALIDATION_WAIT": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with everything it started
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmulatorUnavailableError(f"the emulator exited at start:\n{self.server_log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2):
                    return self
            except OSError:
                time.sleep(0.3)
        self.__exit__(None, None, None)
        raise EmulatorUnavailableError("the emulator did not answer within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def environ(self, base: Mapping[str, str], region: str) -> dict[str, str]:
        """``base`` without any AWS_* setting of the caller's, pointed at the emulator."""
        clean = {k: v for k, v in base.items() if not k.startswith("AWS_")}
        return {**clean, "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": region, "AWS_EC2_METADATA_DISABLED": "true"}

    def _log(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.error_log.read_text().splitlines() if line.strip()]

    def errors(self) -> list[dict[str, Any]]:
        """Every failed request so far (method, path, operation, status, response head)."""
        return [record for record in self._log() if not record.get("replayed")]

    def replays(self) -> list[dict[str, Any]]:
        """Every answer the server sent again because the client lost it (emulator_server.ErrorLog)."""
        return [record for record in self._log() if record.get("replayed")]

    def create_fixtures(self, document: Mapping[str, Any]) -> dict[str, str]:
        """Create in the emulator what the stack expects to exist already: one self-signed certificate
        per certificate ARN it names (in the ARN's region and account), and the public hosted zones it
        looks up (in its account). Returns what to swap in the stack: the emulator's ARN by the ARN the
        stack names, the emulator's zone id by the id the stack names."""
        arguments = [f"--certificate={arn}" for arn in referenced_certificates(document)]
        for zone in referenced_zones(document):
            arguments += ["--zone", zone.account, zone.name, zone.zone_id or "-"]
        if not arguments:
            return {}
        result = subprocess.run(
            [str(self.python), "-m", "tools.emulator_fixtures", "--endpoint", self.endpoint, *arguments],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise EmulatorUnavailableError(
                f"creating the stack's fixtures in the emulator failed:\n{result.stderr[-2000:]}"
            )
        mapping: dict[str, str] = json.loads(result.stdout)
        return mapping


# --- override files -------------------------------------------------------------------------------


def referenced_certificates(document: Mapping[str, Any]) -> list[str]:
    """ACM certificate ARNs the stack names literally (certificates it expects to exist already)."""
    text = json.dumps(document.get("resource", {}))
    return sorted({match.group(0) for match in _CERTIFICATE_ARN.finditer(text)})


@dataclass(frozen=True)
class Zone:
    """A public hosted zone a stack looks up, as the emulator must hold it."""

    account: str
    name: str
    zone_id: str | None
    """The id the stack names the zone by, None when it looks it up by name."""


def referenced_zones(document: Mapping[str, Any]) -> list[Zone]:
    """The hosted zones the stack's ``aws_route53_zone`` lookups expect, in the account it works in (its
    default provider's ``allowed_account_ids``, else moto's default account). A zone named by id gets the
    name of the shortest certificate name in the stack (the site's own): it lies in the zone, and the
    lookup's check that the site is in the zone passes."""
    lookups = document.get("data", {}).get("aws_route53_zone", {})
    if not lookups:
        return []
    default: dict[str, Any] = next((p for p in document.get("provider", {}).get("aws", []) if "alias" not in p), {})
    account: str = (default.get("allowed_account_ids") or [ACCOUNT_ID])[0]
    names = [
        name
        for body in document.get("resource", {}).get("aws_acm_certificate", {}).values()
        for name in [body.get("domain_name"), *body.get("subject_alternative_names", [])]
        if isinstance(name, str)
    ]
    zones = []
    for lookup in lookups.values():
        if "name" in lookup:
            zones.append(Zone(account, lookup["name"], None))
        elif names:
            zones.append(Zone(account, min(names, key=len), lookup["zone_id"]))
        else:
            raise EmulatorUnavailableError(f"hosted zone {lookup['zone_id']}: no certificate name to name it by")
    return zones


def _replace_strings(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in mapping.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_replace_strings(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _replace_strings(v, mapping) for k, v in value.items()}
    return value


def _resources(document: Mapping[str, Any], section: str = "resource") -> Iterator[tuple[str, str, dict[str, Any]]]:
    for resource_type, items in document.get(section, {}).items():
        for logical_id, body in items.items():
            yield resource_type, logical_id, body


def provider_override(document: Mapping[str, Any], fixtures: Mapping[str, str]) -> dict[str, Any]:
    """Fake credentials for every provider block (default and aliased), no metadata lookups that need
    real AWS, path-style S3; what ``fixtures`` maps (external certificates, hosted zone ids, from
    ``Emulator.create_fixtures``) swapped for the emulator's.

    The account guard (``allowed_account_ids``) stays and is checked for real: moto answers
    GetCallerIdentity with the account the credentials belong to, and credentials from AssumeRole
    belong to the role's account (moto/sts/models.py: ``_create_access_key`` takes the account from
    the role ARN, ``get_caller_identity`` returns the assumed role's; every later request is served by
    that account's backends, moto/iam/models.py ``get_account_id_from``). A stack's own assume_role is
    kept; a guarded provider without one gets a role in its expected account, as a pipeline's
    credentials would be that account's. Unguarded stacks run in moto's default account."""
    providers = []
    for provider in document.get("provider", {}).get("aws", []):
        block = {
            **FAKE_CREDENTIALS,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            "s3_use_path_style": True,
            # The SDK retries a 5xx up to 25 times with backoff; an action moto lacks answers 500
            # every time, so a few retries are enough to tell.
            "max_retries": 2,
        }
        if "alias" in provider:
            block["alias"] = provider["alias"]
        accounts = provider.get("allowed_account_ids")
        if accounts and "assume_role" not in provider:
            partition = partition_of(provider.get("region", "")) or "aws"
            block["assume_role"] = [
                {"role_arn": f"arn:{partition}:iam::{accounts[0]}:role/{EMULATOR_ROLE}", "session_name": EMULATOR_ROLE}
            ]
        providers.append(block)
    override: dict[str, Any] = {"provider": {"aws": providers}}
    for section in ("resource", "data"):
        replaced_blocks: dict[str, dict[str, Any]] = {}
        for resource_type, logical_id, body in _resources(document, section):
            for key, value in body.items():
                if key == "//":
                    continue
                replaced = _replace_strings(value, fixtures)
                if replaced != value:
                    replaced_blocks.setdefault(resource_type, {}).setdefault(logical_id, {})[key] = replaced
        if replaced_blocks:
            override[section] = replaced_blocks
    return override


# Arguments that keep a resource from being destroyed, and the value that lets it go.
_PROTECTION = {
    "aws_db_instance": {"deletion_protection": False},
    "aws_lb": {"enable_deletion_protection": False},
    "aws_rds_cluster": {"deletion_protection": False},
    # Log buckets keep what they hold (no force_destroy outside dev); the emulator run empties them.
    "aws_s3_bucket": {"force_destroy": True},
    "aws_ecr_repository": {"force_delete": True},
}


@dataclass
class Unprotect:
    """What the harness lifts before destroy (emulator run only) and the override that does it."""

    addresses: list[str] = field(default_factory=list)
    override: dict[str, Any] = field(default_factory=dict)


def unprotect_override(document: Mapping[str, Any]) -> Unprotect:
    """Deletion protection off for every resource that has it on: staging and prod refuse destroy by
    design, and the emulator run must tear them down."""
    result = Unprotect()
    resources: dict[str, dict[str, Any]] = {}
    for resource_type, logical_id, body in _resources(document):
        for key, value in _PROTECTION.get(resource_type, {}).items():
            if body.get(key, False) != value:
                resources.setdefault(resource_type, {}).setdefault(logical_id, {})[key] = value
                result.addresses.append(f"{resource_type}.{logical_id}")
    if resources:
        result.override = {"resource": copy.deepcopy(resources)}
    return result


def merge_overrides(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """Both overrides in one document; per resource, the second's arguments win."""
    merged: dict[str, Any] = copy.deepcopy(dict(first))
    for resource_type, items in second.get("resource", {}).items():
        for logical_id, arguments in items.items():
            merged.setdefault("resource", {}).setdefault(resource_type, {}).setdefault(logical_id, {}).update(arguments)
    return merged


def required_variables(document: Mapping[str, Any]) -> dict[str, str]:
    """A value for every variable without a default (image tags): what a pipeline would pass."""
    values = {}
    for name, variable in document.get("variable", {}).items():
        if "default" in variable:
            continue
        if variable.get("type", "string") != "string":
            raise EmulatorUnavailableError(
                f"variable {name} of type {variable.get('type')} needs a value the harness cannot choose"
            )
        values[name] = "e2e-1"
    return values
