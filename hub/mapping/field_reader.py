"""One field rule's read, worked out once: product record -> unified value.

The engine reads every field of every record; looking up what a rule asks
for (default, required, transform, map, type) on each read cost more than
the read itself. :func:`compile_field_reader` settles it once per rule and
returns a function that only does what that rule needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from handoff_hub.hub.errors import HubError, MappingError
from handoff_hub.hub.mapping.paths import Reader, compile_path
from handoff_hub.hub.mapping.transforms import Side, apply_transform, render_template
from handoff_hub.hub.mapping.values import ValueProblem, converter, map_key, to_decimal
from handoff_hub.hub.unicode_text import unpaired_surrogate

if TYPE_CHECKING:
    from handoff_hub.hub.mapping.spec import FieldRule

__all__ = [
    "MAX_TEXT_LENGTH",
    "MISSING",
    "FieldReader",
    "check_text",
    "compile_field_reader",
    "run_transform",
]

MISSING: Any = object()
"""What a field reader returns when the record gives the field no value."""
MAX_TEXT_LENGTH = 65_536
"""Longest text read into a unified field. Above the limit of every field the shipped
mappings read (Salesforce 32,000, Jira 32,767, HubSpot and Asana 65,536): a longer one is
a corrupt record, kept in the dead letters rather than carried into the other product."""

FieldReader = Callable[[Mapping[str, Any]], Any]
"""Product record -> the field's unified value, or :data:`MISSING`; raises ValueProblem."""


def compile_field_reader(rule: FieldRule) -> FieldReader:
    """The read of ``rule``: path (or template) -> transform -> map -> type.

    An empty source gives ``default`` (used as is) or, when ``required``, a
    ValueProblem; text longer than :data:`MAX_TEXT_LENGTH` is refused.
    """
    extract = _extractor(rule)
    if _blank_means_none(rule):
        extract = _blank_as_none(extract)
    finish = _finisher(rule)
    default, required = rule.default, rule.required
    if default is None and not required:
        if finish is None:

            def read_plain(raw: Mapping[str, Any]) -> Any:
                value = extract(raw)
                if value is None:
                    return MISSING
                if isinstance(value, str) and (len(value) > MAX_TEXT_LENGTH or not value.isascii()):
                    check_text(value)
                return value

            return read_plain

        def read_optional(raw: Mapping[str, Any]) -> Any:
            value = extract(raw)
            return MISSING if value is None else finish(value, raw)

        return read_optional

    def read(raw: Mapping[str, Any]) -> Any:
        value = extract(raw)
        if value is None or (required and isinstance(value, str) and not value.strip()):
            if default is not None:
                return default
            if required:
                raise ValueProblem("a value is required but the record has none", value)
            return MISSING
        if finish is not None:
            return finish(value, raw)
        if isinstance(value, str):
            check_text(value)
        return value

    return read


def _extractor(rule: FieldRule) -> Reader:
    template = rule.template
    if template is not None:

        def render(raw: Mapping[str, Any]) -> Any:
            try:
                return render_template(template, raw)
            except MappingError as exc:
                raise ValueProblem(str(exc)) from None

        return render
    if rule.path:
        return compile_path(rule.path)
    return _nothing


def _nothing(_raw: Any) -> None:
    return None


_TEXT_KINDS = frozenset({None, "string", "list"})


def _blank_means_none(rule: FieldRule) -> bool:
    """True when blank text in the record is no value: a typed field, or a map without ``""``.

    HubSpot sends ``""`` for a cleared property of any type (an amount, a date,
    an enumeration): that is an empty field, not a number that failed to parse.
    """
    if rule.type not in _TEXT_KINDS:
        return True
    return rule.map is not None and "" not in rule.map


def _blank_as_none(extract: Reader) -> Reader:
    def read(raw: Mapping[str, Any]) -> Any:
        value = extract(raw)
        return None if isinstance(value, str) and not value.strip() else value

    return read


def _finisher(rule: FieldRule) -> Callable[[Any, Mapping[str, Any]], Any] | None:
    """The steps after a value was found; None when the rule has none (a plain copy)."""
    transform = rule.transform
    value_map = _map_reader(rule) if rule.map is not None else None
    if value_map is not None and rule.type == "list":
        value_map = _each(value_map)
    split = _splitter(rule.separator) if rule.type == "list" and rule.separator else None
    kind = _kind_reader(rule)
    if transform is None and value_map is None and kind is None:
        return None

    def finish(value: Any, raw: Mapping[str, Any]) -> Any:
        if transform is not None:
            value = run_transform(transform, value, "read")
        if isinstance(value, str):
            check_text(value)
        if split is not None:
            value = split(value)
        if value_map is not None:
            value = value_map(value)
        if kind is not None and value is not None:
            value = kind(value, raw)
        return MISSING if value is None else value

    return finish


def _splitter(separator: str) -> Callable[[Any], Any]:
    """A multi-value text (``a;b;c``) as its values, each once; blank text is no value."""

    def split(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        items = [item.strip() for item in value.split(separator)]
        return list(dict.fromkeys(item for item in items if item)) or None

    return split


def _each(read_map: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A list's value map: each item mapped on its own."""

    def read_items(value: Any) -> Any:
        if isinstance(value, list):
            return [read_map(item) for item in value]
        return read_map(value)

    return read_items


def _map_reader(rule: FieldRule) -> Callable[[Any], Any]:
    """Product value -> unified value: the exact key, else the one key equal up to case and spaces.

    Real workspaces hold option names with stray spaces and other capitals
    (Asana's ``" High"``); an admin maps ``High``. Two keys that fold alike
    are ambiguous and match neither way.
    """
    mapping = dict(rule.map or {})
    fallback = rule.map_default
    listed = ", ".join(sorted(mapping))
    folded: dict[str, Any] = {}
    clashes: set[str] = set()
    for key, unified in mapping.items():
        fold = key.strip().casefold()
        if fold in folded and folded[fold] != unified:
            clashes.add(fold)
        folded[fold] = unified

    def read_map(value: Any) -> Any:
        key = map_key(value)
        if key in mapping:
            return mapping[key]
        fold = key.strip().casefold()
        if fold in folded and fold not in clashes:
            return folded[fold]
        if fallback is not None:
            return fallback
        raise ValueProblem(f"not in the value map (mapped: {listed})", value)

    return read_map


def _kind_reader(rule: FieldRule) -> Callable[[Any, Mapping[str, Any]], Any] | None:
    if rule.type == "money":
        currency_of = compile_path(rule.currency_path) if rule.currency_path else _nothing
        fixed = rule.currency

        def money(value: Any, raw: Mapping[str, Any]) -> Any:
            found = currency_of(raw)
            currency = str(found).strip() if found is not None else ""
            return {"amount": to_decimal(value), "currency": currency or fixed or None}

        return money
    convert = converter(rule.type)
    if convert is None:
        return None
    allowed = rule.enum_values() if rule.type == "enum" and rule.values is not None else None
    if allowed is not None:
        return _enum_reader(allowed)
    return lambda value, _raw: convert(value)


def _enum_reader(allowed: list[str]) -> Callable[[Any, Mapping[str, Any]], Any]:
    """An enum's value, refused when it is not one of ``allowed``."""
    known = frozenset(allowed)
    listed = ", ".join(allowed)

    def enum(value: Any, _raw: Mapping[str, Any]) -> Any:
        text = map_key(value)
        if text not in known:
            raise ValueProblem(f"not one of the enum's values ({listed})", value)
        return text

    return enum


def check_text(value: str) -> None:
    r"""Refuse text no product can hold: too long, or with an unpaired surrogate.

    A JSON body may carry ``"\ud83d"`` alone; decoded, that is a string UTF-8
    cannot encode, which would fail deep in a write, a query or the store.

    Raises:
        ValueProblem: naming what is wrong with the text.
    """
    if len(value) > MAX_TEXT_LENGTH:
        raise ValueProblem(
            f"text of {len(value):,} characters is longer than the {MAX_TEXT_LENGTH:,} "
            "the hub reads",
            value,
        )
    if (found := unpaired_surrogate(value)) is not None:
        raise ValueProblem(
            f"text holds an unpaired surrogate (U+{ord(found):04X}), which no product can store",
            value,
        )


def run_transform(name: str, value: Any, side: Side) -> Any:
    """Apply a registered transform; its failure becomes a ValueProblem."""
    try:
        return apply_transform(name, value, side)
    except HubError as exc:
        raise ValueProblem(str(exc), value) from None
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ValueProblem(f"transform {name!r} failed: {exc}", value) from None
