"""Batch writes that give one outcome per record, in input order.

Without multi-status error handling HubSpot refuses a whole batch create (or
update) when one record in it is invalid, and does not say which.
:func:`write_batches` cuts the records into batches of 100 (none naming a
record twice) and, when a batch is refused, bisects it so the valid records
are written and only the bad ones fail, with HubSpot's reason; a 207
multi-status answer already says which inputs failed, each on its own.
Bisecting is capped per batch (:data:`ISOLATION_CALLS`): a refusal every
record shares (a property the portal lacks) ends in failures, not in 200
calls.

Results are matched to inputs by :mod:`handoff_hub.connectors.hubspot.matching`, never
by position: an input whose result cannot be told apart is ``unsure``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff_hub.connectors.hubspot import settings
from handoff_hub.connectors.hubspot.client import BatchAnswer, BatchRefused
from handoff_hub.connectors.hubspot.matching import Input, MatchRules, match_answer
from handoff_hub.hub.connector import WriteResult
from handoff_hub.hub.http.concurrent import in_parallel, waves

__all__ = ["ISOLATION_CALLS", "Input", "MatchRules", "Send", "write_batches"]

ISOLATION_CALLS = 32
"""Calls one refused batch of 100 may spend on finding its bad records (~2 per bad record x 7)."""

Send = Callable[[Sequence[Mapping[str, Any]]], BatchAnswer]


@dataclass
class _Budget:
    calls: int


def write_batches(
    send: Send,
    inputs: Sequence[Input],
    rules: MatchRules,
    *,
    concurrency: int = 1,
) -> list[WriteResult]:
    """Write ``inputs`` in batches of 100; one WriteResult per input, in input order.

    Args:
        send: Sends one batch (at most 100 inputs); raises BatchRefused for a whole refusal.
        inputs: Records with their input index.
        rules: How this kind of write's results are told apart.
        concurrency: Batches in flight at once; a batch naming a record an earlier
            one holds waits for it.
    """
    results: dict[int, WriteResult] = {}

    def write(batch: list[Input]) -> dict[int, WriteResult]:
        return _isolate(send, rules, batch, _Budget(ISOLATION_CALLS))

    for run in waves(_batches(inputs), lambda batch: [i.key for i in batch if i.key]):
        for found in in_parallel(write, run, workers=concurrency):
            results.update(found)
    return [results[i.index] for i in inputs]


def _batches(inputs: Sequence[Input]) -> list[list[Input]]:
    """Consecutive batches of at most 100 in which no record id (or upsert key) repeats.

    HubSpot refuses a batch naming one record twice; a repeated id starts the
    next batch, so later changes still land after earlier ones.
    """
    batches: list[list[Input]] = [[]]
    keys: set[str] = set()
    for item in inputs:
        if len(batches[-1]) == settings.BATCH_SIZE or (item.key is not None and item.key in keys):
            batches.append([])
            keys = set()
        batches[-1].append(item)
        if item.key is not None:
            keys.add(item.key)
    return [b for b in batches if b]


def _isolate(
    send: Send, rules: MatchRules, batch: list[Input], budget: _Budget
) -> dict[int, WriteResult]:
    try:
        answer = send([_traced(i) for i in batch])
    except BatchRefused as refused:
        if len(batch) == 1 or budget.calls < 2:
            return {
                i.index: WriteResult(index=i.index, ok=False, error=refused.text) for i in batch
            }
        budget.calls -= 2
        middle = len(batch) // 2
        return {
            **_isolate(send, rules, batch[:middle], budget),
            **_isolate(send, rules, batch[middle:], budget),
        }
    return match_answer(rules, batch, answer)


def _traced(item: Input) -> dict[str, Any]:
    return {**item.body, "objectWriteTraceId": item.trace}
