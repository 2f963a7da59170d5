"""The ``meterd`` console script. The command line lives in ``meterd.server.cli``; this entry point only
turns a client-only install (``pip install meterd`` without the ``server`` extra) into a one-line hint
instead of an ImportError traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from meterd.server.cli import main as cli_main
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] == "meterd":
            raise
        sys.exit(
            f"meterd: the server and the command line need the server extra ({exc.name} is not installed):"
            " pip install 'meterd[server]'"
        )
    cli_main()
