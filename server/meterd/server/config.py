"""Server configuration: defaults, then the YAML file, then environment variables (METERD_*)."""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from meterd.server.errors import InvalidArgument

log = logging.getLogger("meterd.config")

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_DB = "./meterd.db"
DEFAULT_PORTAL_TOKEN_TTL_SECONDS = 3600
DEFAULT_MAX_STREAMS = 10_000
DEFAULT_WORKERS = 32
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
DEFAULT_KEEPALIVE_TIME_SECONDS = 60.0
DEFAULT_KEEPALIVE_TIMEOUT_SECONDS = 20.0


@dataclass
class Config:
    """Everything `meterd serve` needs. Meters are OpenMeter-style declarations (dicts)."""

    listen: str = DEFAULT_LISTEN
    db: str = DEFAULT_DB  # a SQLite path or sqlite: URL, or a postgresql:// URL
    admin_key: str | None = None
    portal_secret: str | None = None
    portal_secret_file: str | None = None  # a file holding the portal secret (read at load; see load())
    portal_token_ttl_seconds: int = DEFAULT_PORTAL_TOKEN_TTL_SECONDS
    meters: list[dict[str, Any]] = field(default_factory=list)
    grace_seconds: float = 10.0
    log_format: str = "json"  # json or text
    # Serving (README "Serving"): open request streams beyond max_streams get RESOURCE_EXHAUSTED; workers is
    # the size of the thread pool that runs blocking work (database reads, the credit engine).
    max_streams: int = DEFAULT_MAX_STREAMS
    workers: int = DEFAULT_WORKERS
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    keepalive_time_seconds: float = DEFAULT_KEEPALIVE_TIME_SECONDS
    keepalive_timeout_seconds: float = DEFAULT_KEEPALIVE_TIMEOUT_SECONDS


_ENV = {
    "METERD_LISTEN": ("listen", str),
    "METERD_DB": ("db", str),
    "METERD_ADMIN_KEY": ("admin_key", str),
    "METERD_PORTAL_SECRET": ("portal_secret", str),
    "METERD_PORTAL_SECRET_FILE": ("portal_secret_file", str),
    "METERD_PORTAL_TOKEN_TTL_SECONDS": ("portal_token_ttl_seconds", int),
    "METERD_LOG_FORMAT": ("log_format", str),
    "METERD_MAX_STREAMS": ("max_streams", int),
    "METERD_WORKERS": ("workers", int),
    "METERD_MAX_MESSAGE_BYTES": ("max_message_bytes", int),
    "METERD_KEEPALIVE_TIME_SECONDS": ("keepalive_time_seconds", float),
    "METERD_KEEPALIVE_TIMEOUT_SECONDS": ("keepalive_timeout_seconds", float),
}
_SERVER_KEYS = {"max_streams": int, "workers": int, "max_message_bytes": int, "keepalive_time_seconds": float,
                "keepalive_timeout_seconds": float}


def load(path: str | Path | None, env: dict[str, str] | None = None) -> Config:
    """Reads the config file (if any) and applies environment overrides.

    The portal signing secret comes from, in order: METERD_PORTAL_SECRET, the file named by
    METERD_PORTAL_SECRET_FILE, the config's ``portal.secret``, the file named by ``portal.secret_file``; with
    none of them, the server keeps a generated secret in its database.
    """
    config = Config()
    if path:
        raw = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(raw, dict):
            raise InvalidArgument.of("config", "must be a YAML mapping")
        _apply_file(config, raw)
    environ = env if env is not None else os.environ
    if environ.get("METERD_PORTAL_SECRET_FILE"):
        config.portal_secret = None  # the environment's file overrides the config file's secret
    for name, (attr, kind) in _ENV.items():
        value = environ.get(name)
        if value:
            try:
                setattr(config, attr, kind(value))
            except ValueError as exc:
                raise InvalidArgument.of(name, f"is not a valid {kind.__name__}") from exc
    if config.portal_secret_file and not config.portal_secret:
        config.portal_secret = read_secret_file(config.portal_secret_file)
    check(config)
    return config


def check(config: Config) -> None:
    """Raises InvalidArgument for serving settings out of range."""
    for key in ("max_streams", "workers", "max_message_bytes"):
        if getattr(config, key) < 1:
            raise InvalidArgument.of(key, "must be at least 1")
    for key in ("keepalive_time_seconds", "keepalive_timeout_seconds"):
        if getattr(config, key) <= 0:
            raise InvalidArgument.of(key, "must be positive")


def read_secret_file(path: str) -> str:
    """The secret in a file (surrounding whitespace and the final newline dropped); InvalidArgument naming
    ``portal.secret_file`` when it cannot be read or is empty. Warns when others may read the file."""
    try:
        text = Path(path).read_text().strip()
        mode = Path(path).stat().st_mode
    except OSError as exc:
        raise InvalidArgument.of("portal.secret_file", f"cannot read {path}: {exc.strerror}") from exc
    if not text:
        raise InvalidArgument.of("portal.secret_file", f"{path} is empty")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the portal secret file %s is readable by others than its owner (chmod 600 it)", path)
    return text


def _apply_file(config: Config, raw: dict[str, Any]) -> None:
    server = raw.get("server") or {}
    config.listen = server.get("listen", config.listen)
    for key, kind in _SERVER_KEYS.items():
        if server.get(key) is not None:
            try:
                setattr(config, key, kind(server[key]))
            except (TypeError, ValueError) as exc:
                raise InvalidArgument.of(f"server.{key}", f"is not a valid {kind.__name__}") from exc
    storage = raw.get("storage") or {}
    # storage.url (a postgresql:// URL, a sqlite: URL or a path) or storage.path (a SQLite file).
    config.db = storage.get("url", storage.get("path", config.db))
    auth = raw.get("auth") or {}
    config.admin_key = auth.get("admin_key", config.admin_key)
    portal = raw.get("portal") or {}
    config.portal_secret = portal.get("secret", config.portal_secret)
    config.portal_secret_file = portal.get("secret_file", config.portal_secret_file)
    config.portal_token_ttl_seconds = int(portal.get("token_ttl_seconds", config.portal_token_ttl_seconds))
    meters = raw.get("meters") or []
    if not isinstance(meters, list):
        raise InvalidArgument.of("meters", "must be a list")
    config.meters = meters
