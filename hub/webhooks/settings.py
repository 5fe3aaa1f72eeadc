"""What ``hub serve`` needs from the hub config, resolved: systems, secrets, limits.

:func:`webhook_config` reads the config's ``webhooks:`` section, finds the
system each product's deliveries are about and reads the secrets from their
environment variables; every problem is reported at once, before the server
starts. Secrets stay in ``SecretStr`` and are registered for redaction, so no
log line or message can show one.

Asana hands its secret over in a handshake rather than through the config:
:class:`AsanaSecrets` keeps it per webhook name in a JSON file readable by
the hub's user only, so that a restart keeps accepting the webhook.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from hub.config.loading import LoadedConfig
from hub.config.systems import EnvSecret
from hub.errors import ConfigError, Issue
from hub.http.redact import register_secret

__all__ = [
    "AsanaReceiver",
    "AsanaSecrets",
    "HubSpotReceiver",
    "JiraReceiver",
    "WebhookConfig",
    "webhook_config",
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


class AsanaSecrets:
    """Asana handshake secrets by webhook name; in memory only when ``path`` is None."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._secrets: dict[str, str] = self._load()
        for value in self._secrets.values():
            register_secret(value)

    def _load(self) -> dict[str, str]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                [Issue(str(self.path), None, "secrets", f"cannot be read: {type(exc).__name__}")]
            ) from None
        secrets = data.get("secrets") if isinstance(data, dict) else None
        if not isinstance(secrets, dict):
            raise ConfigError(
                [Issue(str(self.path), None, "secrets", "is not a webhook-name -> secret object")]
            )
        return {str(k): str(v) for k, v in secrets.items() if isinstance(v, str) and v}

    def get(self, name: str) -> SecretStr | None:
        """The secret of webhook ``name``, if its handshake happened."""
        with self._lock:
            value = self._secrets.get(name)
        return None if value is None else SecretStr(value)

    def put(self, name: str, secret: str) -> None:
        """Keep ``secret`` for webhook ``name`` (written atomically, mode 0600)."""
        register_secret(secret)
        with self._lock:
            self._secrets[name] = secret
            if self.path is not None:
                self._write(dict(self._secrets))

    def _write(self, secrets: dict[str, str]) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"version": 1, "secrets": secrets}, indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=".asana-secrets-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text + "\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class HubSpotReceiver:
    """HubSpot deliveries: about ``system``, signed with the app's client secret."""

    system: str
    client_secret: SecretStr
    public_url: str | None = None
    portal_id: int | None = None


@dataclass(frozen=True)
class JiraReceiver:
    """Jira deliveries: about ``system``, signed with the webhook's secret."""

    system: str
    secret: SecretStr


@dataclass
class AsanaReceiver:
    """Asana deliveries at ``/webhooks/asana/<name>`` for each of ``names``, about ``system``.

    ``reregister`` names the webhooks whose stored secret one new handshake may
    replace (``hub serve --asana-reregister``); each is used up by that handshake.
    """

    system: str
    names: frozenset[str]
    secrets: AsanaSecrets
    reregister: set[str] = field(default_factory=set)


@dataclass
class WebhookConfig:
    """Everything the webhook app needs, resolved."""

    hubspot: HubSpotReceiver | None = None
    jira: JiraReceiver | None = None
    asana: AsanaReceiver | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    replay_window: float = 300.0
    queue_size: int = 1000
    max_body_bytes: int = MAX_BODY_BYTES
    body_timeout: float = BODY_TIMEOUT_SECONDS
    head_timeout: float = HEAD_TIMEOUT_SECONDS
    max_connections: int = MAX_CONNECTIONS


def webhook_config(
    loaded: LoadedConfig, *, asana_reregister: Collection[str] = ()
) -> WebhookConfig:
    """The hub config's ``webhooks:`` section, resolved; a ConfigError lists every problem."""
    file = str(loaded.path)
    section = loaded.config.webhooks
    if section is None:
        raise ConfigError(
            [Issue(file, None, "webhooks", "is not configured (hub serve needs this section)")]
        )
    issues: list[Issue] = []
    if section.hubspot is None and section.jira is None and section.asana is None:
        issues.append(Issue(file, None, "webhooks", "names no product (hubspot, jira, asana)"))
    resolved = WebhookConfig(
        host=section.host,
        port=section.port,
        replay_window=float(section.replay_window_seconds),
        queue_size=section.queue_size,
        body_timeout=float(section.body_timeout_seconds),
        head_timeout=float(section.head_timeout_seconds),
        max_connections=section.max_connections,
    )
    if (hs := section.hubspot) is not None:
        system = _system(loaded, "hubspot", hs.system, issues)
        secret = _secret(file, "webhooks.hubspot.client_secret", hs.client_secret, issues)
        if system is not None and secret is not None:
            portal = hs.portal_id if hs.portal_id is not None else _portal(loaded, system)
            resolved.hubspot = HubSpotReceiver(system, secret, hs.public_url, portal)
    if (jira := section.jira) is not None:
        system = _system(loaded, "jira", jira.system, issues)
        secret = _secret(file, "webhooks.jira.secret", jira.secret, issues)
        if system is not None and secret is not None:
            resolved.jira = JiraReceiver(system, secret)
    unknown = sorted(set(asana_reregister) - set(section.asana.names if section.asana else ()))
    if unknown:
        issues.append(
            Issue(file, None, "webhooks.asana.names", f"--asana-reregister: unknown {unknown}")
        )
    if (asana := section.asana) is not None:
        system = _system(loaded, "asana", asana.system, issues)
        bad = [n for n in asana.names if not _safe_name(n)]
        if bad:
            issues.append(Issue(file, None, "webhooks.asana.names", f"not a path segment: {bad}"))
        if system is not None and not bad:
            path = Path(asana.secrets_file)
            secrets = AsanaSecrets(path if path.is_absolute() else loaded.base_dir / path)
            resolved.asana = AsanaReceiver(
                system, frozenset(asana.names), secrets, set(asana_reregister)
            )
    if issues:
        raise ConfigError(issues)
    return resolved


def _safe_name(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c in "-_." for c in name) and name not in {".", ".."}


def _system(
    loaded: LoadedConfig, connector: str, name: str | None, issues: list[Issue]
) -> str | None:
    """The system the product's deliveries are about: ``name``, or the only such system."""
    where = f"webhooks.{connector}.system"
    systems = loaded.config.systems
    if name is not None:
        if name not in systems:
            issues.append(Issue(str(loaded.path), None, where, f"no system {name!r} in systems:"))
            return None
        if systems[name].connector != connector:
            issues.append(
                Issue(
                    str(loaded.path),
                    None,
                    where,
                    f"system {name!r} is a {systems[name].connector} system, not {connector}",
                )
            )
            return None
        return name
    found = [key for key, system in systems.items() if system.connector == connector]
    if len(found) != 1:
        issues.append(
            Issue(
                str(loaded.path),
                None,
                where,
                f"{len(found)} {connector} systems under systems:; name the one to use",
            )
        )
        return None
    return found[0]


def _secret(file: str, where: str, ref: EnvSecret, issues: list[Issue]) -> SecretStr | None:
    value = os.environ.get(ref.env)
    if not value:
        issues.append(Issue(file, None, where, f"environment variable {ref.env} is not set"))
        return None
    register_secret(value)
    return SecretStr(value)


def _portal(loaded: LoadedConfig, system: str) -> int | None:
    value = loaded.config.systems[system].settings.get("portal_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
