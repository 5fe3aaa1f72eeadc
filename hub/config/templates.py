"""Checks of the Jinja2 templates of a hub config against what they see at run time.

Each template setting renders with a context the handoff builds (in
``hub/handoffs/*.py``); a variable it does not have, ``{{ acount.name }}``, or a
field the entity does not have, ``{{ opportunity.nmae }}``, fails every record
at run time. :data:`TEMPLATE_CONTEXTS` lists those contexts, and the checks
here report each unknown name with file, line and the nearest known name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from handoff_hub.hub.config.schema import did_you_mean
from handoff_hub.hub.config.yamlio import NodePath, YamlDocument
from handoff_hub.hub.errors import Issue
from handoff_hub.hub.mapping.templating import template_error, template_names
from handoff_hub.hub.model import Account, Feedback, Opportunity, Project, Risk, User

__all__ = ["TEMPLATE_CONTEXTS", "View", "handoff_template_issues", "template_text_issues"]

View = type[BaseModel] | frozenset[str] | None
"""What a variable holds: an entity's template view (its fields), a dict with
these keys, or a plain value (``None``: not checked further)."""

_DICT_METHODS = frozenset(n for n in dir(dict) if not n.startswith("_"))

# Keep in step with the contexts the handoffs build (the functions named).
TEMPLATE_CONTEXTS: dict[tuple[str, str], Mapping[str, View]] = {
    # won_to_project.build_project; `value`: a per-value project's value, else None
    ("templates", "name"): {"opportunity": Opportunity, "account": Account, "value": None},
    # WonToProject._notify
    ("won_to_project", "notify"): {
        "project": frozenset({"name", "key"}),
        "opportunity": Opportunity,
        "project_url": None,
        "warning": None,
    },
    # FeedbackToLead._context, for the lead's name, the comment and the notification
    ("feedback_to_lead", "lead_name"): {
        "feedback": Feedback,
        "account": Account,
        "lead_id": None,
        "lead_url": None,
    },
    # RiskToAccountManager._alert
    ("risk_to_account_manager", "risk_subject"): {"risk": Risk},
    ("risk_to_account_manager", "health_subject"): {"project": Project},
    # RiskToAccountManager._notify: a risk's alert has `risk`, a health alert `project`
    ("risk_to_account_manager", "notify"): {
        "risk": Risk,
        "project": Project,
        "event": None,
        "subject": None,
        "opportunity": Opportunity,
        "owner": User,
        "task_url": None,
    },
}
TEMPLATE_CONTEXTS["feedback_to_lead", "comment"] = TEMPLATE_CONTEXTS[
    "feedback_to_lead", "lead_name"
]
TEMPLATE_CONTEXTS["feedback_to_lead", "notify"] = TEMPLATE_CONTEXTS["feedback_to_lead", "lead_name"]

_TEMPLATE_SETTINGS = ("lead_name", "comment", "risk_subject", "health_subject")


def handoff_template_issues(
    doc: YamlDocument, at: NodePath, settings: dict[str, Any]
) -> list[Issue]:
    """The templates of one handoff (``at`` is ``("handoffs", name)``), each checked."""
    handoff = str(at[-1])
    notify: dict[str, Any] = settings["notify"] if isinstance(settings.get("notify"), dict) else {}
    texts: list[tuple[NodePath, str, Any]] = [
        ((k,), k, settings.get(k)) for k in _TEMPLATE_SETTINGS
    ]
    texts += [(("notify", part), "notify", notify.get(part)) for part in ("title", "body")]
    if handoff == "risk_to_account_manager" and isinstance(urls := notify.get("urls"), list):
        texts += [(("notify", "urls", i), "notify", u) for i, u in enumerate(urls)]
    issues: list[Issue] = []
    for sub, role, text in texts:
        if isinstance(text, str):
            context = TEMPLATE_CONTEXTS.get((handoff, role))
            issues += template_text_issues(doc, (*at, *sub), text, context)
    return issues


def template_text_issues(
    doc: YamlDocument, where: NodePath, text: str, context: Mapping[str, View] | None
) -> list[Issue]:
    """Why the template ``text`` at ``where`` fails: syntax, a refusal or unknown names.

    With ``context`` ``None`` only the template itself is checked.
    """
    if (error := template_error(text)) is not None:
        return [doc.issue(where, error)]
    names = template_names(text)
    if context is None or names is None:
        return []
    issues = [
        doc.issue(
            where,
            f"unknown variable {name!r} (template line {line}); "
            f"this template sees: {', '.join(sorted(context))}",
            did_you_mean(name, context),
        )
        for name, line in names.variables.items()
        if name not in context
    ]
    for name, key, line in names.attributes:
        fields = _fields(context.get(name))
        if fields is not None and key not in fields and key not in _DICT_METHODS:
            issues.append(
                doc.issue(
                    where,
                    f"{name} has no field {key!r} (template line {line})",
                    did_you_mean(key, fields) or f"its fields: {', '.join(sorted(fields))}",
                )
            )
    return issues


def _fields(view: View) -> frozenset[str] | None:
    if view is None or isinstance(view, frozenset):
        return view
    return frozenset(view.model_fields)
