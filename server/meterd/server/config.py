"""Server configuration: defaults, then the YAML file, then environment variables (METERD_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from meterd.server.errors import InvalidArgument

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_DB = "./meterd.db"
DEFAULT_PORTAL_TOKEN_TTL_SECONDS = 3600


@dataclass
class Config:
    """Everything `meterd serve` needs. Meters are OpenMeter-style declarations (dicts)."""

    listen: str = DEFAULT_LISTEN
    db: str = DEFAULT_DB  # a SQLite path or sqlite: URL, or a postgresql:// URL
    admin_key: str | None = None
    portal_secret: str | None = None
    portal_token_ttl_seconds: int = DEFAULT_PORTAL_TOKEN_TTL_SECONDS
    meters: list[dict[str, Any]] = field(default_factory=list)
    grace_seconds: float = 10.0
    log_format: str = "json"  # json or text


_ENV = {
    "METERD_LISTEN": ("listen", str),
    "METERD_DB": ("db", str),
    "METERD_ADMIN_KEY": ("admin_key", str),
    "METERD_PORTAL_SECRET": ("portal_secret", str),
    "METERD_PORTAL_TOKEN_TTL_SECONDS": ("portal_token_ttl_seconds", int),
    "METERD_LOG_FORMAT": ("log_format", str),
}


def load(path: str | Path | None, env: dict[str, str] | None = None) -> Config:
    """Reads the config file (if any) and applies environment overrides."""
    config = Config()
    if path:
        raw = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(raw, dict):
            raise InvalidArgument.of("config", "must be a YAML mapping")
        _apply_file(config, raw)
    for name, (attr, kind) in _ENV.items():
        value = (env if env is not None else os.environ).get(name)
        if value:
            try:
                setattr(config, attr, kind(value))
            except ValueError as exc:
                raise InvalidArgument.of(name, f"is not a valid {kind.__name__}") from exc
    return config


def _apply_file(config: Config, raw: dict[str, Any]) -> None:
    server = raw.get("server") or {}
    config.listen = server.get("listen", config.listen)
    storage = raw.get("storage") or {}
    # storage.url (a postgresql:// URL, a sqlite: URL or a path) or storage.path (a SQLite file).
    config.db = storage.get("url", storage.get("path", config.db))
    auth = raw.get("auth") or {}
    config.admin_key = auth.get("admin_key", config.admin_key)
    portal = raw.get("portal") or {}
    config.portal_secret = portal.get("secret", config.portal_secret)
    config.portal_token_ttl_seconds = int(portal.get("token_ttl_seconds", config.portal_token_ttl_seconds))
    meters = raw.get("meters") or []
    if not isinstance(meters, list):
        raise InvalidArgument.of("meters", "must be a list")
    config.meters = meters
