"""Every SDK snippet's example script (examples/*.py) runs against a live ``meterd serve`` started with
examples/meterd.yaml, as a user would run it, and prints what it should.

The scripts follow one customer's life (ingest, query, subjects, features, entitlements, grants, then the
deletes), so they run in ``ORDER`` against one server per module; a test run alone first runs the scripts
before it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from support import ROOT, ServerProcess, Tour

EXAMPLES = ROOT / "examples"

ORDER = [
    "ingest_event",
    "ingest_events",
    "list_events",
    "list_meters",
    "get_meter",
    "query_meter",
    "meter_subjects",
    "create_portal_token",
    "invalidate_portal_tokens",
    "upsert_subjects",
    "list_subjects",
    "get_subject",
    "create_feature",
    "list_features",
    "get_feature",
    "create_entitlement",
    "list_entitlements",
    "get_entitlement",
    "get_entitlement_value",
    "create_entitlement_grant",
    "list_entitlement_grants",
    "list_grants",
    "get_entitlement_history",
    "reset_entitlement_usage",
    "void_grant",
    "override_entitlement",
    "delete_entitlement",
    "delete_feature",
    "delete_subject",
]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


class Examples:
    """Runs the scripts in ORDER against one server, each at most once."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.runs: dict[str, Run] = {}

    def run_all(self) -> dict[str, Run]:
        """Runs every script in ORDER (again), whatever ran before; returns what each did."""
        return {name: self._run(name) for name in ORDER}

    def _run(self, name: str) -> Run:
        proc = subprocess.run(
            [sys.executable, str(EXAMPLES / f"{name}.py")],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "METERD_TARGET": self.target},
            cwd=EXAMPLES,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def output(self, name: str) -> str:
        """Runs every script up to ``name`` (those not yet run), and returns what ``name`` printed."""
        for earlier in ORDER[: ORDER.index(name) + 1]:
            if earlier not in self.runs:
                self.runs[earlier] = self._run(earlier)
        run = self.runs[name]
        if run.returncode != 0:
            pytest.fail(f"{name}.py exited {run.returncode}:\n{run.stderr}")
        return run.stdout


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Examples]:
    db = tmp_path_factory.mktemp("examples") / "meterd.db"
    server = ServerProcess(db, config=EXAMPLES / "meterd.yaml")
    try:
        yield Examples(server.address)
    finally:
        server.terminate()


def test_every_example_is_tested() -> None:
    scripts = {p.stem for p in EXAMPLES.glob("*.py")}
    assert scripts == set(ORDER)


def test_ingest_event(examples: Examples) -> None:
    assert examples.output("ingest_event") == "accepted 1, duplicate 0\n"


def test_ingest_events(examples: Examples) -> None:
    assert examples.output("ingest_events") == "accepted 3, duplicate 0\n"


def test_list_events(examples: Examples) -> None:
    out = examples.output("list_events")
    assert out.endswith("4 event(s)\n")
    assert out.count(" customer-1 request ") == 2
    assert ' customer-1 prompt {"tokens":1200,"model":"gpt-4o"}' in out


def test_list_meters(examples: Examples) -> None:
    assert examples.output("list_meters") == "api_requests request\ntokens_total prompt\n"


def test_get_meter(examples: Examples) -> None:
    assert examples.output("get_meter") == (
        "tokens_total: SUM of $.tokens over 'prompt' events, grouped by ['model']\n"
    )


def test_query_meter(examples: Examples) -> None:
    lines = examples.output("query_meter").splitlines()
    # customer-1's two requests in the current hour: one GET, one POST (customer-2's GET is filtered out).
    rows = sorted(line.split(" ", 1)[1] for line in lines)
    assert rows == ["GET /v1/things 1.0", "POST /v1/things 1.0"]


def test_meter_subjects(examples: Examples) -> None:
    assert examples.output("meter_subjects") == "['customer-1', 'customer-2']\n"


def test_create_portal_token(examples: Examples) -> None:
    lines = examples.output("create_portal_token").splitlines()
    assert lines[0].startswith("token for customer-1, expires ")
    assert lines[1:] == ["customer-1 used 1200 tokens"]


def test_invalidate_portal_tokens(examples: Examples) -> None:
    assert examples.output("invalidate_portal_tokens") == "invalidated 1 token(s)\n"


def test_upsert_subjects(examples: Examples) -> None:
    assert examples.output("upsert_subjects") == "customer-1 ACME\ncustomer-2 Globex\n"


def test_list_subjects(examples: Examples) -> None:
    assert examples.output("list_subjects") == "customer-1 ACME {}\ncustomer-2 Globex {'plan': 'pro'}\n"


def test_get_subject(examples: Examples) -> None:
    assert examples.output("get_subject") == "customer-1 ACME\n"


def test_create_feature(examples: Examples) -> None:
    assert re.fullmatch(
        r"feature ai_tokens \(AI Tokens\) measured by tokens_total, id \S+\n",
        examples.output("create_feature"),
    )


def test_list_features(examples: Examples) -> None:
    assert examples.output("list_features") == "ai_tokens AI Tokens tokens_total\n"


def test_get_feature(examples: Examples) -> None:
    assert examples.output("get_feature") == "ai_tokens AI Tokens tokens_total\n"


def test_create_entitlement(examples: Examples) -> None:
    assert re.fullmatch(
        r"entitlement \S+: ai_tokens for customer-1, 10000000 per month\n",
        examples.output("create_entitlement"),
    )


def test_list_entitlements(examples: Examples) -> None:
    assert re.fullmatch(r"ai_tokens metered \S+\n", examples.output("list_entitlements"))


def test_get_entitlement(examples: Examples) -> None:
    entitlement_id = examples.output("list_entitlements").split()[2]
    assert examples.output("get_entitlement") == f"{entitlement_id} ai_tokens metered\n"


def test_get_entitlement_value(examples: Examples) -> None:
    # 10,000,000 issued for the month; customer-1 has used the 1,200 tokens ingested above.
    assert examples.output("get_entitlement_value") == (
        "has_access=True balance=9998800 usage=1200 overage=0\n"
    )


def test_create_entitlement_grant(examples: Examples) -> None:
    out = examples.output("create_entitlement_grant")
    match = re.fullmatch(r"grant \S+: 100 from (\S+) until (\S+)\n", out)
    assert match, out
    effective, expires = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in match.groups())
    assert expires - effective == timedelta(hours=12)


def test_list_entitlement_grants(examples: Examples) -> None:
    grant_id = examples.output("create_entitlement_grant").split()[1].rstrip(":")
    lines = examples.output("list_entitlement_grants").splitlines()
    # issueAfterReset is itself a grant (of the period's allowance), besides the one created above.
    assert sorted(line.split(" ", 1)[1] for line in lines) == [
        "amount=100 priority=1",
        "amount=10000000 priority=1",
    ]
    assert f"{grant_id} amount=100 priority=1" in lines


def test_list_grants(examples: Examples) -> None:
    grant_id = examples.output("create_entitlement_grant").split()[1].rstrip(":")
    lines = examples.output("list_grants").splitlines()
    assert lines[-1] == "2 grant(s)"
    assert f"{grant_id} customer-1 amount=100" in lines


def test_get_entitlement_history(examples: Examples) -> None:
    lines = examples.output("get_entitlement_history").splitlines()
    assert lines[-1] == f"{len(lines) - 1} window(s)"
    # Daily windows from the first of the month; today's holds the 1,200 tokens.
    assert lines[-2].startswith(datetime.now(UTC).date().isoformat())
    *earlier, today = lines[:-1]
    assert all(re.fullmatch(r"\S+ usage=0 balance_at_start=10000000", line) for line in earlier), earlier
    assert re.fullmatch(r"\S+ usage=1200 balance_at_start=\d+", today), today


def test_reset_entitlement_usage(examples: Examples) -> None:
    out = examples.output("reset_entitlement_usage")
    match = re.fullmatch(r"reset\nnow: usage=(\d+) balance=(\d+)\n", out)
    assert match, out
    # The new period starts on the reset's minute: the 1,200 tokens count in it only if they were ingested
    # in that same minute (usage has minute resolution). Either way the reset issued the month's
    # 10,000,000 afresh and rolled the 100-token grant over.
    usage, balance = map(int, match.groups())
    assert usage in (0, 1200)
    assert balance + usage == 10_000_100


def test_void_grant(examples: Examples) -> None:
    grant_id = examples.output("create_entitlement_grant").split()[1].rstrip(":")
    out = examples.output("void_grant")
    assert re.fullmatch(
        rf"voided {grant_id} at \S+\+00:00; 1 other grant\(s\) left; next refill: False\n", out
    ), out


def test_override_entitlement(examples: Examples) -> None:
    first, second = examples.output("override_entitlement").splitlines()
    assert re.fullmatch(r"replaced \S+ by \S+: 2000000 per week", first), first
    assert second == "deleted: True"


def test_delete_entitlement(examples: Examples) -> None:
    assert examples.output("delete_entitlement") == "remaining: []\n"


def test_delete_feature(examples: Examples) -> None:
    assert examples.output("delete_feature") == "active features: []\n"


def test_delete_subject(examples: Examples) -> None:
    assert examples.output("delete_subject") == "customer-1 deleted\nusage kept: ['customer-1']\n"


def test_examples_run_on_a_server_that_ran_the_readme_tour_and_run_again(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A user who took the README's tour, then tries the examples (twice): nothing is refused as already
    existing; the create scripts pick up the tour's feature and entitlement."""
    server = ServerProcess(
        tmp_path_factory.mktemp("after-tour") / "meterd.db", config=EXAMPLES / "meterd.yaml"
    )
    tour = Tour(server.address)
    try:
        tour.run_all()
        examples = Examples(server.address)
        for attempt in (1, 2):
            runs = examples.run_all()
            failed = {name: run.stderr for name, run in runs.items() if run.returncode != 0}
            assert not failed, f"run {attempt}: {failed}"
            if attempt == 1:  # the tour's entitlement (overridden to 2,500 a week), not a new one
                assert runs["create_entitlement"].stdout.endswith(", 2500 per week\n")
            else:  # the first run deleted it at its end: a new one
                assert runs["create_entitlement"].stdout.endswith(", 10000000 per month\n")
    finally:
        tour.close()
        server.terminate()
