"""Log records as JSON lines (LOG_FORMAT=json), for log shipping.

One JSON object per line: `time` (UTC, ISO 8601, milliseconds), `level`, `logger`, `message`,
then any extra fields the call passed (`log.info("...", extra={"channel": "telegram"})`), and
`exception` / `stack` when present. Everything a line says has gone through the privacy filter
of bot/logsafety.py first (it runs on the handler before formatting: message, exception and
stack masked), and this formatter masks the extra fields' values too, which the filter does
not see: no phone number, BHXH code, CCCD or bot token reaches a line by either road.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from bot.logsafety import mask_personal_data

__all__ = ["JsonFormatter"]

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def _safe(value: Any) -> Any:
    """A JSON value for an extra field, masked: numbers and strings that look like personal
    data become the mask; anything else is written as its masked text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float, str)):
        text = str(value)
        masked = mask_personal_data(text)
        return value if masked == text else masked
    return mask_personal_data(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped by JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_personal_data(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = _safe(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = mask_personal_data(record.exc_text)
        if record.stack_info:
            entry["stack"] = mask_personal_data(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)
