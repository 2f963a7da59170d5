"""Structured logs: one JSON object per line, or text lines carrying the same fields (key=value)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The record's fields: time, level, logger, message, then its ``extra`` fields."""
    entry: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    for key, value in vars(record).items():
        if key not in _STANDARD and not key.startswith("_"):
            entry[key] = value
    return entry


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON with its ``extra`` fields at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        entry = fields_of(record)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """``<ts> <level> <logger>: <msg> key=value ...``: the JSON format's fields, for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        entry = fields_of(record)
        head = f"{entry.pop('ts')} {entry.pop('level').upper()} {entry.pop('logger')}: {entry.pop('msg')}"
        extras = " ".join(f"{key}={_text(value)}" for key, value in entry.items())
        text = f"{head} {extras}" if extras else head
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if not text or any(c in text for c in ' "=\n') else text


def configure(fmt: str = "json", level: int | str = logging.INFO) -> None:
    """Sends logs to stderr in the given format (json or text) from ``level`` up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
