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
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from meterd.server.errors import FieldViolation, InvalidArgument

log = logging.getLogger("meterd.config")

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_DB = "./meterd.db"
DEFAULT_PORTAL_TOKEN_TTL_SECONDS = 3600

# Older names still read, with a warning naming the new one.
DEPRECATED_ENV = {"METERD_ADMIN_KEY": "METERD_API_KEY"}


def setting(default: Any, yaml_path: str, env: str, doc: str, also: str = "", **kwargs: Any) -> Any:
    """A field of ``Config`` with its YAML path, environment variable and one-line documentation; ``also``
    is another YAML path accepted for it (never both at once)."""
    extra = {"yaml": yaml_path, "env": env, **({"also": also} if also else {})}
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
            self.definition()
        except InvalidArgument as exc:
            problems = []
            for v in exc.violations:
                head, _, rest = v.field.removeprefix("meter.").partition(".")
                problems.append(_METER_KEYS.get(head, head) + (f".{rest}" if rest else "") + f": {v.description}")
            raise ValueError(" | ".join(problems)) from None
        return self

    def definition(self) -> Any:
        """The domain's MeterDefinition; raises InvalidArgument naming ``meter.*`` fields."""
        from meterd.server.meters.service import definition_from_fields
        from meterd.server.meters.windows import WindowSize

        window_size = None
        if self.window_size is not None:
            try:
                window_size = WindowSize(self.window_size.upper())
            except ValueError:
                raise InvalidArgument.of("meter.window_size", "must be MINUTE, HOUR or DAY") from None
        return definition_from_fields(
            slug=self.slug, event_type=self.event_type, aggregation=self.aggregation,
            value_property=self.value_property, group_by=self.group_by, description=self.description,
            window_size=window_size,
        )


# The file's names for a meter's fields (the domain names them meter.<snake_case>).
_METER_KEYS = {"slug": "slug", "event_type": "eventType", "aggregation": "aggregation",
               "value_property": "valueProperty", "group_by": "groupBy", "description": "description",
               "window_size": "windowSize"}


class Config(BaseModel):
    """Everything `meterd serve` runs with. Build it with ``load`` (file + environment + flags) or directly
    (tests, embedding): a Config built in code reads neither file nor environment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    listen: str = setting(DEFAULT_LISTEN, "server.listen", "METERD_LISTEN",
                          "host:port the gRPC server listens on (port 0 picks a free one)")
    grace_seconds: float = setting(10.0, "server.grace_seconds", "METERD_GRACE_SECONDS",
                                   "on SIGTERM, how long calls in flight may take to finish", ge=0)
    max_streams: int = setting(10_000, "server.max_streams", "METERD_MAX_STREAMS",
                               "open streams (ingest streams and watches, gRPC and HTTP) held at most; more get "
                               "RESOURCE_EXHAUSTED (also --max-streams)",
                               ge=1)
    workers: int = setting(32, "server.workers", "METERD_WORKERS",
                           "threads for blocking work: database reads, the credit engine (also --workers)", ge=1)
    max_message_bytes: int = setting(64 * 1024 * 1024, "server.max_message_bytes", "METERD_MAX_MESSAGE_BYTES",
                                     "largest request or response message", ge=1)
    max_inflight_bytes: int = setting(256 * 1024 * 1024, "server.max_inflight_bytes", "METERD_MAX_INFLIGHT_BYTES",
                                      "request bytes held at once over every call and stream; beyond it, "
                                      "producers wait (flow control pushes back)", ge=1024 * 1024, le=2**40)
    keepalive_time_seconds: float = setting(60.0, "server.keepalive_time_seconds", "METERD_KEEPALIVE_TIME_SECONDS",
                                            "the server pings an idle connection this often", gt=0)
    keepalive_timeout_seconds: float = setting(20.0, "server.keepalive_timeout_seconds",
                                               "METERD_KEEPALIVE_TIMEOUT_SECONDS",
                                               "and drops it when the ping is not answered in time", gt=0)
    db: str = setting(DEFAULT_DB, "storage.path", "METERD_DB",
                      "the database: a SQLite file path or sqlite: URL, or a postgresql:// URL (several replicas "
                      "may share it); storage.url is the same setting", also="storage.url")
    db_wait_seconds: float = setting(30.0, "storage.wait_seconds", "METERD_DB_WAIT_SECONDS",
                                     "PostgreSQL: at start, how long an unreachable database is retried before "
                                     "meterd exits with status 1 (a bad password or unknown database exits at "
                                     "once)", ge=0)
    admin_key: str | None = setting(None, "auth.admin_key", "METERD_API_KEY",
                                    "admin key every call must send (authorization: Bearer <key>); the same "
                                    "variable the CLI and client send. Unset: auth off (warned off loopback)")
    portal_secret: str | None = setting(None, "portal.secret", "METERD_PORTAL_SECRET",
                                        "HS256 secret signing portal tokens (at least 32 bytes); unset: "
                                        "generated once and kept in the database")
    portal_secret_file: str | None = setting(None, "portal.secret_file", "METERD_PORTAL_SECRET_FILE",
                                             "a file holding portal.secret (owner-only). Precedence: "
                                             "METERD_PORTAL_SECRET, METERD_PORTAL_SECRET_FILE, portal.secret, "
                                             "portal.secret_file")
    portal_token_ttl_seconds: int = setting(DEFAULT_PORTAL_TOKEN_TTL_SECONDS, "portal.token_ttl_seconds",
                                            "METERD_PORTAL_TOKEN_TTL_SECONDS",
                                            "default lifetime of a portal token", gt=0)
    tls_cert: str | None = setting(None, "tls.cert", "METERD_TLS_CERT",
                                   "PEM certificate (chain) of the server; with tls.key, serves TLS only")
    tls_key: str | None = setting(None, "tls.key", "METERD_TLS_KEY", "PEM private key of tls.cert")
    tls_client_ca: str | None = setting(None, "tls.client_ca", "METERD_TLS_CLIENT_CA",
                                        "PEM CA bundle: clients must present a certificate it signed "
                                        "(mutual TLS)")
    metrics_listen: str | None = setting(None, "metrics.listen", "METERD_METRICS_LISTEN",
                                         "host:port of the Prometheus endpoint (/metrics); unset: off")
    http_listen: str | None = setting(None, "http.listen", "METERD_HTTP_LISTEN",
                                      "host:port of OpenMeter's HTTP API (README: The HTTP API); unset: off")
    tracing: Literal["off", "otlp", "console"] = setting(
        "off", "tracing.exporter", "METERD_TRACING",
        "OpenTelemetry spans of every RPC: otlp (OTEL_EXPORTER_OTLP_* variables) or console; needs "
        "the tracing extra")
    log_format: Literal["json", "text"] = setting("json", "log.format", "METERD_LOG_FORMAT",
                                                  "json (one object per line) or text (same fields)")
    log_level: Literal["debug", "info", "warning", "error"] = setting("info", "log.level", "METERD_LOG_LEVEL",
                                                                      "least severe level logged")
    meters: list[MeterDeclaration] = setting([], "meters", "METERD_METERS",
                                             "meters created (or updated) at start, OpenMeter's shape; "
                                             "the variable holds a YAML/JSON list")

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
            raise ValueError(f"expected host:port with a port from 0 to 65535, got {value!r}")
        if host.startswith("[") != host.endswith("]"):
            raise ValueError(f"unbalanced brackets in {value!r}")
        if host.startswith("["):
            try:
                ipaddress.IPv6Address(host[1:-1])
            except ValueError:
                raise ValueError(f"{host!r} is not an IPv6 address") from None
        return value

    @field_validator("db")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("tls_cert", "tls_key", "tls_client_ca")
    @classmethod
    def _readable_file(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value)
        if not path.is_file():
            raise ValueError(f"no such file: {value}")
        if not os.access(path, os.R_OK):
            raise ValueError(f"not readable: {value}")
        return value

    @field_validator("meters")
    @classmethod
    def _valid_meters(cls, meters: list[MeterDeclaration]) -> list[MeterDeclaration]:
        problems: list[str] = []
        seen: dict[str, int] = {}
        for i, meter in enumerate(meters):
            if meter.slug in seen:
                problems.append(f"[{i}].slug: {meter.slug!r} is already declared by meters[{seen[meter.slug]}]")
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
        if self.tracing != "off":
            from meterd.server import tracing

            if not tracing.available():
                found.append("tracing.exporter: OpenTelemetry is not installed: pip install 'meterd[server,tracing]'")
        return found


class ConfigError(InvalidArgument):
    """The configuration was refused; ``lines`` has one line per problem."""

    def __init__(self, lines: list[str], violations: list[FieldViolation] | None = None) -> None:
        super().__init__("\n".join(lines), violations)
        self.lines = lines


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
    except OSError as exc:
        raise InvalidArgument.of("portal.secret_file", f"cannot read {path}: {exc.strerror}") from exc
    if not text:
        raise InvalidArgument.of("portal.secret_file", f"{path} is empty")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the portal secret file %s is readable by others than its owner (chmod 600 it)", path)
    return text


def _fields() -> dict[str, dict[str, str]]:
    return {name: dict(field.json_schema_extra or {}) for name, field in Config.model_fields.items()}  # type: ignore[arg-type]


def load(path: str | Path | None, env: Mapping[str, str] | None = None,
         overrides: Mapping[str, tuple[str, Any]] | None = None) -> Config:
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
        value: Any = text
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
    if origin.get("portal_secret_file", "").startswith("METERD_") and not origin.get("portal_secret", "METERD_").startswith("METERD_"):
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
    config._notices.extend(notices)
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
        return {}, f"{path}: must be a YAML mapping of sections (server, storage, auth, ...), got {_kind(raw)}"
    return raw, None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    return f"{problem} ({context})" if context else str(problem)


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", type(None): "nothing"}.get(type(value),
                                                                                         type(value).__name__)


def _flatten(raw: Mapping[Any, Any], by_path: Mapping[str, str], found: dict[str, Any], prefix: str = "") -> list[str]:
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
    siblings = sorted({p[len(prefix):].split(".", 1)[0] for p in [*by_path, *sections] if p.startswith(prefix)})
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
        elif error["type"] not in ("missing", "value_error") and "input" in error and loc[1:] == ():
            message += f" (got {error['input']!r})"
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
        shown = "unset" if default in (None, []) else f"`{default}`"
        rows.append(f"| `{meta['yaml']}` | `{meta['env']}` | {shown} | {field.description} |")  # type: ignore[index]
    return "\n".join(rows)
