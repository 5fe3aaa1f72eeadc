"""What the CLI, the demo and the tests need from a product sandbox."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from handoff_hub.sandboxes.kit.asgi import ASGIApp
from handoff_hub.sandboxes.kit.faults import Faults
from handoff_hub.sandboxes.kit.journal import CallJournal
from handoff_hub.sandboxes.kit.profile import OrgProfile

__all__ = [
    "Sandbox",
]


class Sandbox(Protocol):
    """What the CLI, the demo and the tests need from a product sandbox.

    Each connector package registers its sandbox class under the
    ``handoff_hub.sandboxes`` entry-point group. The class is built as
    ``Sandbox(seed=0, records=50, faults=None, profile=None)`` and seeds
    realistic data; ``profile`` (see :mod:`handoff_hub.sandboxes.kit.profile`) chooses the
    org it plays, and its class is the sandbox's ``profile_class``.
    """

    name: str
    journal: CallJournal
    faults: Faults

    @property
    def profile(self) -> OrgProfile:
        """The org this sandbox plays (see :mod:`handoff_hub.sandboxes.kit.profile`)."""
        ...

    @property
    def app(self) -> ASGIApp:
        """The ASGI app, wrapped in :class:`FaultMiddleware`."""
        ...

    @property
    def credentials(self) -> dict[str, str]:
        """Credential setting name -> value this sandbox accepts (for the demo's env vars)."""
        ...

    @property
    def settings(self) -> dict[str, Any]:
        """Connector settings that fit the seeded data (e.g. Jira project key)."""
        ...

    def transport(self) -> httpx.BaseTransport:
        """An in-process transport to the app, for a connector's ``transport=``."""
        ...
