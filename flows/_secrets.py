"""Credentials in Prefect Secret blocks: ``{prefect_secret: NAME}`` in the hub config.

hub/ cannot import Prefect, so the flows register this reader with
:mod:`handoff_hub.hub.config.secrets` before they load a config (:func:`use_prefect_secrets`).
"""

from __future__ import annotations

from typing import Any, cast

from prefect.blocks.system import Secret

from handoff_hub.hub.config.secrets import register_secret_resolver

__all__ = ["read_prefect_secret", "use_prefect_secrets"]


def read_prefect_secret(name: str) -> str:
    """The text held by Prefect Secret block ``name``.

    Raises:
        LookupError: The block is missing, unreadable or not text; never with its value.
    """
    try:
        block = cast("Secret[Any]", Secret.load(name, _sync=True))  # type: ignore[call-arg]
    except ValueError:
        raise LookupError(
            f"Prefect Secret block {name!r} not found on the Prefect server "
            f"(create it: Secret(value=...).save({name!r}) or in the UI, Blocks)"
        ) from None
    except Exception as exc:
        raise LookupError(
            f"Prefect Secret block {name!r} could not be read ({type(exc).__name__})"
        ) from None
    value = block.value.get_secret_value()
    if not isinstance(value, str):
        raise LookupError(f"Prefect Secret block {name!r} holds a {type(value).__name__}, not text")
    return value


def use_prefect_secrets() -> None:
    """Let hub configs in this process name Prefect Secret blocks (idempotent)."""
    register_secret_resolver("prefect_secret", read_prefect_secret)
