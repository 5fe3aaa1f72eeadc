"""The bounded Jinja2 sandbox every template of the hub renders in.

Templates come from config and mapping files and render in Jinja2's immutable
sandbox with ``StrictUndefined``: an unknown variable is an error and attributes
starting with ``_`` (``''.__class__``) are refused. They also render within
limits, so that a mistaken or hostile template fails its record with a
:class:`~hub.errors.MappingError` instead of hanging or crashing the run:

- ``{% include %}``, ``{% import %}``, ``{% from %}`` and ``{% extends %}`` are
  refused when the template is checked: a template cannot load another;
- a template's source is at most :data:`MAX_SOURCE` characters;
- ``range()`` gives at most :data:`MAX_RANGE` items, and widths and counts given
  to ``center``, ``indent``, ``slice``, ``ljust`` ... are checked before use;
- one rendering takes at most :data:`MAX_STEPS` steps (loop iterations, calls,
  filters and intercepted operators);
- the output, and every string built on the way (``*``, ``+``, ``~``, ``join``,
  ``replace``, ``format`` ...), is at most :data:`MAX_OUTPUT` characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.meta import find_undeclared_variables
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from handoff_hub.hub.errors import MappingError
from handoff_hub.hub.mapping.template_limits import (
    MAX_OUTPUT,
    MAX_RANGE,
    MAX_STEPS,
    REFUSED_METHODS,
    LimitExceeded,
    bounded_filter,
    bounded_range,
    budget,
    check_binop,
    check_call,
    concat,
    iterate,
    sized,
)

__all__ = [
    "MAX_OUTPUT",
    "MAX_RANGE",
    "MAX_SOURCE",
    "MAX_STEPS",
    "TemplateNames",
    "custom_lookups",
    "render_template",
    "template_error",
    "template_names",
]

MAX_SOURCE = 10_000
"""Longest template source, in characters."""
_LOADING = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
    nodes.Extends: "extends",
}


class _Refused(TemplateSyntaxError):
    """A template that parses but asks for something the hub never does."""

    def __str__(self) -> str:
        return str(self.message)


# The environment ------------------------------------------------------------------


def _finalize(value: Any) -> Any:
    return "" if value is None else value


class _HubSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, refusing ``x._name`` on dicts too, with the limits above."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            finalize=_finalize,
            keep_trailing_newline=False,
        )
        self.globals["range"] = bounded_range
        self.globals.pop("lipsum", None)
        self.filters = {name: bounded_filter(name, f) for name, f in self.filters.items()}
        self.hub_iterate = iterate
        self.hub_concat = concat

    def getattr(self, obj: Any, attribute: str) -> Any:
        if attribute.startswith("_"):
            return self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in REFUSED_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        args = check_call(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        return sized(result, f"calling {getattr(__obj, '__name__', 'a function')}")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        check_binop(operator, left, right)
        return sized(super().call_binop(context, operator, left, right), f"'{operator}'")


class _Bounds(NodeTransformer):
    """Route loops and ``~`` through the environment's counted helpers."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _helper_call("hub_iterate", [cast(nodes.Expr, node.iter)], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _helper_call("hub_concat", list(node.nodes), node.lineno)


def _helper_call(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
    helper = nodes.EnvironmentAttribute(name, lineno=lineno)
    return nodes.Call(helper, args, [], None, None, lineno=lineno)


_ENV = _HubSandbox()


def _parse(source: str) -> nodes.Template:
    if len(source) > MAX_SOURCE:
        raise _Refused(
            f"the template is {len(source):,} characters long (the limit is {MAX_SOURCE:,})", 1
        )
    tree = _ENV.parse(source)
    for node in tree.find_all(tuple(_LOADING)):
        raise _Refused(
            f"{{% {_LOADING[type(node)]} %}} is not allowed: a template cannot load another",
            node.lineno,
        )
    return tree


@lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    tree = _Bounds().visit(_parse(source))
    tree.set_environment(_ENV)
    return _ENV.from_string(tree)


def template_error(source: str) -> str | None:
    """Why ``source`` is not a valid template (syntax, unknown filter or test), or ``None``."""
    try:
        _compiled(source)
    except _Refused as exc:
        return f"template refused (template line {exc.lineno}): {exc.message}"
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        return f"template does not parse (template line {line}): {exc}"
    return None


def render_template(source: str, context: Mapping[str, Any]) -> str:
    """Render a template in the bounded sandbox.

    Args:
        source: Jinja2 template text.
        context: Variables the template sees.

    Returns:
        The rendered text.

    Raises:
        MappingError: The template is invalid, names an undefined variable, tries
            something the sandbox refuses, goes over a limit or fails in any other way.
    """
    try:
        with budget():
            return _render(_compiled(source), context)
    except TemplateError as exc:
        raise MappingError(f"template {_short(source)}: {exc}") from None
    except RecursionError:
        raise MappingError(f"template {_short(source)}: macros call each other too deep") from None
    except Exception as exc:  # the template's own code failed: 1/0, 'a' + 1 ...
        message = f"template {_short(source)}: {type(exc).__name__}: {exc}"
        raise MappingError(message) from None


def _render(template: Template, context: Mapping[str, Any]) -> str:
    parts: list[str] = []
    size = 0
    for chunk in template.generate(dict(context)):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise LimitExceeded(f"the output is longer than {MAX_OUTPUT:,} characters")
        parts.append(chunk)
    return "".join(parts)


def _short(text: str, limit: int = 60) -> str:
    shown = text if len(text) <= limit else text[: limit - 3] + "..."
    return repr(shown)


# What a template reads -------------------------------------------------------------


@dataclass(frozen=True)
class TemplateNames:
    """The variables a template reads from its context, each with its first line.

    ``attributes`` holds ``(variable, attribute, line)`` for ``x.attr`` and
    ``x['attr']`` read from a variable the template never assigns itself.
    """

    variables: Mapping[str, int]
    attributes: tuple[tuple[str, str, int], ...]


def template_names(source: str) -> TemplateNames | None:
    """What ``source`` reads from its context; ``None`` when it does not parse."""
    try:
        tree = _parse(source)
    except TemplateError:
        return None
    free = find_undeclared_variables(tree) - set(_ENV.globals)
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    first: dict[str, int] = {}
    for name in tree.find_all(nodes.Name):
        if name.name in free:
            first.setdefault(name.name, name.lineno)
    attributes = [
        (found[0], found[1], node.lineno)
        for node in tree.find_all((nodes.Getattr, nodes.Getitem))
        if (found := _lookup(node)) is not None and found[0] in free and found[0] not in assigned
    ]
    return TemplateNames(first, tuple(attributes))


def custom_lookups(source: str) -> list[tuple[str, str, int]]:
    """``(variable, name, line)`` of each ``variable.custom.name`` (or ``['name']``) read."""
    try:
        tree = _parse(source)
    except TemplateError:
        return []
    found: list[tuple[str, str, int]] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        inner = getattr(node, "node", None)
        key = _key(node)
        if inner is None or key is None or (outer := _lookup(inner)) is None:
            continue
        if outer[1] == "custom":
            found.append((outer[0], key, node.lineno))
    return found


def _key(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return node.arg.value if isinstance(node.arg.value, str) else None
    return None


def _lookup(node: nodes.Node) -> tuple[str, str] | None:
    """``(variable, key)`` of ``variable.key`` or ``variable['key']``, else ``None``."""
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        return node.node.name, node.attr
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.node, nodes.Name)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    ):
        return node.node.name, node.arg.value
    return None
