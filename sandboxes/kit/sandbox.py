"""What the CLI, the demo and the tests need from a product sandbox."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from handoff_hub.sandboxes.kit.asgi import ASGIApp, strip_trailing_slash
from handoff_hub.sandboxes.kit.faults import FaultMiddleware, Faults
from handoff_hub.sandboxes.kit.journal import CallJournal
from handoff_hub.sandboxes.kit.profile import OrgProfile
from handoff_hub.sandboxes.kit.transport import SyncASGITransport

__all__ = [
    "OAuthApp",
    "Sandbox",
    "SandboxBase",
    "oauth_credentials",
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


class SandboxBase:
    """What every product sandbox does the same way: serve its app behind the fault layer.

    A product's ``__init__`` sets ``faults`` and ``journal``, builds its Starlette
    app and hands it to :meth:`_serve`; ``app`` and ``transport`` come from here.
    """

    faults: Faults
    journal: CallJournal
    _app: ASGIApp

    def _serve(self, app: ASGIApp, *, fold_slashes: bool = True) -> None:
        served = strip_trailing_slash(app) if fold_slashes else app
        self._app = FaultMiddleware(served, faults=self.faults, journal=self.journal)

    @property
    def app(self) -> ASGIApp:
        """The ASGI app, wrapped in :class:`FaultMiddleware`."""
        return self._app

    def transport(self) -> httpx.BaseTransport:
        """An in-process transport to the app, for a connector's ``transport=``."""
        return SyncASGITransport(self.app)


class OAuthApp(Protocol):
    """A sandbox's registered OAuth app and the refresh token it issued."""

    client_id: str
    client_secret: str
    refresh_token: str


def oauth_credentials(app: OAuthApp) -> dict[str, str]:
    """The credential settings of an OAuth refresh-token flow, as the demo's env vars carry them."""
    return {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "refresh_token": app.refresh_token,
    }
