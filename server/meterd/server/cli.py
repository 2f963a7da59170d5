"""The `meterd` command line."""

from __future__ import annotations

import click

from meterd.server import config as config_module
from meterd.server import logs


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
