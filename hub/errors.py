"""Exceptions raised by the hub.

::

    HubError
    ├── ConfigError              a hub config or mapping file is invalid (carries Issues)
    ├── RegistryError            unknown connector / transform name (lists the known ones)
    ├── ConnectorError           a product answered in a way the hub cannot use
    │   ├── AuthError            credentials rejected; names the system and the setting
    │   ├── NotFoundError        the record or resource does not exist
    │   ├── RateLimitedError     429 after all retries
    │   ├── TransientError       5xx / timeout / dropped connection after all retries
    │   └── RecordError          one record was refused (validation); goes to dead letters
    ├── PagingLoopError          a paginator saw the same next-page token twice
    ├── QueryBuildError          a value cannot be placed safely in a SOQL/JQL query
    ├── MappingError             a record cannot be mapped (bad type, unknown value)
    └── StoreError               the state store cannot be opened or used; names its URL
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "RECORD_ERRORS",
    "AuthError",
    "ConfigError",
    "ConnectorError",
    "HubError",
    "Issue",
    "MappingError",
    "NotFoundError",
    "PagingLoopError",
    "QueryBuildError",
    "RateLimitedError",
    "RecordError",
    "RegistryError",
    "StoreError",
    "TransientError",
]


class HubError(Exception):
    """Base of every error the hub raises on purpose."""


@dataclass(frozen=True)
class Issue:
    """One problem found in a config or mapping file."""

    file: str
    line: int | None
    field: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.field}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class ConfigError(HubError):
    """A config or mapping file is invalid; ``issues`` lists every problem at once.

    ``warnings`` lists what is not wrong with the file but must be fixed where it
    runs (an unset environment variable, when loaded to lint the file).
    """

    def __init__(self, issues: list[Issue], warnings: Sequence[Issue] = ()) -> None:
        self.issues = issues
        self.warnings = list(warnings)
        super().__init__("\n".join(str(i) for i in issues))


class RegistryError(HubError):
    """An unknown name was looked up in a registry."""


class ConnectorError(HubError):
    """A product call failed in a way retries cannot fix."""

    def __init__(self, message: str, *, system: str = "", status: int | None = None) -> None:
        self.system = system
        self.status = status
        super().__init__(f"{system}: {message}" if system else message)


class AuthError(ConnectorError):
    """Credentials were rejected."""


class NotFoundError(ConnectorError):
    """The record or resource does not exist."""


class RateLimitedError(ConnectorError):
    """Still rate limited after every retry."""


class TransientError(ConnectorError):
    """A 5xx, timeout or dropped connection outlasted the retries."""


class RecordError(ConnectorError):
    """The product refused one record; the rest of the batch goes on."""


class PagingLoopError(HubError):
    """A paginator was handed a next-page token it had already followed."""


class QueryBuildError(HubError):
    """A value cannot be placed into a query literal safely."""


class MappingError(HubError):
    """A record does not fit its mapping (wrong type, unmapped value)."""


class StoreError(HubError):
    """The state store cannot be opened or used; the message names its URL (password masked).

    ``config`` is True when the URL itself is unusable (a scheme or driver the
    hub cannot use): a config problem. Otherwise the store it names failed.
    """

    def __init__(self, message: str, *, config: bool = False) -> None:
        self.config = config
        super().__init__(message)


# A record-level failure goes to the dead letters and the batch goes on; anything
# else (auth, rate limits and outages that outlasted the retries) fails the batch,
# which is retried whole and keeps the cursor where it was.
RECORD_ERRORS: tuple[type[HubError], ...] = (
    RecordError,
    NotFoundError,
    MappingError,
    QueryBuildError,
)
