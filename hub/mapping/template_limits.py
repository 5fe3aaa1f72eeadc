"""Limits of one template rendering: steps, range sizes and the size of what it builds.

A rendering runs under a :class:`Budget` of :data:`MAX_STEPS` steps (loop
iterations, calls, filters, intercepted operators). Operations that multiply
the size of a string (``*``, ``join``, ``replace``, ``center``, a ``%`` or
``{}`` format width ...) are estimated before they run and refused above
:data:`MAX_OUTPUT` characters; every other result is checked after. Used by the
sandbox of :mod:`handoff_hub.hub.mapping.templating`.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from jinja2.exceptions import SecurityError

__all__ = [
    "MAX_OUTPUT",
    "MAX_RANGE",
    "MAX_STEPS",
    "REFUSED_METHODS",
    "LimitExceeded",
    "bounded_filter",
    "bounded_range",
    "budget",
    "check_binop",
    "check_call",
    "concat",
    "iterate",
    "sized",
]

MAX_OUTPUT = 1_000_000
"""Longest rendered text, and longest string built while rendering."""
MAX_RANGE = 10_000
"""Most items one ``range()`` gives, and most batches or slices a filter makes."""
MAX_STEPS = 100_000
"""Most loop iterations, calls, filters and operators in one rendering."""


class LimitExceeded(SecurityError):
    """A rendering that went over one of the limits."""


# Rendering budget -----------------------------------------------------------------


class _Budget:
    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = MAX_STEPS


_BUDGET: ContextVar[_Budget | None] = ContextVar("hub_template_budget", default=None)


@contextmanager
def budget() -> Iterator[None]:
    """One rendering's budget of :data:`MAX_STEPS` steps, for the code run inside."""
    token = _BUDGET.set(_Budget())
    try:
        yield
    finally:
        _BUDGET.reset(token)


def _step() -> None:
    """Take one step of the current budget (none outside :func:`budget`)."""
    current = _BUDGET.get()
    if current is None:
        return
    current.steps -= 1
    if current.steps < 0:
        raise LimitExceeded(
            f"more than {MAX_STEPS:,} steps (loop iterations, calls, filters); "
            "a template composes a short text"
        )


def _refuse_size(size: int, what: str) -> None:
    """Refuse an operation (``what``) that would build ``size`` characters, over the limit."""
    if size > MAX_OUTPUT:
        raise LimitExceeded(
            f"{what} would build about {size:,} characters (the limit is {MAX_OUTPUT:,})"
        )


def sized(value: Any, what: str = "a value") -> Any:
    """``value``, once it is known to be no longer than the limit."""
    if isinstance(value, str | list | tuple):
        _refuse_size(len(value), what)
    return value


# Size estimates of the operations that multiply: checked before they run ---------


def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text_size(items: Iterable[Any]) -> int:
    total = 0
    for item in items:
        total += len(str(item))
        if total > MAX_OUTPUT:
            break
    return total


def _format_size(template: str, values: Any) -> int:
    """An upper bound of ``template % values`` or ``template.format(...)``: text plus widths."""
    if isinstance(values, Mapping):
        values = list(values.values())
    elif not isinstance(values, tuple | list):
        values = [values]
    widths = 0
    for match in re.finditer(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?", template):
        if "*" in match.group(0):
            raise LimitExceeded("a '*' width in a % format is not allowed")
        widths += sum(int(g) for g in match.groups() if g)
    if "{" in template:
        for _, _, spec, _ in string.Formatter().parse(template):
            if spec and "{" in spec:
                raise LimitExceeded("a nested {} in a format spec is not allowed")
            widths += sum(int(n) for n in re.findall(r"\d+", spec or ""))
    return len(template) + _text_size(values) + widths


def _replace_size(text: str, old: Any, new: Any, count: Any) -> int:
    old, new = str(old), str(new)
    times = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    return len(text) + times * max(len(new) - len(old), 0)


def _join_size(separator: Any, items: list[Any]) -> int:
    return _text_size(items) + len(str(separator)) * max(len(items) - 1, 0)


def _lines(text: str) -> int:
    return text.count("\n") + 1


Estimate = Callable[[Any, tuple[Any, ...], Mapping[str, Any]], int]


def _width(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    return max(len(str(value)), _number(_arg(args, kwargs, 0, "width")))


def _indent(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    width = _arg(args, kwargs, 0, "width")
    each = len(width) if isinstance(width, str) else (_number(width) if width is not None else 4)
    return len(str(value)) + _lines(str(value)) * each


def _wordwrap(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    text = str(value)
    width = max(_number(_arg(args, kwargs, 0, "width")) or 79, 1)
    wrap = str(_arg(args, kwargs, 2, "wrapstring") or "\n")
    return len(text) + (len(text) // width + _lines(text)) * len(wrap)


def _urlize(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    text = str(value)
    extra = len(str(_arg(args, kwargs, 3, "target") or "")) + len(
        str(_arg(args, kwargs, 4, "rel") or "")
    )
    return 3 * len(text) + (text.count(" ") + 1) * (extra + 64)


def _tojson(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    indent = _number(_arg(args, kwargs, 0, "indent"))
    return len(json.dumps(value, default=str)) * (1 + indent)


def _filter_replace(value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    old, new, count = (_arg(args, kwargs, i, n) for i, n in enumerate(("old", "new", "count")))
    return _replace_size(str(value), old, new, count)


_FILTER_SIZES: dict[str, Estimate] = {
    "center": _width,
    "indent": _indent,
    "wordwrap": _wordwrap,
    "urlize": _urlize,
    "tojson": _tojson,
    "replace": _filter_replace,
    "join": lambda value, args, kwargs: _join_size(_arg(args, kwargs, 0, "d") or "", value),
    "format": lambda value, args, kwargs: _format_size(str(value), kwargs or args),
}
_FILTER_COUNTS = {"batch": "linecount", "slice": "slices"}  # lists a filter makes
_MATERIALIZED = {"join", "tojson"}  # filters whose value is read twice: once to estimate

_METHOD_SIZES: dict[str, Estimate] = {
    "center": _width,
    "ljust": _width,
    "rjust": _width,
    "zfill": _width,
    "expandtabs": lambda text, args, kwargs: (
        len(text) + text.count("\t") * _number(_arg(args, kwargs, 0, "tabsize") or 8)
    ),
    "replace": lambda text, args, kwargs: _replace_size(text, *(list(args) + [None] * 3)[:3]),
    "join": lambda text, args, kwargs: _join_size(text, args[0] if args else []),
    "format": lambda text, args, kwargs: _format_size(text, [*args, *kwargs.values()]),
    "format_map": lambda text, args, kwargs: _format_size(text, args[0] if args else {}),
}
REFUSED_METHODS = {"translate", "maketrans"}


def bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """The Jinja2 filter ``func`` taking a step per use, its size checked before and after."""
    # A filter marked pass_context/pass_eval_context/pass_environment gets that first.
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    estimate = _FILTER_SIZES.get(name)

    @wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        _step()
        if name in _FILTER_COUNTS:
            count = _number(_arg(args[skip + 1 :], kwargs, 0, _FILTER_COUNTS[name]))
            if count > MAX_RANGE:
                raise LimitExceeded(f"{name}({count:,}) (the limit is {MAX_RANGE:,})")
        if estimate is not None and len(args) > skip:
            value = args[skip]
            if name in _MATERIALIZED and not isinstance(value, str | Mapping):
                value = list(value)
                args = (*args[:skip], value, *args[skip + 1 :])
            _refuse_size(estimate(value, args[skip + 1 :], kwargs), f"the {name} filter")
        return sized(func(*args, **kwargs), f"the {name} filter")

    return run


def bounded_range(*args: int) -> range:
    """``range()`` of at most :data:`MAX_RANGE` items."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise LimitExceeded(f"range() of {len(numbers):,} items (the limit is {MAX_RANGE:,})")
    return numbers


def iterate(iterable: Iterable[Any]) -> Iterator[Any]:
    """The items of a ``{% for %}`` loop, a step each."""
    for item in iterable:
        _step()
        yield item


def concat(*parts: Any) -> str:
    """``a ~ b ~ c``, refused when the result would be over the limit."""
    texts = [str(part) for part in parts]
    _refuse_size(sum(len(t) for t in texts), "'~'")
    return "".join(texts)


def check_call(func: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    """Take a step for a call from a template; refuse a string method building too much.

    Returns:
        The arguments to call with (an iterable given to ``str.join`` read into a list).
    """
    _step()
    method = getattr(func, "__wrapped__", func)  # the sandbox wraps str.format
    name = getattr(method, "__name__", "")
    owner = getattr(method, "__self__", None)
    if isinstance(owner, str) and (estimate := _METHOD_SIZES.get(name)) is not None:
        if name == "join" and args:
            args = (list(args[0]), *args[1:])
        _refuse_size(estimate(owner, args, kwargs), f"str.{name}()")
    return args


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Take a step for ``*``, ``**``, ``+`` or ``%``; refuse one that would build too much."""
    _step()
    if operator == "*":
        _refuse_size(_repeat_size(left, right), "'*'")
    elif operator == "**" and _power_bits(left, right) > 100_000:
        raise LimitExceeded("'**' would build a number of more than 100,000 bits")
    elif operator == "%" and isinstance(left, str):
        _refuse_size(_format_size(left, right), "'%'")


def _repeat_size(left: Any, right: Any) -> int:
    if isinstance(left, int) and not isinstance(left, bool):
        left, right = right, left
    if isinstance(left, str | list | tuple) and isinstance(right, int):
        return len(left) * max(right, 0)
    return 0


def _power_bits(left: Any, right: Any) -> int:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        return left.bit_length() * right
    return 0
