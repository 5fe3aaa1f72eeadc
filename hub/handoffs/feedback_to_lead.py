"""feedback-to-lead: customer feedback, a new need or an upsell in delivery becomes one CRM lead.

Per PM item the path is: link store -> (no link) the CRM's lead stamped with
the item's id -> (not found) create the lead, in one batch call per page.
The lead carries the feedback text, the reporter and a link back, and the
account of the deal whose project the item sits in (through won-to-project's
links). Then a comment on the PM item says which lead it became. A link is
``created`` once the lead exists and ``complete`` once the comment is posted,
so a crash between the two redoes only the comment, never the lead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff_hub.hub.config.handoffs import FeedbackToLeadConfig
from handoff_hub.hub.connector import RecordEnvelope
from handoff_hub.hub.errors import RECORD_ERRORS, MappingError, TransientError
from handoff_hub.hub.handoffs.base import PairHandoff, Stream
from handoff_hub.hub.handoffs.engine import (
    BatchReport,
    Decision,
    Verdict,
    raise_if_unsure,
)
from handoff_hub.hub.handoffs.linked_deals import deals_of_projects
from handoff_hub.hub.mapping.engine import from_unified
from handoff_hub.hub.mapping.transforms import render_template
from handoff_hub.hub.model import Account, Feedback, Lead, dump, template_view
from handoff_hub.hub.store import Link

__all__ = ["HANDOFF", "FeedbackToLead"]

HANDOFF = "feedback-to-lead"
NOTIFY_TITLE = "New lead from delivery: {{ feedback.text }}"
NOTIFY_BODY = (
    "{{ feedback.text }}{% if account.name %} ({{ account.name }}){% endif %}"
    " became lead {{ lead_url }}"
)
log = logging.getLogger("hub.feedback_to_lead")


@dataclass
class _Work:
    feedback: Feedback
    item_id: str
    decision: Decision
    account: Account | None = None
    lead_id: str | None = None


class FeedbackToLead(PairHandoff[FeedbackToLeadConfig]):
    """The feedback-to-lead handoff for one PM/CRM pair of a runtime."""

    name = HANDOFF

    def streams(self) -> list[Stream]:
        """Changed feedback items."""
        return [Stream("pm", "Feedback")]

    @property
    def _lead_object(self) -> str:
        return self.crm_map.entities["Lead"].object

    def process(self, records: Sequence[RecordEnvelope], *, dry_run: bool = False) -> BatchReport:
        """Plan one batch and, unless ``dry_run``, apply it."""
        report = BatchReport()
        report.counts["seen"] += len(records)
        work = self._plan(records, report, record_failures=not dry_run)
        report.decisions.extend(w.decision for w in work)
        failed = [w for w in work if w.decision.verdict is Verdict.FAIL]
        report.counts["failed"] += len(failed)
        if not dry_run:
            for item in failed:
                self.dead_letter(item.item_id, item.decision.reason, dump(item.feedback))
            self._apply([w for w in work if w.decision.verdict is not Verdict.FAIL], report)
        return report

    # planning ------------------------------------------------------------------

    def _plan(
        self, records: Sequence[RecordEnvelope], report: BatchReport, *, record_failures: bool
    ) -> list[_Work]:
        items = self.mapped(records, report, record_failures=record_failures)
        feedback = [f for f in items if isinstance(f, Feedback)]
        feedback = self.qualifying(feedback, report, lambda f: f.refs[self.cfg.pm])
        ids = [f.refs[self.cfg.pm] for f in feedback]
        links = self.rt.store.links_for(HANDOFF, self.cfg.pm, ids, target_system=self.cfg.crm)
        stamped = self._stamped_leads([i for i in ids if i not in links])
        accounts, problems = self._accounts(feedback)
        return [
            self._decide(f, links.get(f.refs[self.cfg.pm]), stamped, accounts, problems)
            for f in feedback
        ]

    def _decide(
        self,
        item: Feedback,
        link: Link | None,
        stamped: Mapping[str, str],
        accounts: Mapping[str, Account],
        problems: Mapping[str, str],
    ) -> _Work:
        item_id = item.refs[self.cfg.pm]
        label = item.text[:80]
        account = accounts.get(item.project or "")
        problem = problems.get(item.project or "")
        if link is not None and link.state == "complete":
            decision = Decision(
                Verdict.SKIP, item_id, label, f"already lead {link.target_id}", link.target_id
            )
            return _Work(item, item_id, decision, account, link.target_id)
        if link is not None:
            decision = Decision(
                Verdict.FINISH, item_id, label, "lead exists; comment pending", link.target_id
            )
            return _Work(item, item_id, decision, account, link.target_id)
        found = stamped.get(self._source_id(item_id))
        if found is not None:
            decision = Decision(
                Verdict.RECOVER, item_id, label, f"lead {found} found by its stamp", found
            )
            return _Work(item, item_id, decision, account, found)
        if problem is not None:
            reason = f"project {item.project} is linked to a deal, but {problem}"
            return _Work(item, item_id, Decision(Verdict.FAIL, item_id, label, reason), None)
        where = f" for {account.name or account.ref(self.cfg.crm)}" if account else ""
        where = where or " (no linked account)"
        decision = Decision(Verdict.CREATE, item_id, label, f"{item.feedback_kind}{where}")
        return _Work(item, item_id, decision, account)

    def _source_id(self, item_id: str) -> str:
        return f"{self.cfg.pm}:{item_id}"

    def _stamped_leads(self, item_ids: Sequence[str]) -> dict[str, str]:
        stamp_field = self.crm_map.entities["Lead"].stamp_field
        if not item_ids or not stamp_field:
            return {}
        return self.crm.find_by_external_id(
            self._lead_object, stamp_field, [self._source_id(i) for i in item_ids]
        )

    def _accounts(self, feedback: Sequence[Feedback]) -> tuple[dict[str, Account], dict[str, str]]:
        """Project key/id -> the account of its deal; by project, why a linked deal is unusable."""
        linked = deals_of_projects(
            self.rt, self.cfg.crm, self.cfg.pm, {f.project for f in feedback if f.project}
        )
        accounts = {p: o.account for p, o in linked.deals.items() if o.account is not None}
        return accounts, linked.problems

    # applying ------------------------------------------------------------------

    def _apply(self, work: list[_Work], report: BatchReport) -> None:
        to_create = [w for w in work if w.decision.verdict is Verdict.CREATE]
        unsure_leads = self._create_leads(to_create, report)
        for item in work:
            verdict = item.decision.verdict
            if verdict is Verdict.SKIP:
                report.counts["skipped"] += 1
            elif verdict is Verdict.RECOVER:
                report.counts["recovered"] += 1
                self._record_link(item, "created")
            elif verdict is Verdict.FINISH:
                report.counts["finished"] += 1
        done: list[str] = []
        unsure: list[tuple[_Work, TransientError]] = []
        for item in work:
            if item.lead_id is None or item.decision.verdict is Verdict.SKIP:
                continue
            try:
                self._comment_and_notify(item, report)
            except RECORD_ERRORS as exc:
                report.counts["comment_failed"] += 1
                self.dead_letter(item.item_id, f"comment: {exc}", dump(item.feedback))
                continue
            except TransientError as exc:
                unsure.append((item, exc))
                continue
            self._record_link(item, "complete")
            done.append(item.item_id)
        self.rt.store.resolve_dead_letters(HANDOFF, self.cfg.pm, done)
        raise_if_unsure(
            [(w.item_id, exc) for w, exc in unsure_leads],
            report,
            what="leads",
            tells="the lead's stamp",
            system=self.cfg.crm,
        )
        raise_if_unsure(
            [(w.item_id, exc) for w, exc in unsure],
            report,
            what="comments",
            tells="the item's comments",
            system=self.cfg.pm,
        )

    def _create_leads(
        self, items: list[_Work], report: BatchReport
    ) -> list[tuple[_Work, TransientError]]:
        """Create the batch's leads; return those the CRM may or may not have made."""
        payloads: list[tuple[_Work, dict[str, Any]]] = []
        stamp_field = self.crm_map.entities["Lead"].stamp_field
        for item in items:
            try:
                fields = dict(from_unified(self.crm_map, "Lead", self._lead(item)))
            except MappingError as exc:
                report.counts["failed"] += 1
                self.dead_letter(item.item_id, f"lead mapping: {exc}", dump(item.feedback))
                continue
            if stamp_field:
                fields[stamp_field] = self._source_id(item.item_id)
            payloads.append((item, fields))
        if not payloads:
            return []
        results = self.crm.create(self._lead_object, [p for _, p in payloads])
        created: list[Link] = []
        unsure: list[tuple[_Work, TransientError]] = []
        for (item, payload), result in zip(payloads, results, strict=True):
            if result.ok and result.id:
                item.lead_id = result.id
                report.counts["created"] += 1
                self._audit("create_lead", self.cfg.crm, item, "ok", after=payload)
                created.append(self._link(item, "created"))
            elif result.unsure:
                self._audit("create_lead", self.cfg.crm, item, "unsure", detail=result.error)
                unsure.append((item, TransientError(str(result.error), system=self.cfg.crm)))
            else:
                report.counts["failed"] += 1
                self._audit("create_lead", self.cfg.crm, item, "failed", detail=result.error)
                self.dead_letter(item.item_id, f"create lead: {result.error}", payload)
        self.rt.store.record_links(created)
        return unsure

    def _lead(self, item: _Work) -> Lead:
        context = self._context(item)
        feedback = item.feedback
        known = item.account.name if item.account else None
        company = known or feedback.account or "Unknown customer"
        reporter = feedback.reporter
        lines = [feedback.text, ""]
        if reporter is not None:
            lines.append(f"Reported by {reporter.name or reporter.email} in delivery.")
        lines.append(f"Source: {self.pm.record_url(self._feedback_object, item.item_id)}")
        return Lead(
            last_name=render_template(self.cfg.lead_name, context).strip()[:80] or "Customer",
            company=company[:255],
            description="\n".join(lines),
            source=self.cfg.lead_source,
            account=item.account.ref(self.cfg.crm) if item.account else None,
            contact=reporter,
        )

    @property
    def _feedback_object(self) -> str:
        return self.pm_map.entities["Feedback"].object

    def _context(self, item: _Work) -> dict[str, Any]:
        lead_url = (
            self.crm.record_url(self._lead_object, item.lead_id) if item.lead_id is not None else ""
        )
        return {
            "feedback": template_view(item.feedback),
            # Without a linked deal the PM item's own customer field is all there is.
            "account": template_view(item.account or Account(name=item.feedback.account)),
            "lead_id": item.lead_id,
            "lead_url": lead_url,
        }

    def _comment_and_notify(self, item: _Work, report: BatchReport) -> None:
        context = self._context(item)
        text = render_template(self.cfg.comment, context)
        if item.decision.verdict is not Verdict.CREATE and self._already_commented(item, text):
            report.counts["comment_found"] += 1
            self._audit("comment", self.cfg.pm, item, "ok", detail="found: posted before a stop")
            return
        comment_id = self.pm.add_comment(self._feedback_object, item.item_id, text)
        report.counts["commented"] += 1
        self._audit("comment", self.cfg.pm, item, "ok", detail=f"comment {comment_id}")
        notify = self.cfg.notify
        link = str(context.get("lead_url") or "") or None
        delivery = self.tell(notify, (NOTIFY_TITLE, NOTIFY_BODY), context, report, link=link)
        self._audit(
            "notify",
            delivery.channel,
            item,
            "ok" if delivery.delivered else "failed",
            detail=delivery.detail or None,
        )

    def _already_commented(self, item: _Work, text: str) -> bool:
        """A run stopped after commenting and before recording it: is the comment there?"""
        wanted = " ".join(text.split())
        return any(
            wanted in " ".join(found.split())
            for found in self.pm.comment_texts(self._feedback_object, item.item_id)
        )

    # recording -----------------------------------------------------------------

    def _record_link(self, item: _Work, state: str) -> None:
        self.rt.store.record_link(self._link(item, state))

    def _link(self, item: _Work, state: str) -> Link:
        assert item.lead_id is not None
        return Link(
            HANDOFF,
            self.cfg.pm,
            self._feedback_object,
            item.item_id,
            self.cfg.crm,
            self._lead_object,
            item.lead_id,
            item.lead_id,
            self.crm.record_url(self._lead_object, item.lead_id),
            state,
        )

    def _audit(
        self,
        action: str,
        system: str,
        item: _Work,
        outcome: str,
        *,
        after: Mapping[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        target = item.lead_id if system == self.cfg.crm else item.item_id
        entity = "Lead" if system == self.cfg.crm else "Feedback"
        self.audit(
            action,
            system,
            entity,
            target,
            outcome,
            source_ref=self._source_id(item.item_id),
            after=after,
            detail=detail,
        )
