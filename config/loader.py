"""Read environment files and turn every problem into ``file: field.path = value: what is allowed``."""

from __future__ import annotations

import math
import tomllib
import types
import typing
from collections.abc import Iterable
from pathlib import Path as FsPath
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .errors import ConfigError, FieldError, Path, format_path
from .schema import EnvironmentConfig, problems_across_tables, valid_tables

ROOT = FsPath(__file__).resolve().parent.parent
ENVIRONMENTS_DIR = ROOT / "environments"
EXAMPLES_DIR = ROOT / "examples"


def environment_files(directory: FsPath = ENVIRONMENTS_DIR) -> list[FsPath]:
    """Every ``*.toml`` environment file, sorted by name."""
    return sorted(directory.glob("*.toml"))


def example_files(directory: FsPath = EXAMPLES_DIR) -> list[FsPath]:
    """Complete example environments (``examples/<name>/<env>.toml``), synthesized along with the real ones."""
    return sorted(directory.glob("*/*.toml"))


def load_environment(path: FsPath) -> EnvironmentConfig:
    """Parse and validate one environment file, or raise ConfigError listing every problem."""
    shown = _display(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a UTF-8 byte-order mark is harmless
        data = tomllib.loads(text)
    except UnicodeDecodeError as error:
        raise ConfigError(
            shown, [f"is not UTF-8 text: byte {error.object[error.start]:#04x} at offset {error.start}"]
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(shown, [f"is not valid TOML: {error}"]) from None
    except ValueError:  # tomllib reads decimal integers with int(), which refuses more than 4300 digits
        raise ConfigError(
            shown, ["holds an integer of more than 4300 digits: no setting takes a number beyond 64 bits"]
        ) from None
    except RecursionError:
        raise ConfigError(shown, ["nests tables or arrays too deeply to be an environment file"]) from None
    except IsADirectoryError:
        raise ConfigError(shown, ["is a directory, not an environment file"]) from None
    except FileNotFoundError:
        raise ConfigError(shown, ["cannot be read: it does not exist (a dangling symlink?)"]) from None
    except OSError as error:
        raise ConfigError(shown, [f"cannot be read: {error.strerror or error}"]) from None
    try:
        return parse_environment(data, source=shown, expected_name=path.stem)
    except RecursionError:
        raise ConfigError(shown, ["nests tables or arrays too deeply to be an environment file"]) from None


def parse_environment(data: dict[str, Any], *, source: str, expected_name: str | None = None) -> EnvironmentConfig:
    """Validate already-parsed data; ``source`` names the file in error messages.

    Every problem is reported in one go. pydantic validates each table on its own and reports all
    their errors, but runs the checks across tables only when every table is valid: when some table
    is not, the checks whose tables all are run here, on those tables alone.
    """
    huge: dict[Path, int] = {}
    data = _without_huge_numbers(data, (), huge)
    lines = [_describe_huge(path, value) for path, value in huge.items()]
    failed: set[Any] = {path[0] for path in huge}
    config: EnvironmentConfig | None = None
    try:
        config = EnvironmentConfig.model_validate(data)
    except ValidationError as error:
        items = error.errors()
        failed |= {item["loc"][0] for item in items if item["loc"]}
        lines += [_describe(item) for item in items if not _replaced(item["loc"], huge)]
        if all(item["loc"] for item in items):  # some table failed: the checks across tables did not run
            lines += [_describe_problem(problem) for problem in problems_across_tables(valid_tables(data, failed))]
    name = data.get("environment")
    if expected_name is not None and isinstance(name, str) and "environment" not in failed and name != expected_name:
        lines.append(
            f"environment = {name!r}: must match the file name ({expected_name!r}), so one file is one environment"
        )
    if lines or config is None:
        raise ConfigError(source, lines)
    return config


def load_environments(paths: Iterable[FsPath]) -> list[EnvironmentConfig]:
    """Load several files; report the problems of all of them at once, before anything is built."""
    configs: list[EnvironmentConfig] = []
    problems: list[ConfigError] = []
    for path in paths:
        try:
            configs.append(load_environment(path))
        except ConfigError as error:
            problems.append(error)
    if problems:
        raise ConfigError.combine(problems)
    names = [c.stack_name for c in configs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError("environments", [f"stack name {d!r} is defined by more than one file" for d in duplicates])
    return configs


def _display(path: FsPath) -> str:
    try:
        return str(path.resolve().relative_to(FsPath.cwd()))
    except ValueError:
        return str(path)


# No setting takes a number beyond 64 bits: Terraform and the AWS APIs would round or overflow it. Such
# a number is reported before validation (a validator that prints it could fail on one of thousands of
# digits) and stands in as an invalid value meanwhile, so its table counts as failed.
_INT64 = 2**63
_TOO_LARGE = object()


def _without_huge_numbers(node: Any, path: Path, found: dict[Path, int]) -> Any:
    """``node`` with every integer beyond 64 bits in an integer setting replaced; those go in ``found``."""
    if isinstance(node, dict):
        return {key: _without_huge_numbers(value, (*path, key), found) for key, value in node.items()}
    if isinstance(node, list):
        return [_without_huge_numbers(value, (*path, index), found) for index, value in enumerate(node)]
    if isinstance(node, int) and not isinstance(node, bool) and not -_INT64 <= node < _INT64:
        field = _field_info(EnvironmentConfig, path) if path else None
        if field is not None and _unwrap(field.annotation) is int:
            found[path] = node
            return _TOO_LARGE
    return node


def _describe_huge(path: Path, value: int) -> str:
    low, high = _bounds(path)
    if low is None and high is None:
        allowed = f"must fit in 64 bits (between {-_INT64} and {_INT64 - 1}), and this setting allows far less"
    else:
        allowed = _bounds_message(path, _shown(value))
    return f"{format_path(path)} = {_shown(value)}: {allowed}"


def _replaced(loc: Any, huge: dict[Path, int]) -> bool:
    """Whether pydantic's error at ``loc`` is about a number already reported as beyond 64 bits."""
    clean = _clean_loc(EnvironmentConfig, tuple(loc))
    return any(clean[: len(path)] == path for path in huge)


def _shown(value: Any) -> str:
    """``repr(value)``; a number of thousands of digits is shown by its length (printing it could fail)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        return f"<a {math.floor(math.log10(abs(value))) + 1}-digit number>"
    return repr(value)


def _describe_problem(problem: FieldError) -> str:
    """One line for a problem found outside pydantic (its path is from the top of the file)."""
    return _describe({"type": "value_error", "loc": (), "input": None, "ctx": {"error": problem}})


def _describe(item: Any) -> str:
    """One line for one pydantic error: path, value and what is allowed."""
    loc: Path = tuple(item["loc"])
    value = item.get("input")
    original = (item.get("ctx") or {}).get("error")
    if isinstance(original, FieldError):
        loc = loc + original.path
        value = original.value if original.path or original.value is not None else value
        message = original.message
    else:
        message = _pydantic_message(item, loc)
    path = format_path(_clean_loc(EnvironmentConfig, loc))
    shown_value = "" if item["type"] == "missing" else f" = {_shown(value)}"
    return f"{path}{shown_value}: {message}"


# pydantic's own wording for a type mismatch, in the project's voice ("must be ...").
_TYPE_MESSAGES = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
}


def _pydantic_message(item: Any, loc: Path) -> str:
    """pydantic's message for a built-in check, rewritten to say what is allowed the way every
    project check does (file, field path, value: must be ...)."""
    kind = item["type"]
    ctx = item.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = _allowed_keys(EnvironmentConfig, loc[:-1])
        return f"unknown key; allowed keys here: {', '.join(allowed)}"
    if kind == "missing":
        return "is required"
    if kind == "union_tag_invalid":
        return f"unknown type; allowed: {ctx['expected_tags']}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return _bounds_message(loc, item.get("input"))
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind in ("too_short", "too_long"):
        field = "at least" if kind == "too_short" else "at most"
        limit = ctx.get("min_length" if kind == "too_short" else "max_length")
        return f"must have {field} {limit} item(s)"
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    message: str = item["msg"]
    return message.removeprefix("Value error, ")


def _bounds_message(loc: Path, value: Any) -> str:
    """``must be between <low> and <high>, got <value>`` from the field's own ``ge``/``le`` bounds."""
    low, high = _bounds(loc)
    if low is not None and high is not None:
        return f"must be between {low} and {high}, got {value}"
    if low is not None:
        return f"must be at least {low}, got {value}"
    return f"must be at most {high}, got {value}"


def _bounds(loc: Path) -> tuple[Any, Any]:
    """The lowest and highest value the field at ``loc`` allows (None where it sets no bound)."""
    low = high = None
    field = _field_info(EnvironmentConfig, loc)
    for constraint in field.metadata if field is not None else ():
        low = getattr(constraint, "ge", low)
        high = getattr(constraint, "le", high)
        if getattr(constraint, "gt", None) is not None:
            low = f"more than {constraint.gt}"
        if getattr(constraint, "lt", None) is not None:
            high = f"less than {constraint.lt}"
    return low, high


def _field_info(model: Any, loc: Path) -> Any:
    """The pydantic FieldInfo at ``loc`` (None when ``loc`` ends inside a container)."""
    parent = _unwrap(_walk(model, loc[:-1])[1]) if loc[:-1] else model
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        return parent.model_fields.get(str(loc[-1]))
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated/Optional so we can walk into the model or container underneath."""
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return options if len(options) > 1 else _unwrap(options[0])
    return annotation


def _walk(model: Any, loc: Path) -> tuple[Path, Any]:
    """Follow ``loc`` through the schema; drop discriminator tags pydantic inserts for unions."""
    clean: list[str | int] = []
    current: Any = model
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        target = _unwrap(current)
        if isinstance(target, list):  # discriminated union: pydantic put the tag in the path
            current = next((m for m in target if _tag(m) == part), None)
            continue
        clean.append(part)
        if isinstance(target, type) and issubclass(target, BaseModel):
            field = target.model_fields.get(str(part))
            current = field.annotation if field else None
        elif get_origin(target) in (list, dict):
            current = get_args(target)[-1]
        else:
            current = None
    return tuple(clean), current


def _tag(member: Any) -> Any:
    """The ``type`` literal that selects ``member`` in a discriminated union (None for other members)."""
    if not (isinstance(member, type) and issubclass(member, BaseModel) and "type" in member.model_fields):
        return None
    return get_args(member.model_fields["type"].annotation)[0]


def _clean_loc(model: Any, loc: Path) -> Path:
    return _walk(model, loc)[0]


def _allowed_keys(model: Any, loc: Path) -> list[str]:
    target = _unwrap(_walk(model, loc)[1])
    if isinstance(target, type) and issubclass(target, BaseModel):
        return list(target.model_fields)
    return []
