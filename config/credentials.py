"""What a credential looks like: variable names that say "secret" and values shaped like one. The
config refuses them outside ``secrets`` (never echoing the value), and the secrets gate
(``tools/secret_scan.py``) looks for the same shapes in every synthesized stack and log.
"""

from __future__ import annotations

import re
from typing import Any


class _Redacted:
    """Shown in an error instead of a value that may be a secret."""

    def __repr__(self) -> str:
        return "<redacted>"


REDACTED: Any = _Redacted()


def redaction_note(value: str) -> str:
    """The note an error adds when a reference that should be an ARN is not one: it may be the secret
    itself, pasted where its ARN belongs, so the error shows ``<redacted>`` instead."""
    return "" if value.startswith("arn:") else " (the value is not shown: it may be the secret itself)"


# Plain (environment) variable names that end like a credential: DB_PASSWORD, DB_PASS, MYSQL_PWD,
# JWT_SECRET, GITHUB_TOKEN, API_KEY, SECRET_KEY, AWS_SECRET_ACCESS_KEY, SECRET_KEY_BASE. Only the end of
# the name counts, so names of a secret's location or metadata pass: TOKEN_URL, DB_SECRET_ARN,
# DB_PASSWORD_FILE, AWS_ACCESS_KEY_ID, PASSWORD_MIN_LENGTH; and so do KEY alone (S3_KEY, CACHE_KEY) and
# PWD alone (the shell's working directory).
SECRET_NAME = re.compile(
    r"((^|_)(PASSWORD|PASSWD|PASS|PASSPHRASE|SECRET|TOKEN|SECRET_KEY_BASE"
    r"|(API|APP|PRIVATE|ACCESS|SECRET|ENCRYPTION|SIGNING|HMAC|MASTER|LICENSE)_?KEY)|_PWD)$",
    re.IGNORECASE,
)
# Values that are credentials whatever the variable is called. Each shape is a documented token format
# specific enough that ordinary settings never match it (task.environment in docs/configuration.md).
CREDENTIAL_SHAPES = {
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a private key": re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"),
    "a JSON Web Token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"),
    "a GitHub token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    "a Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "a Stripe live key": re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}"),
    # A keyword connection string (host=db user=app password=...) or a URL query; not a reference ($...).
    "a password= parameter": re.compile(r"\bpass(word|wd)=(?![$&;\s]|$)", re.IGNORECASE),
}
# scheme://user:password@host. A user without a password (postgres://app@db/app) passes, and so does a
# password that is only a reference the application expands itself ($DB_PASSWORD, ${DB_PASSWORD}).
_URL_PASSWORD = re.compile(r"\b(?P<scheme>[a-z][a-z0-9+.-]*)://[^/\s:@]*:(?P<password>[^/\s@]+)@", re.IGNORECASE)
_VARIABLE_REFERENCE = re.compile(r"^\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$")


def credential_shape(value: str) -> str | None:
    """What credential ``value`` holds (``"a password inside a postgres:// URL"``), or None."""
    for url in _URL_PASSWORD.finditer(value):
        if not _VARIABLE_REFERENCE.match(url["password"]):
            return f"a password inside a {url['scheme']}:// URL"
    return next((shape for shape, pattern in CREDENTIAL_SHAPES.items() if pattern.search(value)), None)


def secret_in_plain_sight(name: str, value: str) -> str | None:
    """What gives a plain (not secret) variable away as a credential, as the start of an error message:
    its name (``DB_PASSWORD``) or the shape of its value; None when neither. Callers say where it belongs."""
    if SECRET_NAME.search(name.replace("-", "_")):
        return "looks like a secret"
    shape = credential_shape(value)
    return None if shape is None else f"holds {shape}"
