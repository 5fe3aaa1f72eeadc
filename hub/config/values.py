"""Checks of hub-config values that fit the schema but fail at run time.

A base URL without a host, a store URL of a database the hub cannot use, a
cron expression that never fires and a notification URL apprise does not know
all pass the JSON Schema; each is reported here with file and line instead of
surfacing mid-run. A value that may hold a secret (a store URL's password, a
notification URL's token) is never shown: only its scheme is.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from handoff_hub.hub.config.schema import did_you_mean, yaml_text_hint
from handoff_hub.hub.config.yamlio import NodePath, YamlDocument
from handoff_hub.hub.errors import Issue

__all__ = [
    "notify_url_issues",
    "schedule_issues",
    "settings_issues",
    "store_issues",
    "system_url_issues",
]

STORE_BACKENDS = ("sqlite", "postgresql")
_STORE_EXAMPLE = "sqlite:///.hub/state.db or postgresql+psycopg://user@host/db"

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES: tuple[str, ...] = ("January", "February", "March", "April", "May", "June", "July")
_MONTH_NAMES += ("August", "September", "October", "November", "December")
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_CRON_STRICT = ("minute", "hour", "month")  # the others allow croniter's L and W
_CRON_ITEM = re.compile(r"^(\*|(\w+)(?:-(\w+))?)(?:/(\d+))?$")


def _dicts(value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    items = value.items() if isinstance(value, dict) else ()
    return ((str(k), v) for k, v in items if isinstance(v, dict))


# Systems and store -----------------------------------------------------------------


def system_url_issues(doc: YamlDocument, raw: dict[str, Any]) -> list[Issue]:
    """Each ``systems.<name>.base_url`` that is not an http(s) URL with a host."""
    issues: list[Issue] = []
    for name, system in _dicts(raw.get("systems")):
        url = system.get("base_url")
        if isinstance(url, str) and not _is_http_url(url):
            shown = "the value" if "@" in url else repr(url if len(url) <= 60 else url[:57] + "...")
            issues.append(
                doc.issue(
                    ("systems", name, "base_url"),
                    f"{shown} is not an http(s) URL with a host name",
                    "e.g. https://acme.my.salesforce.com or https://acme.atlassian.net",
                )
            )
    return issues


def _is_http_url(url: str) -> bool:
    if any(c.isspace() or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def store_issues(doc: YamlDocument, raw: dict[str, Any]) -> list[Issue]:
    """A ``store.url`` the hub cannot open: not a URL, another database, a missing driver."""
    store = raw.get("store")
    url = store.get("url") if isinstance(store, dict) else None
    if not isinstance(url, str):
        return []
    problem = _store_problem(url)
    return [doc.issue(("store", "url"), problem, f"e.g. {_STORE_EXAMPLE}")] if problem else []


def _store_problem(url: str) -> str | None:
    from sqlalchemy.engine import make_url  # lazy: most commands never open the store here
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "is not a database URL (the value is not shown: it may hold a password)"
    scheme = parsed.drivername
    if parsed.get_backend_name() not in STORE_BACKENDS:
        return f"store URL scheme {scheme!r} is not supported; supported: sqlite, postgresql"
    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except NoSuchModuleError:
        return f"store URL scheme {scheme!r}: no such SQLAlchemy driver"
    except ImportError as exc:
        return f"store URL scheme {scheme!r}: its driver is not installed ({exc.name or exc})"
    if getattr(dialect, "is_async", False):
        return f"store URL scheme {scheme!r} names an async driver; the hub needs a sync one"
    return None


# Connector settings ----------------------------------------------------------------


_CODE_ONLY = frozenset({"value_error", "assertion_error"})
"""Errors of a model's own validators: what its JSON Schema cannot say."""


def settings_issues(
    doc: YamlDocument,
    at: NodePath,
    settings: Mapping[str, Any],
    model: type[BaseModel],
    *,
    beyond_schema: bool = False,
) -> list[Issue]:
    """Every problem of a system's ``settings`` (at ``at``) under a connector's model.

    Args:
        doc: The hub config, for file and lines.
        at: Where the settings are in it.
        settings: The settings as written.
        model: The connector's model of them.
        beyond_schema: The hub-config schema already checked these settings (keys,
            types, enums, bounds): report only what the model's validators add.
    """
    try:
        model.model_validate(settings)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not beyond_schema or e["type"] in _CODE_ONLY]
        return [doc.issue((*at, *err["loc"]), err["msg"], _hint(err, at, model)) for err in errors]
    return []


def _hint(error: ErrorDetails, at: NodePath, model: type[BaseModel]) -> str | None:
    if error["type"] == "extra_forbidden" and error["loc"]:
        return did_you_mean(str(error["loc"][-1]), model.model_fields)
    return _yaml_type_hint(error, at)


def _yaml_type_hint(error: ErrorDetails, at: NodePath) -> str | None:
    """Why YAML made a number or boolean of what was meant as text: ``NO``, ``61.10``."""
    if error["type"] != "string_type" or any(
        str(p).endswith(("secret", "token", "password")) for p in (*at, *error["loc"])
    ):
        return None
    return yaml_text_hint(error.get("input"))


# Schedules -------------------------------------------------------------------------


def schedule_issues(doc: YamlDocument, at: NodePath, settings: dict[str, Any]) -> list[Issue]:
    """A ``schedule`` that is no cron expression, never fires, or names no known time zone."""
    schedule = settings.get("schedule")
    if isinstance(schedule, str):
        return _cron_issues(doc, (*at, "schedule"), schedule)
    if not isinstance(schedule, dict):
        return []
    issues = []
    if isinstance(cron := schedule.get("cron"), str):
        issues += _cron_issues(doc, (*at, "schedule", "cron"), cron)
    if isinstance(zone := schedule.get("timezone"), str) and not _known_zone(zone):
        issues.append(
            doc.issue(
                (*at, "schedule", "timezone"),
                f"unknown time zone {zone!r}",
                "an IANA name such as Europe/Berlin, America/New_York or UTC",
            )
        )
    return issues


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _cron_issues(doc: YamlDocument, at: NodePath, schedule: str) -> list[Issue]:
    if (problem := _cron_problem(schedule)) is not None:
        return [
            doc.issue(
                at,
                f"{schedule!r} is not a cron expression{problem}",
                "five fields: minute hour day month weekday, e.g. '*/15 * * * *'",
            )
        ]
    if (never := _never_fires(schedule)) is not None:
        return [
            doc.issue(
                at,
                f"{schedule!r} never fires: {never}",
                "check the day of month against the months",
            )
        ]
    return []


def _cron_problem(schedule: str) -> str | None:
    """Why a schedule is not a five-field cron expression (``""``: not five fields), or None.

    Plain numbers, names, ranges, lists and steps are checked; anything else
    (croniter's extensions such as ``L`` or ``5#2``) is left to the Prefect server.
    """
    parts = schedule.split()
    if len(parts) != 5:
        return ""
    for text, (label, low, high, names) in zip(parts, _CRON_FIELDS, strict=True):
        for item in text.lower().split(","):
            match = _CRON_ITEM.match(item)
            values = [v for v in match.groups()[1:3] if v is not None] if match else []
            for value in values:
                if value.isdigit() and not low <= int(value) <= high:
                    return f": {label} {value} is out of range {low}-{high}"
                if not value.isdigit() and value not in names and label in _CRON_STRICT:
                    return f": {label} {value!r} is not a {'number or name' if names else 'number'}"
            if match and match.group(4) is not None and int(match.group(4)) == 0:
                return f": {label} step 0"
    return None


def _never_fires(schedule: str) -> str | None:
    """Why a valid schedule never fires (a day no month it names has), or None.

    When both day of month and day of week are restricted, cron fires on either,
    so only a day of week of ``*`` or ``?`` is checked.
    """
    _, _, day_text, month_text, weekday = schedule.lower().split()
    days = _field_values(day_text, *_CRON_FIELDS[2][1:])
    months = _field_values(month_text, *_CRON_FIELDS[3][1:])
    if weekday not in ("*", "?") or not days or not months:
        return None
    if any(day <= _MONTH_DAYS[month - 1] for day in days for month in months):
        return None
    names = [_MONTH_NAMES[m - 1] for m in sorted(months)]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    verb = "has" if len(names) == 1 else "have"
    return f"{listed} {verb} no day {min(days)}"


def _field_values(text: str, low: int, high: int, names: tuple[str, ...]) -> set[int] | None:
    """Every value one cron field allows; ``None`` for extensions (``L``, ``W``, ``#``)."""
    found: set[int] = set()
    for item in text.split(","):
        match = _CRON_ITEM.match(item)
        if match is None:
            return None
        whole, start, end, step = match.groups()
        first = low if whole == "*" else _cron_number(start, low, names)
        last = (
            high
            if whole == "*" or (end is None and step)
            else _cron_number(end or start, low, names)
        )
        if first is None or last is None:
            return None
        found.update(range(first, last + 1, int(step or 1)))
    return found


def _cron_number(text: str, low: int, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        return int(text)
    return names.index(text) + low if text in names else None


# Notifications ---------------------------------------------------------------------


def notify_url_issues(
    doc: YamlDocument, at: NodePath, urls: Any, *, check_env: bool
) -> list[Issue]:
    """Each notification URL of ``<at>.urls`` whose scheme apprise does not know.

    A URL is named by its place and scheme only: it may embed a token. A URL
    held in an environment variable is checked when ``check_env`` and it is set.
    """
    issues: list[Issue] = []
    for index, entry in enumerate(urls if isinstance(urls, list) else []):
        where: NodePath = (*at, "urls", index)
        if isinstance(entry, str):
            problem = _notify_problem(entry, "this URL")
        elif isinstance(entry, dict) and isinstance(env := entry.get("env"), str) and check_env:
            value = os.environ.get(env)
            problem = _notify_problem(value, f"the URL in {env}") if value else None
        else:
            problem = None
        if problem is not None:
            issues.append(doc.issue(where, *problem))
    return issues


def _notify_problem(url: str, what: str) -> tuple[str, str | None] | None:
    scheme, found, _ = url.partition("://")
    if not found or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        if "{" in scheme:
            return None  # a template (risk_to_account_manager renders its URLs)
        return f"{what} is not an apprise URL (scheme://...)", "e.g. slack://... or mailto://..."
    scheme = scheme.lower()
    if scheme in _apprise_schemes():
        return None
    if scheme in ("http", "https"):
        if "{" in url or _apprise_native(url):
            return None
        return (
            f"apprise knows no service at {what} ({scheme}://)",
            "use the service's own scheme, e.g. slack:// or discord://, or json:// for a webhook",
        )
    hint = did_you_mean(scheme, _apprise_schemes()) or "see the apprise wiki for the schemes"
    return f"{what} has a scheme apprise does not know: {scheme!r}", hint


@cache
def _apprise_schemes() -> frozenset[str]:
    from apprise.manager_plugins import NotificationManager  # lazy: loads every plugin

    manager: Any = NotificationManager()  # type: ignore[no-untyped-call]
    return frozenset(str(s).lower() for s in manager.schemas())


def _apprise_native(url: str) -> bool:
    """True when an apprise plugin takes ``url`` as its service's own web URL (Slack hooks)."""
    from apprise.manager_plugins import NotificationManager

    manager: Any = NotificationManager()  # type: ignore[no-untyped-call]
    return any(plugin.parse_native_url(url) for plugin in manager.plugins())
