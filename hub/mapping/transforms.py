"""Named value transforms and the sandboxed Jinja2 environment of mappings.

Mapping files reference custom logic only by registered name (``transform:
adf``), never by an import path or ``eval``. A transform has a read side
(product value -> unified value) and a write side (unified -> product); a side
left out passes the value through. Templates render in the bounded Jinja2
sandbox of :mod:`handoff_hub.hub.mapping.templating`; its :func:`render_template` and
:func:`template_error` are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from handoff_hub.hub.errors import RegistryError
from handoff_hub.hub.mapping.templating import render_template, template_error

__all__ = [
    "Transform",
    "adf_to_text",
    "apply_transform",
    "decimal_str",
    "get_transform",
    "iso_date",
    "known_transforms",
    "register",
    "render_template",
    "template_error",
    "text_to_adf",
]

Func = Callable[[Any], Any]
Side = Literal["read", "write"]


@dataclass(frozen=True)
class Transform:
    """A named value transform; ``None`` on a side means pass-through."""

    name: str
    read: Func | None = None
    write: Func | None = None
    description: str = ""


_REGISTRY: dict[str, Transform] = {}


def register(
    name: str, *, read: Func | None = None, write: Func | None = None, description: str = ""
) -> Transform:
    """Register a transform under ``name`` (replacing any earlier one).

    Args:
        name: The name mapping files use.
        read: Product value -> unified value.
        write: Unified value -> product value.
        description: One line shown to admins.

    Returns:
        The registered transform.
    """
    transform = Transform(name, read, write, description)
    _REGISTRY[name] = transform
    return transform


def known_transforms() -> list[str]:
    """Every registered transform name, sorted."""
    return sorted(_REGISTRY)


def get_transform(name: str) -> Transform:
    """The transform called ``name``.

    Raises:
        RegistryError: Unknown name; the message lists the known ones.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(known_transforms())
        raise RegistryError(f"unknown transform {name!r}; known transforms: {known}") from None


def apply_transform(name: str, value: Any, side: Side) -> Any:
    """Run one side of a transform; ``None`` stays ``None``."""
    func = getattr(get_transform(name), side)
    if value is None or func is None:
        return value
    return func(value)


# Atlassian Document Format ---------------------------------------------------


def text_to_adf(value: Any) -> Any:
    """Plain text as an ADF document, one paragraph per blank-line-separated block."""
    if isinstance(value, Mapping):
        return value
    blocks = [b.strip("\n") for b in str(value).replace("\r\n", "\n").split("\n\n")]
    content = [_paragraph(block) for block in blocks if block.strip()]
    return {"type": "doc", "version": 1, "content": content}


def _paragraph(block: str) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    for index, line in enumerate(block.split("\n")):
        if index:
            parts.append({"type": "hardBreak"})
        if line:
            parts.append({"type": "text", "text": line})
    return {"type": "paragraph", "content": parts}


def adf_to_text(value: Any) -> Any:
    """The plain text of an ADF document (paragraphs separated by blank lines)."""
    if not isinstance(value, Mapping):
        return value
    blocks = [_inline_text(node) for node in value.get("content") or []]
    return "\n\n".join(b for b in blocks if b) or None


def _inline_text(node: Any) -> str:
    if not isinstance(node, Mapping):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    children = [_inline_text(child) for child in node.get("content") or []]
    separator = "\n" if kind in {"bulletList", "orderedList", "listItem"} else ""
    return separator.join(c for c in children if c)


# Scalars ----------------------------------------------------------------------


def _str_func(method: str) -> Func:
    def run(value: Any) -> Any:
        return getattr(value, method)() if isinstance(value, str) else value

    return run


def iso_date(value: Any) -> str:
    """A date, datetime or ISO string as ``YYYY-MM-DD``."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return dt.datetime.fromisoformat(str(value)).date().isoformat()


def decimal_str(value: Any) -> str:
    """A number as an exact decimal string (no float rounding)."""
    try:
        return str(Decimal(str(value)))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


def _register_builtins() -> None:
    register(
        "adf",
        read=adf_to_text,
        write=text_to_adf,
        description="Atlassian Document Format <-> plain text (Jira rich text)",
    )
    register("adf_text", read=adf_to_text, description="read the plain text out of an ADF document")
    for name in ("lower", "upper", "strip"):
        func = _str_func(name)
        register(name, read=func, write=func, description=f"{name} a string")
    register("iso_date", read=iso_date, write=iso_date, description="date as YYYY-MM-DD")
    register(
        "decimal_str",
        read=decimal_str,
        write=decimal_str,
        description="number as an exact decimal string",
    )


_register_builtins()
