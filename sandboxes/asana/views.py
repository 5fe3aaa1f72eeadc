"""What a client sees of a rendered resource: ``opt_fields`` and compact forms.

With ``opt_fields``, the gid plus exactly the (dotted) paths asked for
(``assignee.name``); without, the compact form in lists (gid, resource_type,
name) and the full form for a single resource, its references compact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["view"]

_COMPACT = ("gid", "resource_type", "name", "resource_subtype")
_REFERENCES = frozenset(
    {
        "assignee",
        "completed_by",
        "created_by",
        "created_from_template",
        "followers",
        "members",
        "new_project",
        "organization",
        "owner",
        "parent",
        "project",
        "projects",
        "team",
        "workspace",
    }
)


def view(rich: Mapping[str, Any], fields: Sequence[str] | None, *, full: bool) -> dict[str, Any]:
    """What a client sees of a rich resource (see the module docstring)."""
    if fields:
        return _select(rich, fields)
    if not full:
        compact: dict[str, Any] = _compact(rich)
        return compact
    return {key: _shown(key, value) for key, value in rich.items()}


def _compact(value: Any) -> Any:
    if isinstance(value, list):
        return [_compact(v) for v in value]
    if isinstance(value, Mapping):
        if "gid" not in value:  # a membership: {project, section}
            return {k: _compact(v) for k, v in value.items()}
        return {k: value[k] for k in _COMPACT if k in value}
    return value


def _shown(key: str, value: Any) -> Any:
    return _compact(value) if key in _REFERENCES or key == "memberships" else value


def _select(rich: Mapping[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"gid": rich["gid"]} if "gid" in rich else {}
    for path in paths:
        head, _, rest = path.partition(".")
        if head not in rich:
            continue
        value = rich[head]
        picked = _nested(value, rest) if rest else _shown(head, value)
        out[head] = _merge(out.get(head), picked)
    return out


def _nested(value: Any, rest: str) -> Any:
    if isinstance(value, list):
        return [_nested(v, rest) for v in value]
    if isinstance(value, Mapping):
        return _select(value, [rest])
    return value


def _merge(old: Any, new: Any) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **{k: _merge(old.get(k), v) for k, v in new.items()}}
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [_merge(a, b) for a, b in zip(old, new, strict=True)]
    return new
