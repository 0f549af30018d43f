"""Find literal secrets (passwords, tokens, keys) in synthesized JSON, config files and logs.

Two kinds of finding:
- a value stored under a secret-ish key (``password``, ``auth_token``, ``secret_string``...) that is
  a literal, not a Terraform reference (``${...}``) or an ARN;
- a value anywhere that looks like a credential whatever its key: AWS access keys, private-key
  blocks, GitHub/Slack tokens, JWTs, passwords inside connection URLs.
Used by the secrets gate in tests/test_gates.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from config.credentials import credential_shape

SECRET_KEY = re.compile(r"passw(or)?d|secret|token|api_?key|private_?key|access_?key|credential", re.IGNORECASE)
# Keys that name a secret's id, ARN, key, kind or length (master_user_secret_kms_key_id,
# client_password_auth_type, password_length), not its value.
REFERENCE_KEY = re.compile(
    r"(_id|_arn|_arns|_type|_scheme|_length|_name|_names|_policy|_mode|_strategy)$", re.IGNORECASE
)
# A value that starts with a Terraform reference (``${aws_...secret_arn}:password::``) or an ARN
# names a secret; it does not hold one.
SAFE_VALUE = re.compile(r"^(\$\{.*|arn:aws[a-z-]*:.*|true|false|)$", re.DOTALL)


def scan_value(text: str) -> Iterator[str]:
    """Credential-shaped substrings of ``text``, whatever key holds it."""
    shape = credential_shape(text)
    if shape is not None:
        yield shape


def scan_document(node: Any, path: str = "") -> Iterator[str]:
    """Every finding in a JSON-like document, as ``path: what``."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            secret_key = bool(SECRET_KEY.search(str(key))) and not REFERENCE_KEY.search(str(key))
            literal = isinstance(value, str | int | float) and not isinstance(value, bool)
            if secret_key and literal and not SAFE_VALUE.match(str(value)):
                yield f"{here}: literal value under a secret-like key"
            yield from scan_document(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from scan_document(value, f"{path}[{index}]")
    elif isinstance(node, str):
        for kind in scan_value(node):
            yield f"{path}: looks like {kind}"


def scan_text(text: str, source: str) -> Iterator[str]:
    """Findings in plain text (logs, TOML): credential shapes and ``secret-ish = literal`` lines."""
    assignment = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*[=:]\s*\"?([^\"#\n]*)\"?", re.MULTILINE)
    for match in assignment.finditer(text):
        key, value = match.group(1), match.group(2).strip()
        if SECRET_KEY.search(key) and not REFERENCE_KEY.search(key) and not SAFE_VALUE.match(value):
            line = text.count("\n", 0, match.start()) + 1
            yield f"{source}:{line}: {key} has a literal value"
    for number, content in enumerate(text.splitlines(), start=1):
        for kind in scan_value(content):
            yield f"{source}:{number}: looks like {kind}"
