"""Server configuration: one schema for the YAML file, the environment and `meterd serve`'s flags.

Every setting is a field of ``Config`` that names its place in ``meterd.yaml`` (``yaml``) and its
environment variable (``env``); the README's settings table is generated from the same fields
(``settings_table``). Precedence: flags, then environment, then the file, then defaults.

``load`` refuses unknown keys, wrong types and bad values with ``ConfigError``, whose ``lines`` name each
problem's path (``auth.adminkey: unknown key (did you mean admin_key?)``) or variable; nothing here prints
a traceback. Validation is pydantic's: every problem is reported at once, with its location.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from meterd.server.errors import FieldViolation, InvalidArgument
from meterd.server.meters.model import definition_from_fields

log = logging.getLogger("meterd.config")

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_DB = "./meterd.db"
DEFAULT_PORTAL_TOKEN_TTL_SECONDS = 3600
# Upper bounds of the numeric settings: gRPC takes sizes and milliseconds as C ints, a thread per worker and a
# few kilobytes per stream must fit a machine, and a token's expiry must fit a date.
GRPC_MAX_INT = 2**31 - 1
MAX_KEEPALIVE_SECONDS = GRPC_MAX_INT // 1000
MAX_STREAMS = 1_000_000
MAX_WORKERS = 1024
MAX_PORTAL_TOKEN_TTL_SECONDS = 10 * 366 * 86400
MAX_DECLARED_METERS = 1000
MAX_LIST_ITEMS = 100  # of a list setting (CORS origins, methods, headers)
# Secrets travel as gRPC metadata (visible ASCII) and are never longer than this.
MAX_SECRET_CHARS = 4096

# An origin as a browser sends it (RFC 6454): scheme, host, optional port; no path.
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name (RFC 9110 token)
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

# Older names still read, with a warning naming the new one.
DEPRECATED_ENV = {"METERD_ADMIN_KEY": "METERD_API_KEY"}
# METERD_* variables that are not settings of the server but are read by meterd all the same: the config file
# (serve, config check), the client and the CLI's connection, and the test suite and bench (Makefile, .ci/run).
OTHER_ENV = frozenset(
    {
        "METERD_CONFIG",
        "METERD_TARGET",
        "METERD_TLS",
        "METERD_TLS_CA",
        "METERD_TLS_CLIENT_CERT",
        "METERD_TLS_CLIENT_KEY",
        "METERD_PG_REQUIRE",
        "METERD_CROSSLANG_REQUIRE",
        "METERD_CROSSLANG_ADDR",
        "METERD_FUZZ_EXAMPLES",
        "METERD_PROFILE_OUT",
        "METERD_PYTHON",
        "METERD_BROWSER_REQUIRE",
        "METERD_CHROMIUM",
    }
)
# Settings whose values are secret (never shown, not even in an error about them).
_SECRETS = frozenset({"admin_key", "portal_secret"})


def setting(default: Any, yaml_path: str, env: str, doc: str, also: str = "", **kwargs: Any) -> Any:
    """A field of ``Config`` with its YAML path, environment variable and one-line documentation; ``also``
    is another YAML path accepted for it (never both at once)."""
    extra: dict[str, JsonValue] = {"yaml": yaml_path, "env": env, **({"also": also} if also else {})}
    return Field(default, description=doc, json_schema_extra=extra, **kwargs)


class MeterDeclaration(BaseModel):
    """A meter declared in the config file, in OpenMeter's shape (camelCase, snake_case also accepted)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    slug: str
    event_type: str = Field(alias="eventType")
    aggregation: str
    value_property: str | None = Field(None, alias="valueProperty")
    group_by: dict[str, str] = Field(default_factory=dict, alias="groupBy")
    description: str = ""
    window_size: str | None = Field(None, alias="windowSize")  # MINUTE (default), HOUR or DAY

    @model_validator(mode="after")
    def _valid_meter(self) -> MeterDeclaration:
        try:
            definition_from_fields(**self.fields())
        except InvalidArgument as exc:
            problems = []
            for v in exc.violations:
                head, _, rest = v.field.removeprefix("meter.").partition(".")
                problems.append(
                    _METER_KEYS.get(head, head) + (f".{rest}" if rest else "") + f": {v.description}"
                )
            raise ValueError(" | ".join(problems)) from None
        return self

    def fields(self) -> dict[str, Any]:
        """The declaration as the keyword arguments of ``meters.model.definition_from_fields`` (plain values:
        the composition root builds the domain's definition from them)."""
        return {
            "slug": self.slug,
            "event_type": self.event_type,
            "aggregation": self.aggregation,
            "value_property": self.value_property,
            "group_by": dict(self.group_by),
            "description": self.description,
            "window_size": self.window_size,
        }


# The file's names for a meter's fields (the domain names them meter.<snake_case>).
_METER_KEYS = {
    "slug": "slug",
    "event_type": "eventType",
    "aggregation": "aggregation",
    "value_property": "valueProperty",
    "group_by": "groupBy",
    "description": "description",
    "window_size": "windowSize",
}


class Config(BaseModel):
    """Everything `meterd serve` runs with. Build it with ``load`` (file + environment + flags) or directly
    (tests, embedding): a Config built in code reads neither file nor environment."""

    # Every number is bounded (no inf or nan either): a value that passes ``load`` never fails ``serve``.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    listen: str = setting(
        DEFAULT_LISTEN,
        "server.listen",
        "METERD_LISTEN",
        "host:port the gRPC server listens on (port 0 picks a free one)",
    )
    grace_seconds: float = setting(
        10.0,
        "server.grace_seconds",
        "METERD_GRACE_SECONDS",
        "on SIGTERM, how long calls in flight may take to finish (at most an hour)",
        ge=0,
        le=3600,
    )
    max_streams: int = setting(
        10_000,
        "server.max_streams",
        "METERD_MAX_STREAMS",
        "open streams (ingest streams and watches, gRPC and HTTP) held at most; more get "
        "RESOURCE_EXHAUSTED or 429 (also --max-streams)",
        ge=1,
        le=MAX_STREAMS,
    )
    workers: int = setting(
        32,
        "server.workers",
        "METERD_WORKERS",
        "threads for blocking work: database reads, the credit engine (also --workers)",
        ge=1,
        le=MAX_WORKERS,
    )
    max_message_bytes: int = setting(
        64 * 1024 * 1024,
        "server.max_message_bytes",
        "METERD_MAX_MESSAGE_BYTES",
        "largest request or response message (at most 2 GiB - 1, gRPC's limit)",
        ge=1024,
        le=GRPC_MAX_INT,
    )
    max_inflight_bytes: int = setting(
        128 * 1024 * 1024,
        "server.max_inflight_bytes",
        "METERD_MAX_INFLIGHT_BYTES",
        "request bytes held at once over every call and stream; beyond it, "
        "producers wait (flow control pushes back)",
        ge=1024 * 1024,
        le=2**40,
    )
    keepalive_time_seconds: float = setting(
        60.0,
        "server.keepalive_time_seconds",
        "METERD_KEEPALIVE_TIME_SECONDS",
        "the server pings an idle connection this often",
        ge=1,
        le=MAX_KEEPALIVE_SECONDS,
    )
    keepalive_timeout_seconds: float = setting(
        20.0,
        "server.keepalive_timeout_seconds",
        "METERD_KEEPALIVE_TIMEOUT_SECONDS",
        "and drops it when the ping is not answered in time",
        ge=0.001,
        le=MAX_KEEPALIVE_SECONDS,
    )
    # An idle watch's heartbeat is liveness only (keepalive pings already find dead peers), and a client
    # cache asks for its own (a third of its max_staleness), so the default is long: 30 s, as SSE and watch
    # APIs commonly use. Each heartbeat costs the server 0.15 to 0.2 ms of CPU (bench/idle.py; a bare grpc.aio
    # stream 0.1 to 0.13): 5,000 watches took 15% of a core at 5 s, 3.7% at 30 s (bench/results/idle.json).
    watch_heartbeat_seconds: float = setting(
        30.0,
        "server.watch_heartbeat_seconds",
        "METERD_WATCH_HEARTBEAT_SECONDS",
        "an idle watch (gRPC or HTTP) sends its position this often unless it asks for another "
        "heartbeat_interval (0.1 to 600)",
        ge=0.1,
        le=600,
    )
    db: str = setting(
        DEFAULT_DB,
        "storage.path",
        "METERD_DB",
        "the database: a SQLite file path or sqlite: URL, or a postgresql:// URL (several replicas "
        "may share it); storage.url is the same setting",
        also="storage.url",
        repr=False,
    )
    db_wait_seconds: float = setting(
        30.0,
        "storage.wait_seconds",
        "METERD_DB_WAIT_SECONDS",
        "PostgreSQL: at start, how long an unreachable database is retried before "
        "meterd exits with status 1 (a bad password or unknown database exits at "
        "once)",
        ge=0,
        le=86400,
    )
    raw_event_retention_days: int = setting(
        0,
        "storage.raw_event_retention_days",
        "METERD_RAW_EVENT_RETENTION_DAYS",
        "raw events whose event time is older than this many days are removed"
        " (at start, then hourly), their dedupe keys and every meter's numbers"
        " kept (README: Keeping raw events); 0: kept for good",
        ge=0,
    )
    admin_key: str | None = setting(
        None,
        "auth.admin_key",
        "METERD_API_KEY",
        "admin key every call must send (authorization: Bearer <key>); the same "
        "variable the CLI and client send. Unset: auth off (warned off loopback)",
        repr=False,
    )
    portal_secret: str | None = setting(
        None,
        "portal.secret",
        "METERD_PORTAL_SECRET",
        "HS256 secret signing portal tokens (at least 32 bytes); unset: "
        "generated once and kept in the database",
        repr=False,
    )
    portal_secret_file: str | None = setting(
        None,
        "portal.secret_file",
        "METERD_PORTAL_SECRET_FILE",
        "a file holding portal.secret (owner-only). Precedence: "
        "METERD_PORTAL_SECRET, METERD_PORTAL_SECRET_FILE, portal.secret, "
        "portal.secret_file",
    )
    portal_token_ttl_seconds: int = setting(
        DEFAULT_PORTAL_TOKEN_TTL_SECONDS,
        "portal.token_ttl_seconds",
        "METERD_PORTAL_TOKEN_TTL_SECONDS",
        "default lifetime of a portal token (at most 10 years)",
        gt=0,
        le=MAX_PORTAL_TOKEN_TTL_SECONDS,
    )
    tls_cert: str | None = setting(
        None,
        "tls.cert",
        "METERD_TLS_CERT",
        "PEM certificate (chain) of the server; with tls.key, serves TLS only",
    )
    tls_key: str | None = setting(None, "tls.key", "METERD_TLS_KEY", "PEM private key of tls.cert")
    tls_client_ca: str | None = setting(
        None,
        "tls.client_ca",
        "METERD_TLS_CLIENT_CA",
        "PEM CA bundle: clients must present a certificate it signed (mutual TLS)",
    )
    metrics_listen: str | None = setting(
        None,
        "metrics.listen",
        "METERD_METRICS_LISTEN",
        "host:port of the Prometheus endpoint (/metrics); unset: off",
    )
    http_listen: str | None = setting(
        None,
        "http.listen",
        "METERD_HTTP_LISTEN",
        "host:port of OpenMeter's HTTP API (README: The HTTP API); unset: off",
    )
    cors_allowed_origins: list[str] = setting(
        [],
        "http.cors.allowed_origins",
        "METERD_HTTP_CORS_ALLOWED_ORIGINS",
        "origins (https://app.example.com) whose pages may call the portal "
        "routes, or *; the variable is comma-separated. Empty: CORS off",
        max_length=MAX_LIST_ITEMS,
    )
    cors_allowed_methods: list[str] = setting(
        ["GET"],
        "http.cors.allowed_methods",
        "METERD_HTTP_CORS_ALLOWED_METHODS",
        "methods a preflight allows",
        max_length=MAX_LIST_ITEMS,
    )
    cors_allowed_headers: list[str] = setting(
        ["Authorization", "Content-Type", "Last-Event-ID"],
        "http.cors.allowed_headers",
        "METERD_HTTP_CORS_ALLOWED_HEADERS",
        "request headers a preflight allows",
        max_length=MAX_LIST_ITEMS,
    )
    cors_max_age_seconds: int = setting(
        600,
        "http.cors.max_age_seconds",
        "METERD_HTTP_CORS_MAX_AGE_SECONDS",
        "how long a browser may cache a preflight's answer",
        ge=0,
        le=86_400,
    )
    cors_admin_routes: bool = setting(
        False,
        "http.cors.admin_routes",
        "METERD_HTTP_CORS_ADMIN_ROUTES",
        "also answer CORS on the admin routes (the admin key in a browser: only for an internal console)",
    )
    dashboard_dir: str | None = setting(
        None,
        "http.dashboard_dir",
        "METERD_HTTP_DASHBOARD_DIR",
        "a directory of static files served at /dashboard/ (make run: examples/dashboard); unset: off",
    )
    tracing: Literal["off", "otlp", "console"] = setting(
        "off",
        "tracing.exporter",
        "METERD_TRACING",
        "OpenTelemetry spans of every RPC: otlp (OTEL_EXPORTER_OTLP_* variables) or console; needs "
        "the tracing extra",
    )
    log_format: Literal["json", "text"] = setting(
        "json", "log.format", "METERD_LOG_FORMAT", "json (one object per line) or text (same fields)"
    )
    log_level: Literal["debug", "info", "warning", "error"] = setting(
        "info", "log.level", "METERD_LOG_LEVEL", "least severe level logged"
    )
    notifications_allow_private_targets: bool = setting(
        False,
        "notifications.allow_private_targets",
        "METERD_NOTIFICATIONS_ALLOW_PRIVATE_TARGETS",
        "let webhook channels target loopback, link-local (cloud metadata) and private addresses; off, "
        "such URLs are refused",
    )
    notifications_attempt_timeout_seconds: float = setting(
        10.0,
        "notifications.attempt_timeout_seconds",
        "METERD_NOTIFICATIONS_ATTEMPT_TIMEOUT_SECONDS",
        "how long one webhook delivery attempt may take (connect, send, answer) before it counts as failed",
        ge=1,
        le=60,
    )
    meters: list[MeterDeclaration] = setting(
        [],
        "meters",
        "METERD_METERS",
        "meters created (or updated) at start, OpenMeter's shape; "
        "the variable holds a YAML/JSON list (at most 1000)",
        max_length=MAX_DECLARED_METERS,
    )

    _notices: list[str] = PrivateAttr(default_factory=list)

    @property
    def notices(self) -> list[str]:
        """Warnings found while loading (deprecated names); logged once logging is set up."""
        return self._notices

    @field_validator("listen", "metrics_listen", "http_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("expected host:port with a port from 0 to 65535")
        if host.startswith("[") != host.endswith("]"):
            raise ValueError("unbalanced brackets around the host")
        if host.startswith("["):
            try:
                ipaddress.IPv6Address(host[1:-1])
            except ValueError:
                raise ValueError("the host in brackets is not an IPv6 address") from None
        elif ":" in host:
            raise ValueError("an IPv6 host goes in brackets: [::1]:50051")
        return value

    @field_validator("cors_allowed_origins", "cors_allowed_methods", "cors_allowed_headers", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """A list, or (from the environment) comma-separated text."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                # The value is not echoed (settings may carry secrets); the index names it.
                raise ValueError(
                    f"[{origins.index(origin)}] must be * or scheme://host[:port] with no path, "
                    "as a browser sends it in Origin"
                )
        return origins

    @field_validator("cors_allowed_methods")
    @classmethod
    def _methods(cls, methods: list[str]) -> list[str]:
        for i, method in enumerate(methods):
            if method.upper() not in _METHODS:
                raise ValueError(f"[{i}] must be one of {', '.join(sorted(_METHODS))}")
        return [m.upper() for m in methods]

    @field_validator("cors_allowed_headers")
    @classmethod
    def _headers(cls, headers: list[str]) -> list[str]:
        for i, header in enumerate(headers):
            if header != "*" and not _TOKEN.fullmatch(header):
                raise ValueError(f"[{i}] must be a header name or *")
        return headers

    @field_validator("dashboard_dir")
    @classmethod
    def _directory(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_dir():
            raise ValueError("no such directory")
        return value

    @field_validator("db")
    @classmethod
    def _database_url(cls, value: str) -> str:
        problem = database_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("admin_key", "portal_secret")
    @classmethod
    def _secret_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value) > MAX_SECRET_CHARS:
            raise ValueError(f"must be at most {MAX_SECRET_CHARS} characters")
        if not all("!" <= c <= "~" for c in value):
            raise ValueError(
                "must be visible ASCII characters (no spaces or control characters): it is sent as "
                "gRPC metadata"
            )
        return value

    @field_validator("tls_cert", "tls_key", "tls_client_ca")
    @classmethod
    def _readable_file(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value)
        if not path.is_file():
            raise ValueError("no such file")
        if not os.access(path, os.R_OK):
            raise ValueError("not readable by this user")
        return value

    @field_validator("meters")
    @classmethod
    def _valid_meters(cls, meters: list[MeterDeclaration]) -> list[MeterDeclaration]:
        problems: list[str] = []
        seen: dict[str, int] = {}
        for i, meter in enumerate(meters):
            if meter.slug in seen:
                problems.append(
                    f"[{i}].slug: {meter.slug!r} is already declared by meters[{seen[meter.slug]}]"
                )
            seen.setdefault(meter.slug, i)
        if problems:
            raise ValueError(" | ".join(problems))
        return meters

    def problems(self) -> list[str]:
        """Rules across settings (checked by ``load`` and at start, not on each assignment, so that code
        can set related settings one after the other)."""
        found = []
        if (self.tls_cert is None) != (self.tls_key is None):
            found.append("tls.cert and tls.key go together: set both or neither")
        if self.tls_client_ca is not None and self.tls_cert is None:
            found.append("tls.client_ca needs tls.cert and tls.key (mutual TLS is TLS first)")
        found += tls_problems(self.tls_cert, self.tls_key, self.tls_client_ca)
        ports = {
            "server.listen": self.listen,
            "metrics.listen": self.metrics_listen,
            "http.listen": self.http_listen,
        }
        taken: dict[str, str] = {}
        for name, address in ports.items():  # each needs a port of its own (port 0 picks a free one)
            if address is None or address.endswith(":0"):
                continue
            if address in taken:
                found.append(f"{name}: must not be {taken[address]} (each needs a port of its own)")
            taken.setdefault(address, name)
        if self.tracing != "off":
            from meterd.server import tracing

            if not tracing.available():
                found.append(
                    "tracing.exporter: OpenTelemetry is not installed: pip install 'meterd[server,tracing]'"
                )
        return found


class ConfigError(InvalidArgument):
    """The configuration was refused; ``lines`` has one line per problem."""

    def __init__(self, lines: list[str], violations: list[FieldViolation] | None = None) -> None:
        super().__init__("\n".join(lines), violations)
        self.lines = lines


def database_url_problem(url: str) -> str | None:
    """Why ``url`` cannot name a database (None when it can): the checks that need no connection. The message
    never repeats the URL (it may hold a password)."""
    from meterd.server.store import POSTGRES_SCHEMES, sqlite_path

    if not url.strip():
        return "must not be empty"
    if url.startswith(POSTGRES_SCHEMES):
        import psycopg

        try:
            info = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error:
            return "is not a valid PostgreSQL URL (postgresql://user:password@host:port/database)"
        ports = str(info.get("port") or "").split(",")
        if any(p and not (p.isdigit() and 0 < int(p) <= 65535) for p in ports):
            return "has a port that is not a number from 1 to 65535"
        return None
    if "://" in url.split("?", 1)[0] and not url.startswith("sqlite:"):
        return "unknown scheme: use a file path, a sqlite: URL or a postgresql:// URL"
    path = sqlite_path(url)
    if not path.strip():
        return "names no file"
    if Path(path).is_dir():
        return "is a directory, not a database file"
    return None


def tls_problems(cert: str | None, key: str | None, client_ca: str | None) -> list[str]:
    """What gRPC would refuse in the TLS files, found when the configuration is loaded rather than as a
    failure to listen: a certificate or CA bundle that is not PEM, a key that is not the certificate's (or is
    encrypted: gRPC cannot take a passphrase)."""
    import ssl

    found: list[str] = []

    def parses(path: str) -> bool:
        try:
            ssl.create_default_context(cafile=path)
        except (ssl.SSLError, OSError, ValueError):
            return False
        return True

    if cert and not parses(cert):
        found.append("tls.cert: is not a PEM certificate")
    elif cert and key:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(cert, key, password=lambda: b"")
        except ssl.SSLError as exc:
            if exc.reason == "KEY_VALUES_MISMATCH":
                found.append("tls.key: is not the private key of tls.cert")
            else:
                found.append("tls.key: is not an unencrypted PEM private key")
        except (OSError, ValueError):
            found.append("tls.key: is not an unencrypted PEM private key")
    if client_ca and not parses(client_ca):
        found.append("tls.client_ca: is not a PEM bundle of CA certificates")
    return found


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """A notice for each METERD_* variable that meterd does not read (a typo would otherwise be ignored
    silently), with the closest known name."""
    known = {str(meta["env"]) for meta in _fields().values()} | set(DEPRECATED_ENV) | OTHER_ENV
    notices = []
    for name in sorted(env):
        if name.startswith("METERD_") and name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]}?)" if close else ""
            notices.append(f"{name} is not a meterd setting{hint}: ignored")
    return notices


def check(config: Config) -> None:
    """Raises ConfigError for a broken rule across settings (each setting is checked when it is set)."""
    problems = config.problems()
    if problems:
        raise ConfigError(problems)


def read_secret_file(path: str) -> str:
    """The secret in a file (surrounding whitespace and the final newline dropped); InvalidArgument naming
    ``portal.secret_file`` when it cannot be read or is empty. Warns when others may read the file."""
    try:
        text = Path(path).read_text().strip()
        mode = Path(path).stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise InvalidArgument.of("portal.secret_file", f"cannot read the file: {reason}") from None
    if not text:
        raise InvalidArgument.of("portal.secret_file", "the file is empty")
    if len(text) > MAX_SECRET_CHARS:
        raise InvalidArgument.of(
            "portal.secret_file", f"the secret must be at most {MAX_SECRET_CHARS} characters"
        )
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the portal secret file %s is readable by others than its owner (chmod 600 it)", path)
    return text


def _fields() -> dict[str, dict[str, str]]:
    return {name: dict(field.json_schema_extra or {}) for name, field in Config.model_fields.items()}  # type: ignore[arg-type]


def load(
    path: str | Path | None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, tuple[str, Any]] | None = None,
) -> Config:
    """The configuration from the file at ``path`` (if any), the environment (``os.environ`` unless
    ``env`` is given) and ``overrides`` (field -> (flag name, value); None values are ignored).

    Raises ConfigError listing every problem.
    """
    env = os.environ if env is None else env
    fields = _fields()
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}  # field -> how to name it in an error
    lines: list[str] = []
    notices: list[str] = []
    label = str(path) if path else ""

    if path:
        raw, problem = _read_yaml(Path(path))
        if problem:
            raise ConfigError([problem])
        by_path = {meta["yaml"]: name for name, meta in fields.items()}
        by_path.update({meta["also"]: name for name, meta in fields.items() if meta.get("also")})
        found: dict[str, Any] = {}
        lines += [f"{label}: {line}" for line in _flatten(raw, by_path, found)]
        for yaml_path, value in found.items():
            name = by_path[yaml_path]
            if name in values:
                lines.append(f"{label}: {yaml_path}: {fields[name]['yaml']} is the same setting: keep one")
                continue
            values[name] = value
            origin[name] = f"{label}: {yaml_path}"

    for old, new in DEPRECATED_ENV.items():
        if env.get(old) and not env.get(new):
            notices.append(f"{old} is deprecated: set {new} instead (read for now)")
            env = {**env, new: env[old]}
    for name, meta in fields.items():
        text = env.get(meta["env"])
        if not text:
            continue
        value = text
        if name == "meters":
            try:
                value = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                lines.append(f"{meta['env']} ({meta['yaml']}): not valid YAML/JSON: {_yaml_problem(exc)}")
                continue
        values[name] = value
        origin[name] = f"{meta['env']} ({meta['yaml']})"

    for name, (flag, value) in (overrides or {}).items():
        if value is not None:
            values[name] = value
            origin[name] = flag
    # A secret file named in the environment beats a secret written in the config file.
    if origin.get("portal_secret_file", "").startswith("METERD_") and not origin.get(
        "portal_secret", "METERD_"
    ).startswith("METERD_"):
        values.pop("portal_secret")

    try:
        config = Config.model_validate(values)
    except ValidationError as exc:
        lines += _error_lines(exc, origin)
        raise ConfigError(lines) from None
    lines += config.problems()
    if lines:
        raise ConfigError(lines)
    if config.portal_secret_file and not config.portal_secret:
        try:
            config.portal_secret = read_secret_file(config.portal_secret_file)
        except InvalidArgument as exc:
            where = origin.get("portal_secret_file", "portal.secret_file")
            raise ConfigError([f"{where}: {v.description}" for v in exc.violations], exc.violations) from None
    config._notices.extend(notices + unknown_variables(env))
    return config


def _read_yaml(path: Path) -> tuple[dict[str, Any], str | None]:
    """The file's mapping, or a one-line problem (with line:column for a YAML syntax error)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return {}, f"{path}: cannot read: {exc.strerror or exc}"
    except UnicodeDecodeError as exc:
        return {}, f"{path}: not UTF-8 text (byte {exc.start})"
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        return {}, f"{where}: invalid YAML: {_yaml_problem(exc)}"
    if raw is None:
        return {}, None
    if not isinstance(raw, dict):
        return (
            {},
            f"{path}: must be a YAML mapping of sections (server, storage, auth, ...), got {_kind(raw)}",
        )
    return raw, None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    return f"{problem} ({context})" if context else str(problem)


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def _flatten(
    raw: Mapping[Any, Any], by_path: Mapping[str, str], found: dict[str, Any], prefix: str = ""
) -> list[str]:
    """Collects the known settings of ``raw`` into ``found`` (YAML path -> value); returns a line per unknown
    key or misplaced value."""
    lines = []
    sections = {p.rsplit(".", 1)[0] for p in by_path if "." in p}
    for key, value in raw.items():
        path = f"{prefix}{key}"
        if path in by_path:
            found[path] = value
        elif path in sections:
            if value is None:
                continue
            if not isinstance(value, dict):
                lines.append(f"{path}: must be a mapping, got {_kind(value)}")
                continue
            lines += _flatten(value, by_path, found, prefix=f"{path}.")
        else:
            lines.append(f"{path}: unknown key{_suggestion(str(key), prefix, by_path, sections)}")
    return lines


def _suggestion(key: str, prefix: str, by_path: Mapping[str, str], sections: set[str]) -> str:
    """' (did you mean X?)' for the closest known key at this level, else for a known setting of that name
    elsewhere; '' when nothing is close."""
    siblings = sorted(
        {p[len(prefix) :].split(".", 1)[0] for p in [*by_path, *sections] if p.startswith(prefix)}
    )
    close = difflib.get_close_matches(key, siblings, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]}?)"
    leaves: dict[str, str] = {}
    for p in by_path:
        leaves.setdefault(p.rsplit(".", 1)[-1], p)
    close = difflib.get_close_matches(key, list(leaves), n=1, cutoff=0.75)
    return f" (did you mean {leaves[close[0]]}?)" if close else ""


def _error_lines(exc: ValidationError, origin: Mapping[str, str]) -> list[str]:
    fields = _fields()
    lines = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        message = error["msg"]
        message = message[0].lower() + message[1:] if message else message
        message = message.removeprefix("value error, ")
        if not loc:  # a rule across settings
            lines.append(message)
            continue
        name = str(loc[0])
        where = origin.get(name) or fields.get(name, {}).get("yaml", name)
        rest = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[1:])
        if error["type"] == "extra_forbidden" and len(loc) == 3 and name == "meters":
            known = sorted({*_METER_KEYS.values()})
            close = difflib.get_close_matches(str(loc[2]), known, n=1, cutoff=0.6)
            message = "unknown key" + (f" (did you mean {close[0]}?)" if close else "")
        if error["type"] in ("string_type",) and name in _SECRETS | {"db", "listen", "metrics_listen"}:
            message = "must be text (quote it in YAML: a number or a date is read as one)"
        if name == "meters" and error["type"] == "value_error":
            for part in message.split(" | "):  # one line per bad meter field
                lines.append(f"{where}{rest}{'.' if rest else ''}{part}")
            continue
        lines.append(f"{where}{rest}: {message}")
    return lines


def settings_table() -> str:
    """The README's table of settings (Markdown), from the schema."""
    rows = ["| `meterd.yaml` | environment | default | meaning |", "| --- | --- | --- | --- |"]
    for field in Config.model_fields.values():
        meta = field.json_schema_extra or {}
        default = field.get_default(call_default_factory=True)
        if isinstance(default, list):
            default = ", ".join(default)
        shown = "unset" if default in (None, [], "") else f"`{default}`"
        rows.append(f"| `{meta['yaml']}` | `{meta['env']}` | {shown} | {field.description} |")  # type: ignore[index]
    return "\n".join(rows)
