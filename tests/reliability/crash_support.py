"""Killing a handoff's process (SIGKILL) at a chosen point, from outside or from its store.

Two kinds of kill point, neither needing a hook in the hub's code:

* ``http``: the served sandbox kills the client process when it receives its
  n-th request matching a method and path, either ``before`` acting on it or
  ``after`` acting (just as the answer would leave): a create the product made
  whose answer never arrived.
* ``sql``: the child process itself, through a SQLAlchemy event on its store,
  dies ``before`` its n-th statement matching a pattern runs, or ``after`` its
  transaction committed (at the start of the next one).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff_hub.sandboxes.kit import ASGIApp

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import os, re, signal, sys
from sqlalchemy import event
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import open_runtime

config, handoff, kill = sys.argv[1], sys.argv[2], sys.argv[3]
runtime = open_runtime(load_config(config, known_connectors=known_connectors()))
if kill.startswith("sql:"):
    _, when, nth, pattern = kill.split(":", 3)
    state = {"n": 0, "armed": False}

    @event.listens_for(runtime.store.engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, params, context, executemany):
        if re.search(pattern, statement, re.I):
            state["n"] += 1
            if state["n"] == int(nth):
                if when == "before":
                    os.kill(os.getpid(), signal.SIGKILL)
                state["armed"] = True

    @event.listens_for(runtime.store._sessions, "after_commit")
    def _committed(session):
        if state["armed"]:
            os.kill(os.getpid(), signal.SIGKILL)

run_handoff(handoff, build_handoff(runtime, handoff), runtime.store)
print("finished", flush=True)
"""


@dataclass(frozen=True)
class KillPoint:
    """Where to kill: ``http:<when>:<nth>:<METHOD> <path>`` or ``sql:<when>:<nth>:<regex>``."""

    handoff: str
    spec: str
    label: str

    @property
    def is_http(self) -> bool:
        return self.spec.startswith("http:")

    def http_parts(self) -> tuple[str, int, str, str]:
        _, when, nth, rest = self.spec.split(":", 3)
        method, path = rest.split(" ", 1)
        return when, int(nth), method, path


class KillSwitch:
    """ASGI middleware: SIGKILL ``pid`` at the n-th matching request, before or after acting."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pid: int | None = None
        self.rule: tuple[str, int, str, str] | None = None
        self.count = 0
        self.fired = False

    def arm(self, pid: int, rule: tuple[str, int, str, str]) -> None:
        self.pid, self.rule, self.count, self.fired = pid, rule, 0, False

    def disarm(self) -> None:
        self.pid = None
        self.rule = None

    def _kill(self) -> None:
        if self.pid is not None and not self.fired:
            self.fired = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        rule = self.rule
        if rule is None or scope.get("type") != "http" or self.fired:
            await self.app(scope, receive, send)
            return
        when, nth, method, pattern = rule
        if scope["method"] != method or not re.fullmatch(pattern, scope["path"]):
            await self.app(scope, receive, send)
            return
        self.count += 1
        if self.count != nth:
            await self.app(scope, receive, send)
            return
        if when == "before":
            self._kill()
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return

        async def killing_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                self._kill()
            await send(message)

        await self.app(scope, receive, killing_send)


class Served:
    """A sandbox served through a kill switch (what serve_in_thread needs: name and app)."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.name = sandbox.name
        self.switch = KillSwitch(sandbox.app)
        self.app = self.switch


def run_child(config: Path, handoff: str, kill: str) -> subprocess.Popen[str]:
    """Start a child that runs ``handoff`` once, with the store kill point ``kill`` (or none)."""
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(config), handoff, kill],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
