"""Batch writes that give one outcome per record, in input order.

HubSpot refuses a whole batch create (or update) when one record in it is
invalid, and does not say which. :func:`write_batches` cuts the records into
batches of 100 (none naming a record twice) and, when a batch is refused,
bisects it so the valid records are written and only the bad ones fail, with
HubSpot's reason. Bisecting is capped per batch (:data:`ISOLATION_CALLS`): a
refusal every record shares (a property the portal lacks) ends in failures,
not in 200 calls.

Results are matched to inputs by ``objectWriteTraceId`` (HubSpot does not
promise result order), then by id, then by position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.hubspot import settings
from connectors.hubspot.client import BatchAnswer, BatchRefused, error_text
from hub.connector import WriteResult
from hub.http.concurrent import in_parallel, waves

__all__ = ["ISOLATION_CALLS", "Input", "Send", "write_batches"]

ISOLATION_CALLS = 32
"""Calls one refused batch of 100 may spend on finding its bad records (~2 per bad record x 7)."""

Send = Callable[[Sequence[Mapping[str, Any]]], BatchAnswer]


@dataclass(frozen=True)
class Input:
    """One record of a batch write and what identifies it in the answer."""

    index: int
    body: dict[str, Any]
    key: str | None = None
    """The record id (update) or unique-property value (upsert), for matching results."""


@dataclass
class _Budget:
    calls: int


@dataclass(frozen=True)
class _Plan:
    send: Send
    created: bool | None
    key_property: str | None


def write_batches(
    send: Send,
    inputs: Sequence[Input],
    *,
    created: bool | None,
    key_property: str | None = None,
    concurrency: int = 1,
) -> list[WriteResult]:
    """Write ``inputs`` in batches of 100; one WriteResult per input, in input order.

    Args:
        send: Sends one batch (at most 100 inputs); raises BatchRefused for a whole refusal.
        inputs: Records with their input index.
        created: The ``created`` flag of successes, or None to read HubSpot's ``new``.
        key_property: Property whose value is an input's ``key`` (upsert), else the id is.
        concurrency: Batches in flight at once; a batch naming a record an earlier
            one holds waits for it.
    """
    plan = _Plan(send, created, key_property)
    results: dict[int, WriteResult] = {}

    def write(batch: list[Input]) -> dict[int, WriteResult]:
        return _isolate(plan, batch, _Budget(ISOLATION_CALLS))

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


def _isolate(plan: _Plan, batch: list[Input], budget: _Budget) -> dict[int, WriteResult]:
    try:
        answer = plan.send([_traced(i) for i in batch])
    except BatchRefused as refused:
        if len(batch) == 1 or budget.calls < 2:
            return {i.index: _failed(i, refused.text) for i in batch}
        budget.calls -= 2
        middle = len(batch) // 2
        return {**_isolate(plan, batch[:middle], budget), **_isolate(plan, batch[middle:], budget)}
    return _matched(plan, batch, answer)


def _traced(item: Input) -> dict[str, Any]:
    return {**item.body, "objectWriteTraceId": str(item.index)}


def _failed(item: Input, text: str) -> WriteResult:
    return WriteResult(index=item.index, ok=False, error=text)


def _matched(plan: _Plan, batch: list[Input], answer: BatchAnswer) -> dict[int, WriteResult]:
    by_trace = {str(i.index): i for i in batch}
    by_key = {i.key: i for i in batch if i.key is not None}
    out: dict[int, WriteResult] = {}
    for error in answer.errors:
        for target in _error_targets(error, by_trace, by_key):
            out[target.index] = _failed(target, error_text(error))
    # Without echoed trace ids or keys, a complete answer is taken in input order.
    positional = len(answer.results) == len(batch) and not any(
        _trace_match(r, by_trace) for r in answer.results
    )
    for position, result in enumerate(answer.results):
        item = _trace_match(result, by_trace) or by_key.get(_result_key(plan, result))
        if item is None and positional:
            item = batch[position]
        if item is not None and item.index not in out:
            out[item.index] = _succeeded(item, result, plan.created)
    for item in batch:
        out.setdefault(item.index, _failed(item, "HubSpot returned no result for this record"))
    return out


def _result_key(plan: _Plan, result: Mapping[str, Any]) -> str:
    if plan.key_property is None:
        return str(result.get("id"))
    return str((result.get("properties") or {}).get(plan.key_property))


def _trace_match(result: Mapping[str, Any], by_trace: Mapping[str, Input]) -> Input | None:
    trace = result.get("objectWriteTraceId")
    return by_trace.get(str(trace)) if trace is not None else None


def _error_targets(
    error: Mapping[str, Any], by_trace: Mapping[str, Input], by_key: Mapping[str, Input]
) -> list[Input]:
    context = error.get("context") or {}
    found = [by_key[str(k)] for k in context.get("ids") or [] if str(k) in by_key]
    traces = context.get("objectWriteTraceId") or []
    found += [by_trace[str(t)] for t in traces if str(t) in by_trace]
    if error.get("objectWriteTraceId") is not None and str(error["objectWriteTraceId"]) in by_trace:
        found.append(by_trace[str(error["objectWriteTraceId"])])
    return found


def _succeeded(item: Input, result: Mapping[str, Any], created: bool | None) -> WriteResult:
    made = created if created is not None else result.get("new")
    return WriteResult(
        index=item.index,
        ok=True,
        id=str(result.get("id")) if result.get("id") is not None else None,
        created=None if made is None else bool(made),
    )
