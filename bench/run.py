"""`make bench`: runs every benchmark and prints a short table per benchmark. Each writes its figures to
bench/results/<name>.json. Sizes default to the issues' targets; pass --quick for a smoke-sized run."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL = {
    "ingest": ["--events", "1000000", "--single", "20000"],
    "meters_ingest": ["--events", "300000", "--breakdown", "100000"],
    # 10M and 50M events: `make bench-scale` (bench/scale.py, bulk-loaded, hours; run once).
    "query": ["--sizes", "1000000,2000000", "--runs", "30", "--stream-events", "200000"],
    "entitlements": [],
    "serving": ["--streams", "2000", "--calls", "1000"],
    "postgres": ["--events", "200000", "--query-events", "2000000", "--runs", "30"],
    "watch": [],
    "memory": ["--events", "1000000"],
    "http_api": [],
    "http_watch": [],
    "notifications": [],
    "idle": [],
}
QUICK = {
    "ingest": ["--events", "50000", "--single", "2000"],
    "meters_ingest": ["--events", "20000", "--breakdown", "5000"],
    "query": ["--sizes", "50000,200000", "--runs", "5", "--stream-events", "20000"],
    "entitlements": ["--quick"],
    "serving": ["--streams", "500", "--calls", "200"],
    "postgres": ["--events", "20000", "--query-events", "50000", "--runs", "5"],
    "watch": ["--quick"],
    "memory": ["--events", "50000", "--queries", "80"],
    "http_api": ["--quick"],
    "http_watch": ["--quick"],
    "notifications": ["--quick"],
    "idle": [
        "--watchers",
        "500",
        "--calls",
        "200",
        "--window",
        "5",
        "--producers",
        "3",
        "--bulk-batches",
        "2",
        "--no-compare",
    ],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a check that the benches run")
    parser.add_argument(
        "names",
        nargs="*",
        help="only these benchmarks (ingest, meters_ingest, query, entitlements, serving, postgres,"
        " watch, memory, http_api, http_watch, notifications, idle)",
    )
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    failed = 0
    for name, extra in plan.items():
        if args.names and name not in args.names:
            continue
        script = HERE / f"{name}.py"
        if not script.exists():
            print(f"== {name}: not present, skipped")
            continue
        print(f"== {name}", flush=True)
        failed |= subprocess.call([sys.executable, str(script), *extra])
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
