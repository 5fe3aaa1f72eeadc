"""JSON Schemas of the YAML files, generated from the pydantic models, and validation.

The pydantic models are the single source of truth: ``MappingSpec`` gives
``mappings/mapping.schema.json`` and ``HubConfig`` gives
``mappings/hub-config.schema.json``. Validation uses the schemas generated in
memory, so it can never drift from the models; the files on disk are for
editors (yaml-language-server) and a test keeps them in sync::

    python -m handoff_hub.hub.config.schema --write    # regenerate the files
    python -m handoff_hub.hub.config.schema --check    # exit 1 when they are out of date

:func:`validate_document` reports every error at once, each with file, line,
dotted field and, for typos, the nearest valid name.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError as SchemaError
from pydantic import ValidationError

from handoff_hub.hub.bundled import mappings_dir
from handoff_hub.hub.config.yamlio import NodePath, format_path, line_of
from handoff_hub.hub.errors import Issue

__all__ = [
    "SCHEMA_FILES",
    "did_you_mean",
    "hub_config_schema",
    "main",
    "mapping_schema",
    "nearest_hint",
    "pydantic_issues",
    "render_schema",
    "schema_dir",
    "stale_schemas",
    "validate_document",
    "write_schemas",
    "yaml_text_hint",
]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


@cache
def mapping_schema() -> dict[str, Any]:
    """The JSON Schema of a mapping file (from :class:`hub.mapping.spec.MappingSpec`)."""
    from handoff_hub.hub.mapping.spec import MappingSpec  # lazy: keeps this module light

    schema = MappingSpec.model_json_schema()
    return {"$schema": _DIALECT, **schema, "title": "Handoff Hub mapping file"}


def hub_config_schema(
    connectors: Iterable[str] | None = None, *, models_of: Iterable[str] | None = None
) -> dict[str, Any]:
    """The JSON Schema of a hub config file (from :class:`hub.config.root.HubConfig`).

    Args:
        connectors: Connectors whose settings and webhook models it carries
            (:mod:`hub.config.connector_schema`); ``None``: every installed one.
        models_of: Only these of ``connectors`` bring their models (the ones a
            config names: loading a config imports no other connector); the
            rest are only named for completion. ``None``: all of them.
    """
    if connectors is None:
        from handoff_hub.hub.registry import known_connectors  # lazy: entry points

        connectors = known_connectors()
    names = tuple(sorted(connectors))
    wanted = names if models_of is None else tuple(sorted(set(models_of) & set(names)))
    return _hub_config_schema(names, wanted)


@cache
def _hub_config_schema(connectors: tuple[str, ...], with_models: tuple[str, ...]) -> dict[str, Any]:
    from handoff_hub.hub.config.connector_schema import add_connector_models, installed_models
    from handoff_hub.hub.config.root import HubConfig  # lazy: the config models use this module

    schema = HubConfig.model_json_schema()
    add_connector_models(schema, installed_models(with_models), names=connectors)
    return {"$schema": _DIALECT, **schema, "title": "Handoff Hub config file"}


SCHEMA_FILES: dict[str, Callable[[], dict[str, Any]]] = {
    "mapping.schema.json": mapping_schema,
    "hub-config.schema.json": hub_config_schema,
}


def schema_dir() -> Path:
    """The ``mappings/`` folder, where the schema files live (package data)."""
    return mappings_dir()


def render_schema(schema: Mapping[str, Any]) -> str:
    """A schema as committed: sorted keys, indent 2, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path | None = None) -> list[Path]:
    """Write both schema files.

    Returns:
        The paths written.
    """
    folder = directory or schema_dir()
    written = []
    for name, build in SCHEMA_FILES.items():
        path = folder / name
        path.write_text(render_schema(build()), encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(directory: Path | None = None) -> list[Path]:
    """The schema files that are missing or differ from the models."""
    folder = directory or schema_dir()
    stale = []
    for name, build in SCHEMA_FILES.items():
        path = folder / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != render_schema(build()):
            stale.append(path)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--write`` regenerates the schema files, ``--check`` verifies them.

    Returns:
        The exit code: 1 when ``--check`` finds a stale file, else 0.
    """
    parser = argparse.ArgumentParser(
        prog="python -m handoff_hub.hub.config.schema",
        description="Write or check the JSON Schema files.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="write the schema files")
    action.add_argument("--check", action="store_true", help="exit 1 if they are out of date")
    parser.add_argument("--dir", type=Path, default=None, help="folder (default: mappings/)")
    args = parser.parse_args(argv)
    if args.write:
        for path in write_schemas(args.dir):
            print(f"wrote {path}")
        return 0
    stale = stale_schemas(args.dir)
    for path in stale:
        hint = "python -m handoff_hub.hub.config.schema --write"
        print(f"out of date: {path} (run: {hint})", file=sys.stderr)
    return 1 if stale else 0


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """``did you mean 'x'?`` for the closest known name, or ``None`` when none is close."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.5)
    return f"did you mean {close[0]!r}?" if close else None


def nearest_hint(name: str, known: Iterable[str]) -> str:
    """:func:`did_you_mean`, else the list of known names."""
    names = sorted(known)
    return did_you_mean(name, names) or f"known: {', '.join(names) or 'none'}"


# Validation ---------------------------------------------------------------------------


def _is_text(_checker: object, instance: object) -> bool:
    """YAML reads an unquoted ``2026-12-01`` as a date: to the schema it is the text it was."""
    return isinstance(instance, str | dt.date)


_YamlValidator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("string", _is_text),
)


@cache
def _validator(schema_json: str) -> Draft202012Validator:
    validator: Draft202012Validator = _YamlValidator(json.loads(schema_json))
    return validator


def validate_document(
    data: Any,
    schema: Mapping[str, Any],
    *,
    file: str,
    lines: Mapping[NodePath, int],
    conceal: Callable[[NodePath], str | None] | None = None,
) -> list[Issue]:
    """Every JSON Schema error of ``data``, as issues with file, line and field.

    Args:
        data: The parsed YAML document.
        schema: The JSON Schema to check against.
        file: File name for the issues.
        lines: Node path -> line, from :mod:`handoff_hub.hub.config.yamlio`.
        conceal: For a node whose value must never be shown (a secret pasted where
            its reference belongs), the hint to give instead; ``None`` for the others.

    Returns:
        One issue per problem, ordered by line; empty when the document is valid.
    """
    validator = _validator(json.dumps(schema, sort_keys=True))
    issues: list[Issue] = []
    for error in validator.iter_errors(data):
        issues += _error_issues(error, _Where(file, lines, conceal))
    return _ordered(issues)


def pydantic_issues(
    exc: ValidationError, *, file: str, lines: Mapping[NodePath, int], prefix: NodePath = ()
) -> list[Issue]:
    """The errors of a pydantic ``ValidationError`` as issues with file and line."""
    where = _Where(file, lines)
    issues = []
    for error in exc.errors():
        path = (*prefix, *(p for p in error["loc"] if p != "[key]"))
        issues.append(where.issue(path, error["msg"]))
    return _ordered(issues)


class _Where:
    """File and line lookup shared by the error converters."""

    def __init__(
        self,
        file: str,
        lines: Mapping[NodePath, int],
        conceal: Callable[[NodePath], str | None] | None = None,
    ) -> None:
        self.file = file
        self.lines = lines
        self.conceal = conceal

    def hidden(self, path: NodePath) -> bool:
        """True when the value at ``path`` must not appear in a message."""
        return self.conceal is not None and self.conceal(path) is not None

    def issue(self, path: NodePath, message: str, hint: str | None = None) -> Issue:
        if hint is None and self.conceal is not None:
            hint = self.conceal(path)
        return Issue(self.file, line_of(self.lines, path), format_path(path), message, hint)


def _error_issues(error: SchemaError, where: _Where) -> list[Issue]:
    path: NodePath = tuple(error.absolute_path)
    kind = error.validator
    if "propertyNames" in error.absolute_schema_path:
        return [_enum_issue(error, (*path, str(error.instance)), where)]
    if kind == "additionalProperties" and isinstance(error.instance, Mapping):
        return _extra_issues(error, path, where)
    if kind in {"anyOf", "oneOf"} and error.context:
        return _union_issues(error, where)
    if kind == "required" and isinstance(error.instance, Mapping):
        return _required_issues(error, path, where)
    if kind == "enum":
        return [_enum_issue(error, path, where)]
    hidden = where.hidden(path)
    hint = yaml_text_hint(error.instance) if kind == "type" and _wants_text(error) else None
    return [where.issue(path, _message(error, hidden=hidden), None if hidden else hint)]


def yaml_text_hint(value: Any) -> str | None:
    """Why YAML made a number or boolean of what was meant as text: ``NO``, ``61.10``."""
    if isinstance(value, bool):
        return "YAML reads yes, no, on, off, true and false as booleans: quote it to keep it text"
    if isinstance(value, int | float):
        return f"YAML read this as the number {value!r}: quote it to keep it text"
    return None


def _wants_text(error: SchemaError) -> bool:
    expected = error.validator_value
    return expected == "string" or (isinstance(expected, list) and "string" in expected)


def _extra_issues(error: SchemaError, path: NodePath, where: _Where) -> list[Issue]:
    schema: Any = error.schema
    instance: Any = error.instance
    allowed = sorted(schema.get("properties", {}))
    extras = [k for k in instance if k not in allowed]
    issues = []
    for key in extras:
        close = _misspelt(str(key), allowed)
        hint = f"did you mean {close!r}?" if close else f"allowed: {', '.join(allowed)}"
        issues.append(where.issue((*path, key), f"unknown field {key!r}", hint))
    return issues


def _required_issues(error: SchemaError, path: NodePath, where: _Where) -> list[Issue]:
    required: Any = error.validator_value
    schema: Any = error.schema
    instance: Any = error.instance
    extras = [str(k) for k in instance if k not in schema.get("properties", {})]
    # A misspelt required key is reported once, as the unknown key with its hint.
    return [
        where.issue((*path, name), "is required")
        for name in required
        if name not in instance and not any(_misspelt(extra, [name]) for extra in extras)
    ]


def _misspelt(name: str, known: Sequence[str]) -> str | None:
    """The known name ``name`` is likely a misspelling of: close, or one starting the other."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return close[0]
    lowered = name.lower()
    stems = [k for k in known if min(len(k), len(name)) >= 3]
    found = [k for k in stems if lowered.startswith(k.lower()) or k.lower().startswith(lowered)]
    return found[0] if len(found) == 1 else None


def _enum_issue(error: SchemaError, path: NodePath, where: _Where) -> Issue:
    values: Any = error.validator_value
    options = [str(v) for v in values]
    if where.hidden(path):
        return where.issue(path, f"is not one of: {', '.join(options)}")
    close = difflib.get_close_matches(str(error.instance), options, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}?" if close else None
    return where.issue(path, f"{error.instance!r} is not one of: {', '.join(options)}", hint)


def _union_issues(error: SchemaError, where: _Where) -> list[Issue]:
    branches: dict[Any, list[SchemaError]] = defaultdict(list)
    for sub in error.context or []:
        branches[sub.relative_schema_path[0]].append(sub)
    fitting = [errs for errs in branches.values() if not any(_root_type(e) for e in errs)]
    # One branch fits the value's type (a section or null): every problem of it, not only
    # its unknown keys, so an unknown key never hides a bad value beside it.
    if len(fitting) > 1 and (unknown := _unknown_in_every_branch(error, fitting, where)):
        return unknown
    if fitting:
        return [i for sub in min(fitting, key=len) for i in _error_issues(sub, where)]
    expected = [_type_names(e.validator_value) for e in error.context or [] if _root_type(e)]
    path = tuple(error.absolute_path)
    got = _describe(error.instance, hidden=where.hidden(path))
    message = f"expected {' or '.join(dict.fromkeys(expected))}, got {got}"
    return [where.issue(path, message)]


def _unknown_in_every_branch(
    error: SchemaError, fitting: list[list[SchemaError]], where: _Where
) -> list[Issue]:
    """Keys no object branch allows ({vault: x} for {env: VAR} | {prefect_secret: NAME}).

    Reported once each, with every branch's keys as the choice, instead of one
    branch's "unknown field" and "is required" pair.
    """
    instance: Any = error.instance
    root = [[e for e in errs if not e.relative_path] for errs in fitting]
    if not isinstance(instance, Mapping) or not all(
        any(e.validator == "additionalProperties" for e in errs) for errs in root
    ):
        return []
    schemas: list[Any] = [e.schema for errs in root for e in errs]
    allowed = sorted({str(k) for schema in schemas for k in schema.get("properties", {})})
    path: NodePath = tuple(error.absolute_path)
    issues = []
    for key in (k for k in instance if str(k) not in allowed):
        close = _misspelt(str(key), allowed)
        hint = f"did you mean {close!r}?" if close else f"allowed: {', '.join(allowed)}"
        issues.append(where.issue((*path, key), f"unknown field {key!r}", hint))
    return issues


def _root_type(error: SchemaError) -> bool:
    return error.validator in {"type", "const"} and not error.relative_path


def _type_names(value: Any) -> str:
    return " or ".join(value) if isinstance(value, list) else str(value)


def _message(error: SchemaError, *, hidden: bool = False) -> str:
    kind, value = error.validator, error.validator_value
    if kind == "type":
        return f"expected {_type_names(value)}, got {_describe(error.instance, hidden=hidden)}"
    if kind == "const":
        return f"must be {value!r}, got {_describe(error.instance, hidden=hidden)}"
    if kind == "pattern":
        shown = "the value" if hidden else repr(error.instance)
        return f"{shown} does not match the pattern {value}"
    if kind == "maxLength" and isinstance(error.instance, str):
        return f"is {len(error.instance):,} characters long; the limit is {value:,}"
    if hidden:
        return f"the value is not valid here ({kind} {value!r})"
    return str(error.message)


def _describe(value: Any, *, hidden: bool = False) -> str:
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    if value is None or isinstance(value, Mapping | list) or hidden:
        return kind
    text = repr(value)
    return f"{kind} {text if len(text) <= 60 else text[:57] + '...'}"


def _ordered(issues: list[Issue]) -> list[Issue]:
    unique = dict.fromkeys(issues)
    return sorted(unique, key=lambda i: (i.file, i.line or 0, i.field))


if __name__ == "__main__":
    raise SystemExit(main())
