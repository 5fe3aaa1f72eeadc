"""Load a mapping file: line-aware YAML -> JSON Schema -> pydantic -> semantic checks.

Every problem of a file is gathered before anything is raised, so an admin
sees them all at once, each with file, line, field and, for typos, the nearest
valid name. The semantic checks are those JSON Schema cannot express: unified
field paths exist on the entity, JMESPath expressions and Jinja2 templates
parse, transforms are registered, write targets are plain dotted paths and no
two rules write the same product field.
"""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ValidationError

from handoff_hub.hub.config.schema import (
    mapping_schema,
    nearest_hint,
    pydantic_issues,
    validate_document,
)
from handoff_hub.hub.config.yamlio import NodePath, YamlDocument, format_path, load_yaml
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.mapping.spec import (
    CUSTOM_PREFIX,
    CUSTOM_TYPES,
    EntityMap,
    FieldRule,
    MappingSpec,
    is_simple_path,
)
from handoff_hub.hub.mapping.transforms import known_transforms, template_error
from handoff_hub.hub.model import ENTITY_TYPES, Entity

__all__ = [
    "check_mapping",
    "custom_path_problem",
    "load_mapping",
    "spec_problems",
    "unified_path_problem",
]

Problem = tuple[NodePath, str, str | None]
"""Where (node path), what, and an optional hint."""


def load_mapping(path: str | Path) -> MappingSpec:
    """Load and validate one mapping file.

    Args:
        path: The mapping YAML.

    Returns:
        The validated spec.

    Raises:
        ConfigError: Listing every problem of the file.
    """
    spec, issues = check_mapping(path)
    if issues or spec is None:
        raise ConfigError(issues)
    return spec


def check_mapping(
    path: str | Path, *, _chain: tuple[Path, ...] = ()
) -> tuple[MappingSpec | None, list[Issue]]:
    """Load a mapping file, and the file it ``extends``, without raising.

    Returns:
        The spec (``None`` when it could not be built) and every issue found;
        an issue of an extended file names that file.
    """
    try:
        doc = load_yaml(path)
    except ConfigError as exc:
        return None, exc.issues
    issues = [
        *doc.issues,
        *validate_document(doc.data, mapping_schema(), file=doc.file, lines=doc.lines),
    ]
    if issues:
        return None, issues
    try:
        spec = MappingSpec.model_validate(doc.data)
    except ValidationError as exc:
        return None, pydantic_issues(exc, file=doc.file, lines=doc.lines)
    problems = [_issue(doc, p) for p in spec_problems(spec)]
    if problems:
        return None, problems
    _note_origins(doc, spec)
    if spec.extends is None:
        return spec, []
    return _extend(doc, spec, (*_chain, Path(path).resolve()))


def _extend(
    doc: YamlDocument, spec: MappingSpec, chain: tuple[Path, ...]
) -> tuple[MappingSpec | None, list[Issue]]:
    """``spec`` on top of the mapping it extends: its entities replace the base's."""
    assert spec.extends is not None
    where: NodePath = ("extends",)
    base_file = (chain[-1].parent / spec.extends).resolve()
    if base_file in chain:
        loop = " -> ".join(p.name for p in (*chain, base_file))
        return None, [
            _issue(doc, (where, f"mapping files extend each other in a loop: {loop}", None))
        ]
    if not base_file.is_file():
        hint = f"looked for {base_file}; the path is relative to this mapping file"
        return None, [_issue(doc, (where, f"extended mapping {spec.extends!r} not found", hint))]
    base, issues = check_mapping(base_file, _chain=chain)
    if base is None:
        return None, issues
    if base.system != spec.system:
        message = f"extends a {base.system!r} mapping but this one is for {spec.system!r}"
        return None, [_issue(doc, (("system",), message, None))]
    merged = base.model_copy(
        update={
            "extends": spec.extends,
            "description": spec.description or base.description,
            "entities": {**base.entities, **spec.entities},
        }
    )
    return merged, []


def _note_origins(doc: YamlDocument, spec: MappingSpec) -> None:
    """Each rule remembers its file and line, for checks across mappings (custom fields)."""
    for name, emap in spec.entities.items():
        for field in emap.fields:
            emap._origin[field] = (doc.file, doc.line(("entities", name, "fields", field)))


def _issue(doc: YamlDocument, problem: Problem) -> Issue:
    path, message, hint = problem
    return Issue(doc.file, doc.line(path), format_path(path), message, hint)


def spec_problems(spec: MappingSpec) -> list[Problem]:
    """The semantic problems of a spec, as ``(node path, message, hint)``."""
    problems: list[Problem] = []
    for name, emap in spec.entities.items():
        problems += _entity_problems(name, emap, ("entities", name))
    return problems


def _entity_problems(name: str, emap: EntityMap, at: NodePath) -> list[Problem]:
    problems: list[Problem] = [
        ((*at, key), msg, None)
        for key in ("id_path", "modified_path")
        if (msg := _jmespath_problem(getattr(emap, key))) is not None
    ]
    targets: dict[str, str] = {}
    for field, rule in emap.fields.items():
        where = (*at, "fields", field)
        if (
            emap.write_root
            and rule.writes
            and not str(rule.target).startswith((emap.write_root + ".", "_"))
        ):
            problems.append(
                (
                    (*where, "path"),
                    f"write target {rule.target!r} is not below write_root {emap.write_root!r}",
                    "set direction: read",
                )
            )
        found = unified_path_problem(name, field)
        if found is not None:
            problems.append((where, *found))
        problems += [((*where, *sub), msg, hint) for sub, msg, hint in _rule_problems(rule)]
        problems += [((*where, *sub), msg, hint) for sub, msg, hint in _type_problems(field, rule)]
        problems += _target_problem(rule, field, targets, where)
    for path in emap.constants:
        problems += _constant_problems(emap, path, targets, (*at, "constants", path))
    return problems


def _constant_problems(
    emap: EntityMap, path: str, targets: dict[str, str], where: NodePath
) -> list[Problem]:
    if not is_simple_path(path):
        return [(where, f"constant target {path!r} must be a plain dotted path (a.b.c)", None)]
    if emap.write_root and not path.startswith((emap.write_root + ".", "_")):
        return [
            (where, f"constant target {path!r} is not below write_root {emap.write_root!r}", None)
        ]
    if path in targets:
        return [(where, f"{path!r} is also written by {targets[path]!r}", "drop one of them")]
    return []


def _rule_problems(rule: FieldRule) -> list[Problem]:
    problems: list[Problem] = []
    if rule.path is None and rule.template is None and rule.default is None:
        problems.append(((), "needs a path, a template or a default", None))
    for key in ("path", "currency_path"):
        message = _jmespath_problem(getattr(rule, key))
        if message is not None:
            problems.append(((key,), message, None))
    if rule.template is not None and (message := template_error(rule.template)) is not None:
        problems.append((("template",), message, None))
    # An expression that does not parse is reported once, not again as a write target.
    broken = {where for where, _, _ in problems}
    problems += [p for p in _direction_problems(rule) if p[0] not in broken]
    if rule.transform is not None and rule.transform not in known_transforms():
        problems.append(
            (
                ("transform",),
                f"unknown transform {rule.transform!r}",
                nearest_hint(rule.transform, known_transforms()),
            )
        )
    if rule.type == "money" and not (rule.currency_path or rule.currency):
        problems.append((("type",), "money needs currency_path or currency", None))
    if rule.map_default is not None and rule.map is None:
        problems.append((("map_default",), "map_default without a map", None))
    return problems


def _type_problems(field: str, rule: FieldRule) -> list[Problem]:
    """A custom field declares its type; enum and user are custom types only."""
    custom = field.startswith(CUSTOM_PREFIX)
    hint = f"one of {', '.join(CUSTOM_TYPES)}"
    if custom and rule.type is None:
        return [((), f"custom field {field!r} needs a type", hint)]
    if custom and rule.type not in CUSTOM_TYPES:
        return [(("type",), f"a custom field's type is not {rule.type!r}", hint)]
    if not custom and rule.type in ("enum", "user"):
        return [(("type",), f"{rule.type} is a type of custom fields (custom.<name>) only", None)]
    if custom and rule.type == "user" and rule.writes and rule.reads and rule.write_to is None:
        return [
            (
                ("write_to",),
                "a user field reads an e-mail address and writes the product's user id: "
                "name the id field with write_to (Salesforce Lead__c, Jira "
                "fields.customfield_10062.accountId, HubSpot properties.<owner property>)",
                "or set direction: read",
            )
        ]
    if rule.values is not None and rule.type != "enum":
        return [(("values",), "values lists an enum's values; set type: enum", None)]
    if rule.separator is not None and rule.type != "list":
        return [(("separator",), "separator splits a list's text; set type: list", None)]
    if rule.type != "enum":
        return []
    return _enum_problems(rule)


def _enum_problems(rule: FieldRule) -> list[Problem]:
    if rule.map is None and rule.values is None:
        return [
            ((), "an enum needs its values: a map (product value: unified value) or values", None)
        ]
    if rule.map is None or rule.values is None:
        return []
    outside = sorted({str(v) for v in rule.map.values() if v is not None} - set(rule.values))
    if outside:
        return [(("map",), f"maps to {', '.join(outside)}, which values does not list", None)]
    return []


def _direction_problems(rule: FieldRule) -> list[Problem]:
    if rule.template is not None and rule.path is not None and rule.direction != "write":
        return [
            (
                ("direction",),
                "a template with a path renders the entity into that path; set direction: write",
                "for a read-only composed value, drop the path",
            )
        ]
    if rule.template is not None and rule.direction == "write" and rule.path is None:
        return [(("path",), "a write template needs a path to write to", None)]
    if rule.writes and rule.target is not None and not is_simple_path(rule.target):
        return [
            (
                ("write_to" if rule.write_to else "path",),
                f"write target {rule.target!r} must be a plain dotted path (a.b.c)",
                "set direction: read to only read this expression",
            )
        ]
    if rule.writes and rule.currency_path and not is_simple_path(rule.currency_path):
        return [
            (
                ("currency_path",),
                "a written money field needs a plain dotted currency_path",
                "set direction: read",
            )
        ]
    return []


def _target_problem(
    rule: FieldRule, field: str, targets: dict[str, str], where: NodePath
) -> list[Problem]:
    if not rule.writes or rule.target is None:
        return []
    other = targets.setdefault(rule.target, field)
    if other == field:
        return []
    return [
        (
            (*where, "path"),
            f"{rule.target!r} is also written by {other!r}",
            "set direction: read on one of them",
        )
    ]


def _jmespath_problem(expression: str | None) -> str | None:
    if expression is None:
        return None
    try:
        jmespath.compile(expression)
    except JMESPathError as exc:
        first = str(exc).splitlines()[0].rstrip(":")
        column = getattr(exc, "lex_position", None)
        where = f" at column {column}" if isinstance(column, int) else ""
        return f"{expression!r} is not a valid JMESPath expression{where}: {first}"
    return None


def unified_path_problem(entity_name: str, path: str) -> tuple[str, str | None] | None:
    """Why ``path`` is not a field of the unified entity, with a hint; ``None`` if it is.

    ``ref`` is allowed as the last segment under a nested entity (``account.ref``).
    """
    model: type[BaseModel] = ENTITY_TYPES[entity_name]
    parts = path.split(".")
    if parts[0] == "custom":
        return custom_path_problem(path)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "ref" and last and index > 0 and issubclass(model, Entity):
            return None
        if part == "ref":
            return (
                "'ref' is the id of a nested entity, e.g. account.ref",
                "the record's own id comes from id_path",
            )
        info = model.model_fields.get(part)
        if info is None:
            shown = ".".join(parts[:index]) or entity_name
            names = [*model.model_fields, *(["ref"] if index and issubclass(model, Entity) else [])]
            return f"{shown} has no field {part!r}", nearest_hint(part, names)
        nested = _nested_model(info.annotation)
        if not last:
            if nested is None:
                return f"{'.'.join(parts[: index + 1])} has no sub-fields", None
            model = nested
    return None


_CUSTOM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DICT_NAMES = frozenset(dir(dict))


def custom_path_problem(path: str) -> tuple[str, str | None] | None:
    """Why ``path`` is not a custom field path (``custom.<name>``); None when it is.

    A money field also offers ``custom.<name>.amount`` and ``.currency`` (filters compare them).
    """
    parts = path.split(".")
    hint = "custom fields are custom.<name>: lower case letters, digits and _"
    if len(parts) < 2 or not _CUSTOM_NAME.match(parts[1]) or parts[1] in _DICT_NAMES:
        return f"{path!r} is not a custom field name", hint
    if len(parts) > 3 or (len(parts) == 3 and parts[2] not in ("amount", "currency")):
        return f"{path!r}: a custom field has no sub-fields but a money's amount and currency", None
    return None


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) in {Union, types.UnionType}:
        found = [m for a in get_args(annotation) if (m := _nested_model(a)) is not None]
        return found[0] if found else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None
