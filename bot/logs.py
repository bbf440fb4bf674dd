"""Logging set-up: tokens and secrets never reach a log line."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"\b(xox[abposer]|xapp)-[A-Za-z0-9-]+")
_BEARER = re.compile(r"(Bearer\s+)\S+", re.IGNORECASE)


def redact(text: str) -> str:
    """Replace anything shaped like a Slack token with a marker."""
    return _BEARER.sub(r"\1[redacted]", _TOKEN.sub(r"\1-[redacted]", text))


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "[redacted]")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure(level: str, secrets: tuple[str, ...] = ()) -> None:
    """Log to stderr at ``level``, with every record passed through the redactor."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
