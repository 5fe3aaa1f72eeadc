"""Where credentials come from besides environment variables: resolvers by kind.

The hub config names a credential either by environment variable (``{env: VAR}``,
read by :meth:`hub.config.systems.SystemConfig.secret` itself) or by a reference another
layer knows how to read, e.g. ``{prefect_secret: BLOCK}``. hub/ stays free of
Prefect: ``flows/`` registers the resolver for ``prefect_secret`` when a flow
runs (:func:`register_secret_resolver`); a third party may register a resolver
as an entry point in the ``handoff_hub.secret_resolvers`` group (name = kind).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import cast

__all__ = [
    "GROUP",
    "SecretResolver",
    "register_secret_resolver",
    "registered_kinds",
    "resolve_secret",
]

GROUP = "handoff_hub.secret_resolvers"

SecretResolver = Callable[[str], str]
"""Reads the secret named ``name``; raises LookupError with a reason (never the value)."""

_RESOLVERS: dict[str, SecretResolver] = {}


def register_secret_resolver(kind: str, resolver: SecretResolver) -> None:
    """Make ``{kind: NAME}`` credentials readable in this process (the last one wins)."""
    _RESOLVERS[kind] = resolver


def registered_kinds() -> list[str]:
    """Kinds readable right now (registered or found as entry points)."""
    return sorted({*_RESOLVERS, *(ep.name for ep in entry_points(group=GROUP))})


def resolve_secret(kind: str, name: str) -> str:
    """The value of secret ``name`` of ``kind``.

    Raises:
        LookupError: No resolver for ``kind`` in this process, or the resolver
            cannot read ``name``; the message never holds a secret.
    """
    resolver = _RESOLVERS.get(kind) or _from_entry_point(kind)
    if resolver is None:
        raise LookupError(
            f"{kind} credentials can only be read where a resolver for them is registered "
            "(prefect_secret: inside a Prefect flow run, i.e. hub run or a deployment); "
            "use {env: VAR} for the other commands"
        )
    return resolver(name)


def _from_entry_point(kind: str) -> SecretResolver | None:
    for ep in entry_points(group=GROUP, name=kind):
        resolver = cast("SecretResolver", ep.load())
        _RESOLVERS[kind] = resolver
        return resolver
    return None
