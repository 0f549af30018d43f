"""Errors raised while loading environment config, formatted for the person who wrote the file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

Path = tuple[str | int, ...]


class FieldError(ValueError):
    """A validation failure that knows which sub-field and value it is about.

    Raised inside pydantic validators. ``path`` is relative to the model the validator runs on,
    so a model-level check (e.g. "subnet overlaps another") can point at the exact list item.
    """

    def __init__(self, message: str, *, path: Path = (), value: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.value = value


class ConfigError(Exception):
    """One or more problems in one environment file; ``str()`` gives one line per problem."""

    def __init__(self, file: str, problems: Sequence[str]) -> None:
        self.lines = [f"{file}: {problem}" for problem in problems]
        super().__init__("\n".join(self.lines))

    @classmethod
    def combine(cls, errors: Sequence[ConfigError]) -> ConfigError:
        """One error carrying the lines of several files' errors."""
        combined = cls("", [])
        combined.lines = [line for error in errors for line in error.lines]
        combined.args = ("\n".join(combined.lines),)
        return combined


def format_path(path: Path) -> str:
    """Render a field path the way it is written in TOML: ``services.movie-service.port``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


def raise_all(problems: Sequence[FieldError]) -> None:
    """Raise every problem in ``problems`` at once, each as its own error line (pydantic keeps the
    lines of a ValidationError raised inside a validator); nothing when there is none."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ValidationError.from_exception_data(
            "problems",
            [{"type": "value_error", "loc": (), "input": p.value, "ctx": {"error": p}} for p in problems],
        )
