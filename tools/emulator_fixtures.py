"""What a stack expects to exist before it is applied, created in the emulator: one self-signed ACM
certificate per certificate ARN the stack names (an environment's existing certificates).

Runs inside ``.venv-emulator`` (boto3 and cryptography come with moto):

    .venv-emulator/bin/python -m tools.emulator_fixtures --endpoint URL ARN [ARN ...]

Prints a JSON object: the ARN the stack names -> the ARN the emulator gave the imported certificate.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("arns", nargs="+")
    args = parser.parse_args(argv)
    mapping = {}
    for arn in args.arns:
        region, account = arn.split(":")[3:5]
        acm = boto3.client(
            "acm",
            region_name=region,
            endpoint_url=args.endpoint,
            aws_access_key_id="emulator",
            aws_secret_access_key="emulator",
        )
        # Into the account the ARN names, where the stack works (an account-guarded stack assumes a
        # role there) and where its load balancer looks the certificate up: moto keeps one set of
        # backends per account and takes it from this header (moto/core/responses.py
        # get_current_account).
        acm.meta.events.register("before-sign.acm.*", functools.partial(_in_account, account))
        certificate, key = self_signed("emulator.example.com")
        mapping[arn] = acm.import_certificate(Certificate=certificate, PrivateKey=key)["CertificateArn"]
    print(json.dumps(mapping))
    return 0


if __name__ == "__main__":
    sys.exit(main())
