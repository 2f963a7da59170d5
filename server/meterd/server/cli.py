"""The `meterd` command line: the server, and client commands that talk to a running server."""

from __future__ import annotations

import csv
import faulthandler
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

import click

# The client commands import what they need when they run (the client, grpc, rich): `meterd meters list` should
# not pay for the server's configuration schema (pydantic and jsonpath: 0.3 s of a 0.5 s start).

DEFAULT_TARGET = "localhost:50051"


EXIT_CODES = """\b
Exit codes:
  0  success
  1  the server refused or failed the call (not found, unavailable, ...), or ingest skipped some events
  2  bad input: a usage error, or a request the server found invalid (INVALID_ARGUMENT)
  3  `entitlements value --check`: the subject has no access"""


@click.group(
    help="meterd: usage metering and entitlements over gRPC.\n\n"
    "`serve` runs the server; `config check`, `backup` work on files; the other commands talk to "
    "a running server (--target, or METERD_TARGET).",
    epilog=EXIT_CODES,
)
@click.version_option(package_name="meterd", prog_name="meterd", message="%(prog)s %(version)s")
def main() -> None:
    pass


config_path_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="METERD_CONFIG",
    help="meterd.yaml (env: METERD_CONFIG). Environment variables override it, flags override both.",
)


def _load_config(config_path: str | None, overrides: dict[str, tuple[str, Any]] | None = None) -> Any:
    """The validated configuration; on any problem, one line per problem on stderr and exit 2."""
    from meterd.server import config as config_module

    try:
        return config_module.load(config_path, overrides=overrides)
    except config_module.ConfigError as exc:
        for line in exc.lines:
            click.echo(f"config error: {line}", err=True)
        raise SystemExit(2) from None


@main.command(
    help="Run the server until SIGTERM/SIGINT. Every setting also has a METERD_* variable and a "
    "meterd.yaml key (README: Settings)."
)
@click.option("--listen", help="host:port to listen on (default 127.0.0.1:50051; port 0 picks a free one).")
@click.option(
    "--db",
    help="Database: a SQLite file path or sqlite: URL (default ./meterd.db), or a "
    "postgresql://user@host/db URL (several meterd replicas may share it). Env: METERD_DB.",
)
@config_path_option
@click.option("--log-format", type=click.Choice(["json", "text"]), help="Log format (default json).")
@click.option(
    "--tls-cert", type=click.Path(dir_okay=False), help="PEM certificate: serve TLS (with --tls-key)."
)
@click.option("--tls-key", type=click.Path(dir_okay=False), help="PEM private key of --tls-cert.")
@click.option(
    "--tls-client-ca",
    type=click.Path(dir_okay=False),
    help="PEM CA: require client certificates it signed (mutual TLS).",
)
@click.option("--metrics-listen", help="host:port of the Prometheus endpoint (default: off).")
@click.option("--http-listen", help="host:port of OpenMeter's HTTP API (default: off).")
@click.option(
    "--max-streams",
    type=click.IntRange(min=1),
    help="Open ingest streams the server holds at most (default 10000); more get RESOURCE_EXHAUSTED.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Threads for blocking work (default 32).")
def serve(
    listen: str | None,
    db: str | None,
    config_path: str | None,
    log_format: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    tls_client_ca: str | None,
    metrics_listen: str | None,
    http_listen: str | None,
    max_streams: int | None,
    workers: int | None,
) -> None:
    import sqlite3

    from meterd.server import logs
    from meterd.server.app import ServerStopped
    from meterd.server.app import serve as run

    cfg = _load_config(
        config_path,
        {
            "listen": ("--listen", listen),
            "db": ("--db", db),
            "log_format": ("--log-format", log_format),
            "tls_cert": ("--tls-cert", tls_cert),
            "tls_key": ("--tls-key", tls_key),
            "tls_client_ca": ("--tls-client-ca", tls_client_ca),
            "metrics_listen": ("--metrics-listen", metrics_listen),
            "http_listen": ("--http-listen", http_listen),
            "max_streams": ("--max-streams", max_streams),
            "workers": ("--workers", workers),
        },
    )
    logs.configure(cfg.log_format, cfg.log_level)
    restore = None
    if cfg.log_format == "json":  # from here on, everything on stderr is a JSON line
        restore = logs.capture_stderr()
        sys.excepthook = logs.log_uncaught
    for notice in cfg.notices:
        logging.getLogger("meterd.config").warning(notice)
    # kill -USR1 prints every thread's stack to the log (README "Running in production"): how a stuck server
    # shows where it is stuck without a debugger.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        run(cfg)
    except ServerStopped as exc:  # its storage failed while serving: exit 1 (systemd restarts it, and a
        # restart recovers the database from what is on disk)
        logging.getLogger("meterd.server").critical("meterd stopped", extra={"reason": str(exc)})
        raise SystemExit(1) from None
    except (OSError, RuntimeError, sqlite3.Error) as exc:  # cannot bind, cannot open the database, ...
        if restore is None:
            click.echo(f"error: meterd cannot start: {exc}", err=True)
        else:
            logging.getLogger("meterd.server").error("meterd cannot start", extra={"reason": str(exc)})
        raise SystemExit(1) from None
    finally:
        if restore is not None:
            restore()


@main.group()
def config() -> None:
    """The configuration file."""


@config.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def config_check(file: str) -> None:
    """Validate FILE (and the METERD_* variables set now) without starting: exit 0 when `meterd serve`
    would accept them, else one line per problem and exit 2."""
    cfg = _load_config(file)
    for notice in cfg.notices:
        click.echo(f"warning: {notice}", err=True)
    tls = "mutual TLS" if cfg.tls_client_ca else "TLS" if cfg.tls_cert else "plaintext"
    click.echo(
        f"{file}: ok ({len(cfg.meters)} meters, {tls}, auth {'on' if cfg.admin_key else 'off'}, "
        f"metrics {cfg.metrics_listen or 'off'})"
    )


@main.command(epilog=EXIT_CODES)
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option(
    "--db", help="The live database file (default: storage.path of --config, METERD_DB, ./meterd.db)."
)
@config_path_option
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
def backup(dest: str, db: str | None, config_path: str | None, force: bool) -> None:
    """Copy the database to DEST while the server runs (SQLite's online backup API), then verify the copy.

    The copy is one consistent state of the database, taken without stopping ingest; it is checked with
    PRAGMA integrity_check and only then renamed to DEST. Restore: stop meterd, put DEST in place of the
    database file (and remove its -wal and -shm files), start meterd.
    """
    from meterd.server.store.sqlite.backup import BackupError
    from meterd.server.store.sqlite.backup import backup as take

    source = db or _load_config(config_path).db
    try:
        result = take(source, dest, overwrite=force)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    rows = ", ".join(f"{name} {count}" for name, count in result.tables.items() if count)
    click.echo(
        f"{result.path}: {result.size_bytes} bytes, schema version {result.schema_version}, "
        f"integrity ok; rows: {rows or 'none'}"
    )


# -- client commands ---------------------------------------------------------------------------------------
target_option = click.option(
    "--target",
    default=DEFAULT_TARGET,
    envvar="METERD_TARGET",
    show_default=True,
    help="The meterd server (host:port). Env: METERD_TARGET.",
)


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta[f"meterd.{param.name}"] = value
    return value


def _tls_options(command: Any) -> Any:
    """--tls, --ca, --client-cert, --client-key: how client commands reach a TLS server (kept in the
    click context, read by ``_credentials``)."""
    for option in reversed(
        [
            click.option(
                "--tls",
                is_flag=True,
                envvar="METERD_TLS",
                expose_value=False,
                callback=_remember,
                help="Connect with TLS (system CAs unless --ca). Env: METERD_TLS.",
            ),
            click.option(
                "--ca",
                type=click.Path(exists=True, dir_okay=False),
                envvar="METERD_TLS_CA",
                expose_value=False,
                callback=_remember,
                help="PEM CA that signed the server's certificate (implies --tls). Env: METERD_TLS_CA.",
            ),
            click.option(
                "--client-cert",
                type=click.Path(exists=True, dir_okay=False),
                envvar="METERD_TLS_CLIENT_CERT",
                expose_value=False,
                callback=_remember,
                help="PEM client certificate, for mutual TLS. Env: METERD_TLS_CLIENT_CERT.",
            ),
            click.option(
                "--client-key",
                type=click.Path(exists=True, dir_okay=False),
                envvar="METERD_TLS_CLIENT_KEY",
                expose_value=False,
                callback=_remember,
                help="PEM private key of --client-cert. Env: METERD_TLS_CLIENT_KEY.",
            ),
        ]
    ):
        command = option(command)
    return command


def api_key_option(command: Any) -> Any:
    """--api-key and the TLS options: what every client command needs to reach the server."""
    return _tls_options(
        click.option(
            "--api-key",
            envvar="METERD_API_KEY",
            help="Admin key, if the server needs one. Env: METERD_API_KEY.",
        )(command)
    )


def _credentials() -> Any:
    """TLS channel credentials from the command's options; None for plaintext."""
    import grpc

    meta = click.get_current_context().meta
    ca, cert, key = (meta.get(f"meterd.{name}") for name in ("ca", "client_cert", "client_key"))
    if (cert is None) != (key is None):
        raise click.UsageError("--client-cert and --client-key go together")
    if not (meta.get("meterd.tls") or ca or cert):
        return None
    read = lambda path: Path(path).read_bytes() if path else None  # noqa: E731
    return grpc.ssl_channel_credentials(
        root_certificates=read(ca), private_key=read(key), certificate_chain=read(cert)
    )


def _client(target: str, api_key: str | None) -> Any:
    from meterd.client import MeterdError, OpenMeter

    meta = click.get_current_context().meta
    ca, cert, key = (meta.get(f"meterd.{name}") for name in ("ca", "client_cert", "client_key"))
    if (cert is None) != (key is None):
        raise click.UsageError("--client-cert and --client-key go together")
    # The files themselves (not ready-made credentials), so that a failed connection can name its cause.
    try:
        return OpenMeter(
            target, api_key=api_key, tls=True if meta.get("meterd.tls") else None, ca=ca, cert=cert, key=key
        )
    except MeterdError as error:  # a target written as a URL or without a port, an unreadable PEM file
        _fail(error)


@main.command(epilog="Exit codes: 0 SERVING, 1 anything else (not serving, unreachable, unknown service).")
@click.option("--service", default="", help="A service name (default: the server as a whole).")
@click.option("--timeout", default=5.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds.")
@target_option
@_tls_options
def health(service: str, timeout: float, target: str) -> None:
    """Ask the server's grpc.health.v1 check; exit 0 when it is SERVING (for container health checks)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    credentials = _credentials()
    channel = grpc.secure_channel(target, credentials) if credentials else grpc.insecure_channel(target)
    with channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as error:
            click.echo(f"{target}: {error.code().name}: {error.details()}", err=True)
            raise SystemExit(1) from None
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    click.echo(f"{target}: {status}")
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        raise SystemExit(1)


def _fail(error: Exception, target: str | None = None) -> NoReturn:
    """Reports a failed call on stderr and exits: 2 for invalid input, 1 for anything else the server said."""
    from meterd.client import MeterdError

    if isinstance(error, MeterdError):
        click.echo(f"error: {error}", err=True)
        for v in error.violations:
            click.echo(f"  {v.field}: {v.description}", err=True)
        if error.code.name == "UNAVAILABLE" and target and "(" not in error.message:
            click.echo(f"  is meterd running at {target}? (--target, or METERD_TARGET)", err=True)
        raise SystemExit(2 if error.code.name == "INVALID_ARGUMENT" else 1)
    if isinstance(error, ValueError | TypeError):
        raise click.UsageError(str(error)) from None
    raise error


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an RFC 3339 time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@main.command(help="Query a meter and print its rows as a table, CSV or JSON lines.")
@click.argument("meter")
@click.option(
    "--from", "from_", help="Start (inclusive), RFC 3339 on a whole minute. Default: earliest data."
)
@click.option("--to", help="End (exclusive), RFC 3339 on a whole minute. Default: now.")
@click.option(
    "--window", type=click.Choice(["MINUTE", "HOUR", "DAY"], case_sensitive=False), help="Window size."
)
@click.option("--tz", help="IANA time zone for windows (default UTC).")
@click.option("--subject", multiple=True, help="Only this subject (repeatable).")
@click.option("--group-by", multiple=True, help="Group by a meter group key or 'subject' (repeatable).")
@click.option(
    "--filter",
    "filters",
    multiple=True,
    help="key=value: only this group value (repeatable; a repeated key matches any of its values).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@target_option
@api_key_option
def query(
    meter: str,
    from_: str | None,
    to: str | None,
    window: str | None,
    tz: str | None,
    subject: tuple[str, ...],
    group_by: tuple[str, ...],
    filters: tuple[str, ...],
    fmt: str,
    target: str,
    api_key: str | None,
) -> None:
    values: dict[str, list[str]] = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected key=value", param_hint="--filter")
        values.setdefault(key, []).append(value)
    # A key given several times matches any of its values.
    filter_group_by = {key: vs[0] if len(vs) == 1 else vs for key, vs in values.items()}
    with _client(target, api_key) as om:
        try:
            reply = om.meters.query(
                meter,
                from_=_when(from_),
                to=_when(to),
                window_size=window.upper() if window else None,
                window_time_zone=tz,
                subject=list(subject),
                group_by=list(group_by),
                filter_group_by=filter_group_by,
            )
        except Exception as error:
            _fail(error, target)
    keys = [k for k in group_by if k != "subject"]
    with_subject = "subject" in group_by or bool(subject)
    header = ["window_start", "window_end", *(["subject"] if with_subject else []), *keys, "value"]
    rows = [
        [
            r.window_start.isoformat(),
            r.window_end.isoformat(),
            *([r.subject] if with_subject else []),
            *(r.group_by.get(k, "") for k in keys),
            _number(r.value),
        ]
        for r in reply.rows
    ]
    _print_rows(header, rows, fmt, sys.stdout, title=f"{meter}")


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _print_rows(header: list[str], rows: list[list[Any]], fmt: str, out: IO[str], title: str = "") -> None:
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    elif fmt == "json":
        for row in rows:
            out.write(json.dumps(dict(zip(header, row, strict=True))) + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title or None)
        for name in header:
            table.add_column(name, justify="right" if name == "value" else "left")
        for row in rows:
            table.add_row(*(str(c) for c in row))
        console = Console(file=out)
        if not out.isatty():  # a pipe or a file: never cut or wrap a cell to fit a terminal that is not there
            natural = Console(file=out, width=1_000_000).measure(table).maximum
            console = Console(file=out, width=max(natural, 20))
        console.print(table)
        if not rows:
            out.write("(no rows)\n")


@main.command(epilog=EXIT_CODES)
@click.argument("source", type=click.File("rb"))
@click.option(
    "--batch-size",
    default=1000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Events per streamed batch.",
)
@click.option(
    "--rejected",
    "rejected_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the events the server rejected here (JSON lines: the event and the reasons).",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal)."
)
@target_option
@api_key_option
def ingest(
    source: IO[bytes],
    batch_size: int,
    rejected_path: str | None,
    progress: bool | None,
    target: str,
    api_key: str | None,
) -> None:
    """Ingest events from a JSON Lines file (or - for stdin) through the streaming RPC.

    Each line is one CloudEvent as a JSON object ("specversion" defaults to "1.0"). A line that is not
    UTF-8 JSON, or not a valid event, is reported on stderr with its line number and skipped; the rest are
    ingested. Ends with a summary on stdout: accepted (and how many of those meters could not read: a warning
    per meter on stderr, with examples), duplicate, rejected (by the server) and malformed (skipped here).
    Exit code 0 when every event was accepted or a duplicate, 1 otherwise.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from meterd.client import MeterdError

    malformed = 0

    def events() -> Iterator[tuple[int, dict[str, Any]]]:
        nonlocal malformed
        for number, raw in enumerate(source, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                malformed += 1
                click.echo(
                    f"line {number}: skipped, not UTF-8 text (byte {exc.start + 1}: {exc.reason})", err=True
                )
                continue
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                if not isinstance(event, dict):
                    raise ValueError(f"expected a JSON object, got {type(event).__name__}")
            except ValueError as exc:
                malformed += 1
                click.echo(f"line {number}: skipped, malformed JSON: {exc}", err=True)
                continue
            yield number, event

    show = sys.stderr.isatty() if progress is None else progress
    with (
        _client(target, api_key) as om,
        Progress(
            TextColumn("ingesting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            disable=not show,
            transient=False,
            console=Console(stderr=True),
        ) as bar,
    ):
        task = bar.add_task("ingest", total=None)
        stream = om.events.stream(batch_size=batch_size, raise_on_rejected=False)
        try:
            with stream:
                for i, (number, event) in enumerate(events(), start=1):
                    try:
                        stream.send(event)
                    except (ValueError, TypeError) as exc:
                        malformed += 1
                        click.echo(f"line {number}: skipped, invalid event: {exc}", err=True)
                    if i % batch_size == 0:
                        bar.update(task, completed=i)
        except MeterdError as error:
            _fail(error, target)
        bar.update(task, completed=stream.tally.accepted + stream.tally.duplicates + stream.tally.rejected)
    tally = stream.tally
    for event, violations in tally.rejected_events:
        reasons = "; ".join(f"{v.field}: {v.description}" for v in violations)
        click.echo(f"event {event.id!r}: rejected by the server: {reasons}", err=True)
    if rejected_path:
        from google.protobuf.json_format import MessageToDict

        with open(rejected_path, "w") as out:
            for event, violations in tally.rejected_events:
                out.write(
                    json.dumps(
                        {
                            "event": MessageToDict(event),
                            "violations": [
                                {"field": v.field, "description": v.description} for v in violations
                            ],
                        }
                    )
                    + "\n"
                )
    for slug, (count, examples) in sorted(tally.warnings.items()):
        what = f"meter {slug} could not read" if slug else "no meter reads the type of"
        shown = "; ".join(f"event {event_id!r}: {message}" for event_id, message in examples)
        click.echo(
            f"warning: {what} {count} accepted event(s) (stored; skipped by the meter), e.g. {shown}",
            err=True,
        )
    warned = f" ({tally.warned} with warnings)" if tally.warned else ""
    click.echo(
        f"accepted {tally.accepted}{warned}, duplicate {tally.duplicates}, rejected {tally.rejected}, "
        f"malformed {malformed}"
    )
    if tally.rejected or malformed:
        raise SystemExit(1)


# -- listings --------------------------------------------------------------------------------------------
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table, or one JSON object per line.",
)


def _time(ts: datetime | None) -> str:
    """RFC 3339 text of a result's time; empty for an unset one."""
    return ts.isoformat() if ts is not None else ""


def _print_records(records: list[dict[str, Any]], header: list[str], fmt: str, title: str) -> None:
    if fmt == "json":
        for record in records:
            sys.stdout.write(json.dumps(record) + "\n")
        return
    rows = [[_cell(record[name]) for name in header] for record in records]
    _print_rows(header, rows, "table", sys.stdout, title=title)


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, float):
        return _number(value)
    return "" if value is None else str(value)


def _pages(list_page: Callable[..., Any], target: str) -> Iterator[Any]:
    """Every page of a client ``list_page`` method, 1,000 items a page; a failed call ends the command."""
    token = ""
    while True:
        try:
            page = list_page(limit=1000, page_token=token)
        except Exception as error:
            _fail(error, target)
        yield page
        token = page.next_page_token
        if not token:
            return


@main.group(epilog=EXIT_CODES)
def meters() -> None:
    """The server's meters."""


@meters.command("list", epilog=EXIT_CODES)
@format_option
@target_option
@api_key_option
def meters_list(fmt: str, target: str, api_key: str | None) -> None:
    """List every meter: slug, event type, aggregation, value property, group-by keys, description."""
    records = []
    with _client(target, api_key) as om:
        for page in _pages(om.meters.list_page, target):
            for m in page.meters:
                records.append(
                    {
                        "slug": m.slug,
                        "event_type": m.event_type,
                        "aggregation": str(m.aggregation),
                        "value_property": m.value_property,
                        "group_by": dict(sorted(m.group_by.items())),
                        "description": m.description,
                    }
                )
    _print_records(
        records,
        ["slug", "event_type", "aggregation", "value_property", "group_by", "description"],
        fmt,
        "meters",
    )


@main.group(epilog=EXIT_CODES)
def subjects() -> None:
    """The server's subjects (customers)."""


@subjects.command("list", epilog=EXIT_CODES)
@format_option
@target_option
@api_key_option
def subjects_list(fmt: str, target: str, api_key: str | None) -> None:
    """List every subject: key, display name, metadata, Stripe customer id, creation time."""
    records = []
    with _client(target, api_key) as om:
        for page in _pages(om.subjects.list_page, target):
            for s in page.subjects:
                records.append(
                    {
                        "key": s.key,
                        "display_name": s.display_name if s.HasField("display_name") else None,
                        "metadata": dict(sorted(s.metadata.items())),
                        "stripe_customer_id": s.stripe_customer_id
                        if s.HasField("stripe_customer_id")
                        else None,
                        "created_at": _time(s.created_at),
                    }
                )
    _print_records(
        records, ["key", "display_name", "metadata", "stripe_customer_id", "created_at"], fmt, "subjects"
    )


@main.group(epilog=EXIT_CODES)
def entitlements() -> None:
    """Subjects' entitlements."""


@entitlements.command("value", epilog=EXIT_CODES)
@click.argument("subject")
@click.argument("feature")
@click.option("--at", "at", help="The instant to evaluate (RFC 3339). Default: now.")
@click.option("--check", is_flag=True, help="Exit with 3 when the subject has no access (for scripts).")
@format_option
@target_option
@api_key_option
def entitlements_value(
    subject: str, feature: str, at: str | None, check: bool, fmt: str, target: str, api_key: str | None
) -> None:
    """Show whether SUBJECT may use FEATURE now.

    FEATURE is an entitlement id or a feature key. Metered entitlements also show the balance, usage and
    overage; static ones their config.
    """
    with _client(target, api_key) as om:
        try:
            entitlement = om.subjects.get_entitlement(subject, feature)
            value = om.subjects.get_entitlement_value(subject, feature, _when(at))
        except Exception as error:
            _fail(error, target)
    kind = entitlement.WhichOneof("type") or ""
    record: dict[str, Any] = {
        "subject": subject,
        "feature": entitlement.feature_key,
        "type": kind,
        "has_access": value.has_access,
    }
    if kind == "metered":
        record.update(balance=value.balance, usage=value.usage, overage=value.overage)
    if kind == "static":
        record["config"] = value.config
    if fmt == "json":
        sys.stdout.write(json.dumps(record) + "\n")
    else:
        _print_rows(
            ["field", "value"],
            [[k, _cell(v)] for k, v in record.items()],
            "table",
            sys.stdout,
            title=f"{subject} / {entitlement.feature_key}",
        )
    if check and not value.has_access:
        raise SystemExit(3)


@main.group(invoke_without_command=True, epilog=EXIT_CODES)
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="Most recent events shown."
)
@click.option("--rule", "rules", multiple=True, help="Only events of this rule (id); repeatable.")
@click.option(
    "--channel", "channels", multiple=True, help="Only events sent to this channel (id); repeatable."
)
@click.option("--subject", "subjects", multiple=True, help="Only events about this subject; repeatable.")
@click.option(
    "--feature", "features", multiple=True, help="Only events about this feature (id or key); repeatable."
)
@format_option
@target_option
@api_key_option
@click.pass_context
def notifications(
    ctx: click.Context,
    limit: int,
    rules: tuple[str, ...],
    channels: tuple[str, ...],
    subjects: tuple[str, ...],
    features: tuple[str, ...],
    fmt: str,
    target: str,
    api_key: str | None,
) -> None:
    """Recent notification events (newest first) and each channel's delivery status; `channels` and `rules`
    list those."""
    if ctx.invoked_subcommand is not None:
        return
    with _client(target, api_key) as om:
        try:
            page = om.notifications.events.list_page(
                limit=limit, order="DESC", rule=rules, channel=channels, subject=subjects, feature=features
            )
        except Exception as error:
            _fail(error, target)
    records = []
    for e in page.events:
        t = e.balance_threshold
        record: dict[str, Any] = {
            "id": e.id,
            "created_at": _time(e.created_at),
            "rule": e.rule.name,
            "subject": "(test)",
            "feature": "",
            "threshold": "",
            "usage": None,
        }
        if t is not None:
            kind = str(t.threshold.type)
            record.update(
                subject=t.subject_key,
                feature=t.feature_key,
                usage=t.value.usage,
                threshold=f"{_number(t.threshold.value)}{'%' if kind == 'PERCENT' else ''} ({kind})",
            )
        record["delivery"] = "; ".join(_delivery_text(d) for d in e.delivery_status)
        records.append(record)
    _print_records(
        records,
        ["id", "created_at", "rule", "subject", "feature", "threshold", "usage", "delivery"],
        fmt,
        f"notification events ({len(records)} of {page.total_size})",
    )


def _delivery_text(d: Any) -> str:
    """``SUCCESS``, ``PENDING (2 attempts, next 12:00:05Z, HTTP 500)``, ... for one channel's delivery."""
    details = []
    if len(d.attempts) != 1 or d.state != "SUCCESS":
        details.append(f"{len(d.attempts)} attempt{'s' if len(d.attempts) != 1 else ''}")
    if d.next_attempt_at is not None:
        details.append(f"next {d.next_attempt_at.strftime('%H:%M:%SZ')}")
    if d.reason:
        details.append(d.reason[:80])
    return f"{d.channel.id[-6:]} {d.state}" + (f" ({', '.join(details)})" if details else "")


@notifications.command("channels", epilog=EXIT_CODES)
@format_option
@target_option
@api_key_option
def notification_channels(fmt: str, target: str, api_key: str | None) -> None:
    """List notification channels (disabled ones too; never their signing secrets)."""
    records = []
    with _client(target, api_key) as om:
        pages = _pages(
            lambda **options: om.notifications.channels.list_page(include_disabled=True, **options), target
        )
        for page in pages:
            for c in page.channels:
                records.append(
                    {
                        "id": c.id,
                        "name": c.name,
                        "url": c.url,
                        "disabled": c.disabled,
                        "created_at": _time(c.created_at),
                    }
                )
    _print_records(records, ["id", "name", "url", "disabled", "created_at"], fmt, "notification channels")


@notifications.command("rules", epilog=EXIT_CODES)
@format_option
@target_option
@api_key_option
def notification_rules(fmt: str, target: str, api_key: str | None) -> None:
    """List notification rules (disabled ones too): thresholds, features, channels."""
    records = []
    with _client(target, api_key) as om:
        for page in _pages(
            lambda **options: om.notifications.rules.list_page(include_disabled=True, **options), target
        ):
            for r in page.rules:
                thresholds = ", ".join(
                    f"{_number(t.value)}{'%' if t.type == 'PERCENT' else ''}" for t in r.thresholds
                )
                records.append(
                    {
                        "id": r.id,
                        "name": r.name,
                        "thresholds": thresholds,
                        "features": ", ".join(f.key for f in r.features) or "(all)",
                        "channels": len(r.channels),
                        "disabled": r.disabled,
                    }
                )
    _print_records(
        records, ["id", "name", "thresholds", "features", "channels", "disabled"], fmt, "notification rules"
    )
