"""Compiled JMESPath readers, with a fast path for the paths mappings mostly hold.

Nearly every mapping path is a chain of field names (``Account.Name``,
``fields.summary``, ``_stage.outcome``), sometimes joined by ``||``/``&&``.
jmespath's tree interpreter spends ~6 µs on each such search; walking the
keys directly gives the same answer in well under 1 µs. Any other
expression (filters, projections, functions, indexes) is searched by jmespath
itself, so the answers never differ.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import jmespath

__all__ = ["Reader", "compile_path"]

Reader = Callable[[Any], Any]


def _is_false(value: Any) -> bool:
    """JMESPath falsiness (``0`` is true, unlike Python's)."""
    return value == "" or value == [] or value == {} or value is None or value is False


def _field(key: str) -> Reader:
    def read(value: Any) -> Any:
        try:
            return value.get(key)
        except AttributeError:
            return None

    return read


def _keys(keys: tuple[str, ...]) -> Reader:
    """``a.b.c``: one loop over the keys, not a call per step."""

    def read(value: Any) -> Any:
        for key in keys:
            try:
                value = value.get(key)
            except AttributeError:
                return None
            if value is None:
                return None
        return value

    return read


def _field_names(node: dict[str, Any]) -> list[str] | None:
    """The names of a chain made of field names only (``a.b.c``), else None."""
    kind = node.get("type")
    if kind == "field":
        return [str(node["value"])]
    if kind != "subexpression":
        return None
    names: list[str] = []
    for child in node.get("children", []):
        found = _field_names(child)
        if found is None:
            return None
        names.extend(found)
    return names


def _chain(readers: list[Reader]) -> Reader:
    def read(value: Any) -> Any:
        for step in readers:
            value = step(value)
            if value is None:
                return None
        return value

    return read


def _either(left: Reader, right: Reader) -> Reader:
    def read(value: Any) -> Any:
        found = left(value)
        return right(value) if _is_false(found) else found

    return read


def _both(left: Reader, right: Reader) -> Reader:
    def read(value: Any) -> Any:
        found = left(value)
        return found if _is_false(found) else right(value)

    return read


def _fast(node: dict[str, Any]) -> Reader | None:
    """A direct reader for field chains and their ``||``/``&&``; None for anything else."""
    kind = node.get("type")
    names = _field_names(node)
    if names is not None:
        return _field(names[0]) if len(names) == 1 else _keys(tuple(names))
    if kind == "literal":
        constant = node["value"]
        return lambda _value: constant
    children = [_fast(child) for child in node.get("children", [])]
    if any(child is None for child in children):
        return None
    readers = [c for c in children if c is not None]
    if kind == "subexpression":
        return _chain(readers)
    if kind == "or_expression" and len(readers) == 2:
        return _either(readers[0], readers[1])
    if kind == "and_expression" and len(readers) == 2:
        return _both(readers[0], readers[1])
    return None


@lru_cache(maxsize=1024)
def compile_path(path: str) -> Reader:
    """A function reading ``path`` from a record, as ``jmespath.search`` would.

    Raises:
        jmespath.exceptions.ParseError: ``path`` is not a JMESPath expression.
    """
    expression = jmespath.compile(path)
    return _fast(expression.parsed) or expression.search
