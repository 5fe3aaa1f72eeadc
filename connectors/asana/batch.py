"""Asana's batch API: many actions in calls of 10, one result per action.

``POST /batch`` runs up to ten actions in parallel and answers, in action
order, each action's own ``status_code``, ``headers`` and ``body``; the batch
itself is 200 even when actions fail, so one refused record never sinks the
others. An action answered 429 or 503 was not run and is sent again after the
wait it asks for; other 5xx are sent again only for reads and updates (a
create that may have happened is left to the caller, which looks first).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.asana import settings
from handoff_hub.connectors.asana.client import error_messages
from handoff_hub.hub.errors import AuthError, RateLimitedError, RecordError, TransientError
from handoff_hub.hub.http import chunks
from handoff_hub.hub.http.concurrent import in_parallel, waves

if TYPE_CHECKING:
    from handoff_hub.connectors.asana.client import AsanaClient

__all__ = ["ActionResult", "BatchRunner", "action", "raise_for_action", "raise_unless_record"]

_REPEATABLE_METHODS = frozenset({"get", "put", "delete"})
_NEVER_RUN = frozenset({429, 503})


def action(
    method: str,
    path: str,
    data: Mapping[str, Any] | None = None,
    *,
    fields: Sequence[str] = (),
    limit: int | None = None,
) -> dict[str, Any]:
    """One batch action: query parameters (GET) or the body's ``data`` in ``data``."""
    built: dict[str, Any] = {"method": method.lower(), "relative_path": path}
    if data is not None:
        built["data"] = dict(data)
    options: dict[str, Any] = {}
    if fields:
        options["fields"] = list(fields)
    if limit is not None:
        options["limit"] = limit
    if options:
        built["options"] = options
    return built


@dataclass(frozen=True)
class ActionResult:
    """What one action answered."""

    index: int
    status: int
    body: Any
    headers: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.status < 300

    @property
    def data(self) -> Any:
        """What is inside the body's ``data`` envelope."""
        return self.body.get("data") if isinstance(self.body, Mapping) else None

    def error(self) -> str:
        """``HTTP 400: message`` for a failed action."""
        return f"HTTP {self.status}: {error_messages(self.body) or 'no error message'}"


class BatchRunner:
    """Runs any number of actions through ``POST /batch`` in calls of 10."""

    def __init__(self, client: AsanaClient, *, rounds: int = settings.BATCH_ROUNDS) -> None:
        self.client = client
        self.rounds = rounds
        self.calls = 0

    def run(self, actions: Sequence[Mapping[str, Any]]) -> list[ActionResult]:
        """Every action's result, in input order; never-run actions are sent again.

        Raises:
            ConnectorError: a whole ``/batch`` call failed (auth, outage, dropped
                connection); actions of earlier calls may have run.
        """
        results: dict[int, ActionResult] = {}
        pending = list(range(len(actions)))

        def send(group: Sequence[int]) -> list[ActionResult]:
            return self._send([actions[i] for i in group], group)

        for round_number in range(self.rounds + 1):
            groups = list(chunks(pending, settings.BATCH_SIZE))
            for run in waves(groups, lambda group: _resources(actions[i] for i in group)):
                for answers in in_parallel(send, run, workers=self.client.api.concurrency):
                    self.calls += 1
                    results.update((r.index, r) for r in answers)
            again = [i for i in pending if _repeatable(results[i], actions[i])]
            if not again or round_number == self.rounds:
                break
            self.client.pause(_wait(results[i] for i in again))
            pending = again
        return [results[i] for i in range(len(actions))]

    def _send(self, group: list[Mapping[str, Any]], indexes: Sequence[int]) -> list[ActionResult]:
        idempotent = all(a.get("method") in _REPEATABLE_METHODS for a in group)
        answers = self.client.batch(group, idempotent=idempotent)
        return [_result(index, answer) for index, answer in zip(indexes, answers, strict=True)]


def _resources(actions: Iterable[Mapping[str, Any]]) -> list[str]:
    """The records the actions act on (the gids in their paths): two calls on one go in order."""
    return [
        part
        for action in actions
        for part in str(action.get("relative_path", "")).split("/")
        if part.isdigit()
    ]


def _result(index: int, answer: Any) -> ActionResult:
    if not isinstance(answer, Mapping):
        return ActionResult(index, 502, {"errors": [{"message": "batch answer is not an object"}]})
    status = answer.get("status_code")
    headers = answer.get("headers")
    return ActionResult(
        index,
        status if isinstance(status, int) else 502,
        answer.get("body"),
        headers if isinstance(headers, Mapping) else {},
    )


def _repeatable(result: ActionResult, sent: Mapping[str, Any]) -> bool:
    if result.status in _NEVER_RUN:
        return True
    return result.status >= 500 and sent.get("method") in _REPEATABLE_METHODS


def _wait(results: Any) -> float:
    """The longest ``Retry-After`` the actions asked for (one second if none did)."""
    waits = []
    for result in results:
        value = {str(k).lower(): v for k, v in result.headers.items()}.get("retry-after")
        try:
            waits.append(max(0.0, float(str(value))))
        except (TypeError, ValueError):
            waits.append(1.0)
    return min(max(waits, default=1.0), 60.0)


def raise_unless_record(result: ActionResult, system: str, where: str) -> None:
    """A rejected token or an exhausted rate limit fails the whole call, not one record."""
    if result.status == 401:
        raise AuthError(f"{where}: {result.error()}", system=system, status=result.status)
    if result.status == 429:
        raise RateLimitedError(f"{where}: {result.error()}", system=system, status=result.status)


def raise_for_action(result: ActionResult, system: str, where: str) -> None:
    """Raise the hub error of a failed read action (a read has no "other records")."""
    if result.ok:
        return
    raise_unless_record(result, system, where)
    error = TransientError if result.status >= 500 else RecordError
    raise error(f"{where}: {result.error()}", system=system, status=result.status)
