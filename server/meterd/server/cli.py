"""The `meterd` command line: the server, and client commands that talk to a running server."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

import click

from meterd.server import config as config_module
from meterd.server import logs

DEFAULT_TARGET = "localhost:50051"


@click.group(help="meterd: usage metering and entitlements over gRPC.")
def main() -> None:
    pass


@main.command(help="Run the server until SIGTERM/SIGINT.")
@click.option("--listen", help="host:port to listen on (default 127.0.0.1:50051; port 0 picks a free one).")
@click.option("--db", help="SQLite database file (default ./meterd.db).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="meterd.yaml.")
@click.option("--log-format", type=click.Choice(["json", "text"]), help="Log format (default json).")
def serve(listen: str | None, db: str | None, config_path: str | None, log_format: str | None) -> None:
    from meterd.server.app import serve as run

    cfg = config_module.load(config_path)
    if listen:
        cfg.listen = listen
    if db:
        cfg.db = db
    if log_format:
        cfg.log_format = log_format
    logs.configure(cfg.log_format)
    run(cfg)


# -- client commands ---------------------------------------------------------------------------------------
target_option = click.option("--target", default=DEFAULT_TARGET, envvar="METERD_TARGET", show_default=True,
                             help="The meterd server (host:port). Env: METERD_TARGET.")
api_key_option = click.option("--api-key", envvar="METERD_API_KEY", help="Admin key, if the server needs one. "
                              "Env: METERD_API_KEY.")


def _client(target: str, api_key: str | None) -> Any:
    from meterd.client import OpenMeter

    return OpenMeter(target, api_key=api_key)


def _fail(error: Exception) -> None:
    from meterd.client import MeterdError

    if isinstance(error, MeterdError):
        click.echo(f"error: {error}", err=True)
        for v in error.violations:
            click.echo(f"  {v.field}: {v.description}", err=True)
        raise SystemExit(2 if error.code.name == "INVALID_ARGUMENT" else 1)
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
@click.option("--from", "from_", help="Start (inclusive), RFC 3339 on a whole minute. Default: earliest data.")
@click.option("--to", help="End (exclusive), RFC 3339 on a whole minute. Default: now.")
@click.option("--window", type=click.Choice(["MINUTE", "HOUR", "DAY"], case_sensitive=False), help="Window size.")
@click.option("--tz", help="IANA time zone for windows (default UTC).")
@click.option("--subject", multiple=True, help="Only this subject (repeatable).")
@click.option("--group-by", multiple=True, help="Group by a meter group key or 'subject' (repeatable).")
@click.option("--filter", "filters", multiple=True, help="key=value: only this group value (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@target_option
@api_key_option
def query(meter: str, from_: str | None, to: str | None, window: str | None, tz: str | None, subject: tuple[str, ...],
          group_by: tuple[str, ...], filters: tuple[str, ...], fmt: str, target: str, api_key: str | None) -> None:
    filter_group_by = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected key=value", param_hint="--filter")
        filter_group_by[key] = value
    with _client(target, api_key) as om:
        try:
            reply = om.meters.query(meter, from_=_when(from_), to=_when(to), window_size=window.upper() if window else None,
                                    window_time_zone=tz, subject=list(subject), group_by=list(group_by),
                                    filter_group_by=filter_group_by)
        except Exception as error:
            _fail(error)
            return
    keys = [k for k in group_by if k != "subject"]
    with_subject = "subject" in group_by or bool(subject)
    header = ["window_start", "window_end", *(["subject"] if with_subject else []), *keys, "value"]
    rows = [
        [r.window_start.ToDatetime(tzinfo=UTC).isoformat(), r.window_end.ToDatetime(tzinfo=UTC).isoformat(),
         *([r.subject] if with_subject else []), *(r.group_by.get(k, "") for k in keys), _number(r.value)]
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
        Console(file=out).print(table)
        if not rows:
            out.write("(no rows)\n")


@main.command(help="Ingest events from a JSON Lines file (or - for stdin) through the streaming RPC.")
@click.argument("source", type=click.File("r"))
@click.option("--batch-size", default=1000, show_default=True, help="Events per streamed batch.")
@click.option("--rejected", "rejected_path", type=click.Path(dir_okay=False, writable=True),
              help="Write rejected events here (JSON lines with the reasons).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@target_option
@api_key_option
def ingest(source: IO[str], batch_size: int, rejected_path: str | None, progress: bool | None, target: str,
           api_key: str | None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from meterd.client import MeterdError

    malformed = 0

    def events() -> Iterator[dict[str, Any]]:
        nonlocal malformed
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                if not isinstance(event, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                malformed += 1
                click.echo(f"line {number}: skipped, malformed JSON: {exc}", err=True)
                continue
            yield event

    show = sys.stderr.isatty() if progress is None else progress
    with _client(target, api_key) as om, Progress(
        TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        disable=not show, transient=False, console=None,
    ) as bar:
        task = bar.add_task("ingest", total=None)
        stream = om.events.stream(batch_size=batch_size, raise_on_rejected=False)
        try:
            with stream:
                for i, event in enumerate(events(), start=1):
                    try:
                        stream.send(event)
                    except (ValueError, TypeError) as exc:
                        malformed += 1
                        click.echo(f"event {event.get('id', '?')}: skipped, {exc}", err=True)
                    if i % batch_size == 0:
                        bar.update(task, completed=i)
        except MeterdError as error:
            _fail(error)
        bar.update(task, completed=stream.tally.accepted + stream.tally.duplicates + stream.tally.rejected)
    tally = stream.tally
    if rejected_path and tally.rejected_events:
        from google.protobuf.json_format import MessageToDict

        with open(rejected_path, "w") as out:
            for event, violations in tally.rejected_events:
                out.write(json.dumps({"event": MessageToDict(event),
                                      "violations": [{"field": v.field, "description": v.description}
                                                     for v in violations]}) + "\n")
    click.echo(f"accepted {tally.accepted}, duplicate {tally.duplicates}, rejected {tally.rejected}, "
               f"malformed {malformed}")
    if tally.rejected or malformed:
        raise SystemExit(1)
