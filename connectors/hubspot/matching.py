"""Which input of a batch write each result and each error of HubSpot's answer belongs to.

HubSpot answers a batch in any order, and real answers do not always echo
the ``objectWriteTraceId`` each input was sent with. A result is matched to
its input, in this order, by: its trace id; the record id (update) or
unique-property value (upsert) it was written by; the hub's stamp property
(``handoff_hub_id``); the other property values the request set, where a
value names one input of the batch alone (a result's ``properties`` echo
what was written). An error is matched by the trace ids or ids in its
``context``. When every other result and input is matched, the last result
belongs to the last input. Nothing is ever paired by position: an input
whose result cannot be told apart is ``unsure`` (the record may exist), and
the caller looks it up by its stamp before writing it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from handoff_hub.connectors.hubspot.client import BatchAnswer, error_text
from handoff_hub.hub.connector import WriteResult

__all__ = ["Input", "MatchRules", "match_answer"]

NO_RESULT = "HubSpot returned no result for this record"
UNTOLD = (
    "HubSpot wrote {count} record(s) of this batch without saying which input each belongs to;"
    " this record may exist"
)


@dataclass(frozen=True)
class Input:
    """One record of a batch write and what identifies it in the answer."""

    index: int
    body: dict[str, Any]
    key: str | None = None
    """The record id (update) or unique-property value (upsert), for matching results."""

    @property
    def trace(self) -> str:
        """The ``objectWriteTraceId`` the input is sent with."""
        return str(self.index)

    @property
    def properties(self) -> Mapping[str, Any]:
        """The property values the input sets."""
        found = self.body.get("properties")
        return found if isinstance(found, Mapping) else {}


@dataclass(frozen=True)
class MatchRules:
    """How results of one kind of write are told apart.

    ``created``: the ``created`` flag of successes (None: read HubSpot's ``new``).
    ``key_property``: the property an input's ``key`` is the value of (upsert),
    None when the key is the record id. ``stamp_property``: the hub's stamp.
    """

    created: bool | None
    key_property: str | None = None
    stamp_property: str | None = None


@dataclass
class _Pending:
    """What is left to match while an answer is read."""

    inputs: dict[int, Input]
    results: list[Mapping[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def match_answer(
    rules: MatchRules, batch: Sequence[Input], answer: BatchAnswer
) -> dict[int, WriteResult]:
    """One WriteResult per input of ``batch`` from HubSpot's answer, by input index."""
    out: dict[int, WriteResult] = {}
    pending = _Pending({i.index: i for i in batch})
    by_trace = {i.trace: i for i in batch}
    by_key = {i.key: i for i in batch if i.key is not None}
    for error in answer.errors:
        targets = _error_targets(error, by_trace, by_key)
        for target in targets:
            out[target.index] = WriteResult(index=target.index, ok=False, error=error_text(error))
            pending.inputs.pop(target.index, None)
        if not targets:
            pending.errors.append(error_text(error))
    for result in answer.results:
        item = _by_trace(result, by_trace) or _by_key(rules, result, by_key)
        if item is None:
            pending.results.append(result)
        elif item.index in pending.inputs:
            out[item.index] = _succeeded(item, result, rules.created)
            del pending.inputs[item.index]
    _match_by_properties(rules, pending, out)
    _settle(rules, pending, out)
    return out


def _by_trace(result: Mapping[str, Any], by_trace: Mapping[str, Input]) -> Input | None:
    trace = result.get("objectWriteTraceId")
    return by_trace.get(str(trace)) if trace is not None else None


def _by_key(
    rules: MatchRules, result: Mapping[str, Any], by_key: Mapping[str, Input]
) -> Input | None:
    if not by_key:
        return None
    if rules.key_property is None:
        return by_key.get(str(result.get("id")))
    echoed = _echo(result).get(rules.key_property)
    return by_key.get(str(echoed)) if echoed is not None else None


def _error_targets(
    error: Mapping[str, Any], by_trace: Mapping[str, Input], by_key: Mapping[str, Input]
) -> list[Input]:
    context = error.get("context")
    context = context if isinstance(context, Mapping) else {}
    traces = [
        *_listed(context.get("objectWriteTraceId")),
        *_listed(error.get("objectWriteTraceId")),
    ]
    ids = _listed(context.get("ids"))
    found = [by_trace[t] for t in traces if t in by_trace]
    found += [by_key[k] for k in ids if k in by_key]
    return list({i.index: i for i in found}.values())


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _match_by_properties(rules: MatchRules, pending: _Pending, out: dict[int, WriteResult]) -> None:
    """Results without a trace id, matched by the stamp or another value naming one input."""
    left: list[Mapping[str, Any]] = []
    for result in pending.results:
        item = _by_values(rules, result, list(pending.inputs.values()))
        if item is None:
            left.append(result)
            continue
        out[item.index] = _succeeded(item, result, rules.created)
        del pending.inputs[item.index]
    pending.results = left


def _by_values(
    rules: MatchRules, result: Mapping[str, Any], inputs: Sequence[Input]
) -> Input | None:
    """The one input that a value the result echoes names alone, if there is exactly one."""
    echo = _echo(result)
    if not echo or not inputs:
        return None
    stamp = rules.stamp_property
    if stamp and echo.get(stamp) not in (None, ""):
        holders = [i for i in inputs if _same(i.properties.get(stamp), echo[stamp])]
        return holders[0] if len(holders) == 1 else None
    named: set[int] = set()
    for name in {n for i in inputs for n in i.properties}:
        if echo.get(name) in (None, ""):
            continue
        values = [_normal(i.properties.get(name)) for i in inputs]
        wanted = _normal(echo[name])
        if wanted is not None and values.count(wanted) == 1:
            named.add(inputs[values.index(wanted)].index)
    if len(named) == 1:
        index = named.pop()
        return next(i for i in inputs if i.index == index)
    return None


def _settle(rules: MatchRules, pending: _Pending, out: dict[int, WriteResult]) -> None:
    """Inputs no result or error was matched to: the last one left, failed, or unsure."""
    inputs = list(pending.inputs.values())
    if len(inputs) == 1 and len(pending.results) == 1 and not pending.errors:
        out[inputs[0].index] = _succeeded(inputs[0], pending.results[0], rules.created)
        return
    may_exist = rules.created is not False
    for item in inputs:
        if pending.results:
            text = UNTOLD.format(count=len(pending.results))
            out[item.index] = WriteResult(index=item.index, ok=False, error=text, unsure=may_exist)
        elif pending.errors:
            text = "; ".join(dict.fromkeys(pending.errors))
            if len(inputs) > 1:
                text = f"one of these, for {len(inputs)} records: {text}"
            out[item.index] = WriteResult(index=item.index, ok=False, error=text)
        else:
            out[item.index] = WriteResult(
                index=item.index, ok=False, error=NO_RESULT, unsure=may_exist
            )


def _echo(result: Mapping[str, Any]) -> Mapping[str, Any]:
    found = result.get("properties")
    return found if isinstance(found, Mapping) else {}


def _normal(value: Any) -> str | None:
    """A value as HubSpot may echo it: trimmed, case-folded, numbers compared as numbers."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text.casefold()
    return format(number.normalize(), "f") if number.is_finite() else text.casefold()


def _same(sent: Any, echoed: Any) -> bool:
    return _normal(sent) is not None and _normal(sent) == _normal(echoed)


def _succeeded(item: Input, result: Mapping[str, Any], created: bool | None) -> WriteResult:
    made = created if created is not None else result.get("new")
    return WriteResult(
        index=item.index,
        ok=True,
        id=str(result.get("id")) if result.get("id") is not None else None,
        created=None if made is None else bool(made),
    )
