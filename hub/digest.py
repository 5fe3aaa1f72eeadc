"""What a run tells people at its end: digests of its notifications, and alerts.

A handoff whose ``notify.digest`` is on keeps each record's message (its
rendered title and link) in a :class:`Digest` per channel instead of sending
it; at the run's end each channel gets one message: the run's counts, the
first ``digest_items`` items, and the run's dead letters. The config's
``alerts:`` section names who hears of trouble: a failed run, dead letters
made by a run, discrepancies found by reconcile. Nothing here fails a run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handoff_hub.hub.notify import Delivery, notifier_for

if TYPE_CHECKING:
    from handoff_hub.hub.config.root import AlertsConfig
    from handoff_hub.hub.store import StateStore

__all__ = ["Digest", "RunOutcome", "alert_reconcile", "alert_run", "digest_message", "send_digests"]

log = logging.getLogger("hub.notify")

_SHOWN_LETTERS = 5


@dataclass(frozen=True)
class RunOutcome:
    """The end of one run, as the digests and alerts tell it."""

    handoff: str
    run_id: str
    status: str
    counts: Mapping[str, int]
    error: str | None = None


@dataclass
class Digest:
    """One channel's messages of a run, told at its end in one."""

    urls: Sequence[Any]
    limit: int
    items: list[str] = field(default_factory=list)
    told: int = 0

    def add(self, title: str, url: str | None) -> Delivery:
        """Keep a record's message for the run's end; it counts as told."""
        self.told += 1
        if len(self.items) < self.limit:
            self.items.append(f"- {title} {url}".rstrip() if url else f"- {title}")
        return Delivery(True, "digest")


def digest_message(digest: Digest, outcome: RunOutcome, letters: Sequence[str]) -> tuple[str, str]:
    """Title and body of a run's digest: counts, the first items, the failures."""
    title = f"{outcome.handoff}: {_headline(outcome)}"
    lines = [_counts_line(outcome.counts), ""]
    lines += digest.items
    if digest.told > len(digest.items):
        lines.append(f"... and {digest.told - len(digest.items)} more")
    if letters:
        lines += ["", "Failed:", *(f"- {text}" for text in letters)]
    return title, "\n".join(lines).strip()


def send_digests(
    digests: Mapping[tuple[str, ...], Digest], outcome: RunOutcome, store: StateStore
) -> list[Delivery]:
    """Send each channel's digest of a run that told anything or failed anything."""
    letters = _letters(store, outcome.run_id)
    sent = []
    for digest in digests.values():
        if digest.told or letters:
            title, body = digest_message(digest, outcome, letters)
            sent.append(notifier_for(list(digest.urls)).send(title, body))
    return sent


def alert_run(
    alerts: AlertsConfig | None, outcome: RunOutcome, store: StateStore
) -> Delivery | None:
    """Alert on a failed run, or on dead letters the run made, where ``alerts:`` asks for it."""
    if alerts is None or not alerts.urls:
        return None
    letters = _letters(store, outcome.run_id)
    failed = outcome.status in {"failed", "interrupted"} and "run_failed" in alerts.on
    dead = bool(letters) and "dead_letters" in alerts.on
    if not (failed or dead):
        return None
    title = f"Handoff Hub alert: {outcome.handoff} {_headline(outcome)}"
    lines = [_counts_line(outcome.counts)]
    if outcome.error:
        lines.append(f"Error: {outcome.error}")
    if letters:
        lines += ["Dead letters:", *(f"- {text}" for text in letters)]
    lines.append(f"Run {outcome.run_id}: hub history, hub deadletters list")
    return _send(alerts, title, "\n".join(lines))


def alert_reconcile(
    alerts: AlertsConfig | None, counts: Mapping[str, int], pair: str
) -> Delivery | None:
    """Alert on discrepancies a reconcile found, where ``alerts:`` asks for it."""
    found = {kind: n for kind, n in counts.items() if n}
    if alerts is None or not alerts.urls or "discrepancies" not in alerts.on or not found:
        return None
    title = f"Handoff Hub alert: reconcile {pair} found {sum(found.values())} discrepancies"
    body = "\n".join(f"- {kind.replace('_', ' ')}: {n}" for kind, n in found.items())
    return _send(alerts, title, body + "\nhub reconcile shows them; --fix repairs what it can")


def _send(alerts: AlertsConfig, title: str, body: str) -> Delivery:
    delivery = notifier_for(list(alerts.urls)).send(title, body)
    if not delivery.delivered:
        log.warning("alert not delivered: %s", delivery.detail)
    return delivery


def _letters(store: StateStore, run_id: str) -> list[str]:
    rows = store.dead_letters(status=None, run_id=run_id, limit=_SHOWN_LETTERS + 1)
    shown = [f"{r.system} {r.object} {r.record_id}: {r.reason}" for r in rows]
    if len(shown) > _SHOWN_LETTERS:
        shown[_SHOWN_LETTERS:] = ["... more in hub deadletters list"]
    return shown


def _headline(outcome: RunOutcome) -> str:
    failed = outcome.counts.get("failed", 0)
    if outcome.status in {"failed", "interrupted"}:
        return f"run {outcome.status}"
    return f"{failed} failed" if failed else "done"


def _counts_line(counts: Mapping[str, int]) -> str:
    shown = [f"{name.replace('_', ' ')} {n}" for name, n in counts.items() if n]
    return ", ".join(shown) or "nothing to do"
