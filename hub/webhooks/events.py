"""What changed, according to a delivery: record ids per system, without trusting more.

A delivery says which records changed; it is not a copy of them to act on
(the dispatcher reads each record fresh from its product). So a connector's
receiver (:mod:`handoff_hub.hub.webhooks.source`) takes only ids and their kind from it,
as :class:`Change` values; a body that is not what its product sends is a
:class:`PayloadError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from handoff_hub.hub.errors import HubError

__all__ = [
    "Change",
    "ChangeKind",
    "PayloadError",
    "json_payload",
    "unique",
]

ChangeKind = Literal["deal", "item", "project", "issue"]
"""deal: a CRM deal; item: a PM task; project: a PM project; issue: a Jira issue (either)."""


class PayloadError(HubError):
    """A delivery whose body is not what the product sends."""


@dataclass(frozen=True)
class Change:
    """One record that changed in one system."""

    system: str
    record_id: str
    kind: ChangeKind


def json_payload(body: bytes) -> Any:
    """The JSON document ``body`` holds; :class:`PayloadError` when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError("the body is not JSON") from None


def unique(changes: Iterable[Change]) -> list[Change]:
    """``changes`` without repeats, in their first order."""
    return list(dict.fromkeys(changes))
