"""What a stack expects to exist before it is applied, created in the emulator: one self-signed ACM
certificate per certificate ARN the stack names (an environment's existing certificates), and the
public Route 53 hosted zones its ``[domain]`` looks up.

Runs inside ``.venv-emulator`` (boto3 and cryptography come with moto):

    .venv-emulator/bin/python -m tools.emulator_fixtures --endpoint URL [--certificate ARN ...]
        [--zone ACCOUNT NAME ID ...]

``--zone``: a public hosted zone ``NAME`` in ``ACCOUNT``, created unless one of that name exists; ``ID``
is the id the stack names it by, or ``-`` when it looks the zone up by name. Prints a JSON object:
what the stack names (a certificate ARN, a zone id) -> what the emulator gave it.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import sys
from typing import Any

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(domain: str) -> tuple[bytes, bytes]:
    """A certificate and its private key (PEM), valid for a year, for ``domain``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return (
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def _in_account(account: str, request: Any, **_: Any) -> None:
    request.headers["x-moto-account-id"] = account


def _client(service: str, endpoint: str, region: str, account: str) -> Any:
    client = boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="emulator",
        aws_secret_access_key="emulator",
    )
    # Into the account the stack works in (an account-guarded stack assumes a role there, and its
    # resources look the fixture up there): moto keeps one set of backends per account and takes it
    # from this header (moto/core/responses.py get_current_account).
    client.meta.events.register(f"before-sign.{service}.*", functools.partial(_in_account, account))
    return client


def import_certificate(endpoint: str, arn: str) -> str:
    """A self-signed certificate imported into the region and account of ``arn``; the emulator's ARN."""
    region, account = arn.split(":")[3:5]
    certificate, key = self_signed("emulator.example.com")
    acm = _client("acm", endpoint, region, account)
    arn_found: str = acm.import_certificate(Certificate=certificate, PrivateKey=key)["CertificateArn"]
    return arn_found


def public_zone(endpoint: str, account: str, name: str) -> str:
    """The id of the public hosted zone ``name`` in ``account``, created unless it exists (the plan-based
    review prepares a stack more than once: a second zone of the name would make the lookup ambiguous)."""
    route53 = _client("route53", endpoint, "us-east-1", account)
    for zone in route53.list_hosted_zones_by_name(DNSName=name)["HostedZones"]:
        if zone["Name"].rstrip(".") == name and not zone["Config"]["PrivateZone"]:
            return str(zone["Id"]).removeprefix("/hostedzone/")
    created = route53.create_hosted_zone(Name=name, CallerReference=f"emulator-{account}-{name}")
    return str(created["HostedZone"]["Id"]).removeprefix("/hostedzone/")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--certificate", action="append", default=[], metavar="ARN")
    parser.add_argument("--zone", action="append", nargs=3, default=[], metavar=("ACCOUNT", "NAME", "ID"))
    args = parser.parse_args(argv)
    mapping = {arn: import_certificate(args.endpoint, arn) for arn in args.certificate}
    for account, name, zone_id in args.zone:
        created = public_zone(args.endpoint, account, name)
        if zone_id != "-":
            mapping[zone_id] = created
    print(json.dumps(mapping))
    return 0


if __name__ == "__main__":
    sys.exit(main())
