"""What ``hub serve`` needs from the hub config, resolved: receivers, secrets, limits.

:func:`webhook_config` reads the config's ``webhooks:`` section: for each
product section (``webhooks.<connector>:``) it finds the system the
deliveries are about and has the connector (a
:class:`hub.connector.WebhookSource`, found through the registry) build its
receiver, reading its secrets from their environment variables. Every problem
is reported at once, before the server starts. Secrets stay in ``SecretStr``
and are registered for redaction, so no log line or message can show one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from handoff_hub.hub.config.loading import LoadedConfig
from handoff_hub.hub.connector import WebhookSource, webhook_source
from handoff_hub.hub.errors import ConfigError, Issue, RegistryError
from handoff_hub.hub.registry import connector_class, known_connectors
from handoff_hub.hub.webhooks.source import WebhookContext, WebhookReceiver

__all__ = [
    "WebhookConfig",
    "webhook_config",
    "webhook_sources",
]

MAX_BODY_BYTES = 1_048_576
"""Largest delivery accepted (HubSpot sends at most 100 events per request)."""
BODY_TIMEOUT_SECONDS = 10.0
"""Longest a delivery's body may take to arrive (answered 408 after): the products give up
on an answer sooner (HubSpot after 5 s, Asana after 10 s) and deliver again."""
HEAD_TIMEOUT_SECONDS = 10.0
"""Longest a request's line and headers may take, from the connection opening or the
previous answer, before the connection is closed."""
MAX_CONNECTIONS = 500
"""Open connections (and requests in hand) past which a new request is answered 503, so
that slow clients cannot use up the process's file descriptors."""
KEEP_ALIVE_SECONDS = 5
"""An idle kept-alive connection is closed after this."""


@dataclass
class WebhookConfig:
    """Everything the webhook app needs, resolved: a receiver per connector name, and limits."""

    receivers: dict[str, WebhookReceiver] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 8765
    replay_window: float = 300.0
    queue_size: int = 1000
    max_body_bytes: int = MAX_BODY_BYTES
    body_timeout: float = BODY_TIMEOUT_SECONDS
    head_timeout: float = HEAD_TIMEOUT_SECONDS
    max_connections: int = MAX_CONNECTIONS

    def paths(self) -> dict[str, list[str]]:
        """The paths each connector's deliveries are taken at, by connector name."""
        return {
            connector: [f"/webhooks/{connector}"]
            if receiver.names is None
            else [f"/webhooks/{connector}/{name}" for name in sorted(receiver.names)]
            for connector, receiver in sorted(self.receivers.items())
        }


def webhook_sources() -> dict[str, type[WebhookSource]]:
    """Every registered connector that receives webhooks, by name (those that load)."""
    found: dict[str, type[WebhookSource]] = {}
    for name in known_connectors():
        try:
            source = webhook_source(connector_class(name))
        except Exception:  # noqa: S112 - a package that does not import: hub validate says so
            continue
        if source is not None:
            found[name] = source
    return found


def webhook_config(
    loaded: LoadedConfig, *, reregister: Mapping[str, Collection[str]] | None = None
) -> WebhookConfig:
    """The hub config's ``webhooks:`` section, resolved; a ConfigError lists every problem.

    Args:
        loaded: The loaded (and checked) hub config.
        reregister: Per connector, the webhook names whose stored handshake secret
            one new handshake may replace (``hub serve --reregister asana/<name>``).
    """
    file = str(loaded.path)
    section = loaded.config.webhooks
    if section is None:
        raise ConfigError(
            [Issue(file, None, "webhooks", "is not configured (hub serve needs this section)")]
        )
    issues: list[Issue] = []
    products = section.products()
    if not products:
        names = ", ".join(webhook_sources()) or "none installed"
        issues.append(Issue(file, None, "webhooks", f"names no product ({names})"))
    resolved = WebhookConfig(
        host=section.host,
        port=section.port,
        replay_window=float(section.replay_window_seconds),
        queue_size=section.queue_size,
        body_timeout=float(section.body_timeout_seconds),
        head_timeout=float(section.head_timeout_seconds),
        max_connections=section.max_connections,
    )
    again = {c: frozenset(names) for c, names in (reregister or {}).items() if names}
    for connector in sorted(set(again) - set(products)):
        where = f"webhooks.{connector}.names"
        unknown = [f"{connector}/{name}" for name in sorted(again[connector])]
        issues.append(Issue(file, None, where, f"--reregister: no such webhook {unknown}"))
    for connector, raw in products.items():
        context = WebhookContext(
            connector, None, {}, file, loaded.base_dir, again.get(connector, frozenset()), issues
        )
        receiver = _receiver(loaded, connector, raw, context)
        if receiver is not None:
            resolved.receivers[connector] = receiver
    if issues:
        raise ConfigError(issues)
    return resolved


def _receiver(
    loaded: LoadedConfig, connector: str, raw: dict[str, object], context: WebhookContext
) -> WebhookReceiver | None:
    try:
        source = webhook_source(connector_class(connector))
    except RegistryError as exc:
        context.issue("", str(exc))
        return None
    if source is None:
        context.issue("", f"connector {connector!r} receives no webhooks")
        return None
    try:  # checked when the config loaded, unless it loaded without the registry
        section = source.webhook_model().model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            context.issue(".".join(str(part) for part in error["loc"]), error["msg"])
        return None
    context.system = _system(loaded, connector, section.system, context)
    if context.system is not None:
        context.settings = loaded.config.systems[context.system].settings
    return source.webhook_receiver(section, context)


def _system(
    loaded: LoadedConfig, connector: str, name: str | None, context: WebhookContext
) -> str | None:
    """The system the product's deliveries are about: ``name``, or the only such system."""
    systems = loaded.config.systems
    if name is not None:
        if name not in systems:
            context.issue("system", f"no system {name!r} in systems:")
            return None
        if systems[name].connector != connector:
            kind = systems[name].connector
            context.issue("system", f"system {name!r} is a {kind} system, not {connector}")
            return None
        return name
    found = [key for key, system in systems.items() if system.connector == connector]
    if len(found) != 1:
        context.issue(
            "system", f"{len(found)} {connector} systems under systems:; name the one to use"
        )
        return None
    return found[0]
