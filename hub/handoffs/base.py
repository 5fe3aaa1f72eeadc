"""What every handoff between a CRM and a project tool starts from.

A handoff says which streams of changes it reads (a role, ``crm`` or ``pm``,
and a unified entity each) and what it does with a page of them (``process``);
the base gives it its systems and fitted mappings, the checkpointed reading
of each stream in turn, the cursor and lease names, and moving the cursor
past a handled page. Like a Singer stream, the hooks are small: override
:meth:`streams`, and where a stream is read another way, :meth:`stream_pages`
or :meth:`read_filter`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar

from handoff_hub.hub.connector import ChangePage, Connector, FilterValue, RecordEnvelope
from handoff_hub.hub.digest import Digest, RunOutcome, alert_run, send_digests
from handoff_hub.hub.errors import MappingError
from handoff_hub.hub.handoffs.checkpoint import Checkpoint, advance_checkpoint, read_entity_changes
from handoff_hub.hub.handoffs.conditions import Conditions
from handoff_hub.hub.handoffs.engine import BatchReport, Decision, Verdict, fingerprint
from handoff_hub.hub.http import cursor_text
from handoff_hub.hub.mapping.engine import map_records
from handoff_hub.hub.mapping.transforms import render_template
from handoff_hub.hub.notify import Delivery, notifier_for
from handoff_hub.hub.store import AuditEvent

if TYPE_CHECKING:
    from handoff_hub.hub.config.handoffs import NotifyConfig
    from handoff_hub.hub.mapping.spec import MappingSpec
    from handoff_hub.hub.runtime import Runtime

__all__ = ["PairConfig", "PairHandoff", "Stream"]

Role = Literal["crm", "pm"]


class PairConfig(Protocol):
    """What every handoff's config section has."""

    crm: str
    pm: str
    batch_size: int


ConfigT = TypeVar("ConfigT", bound=PairConfig)
EntityT = TypeVar("EntityT")


@dataclass(frozen=True)
class Stream:
    """One stream of changes a handoff reads: a unified entity of one of its systems."""

    role: Role
    entity: str


class PairHandoff(Generic[ConfigT]):
    """A handoff for one CRM/PM pair of a runtime, reading its streams from checkpoints."""

    name: ClassVar[str]
    """Command, store and flow name (``won-to-project``)."""

    def __init__(
        self,
        runtime: Runtime,
        config: ConfigT,
        *,
        run_id: str | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.rt = runtime
        self.cfg = config
        self.run_id = run_id
        self.today = today or dt.datetime.now(dt.UTC).date()
        """The day dates count from (due dates, overdue work); tests fix it."""
        self.crm = runtime.connector(config.crm)
        self.pm = runtime.pm(config.pm)
        self.crm_map = runtime.mapping(config.crm)
        self.pm_map = runtime.mapping(config.pm)
        self.stream = self.streams()[0]
        """The stream being read: :meth:`process` and :meth:`advance` see its pages."""
        self.only = Conditions(getattr(config, "only", None) or {})
        """The ``only:`` conditions a record must meet for the handoff to act on it."""
        self.digests: dict[tuple[str, ...], Digest] = {}
        """This run's notifications per channel, when ``notify.digest`` holds them to its end."""

    # hooks -------------------------------------------------------------------------

    def streams(self) -> list[Stream]:
        """The streams this handoff reads, in order (the first names its lease)."""
        raise NotImplementedError

    def process(self, records: Sequence[RecordEnvelope], *, dry_run: bool = False) -> BatchReport:
        """Plan one page of the current stream and, unless ``dry_run``, apply it."""
        raise NotImplementedError

    def read_filter(self, stream: Stream) -> Mapping[str, FilterValue] | None:
        """A filter on the stream's read beyond the mapping's ``where`` (None: none)."""
        return None

    def stream_pages(self, stream: Stream) -> Iterator[ChangePage]:
        """Pages of the stream's changes since its checkpoint (minus the look-back)."""
        return read_entity_changes(
            self.rt.store,
            self.cursor_name(stream),
            self.connector(stream.role),
            self.mapping(stream.role).entities[stream.entity],
            page_size=self.cfg.batch_size,
            where=self.read_filter(stream),
            lookback=self.rt.lookback(self.system(stream.role)),
            first_since=self.first_since(stream),
        )

    def first_since(self, stream: Stream) -> dt.datetime | None:
        """Where a stream's first read starts: the config's ``start_from``, fixed once.

        A date is its midnight (UTC); ``now`` is this first run's start. A run
        keeps the bound as the stream's checkpoint before it reads, so a first run
        that finds nothing does not move it; a plan (which writes nothing) reads
        from the same instant. Either way the look-back window applies, as to
        every read.
        """
        start = self._go_live(stream)
        if start is None:
            return None
        if self.run_id is not None:
            self._keep_go_live(stream, start)
            return None
        return start - self.rt.lookback(self.system(stream.role))

    def keep_first_bounds(self) -> None:
        """Store each stream's go-live bound now, as a run does before its first read.

        For a run that reads before it is recorded (:func:`~hub.handoffs.idle.run_if_idle`):
        its reads then start where the run's would.
        """
        for stream in self.streams():
            start = self._go_live(stream)
            if start is not None:
                self._keep_go_live(stream, start)

    def _keep_go_live(self, stream: Stream, start: dt.datetime) -> None:
        self.rt.store.set_cursor(self.cursor_name(stream), Checkpoint(cursor_text(start)).encode())

    def _go_live(self, stream: Stream) -> dt.datetime | None:
        """``start_from`` as an instant while the stream has no checkpoint, else None."""
        start_from = getattr(self.cfg, "start_from", None)
        if start_from is None or self.rt.store.get_cursor(self.cursor_name(stream)):
            return None
        if start_from == "now":
            return self.clock()
        return dt.datetime.combine(start_from, dt.time(), tzinfo=dt.UTC)

    def clock(self) -> dt.datetime:
        """The time now (UTC); tests set another."""
        return dt.datetime.now(dt.UTC)

    # what the batch loop calls -----------------------------------------------------

    @property
    def lease_name(self) -> str:
        """One run at a time of this handoff from the system its first stream reads."""
        return f"{self.name}:{self.system(self.streams()[0].role)}"

    def pages(self) -> Iterator[ChangePage]:
        """Every stream's pages in turn, each from its own checkpoint."""
        for stream in self.streams():
            self.stream = stream
            yield from self.stream_pages(stream)

    def advance(self, page: ChangePage) -> None:
        """Move the current stream's checkpoint past a page whose every write is recorded."""
        advance_checkpoint(
            self.rt.store,
            self.cursor_name(self.stream),
            page,
            lookback=self.rt.lookback(self.system(self.stream.role)),
        )

    def qualifying(
        self, entities: list[EntityT], report: BatchReport, ident: Callable[[EntityT], str]
    ) -> list[EntityT]:
        """The entities that meet ``only:``; each other one is a skip in ``report``, with why."""
        kept, outside = self.only.split(entities)
        report.counts["outside_only"] += len(outside)
        for entity, reason in outside:
            record_id = ident(entity)
            report.decisions.append(Decision(Verdict.SKIP, record_id, record_id, reason))
        return kept

    def tell(
        self,
        notify: NotifyConfig,
        defaults: tuple[str, str],
        context: Mapping[str, object],
        report: BatchReport,
        *,
        urls: Sequence[object] | None = None,
        link: str | None = None,
    ) -> Delivery:
        """One record's notification, counted in ``report``: sent now, or kept for the digest.

        ``defaults`` are the handoff's own title and body templates, for what
        ``notify`` leaves out; ``urls`` replaces ``notify.urls`` (a handoff that
        renders them per record).
        """
        title, body = notify.title or defaults[0], notify.body or defaults[1]
        channel = list(notify.urls if urls is None else urls)
        if not notify.digest:
            delivery = notifier_for(channel).send_rendered(title, body, context)
        else:
            key = tuple(map(str, channel))
            digest = self.digests.setdefault(key, Digest(channel, notify.digest_items))
            try:
                delivery = digest.add(render_template(title, context), link)
            except MappingError as exc:
                delivery = Delivery(False, "template", f"notification template: {exc}")
        report.counts["notified" if delivery.delivered else "notify_failed"] += 1
        return delivery

    def finish(self, outcome: RunOutcome) -> None:
        """At a run's end: each channel's digest, and the alerts the config asks for."""
        send_digests(self.digests, outcome, self.rt.store)
        self.digests.clear()
        alert_run(self.rt.loaded.config.alerts, outcome, self.rt.store)

    def mapped(
        self, records: Sequence[RecordEnvelope], report: BatchReport, *, record_failures: bool
    ) -> list[Any]:
        """The current stream's records in the unified model.

        One that does not map is a failure in ``report`` and, where
        ``record_failures`` (a real run, not a plan), a dead letter with why.
        """
        items, failures = map_records(self.mapping(self.stream.role), self.stream.entity, records)
        for record, error in failures:
            report.counts["failed"] += 1
            report.decisions.append(Decision(Verdict.FAIL, record.id, record.id, str(error)))
            if record_failures:
                self.dead_letter(record.id, f"mapping: {error}", dict(record.raw))
        return items

    def audit(
        self,
        action: str,
        system: str,
        object_name: str,
        record_id: str | None,
        outcome: str,
        *,
        source_ref: str | None,
        after: Mapping[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        """One event of this handoff's run in the audit trail (``after`` kept as a fingerprint)."""
        event = AuditEvent(
            self.name,
            action,
            system,
            object_name,
            record_id,
            outcome,
            source_ref=source_ref,
            after_fp=fingerprint(after) if after else None,
            detail=detail or None,
        )
        self.rt.store.audit(self.run_id, [event])

    def dead_letter(self, record_id: str, reason: str, payload: Mapping[str, object]) -> None:
        """Keep a record of the current stream the handoff cannot handle, with why."""
        system = self.system(self.stream.role)
        log = logging.getLogger(f"hub.{self.name.replace('-', '_')}")
        log.warning("%s: %s %s: %s", self.name, system, record_id, reason)
        self.rt.store.dead_letter(
            self.run_id,
            handoff=self.name,
            system=system,
            object_name=self.stream.entity,
            record_id=record_id,
            reason=reason,
            payload=dict(payload),
        )

    def read_as(self, system: str, entity: str) -> None:
        """Take the next records handed to :meth:`process` as ``entity`` of ``system``.

        For records that come another way than :meth:`pages` (a replay, a webhook).
        """
        self.stream = Stream("crm" if system == self.cfg.crm else "pm", entity)

    # names and sides ---------------------------------------------------------------

    def cursor_name(self, stream: Stream | None = None) -> str:
        """Store key of a stream's read position (default: the first stream's)."""
        stream = stream or self.streams()[0]
        return f"{self.name}:{self.system(stream.role)}:{stream.entity}"

    def system(self, role: Role) -> str:
        """The configured system name of a role."""
        return self.cfg.crm if role == "crm" else self.cfg.pm

    def connector(self, role: Role) -> Connector:
        """The connector of a role."""
        return self.crm if role == "crm" else self.pm

    def mapping(self, role: Role) -> MappingSpec:
        """The fitted mapping of a role."""
        return self.crm_map if role == "crm" else self.pm_map
