"""Serve sandboxes on localhost ports (uvicorn), in a thread or in the foreground."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any, cast

from handoff_hub.hub.errors import RegistryError
from handoff_hub.sandboxes.kit import Faults, Sandbox
from handoff_hub.sandboxes.kit.profile import ProfileChoice

__all__ = ["RunningSandbox", "known_sandboxes", "make_sandbox", "serve_in_thread"]

GROUP = "handoff_hub.sandboxes"


@cache
def _classes() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def known_sandboxes() -> list[str]:
    """Names of every registered sandbox."""
    return sorted(_classes())


def make_sandbox(
    name: str,
    *,
    seed: int = 0,
    records: int = 50,
    faults: Faults | None = None,
    profile: ProfileChoice = None,
    **options: Any,
) -> Sandbox:
    """Build the sandbox registered as ``name``, seeded; the error lists known names.

    ``profile`` is the org it plays (a preset name such as ``hard``, a YAML
    file, or None for the default org); ``options`` go to the sandbox's class
    as they are (e.g. ``rate_limit``).
    """
    ep = _classes().get(name)
    if ep is None:
        raise RegistryError(f"unknown sandbox {name!r}; known: {', '.join(known_sandboxes())}")
    built = ep.load()(seed=seed, records=records, faults=faults, profile=profile, **options)
    return cast("Sandbox", built)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningSandbox:
    """A sandbox served by uvicorn in a background thread."""

    sandbox: Sandbox
    url: str
    _server: Any
    _thread: threading.Thread

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for it."""
        self._server.should_exit = True
        self._thread.join(timeout=10)


def serve_in_thread(
    sandbox: Sandbox, *, port: int = 0, start_timeout: float = 15.0
) -> RunningSandbox:
    """Serve ``sandbox`` on 127.0.0.1 in a daemon thread; return once it accepts requests."""
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(
        sandbox.app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"sandbox-{sandbox.name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"sandbox {sandbox.name} did not start on port {port}")
        time.sleep(0.02)
    return RunningSandbox(sandbox, f"http://127.0.0.1:{port}", server, thread)
