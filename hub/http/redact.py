"""Keep secrets out of every log line, message and report.

Every secret the hub resolves is registered here; :func:`redact` replaces any
registered value (and common credential patterns) with ``***``. The logging
filter applies it to every record that passes through the root logger.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = ["RedactingFilter", "install_redaction", "redact", "register_secret"]

_MIN_SECRET_LENGTH = 4
_FORMATTER = logging.Formatter()
_lock = threading.Lock()
_secrets: set[str] = set()
_PATTERNS = (
    # An Authorization header as text, JSON or a Python dict repr; any scheme.
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:\w+\s+)?[^\s'\",}]+"),
    # A bearer token wherever it appears (long enough not to be a word).
    re.compile(r"(?i)(\bbearer\s+)[^\s'\",}]{16,}"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret|api_token|password)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\s&'\",}]+"
    ),
)


def register_secret(value: str) -> None:
    """Remember a secret value so that it is masked wherever it would be shown."""
    if len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and credential pattern masked."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}***", text)
    return text


class RedactingFilter(logging.Filter):
    """Mask secrets in a record's rendered message before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message and any traceback, redact them and freeze them on the record."""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        # A traceback repeats the exception's message, which may hold a secret;
        # formatters print ``exc_text`` as it is once it is set.
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Attach the filter to ``logger``'s handlers (root by default), once."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())
