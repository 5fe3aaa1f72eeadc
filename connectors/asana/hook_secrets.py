"""Asana webhook secrets, handed over in a handshake and kept per webhook name.

Asana hands a webhook's secret to the receiver in its handshake rather than
through the config, so :class:`AsanaHookSecrets` keeps it per webhook name in a
JSON file readable by the hub's user only: a restart keeps accepting the
webhook. Every secret is registered for redaction.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.http.redact import register_secret

__all__ = ["AsanaHookSecrets"]


class AsanaHookSecrets:
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
