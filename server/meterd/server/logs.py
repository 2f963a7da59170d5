"""Structured logs: one JSON object per line, or text lines carrying the same fields (key=value)."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
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


# A line of gRPC's C core (abseil's format): "E1206 23:55:15.409133    9277 file.cc:2563] message".
_CORE_LINE = re.compile(r"^(?P<level>[IWEF])\d{4} [\d:.]+\s+\d+ (?P<source>[^\]\s]+)\] (?P<msg>.*)$")
_CORE_LEVELS = {"I": logging.INFO, "W": logging.WARNING, "E": logging.ERROR, "F": logging.CRITICAL}


def _forward(line: str) -> None:
    """One line written to file descriptor 2 by something other than logging, as a record."""
    match = _CORE_LINE.match(line)
    if match:
        record = logging.makeLogRecord(
            {
                "name": "grpc",
                "levelno": _CORE_LEVELS[match["level"]],
                "levelname": logging.getLevelName(_CORE_LEVELS[match["level"]]),
                "msg": match["msg"],
                "source": match["source"],
            }
        )
    else:
        record = logging.makeLogRecord(
            {"name": "stderr", "levelno": logging.WARNING, "levelname": "WARNING", "msg": line}
        )
    logging.getLogger(record.name).handle(record)


def capture_stderr() -> Callable[[], None]:
    """Makes every line the process writes to its standard error a log record, so that a JSON log holds only
    JSON: gRPC's C core writes there directly (a failed TLS handshake is one such line), as do Python's
    warnings and the tracebacks of uncaught errors. The log handler keeps writing to the real standard error;
    file descriptor 2 becomes a pipe read by a thread that turns each line into a record (gRPC's own lines
    keep their level). Returns the function that puts descriptor 2 back (and forwards what is left)."""
    root = logging.getLogger()
    original = os.dup(2)
    stream = os.fdopen(original, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    read_end, write_end = os.pipe()
    sys.stderr.flush()
    os.dup2(write_end, 2)  # sys.stderr writes to descriptor 2: now the pipe
    os.close(write_end)

    def pump() -> None:
        with os.fdopen(read_end, "rb") as lines:
            for raw in lines:
                line = raw.decode("utf-8", "backslashreplace").rstrip("\r\n")
                if line.strip():
                    _forward(line)

    reader = threading.Thread(target=pump, name="meterd-stderr", daemon=True)
    reader.start()
    logging.captureWarnings(True)
    previous_hook = threading.excepthook

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
        logging.getLogger("meterd").error("uncaught error in thread %s", name, exc_info=exc_info)

    threading.excepthook = thread_hook

    def restore() -> None:
        threading.excepthook = previous_hook
        logging.captureWarnings(False)
        sys.stderr.flush()
        os.dup2(original, 2)  # closes the pipe's last write end: the reader sees its end
        reader.join(timeout=5)

    return restore


def log_uncaught(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """``sys.excepthook`` for a JSON log: an uncaught error of the main thread as one record."""
    logging.getLogger("meterd").critical("uncaught error", exc_info=(exc_type, exc, tb))
