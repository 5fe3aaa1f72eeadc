"""The background worker: deliveries are answered at once and handled here, in turn.

The products want an answer within seconds (HubSpot 5 s, Asana 10 s) and
deliver again when they get none, so the app only verifies and enqueues; this
thread reads the records and runs the handoffs, one dispatch at a time (the
runtime's connectors are not shared between threads). Deliveries that waited
together are merged into one dispatch.

The queue is bounded (``queue_size``): when it is full the app answers 503
with Retry-After and the product delivers again later; meanwhile a scheduled
run, reading from its cursor, may get there first. On shutdown the dispatch
in hand is finished and the deliveries still queued are dropped (and logged):
the scheduled runs read their changes from their cursors.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from handoff_hub.hub.http.redact import redact
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.webhooks.dispatch import DispatchResult, dispatch
from handoff_hub.hub.webhooks.events import Change

__all__ = ["Delivery", "Worker"]

log = logging.getLogger("hub.webhooks")

Handler = Callable[[Runtime, Sequence[Change]], DispatchResult]


@dataclass(frozen=True)
class Delivery:
    """One accepted delivery: which product sent it, a short id for logs, what changed."""

    product: str
    delivery_id: str
    changes: tuple[Change, ...]


class Worker:
    """A thread that dispatches queued deliveries with the runtime ``runtime_factory`` builds.

    The worker owns that runtime: it is built by :meth:`start` and closed by :meth:`stop`.
    """

    def __init__(
        self,
        runtime_factory: Callable[[], Runtime],
        *,
        queue_size: int = 1000,
        handle: Handler = dispatch,
        merge: int = 50,
    ) -> None:
        self._factory = runtime_factory
        self._handle = handle
        self._merge = merge
        self._queue: queue.Queue[Delivery] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._runtime: Runtime | None = None
        self.handled = 0
        self.results: deque[DispatchResult] = deque(maxlen=100)

    def start(self) -> None:
        """Build the runtime and start the thread."""
        self._runtime = self._factory()
        self._thread = threading.Thread(target=self._loop, name="hub-webhooks", daemon=True)
        self._thread.start()

    @property
    def runtime(self) -> Runtime:
        """The runtime :meth:`start` built."""
        if self._runtime is None:
            raise RuntimeError("the worker has not started")
        return self._runtime

    @property
    def alive(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def queued(self) -> int:
        """Deliveries accepted and not yet handled."""
        return self._queue.unfinished_tasks

    def submit(self, delivery: Delivery) -> bool:
        """Queue ``delivery``; False when the queue is full or the worker stopped."""
        if self._stop.is_set() or not self.alive:
            return False
        try:
            self._queue.put_nowait(delivery)
        except queue.Full:
            return False
        return True

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every accepted delivery is handled; False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the dispatch in hand, drop what is queued, close the runtime."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        dropped = 0
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()
            dropped += 1
        if dropped:
            log.warning(
                "webhook: %d queued deliveries dropped at shutdown; the scheduled runs "
                "read their changes from their cursors",
                dropped,
            )
        if self._runtime is not None and not self.alive:
            self._runtime.close()
            self._runtime = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < self._merge:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._run(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _run(self, batch: list[Delivery]) -> None:
        assert self._runtime is not None
        changes = list(dict.fromkeys(c for d in batch for c in d.changes))
        ids = ", ".join(f"{d.product} {d.delivery_id}" for d in batch[:5])
        started = time.monotonic()
        try:
            result = self._handle(self._runtime, changes)
        except Exception as exc:
            reason = redact(f"{type(exc).__name__}: {exc}")
            log.error("webhook: deliveries %s failed: %s", ids, reason)
            return
        finally:
            self.handled += len(batch)
        self.results.append(result)
        log.info(
            "webhook: deliveries %s: %d changes, %s in %.1f s: %s",
            ids,
            len(changes),
            result.status,
            time.monotonic() - started,
            ", ".join(f"{k} {v}" for k, v in result.counts.items()) or "nothing to do",
        )
