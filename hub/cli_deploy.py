"""``hub deploy`` (being written)."""

from __future__ import annotations

__all__ = ["deploy_command"]


def deploy_command() -> None:
    """Create the Prefect deployments of the hub config."""
    raise NotImplementedError
