"""Draws the package-level import graph of meterd's server and marks every arrow that runs back up.

Reads the layer order from the layers contract in ``.importlinter`` (the one ``lint-imports`` checks), and
the imports from the source itself (every ``import``, also those inside functions), so it can draw any
checkout: ``python scripts/import_graph.py [--root DIR] [--dot]``. A package is the first name under
``meterd.server`` (``meterd.server.store.sqlite.db`` belongs to ``store``). Exits 1 when an arrow runs up
or sideways between independent siblings (``a | b``), 0 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PREFIX = "meterd.server."


def layers(contract: Path) -> tuple[dict[str, int], set[str]]:
    """(package -> layer index, 0 at the top; packages declared independent of their siblings)."""
    parser = configparser.ConfigParser()
    parser.read(contract)
    rank: dict[str, int] = {}
    independent: set[str] = set()
    contract = parser["importlinter:contract:layers"]
    lines = [ln.strip() for ln in contract["layers"].splitlines() if ln.strip()]
    for entry in contract.get("exhaustive_ignores", "").split():
        rank[entry] = -1  # entry points (``python -m``), above everything
    for index, line in enumerate(lines):
        names = [n.strip() for n in line.replace(":", "|").split("|")]
        for name in names:
            rank[name] = index
        if "|" in line:
            independent.update(names)
    return rank, independent


def package_of(module: str) -> str | None:
    if not module.startswith(PREFIX):
        return None
    return module[len(PREFIX) :].split(".")[0]


def arrows(root: Path) -> dict[tuple[str, str], list[str]]:
    """(importing package, imported package) -> the importing files."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    base = root / "meterd" / "server"
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        source = package_of(".".join(rel.parts))
        if source is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = (
                    [node.module]
                    if node.module != "meterd.server"
                    else [f"{node.module}.{a.name}" for a in node.names]
                )
            for name in names:
                target = package_of(name)
                if target is not None and target != source:
                    found[(source, target)].append(str(path.relative_to(base)))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO / "server", help="the folder holding meterd/server")
    parser.add_argument("--contract", type=Path, default=REPO / ".importlinter")
    parser.add_argument("--dot", action="store_true", help="print Graphviz dot instead of a list")
    args = parser.parse_args()
    rank, independent = layers(args.contract)
    bad = 0
    lines = []
    for (source, target), files in sorted(arrows(args.root).items()):
        a, b = rank.get(source), rank.get(target)
        if a is None or b is None:
            mark = "UNDECLARED"
        elif a > b:
            mark = "UP"
        elif a == b and source in independent:
            mark = "SIDEWAYS"
        else:
            mark = ""
        bad += bool(mark)
        lines.append((source, target, mark, files))
    if args.dot:
        print("digraph meterd_server {")
        for source, target, mark, _ in lines:
            print(f'  "{source}" -> "{target}"' + (' [color=red, label="up"]' if mark else "") + ";")
        print("}")
    else:
        for source, target, mark, files in lines:
            shown = ", ".join(sorted(set(files))[:3]) + (" ..." if len(set(files)) > 3 else "")
            print(f"{source:>14} -> {target:<14} {mark:<10} {shown if mark else ''}".rstrip())
        print(f"{len(lines)} package-level arrows, {bad} running up, sideways or undeclared")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
