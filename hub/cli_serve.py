"""``hub serve`` (being written): webhooks as real-time triggers."""

from __future__ import annotations

__all__ = ["serve_command"]


def serve_command() -> None:
    """Receive the products' webhooks and run the matching handoffs."""
    raise NotImplementedError
