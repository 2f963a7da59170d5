"""The `meterd` command line, run as a user runs it (a child process) against a live `meterd serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ROOT, ServerProcess, free_port

from meterd.client import OpenMeter


class Cli:
    def __init__(self, target: str) -> None:
        self.target = target

    def __call__(
        self, *args: str, stdin: str | None = None, target: str | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "METERD_TARGET": target or self.target, "COLUMNS": "200"}
        return subprocess.run(
            [sys.executable, "-m", "meterd.server", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            cwd=cwd,
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        tmp_path_factory.mktemp("cli") / "meterd.db", config=ROOT / "examples" / "meterd.yaml"
    )
    try:
        yield srv
    finally:
        srv.terminate()


@pytest.fixture(scope="module")
def cli(server: ServerProcess) -> Cli:
    return Cli(server.address)


@pytest.fixture(scope="module")
def om(server: ServerProcess) -> Iterator[OpenMeter]:
    with OpenMeter(server.address) as client:
        yield client


def prompt(id: str, subject: str, tokens: int, model: str, time: str) -> str:
    return json.dumps(
        {
            "id": id,
            "source": "cli-test",
            "type": "prompt",
            "subject": subject,
            "time": time,
            "data": {"tokens": tokens, "model": model},
        }
    )


# -- help ------------------------------------------------------------------------------------------------
def test_help_lists_every_command_and_the_exit_codes(cli: Cli) -> None:
    result = cli("--help")
    assert result.returncode == 0
    for command in ("serve", "query", "ingest", "meters", "subjects", "entitlements"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout
    for args in (
        ["meters", "list", "--help"],
        ["subjects", "list", "--help"],
        ["entitlements", "value", "--help"],
        ["ingest", "--help"],
        ["query", "--help"],
    ):
        sub = cli(*args)
        assert sub.returncode == 0, args
        assert "--target" in sub.stdout


# -- ingest ----------------------------------------------------------------------------------------------
def test_ingest_skips_malformed_lines_reports_rejections_and_ingests_the_rest(
    cli: Cli, tmp_path: Path
) -> None:
    t = "2024-01-01T00:05:00Z"
    lines = [
        prompt("i-1", "ingest-1", 10, "a", t),
        "{not json",  # line 2: malformed JSON
        prompt("i-2", "ingest-1", 20, "b", t),
        "",  # blank lines are ignored
        json.dumps(
            {"id": 5, "source": "cli-test", "type": "prompt", "subject": "ingest-1"}
        ),  # line 5: bad type
        json.dumps([1, 2]),  # line 6: not an object
        json.dumps(
            {"id": "i-3", "source": "cli-test", "type": "prompt", "subject": "", "time": t}
        ),  # rejected
        prompt("i-4", "ingest-1", 30, "a", t),
    ]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n")
    rejected = tmp_path / "rejected.jsonl"

    result = cli("ingest", str(source), "--rejected", str(rejected))

    assert result.returncode == 1
    assert result.stdout.strip().splitlines()[-1] == "accepted 3, duplicate 0, rejected 1, malformed 3"
    assert "line 2: skipped, malformed JSON" in result.stderr
    assert "line 5: skipped, invalid event: event.id: expected a string, got int" in result.stderr
    assert "line 6: skipped, malformed JSON: expected a JSON object, got list" in result.stderr
    assert "event 'i-3': rejected by the server: subject:" in result.stderr
    [record] = [json.loads(line) for line in rejected.read_text().splitlines()]
    assert record["event"]["id"] == "i-3"
    assert record["violations"][0]["field"] == "subject"

    query = cli(
        "query",
        "tokens_total",
        "--subject",
        "ingest-1",
        "--from",
        "2024-01-01T00:00:00Z",
        "--to",
        "2024-01-01T01:00:00Z",
        "--format",
        "json",
    )
    assert query.returncode == 0, query.stderr
    assert [json.loads(line)["value"] for line in query.stdout.splitlines()] == ["60"]


def test_ingest_from_stdin_counts_duplicates_and_exits_zero(cli: Cli) -> None:
    t = "2024-01-01T00:05:00Z"
    text = "\n".join(prompt(f"s-{i}", "stdin-1", 1, "a", t) for i in range(5)) + "\n"
    first = cli("ingest", "-", "--batch-size", "2", stdin=text)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "accepted 5, duplicate 0, rejected 0, malformed 0"
    again = cli("ingest", "-", stdin=text)
    assert again.returncode == 0
    assert again.stdout.strip() == "accepted 0, duplicate 5, rejected 0, malformed 0"


def test_ingest_writes_an_empty_rejected_file_when_nothing_is_rejected(cli: Cli, tmp_path: Path) -> None:
    rejected = tmp_path / "rejected.jsonl"
    rejected.write_text("stale\n")
    result = cli(
        "ingest",
        "-",
        "--rejected",
        str(rejected),
        stdin=prompt("e-1", "empty-1", 1, "a", "2024-01-01T00:05:00Z") + "\n",
    )
    assert result.returncode == 0
    assert rejected.read_text() == ""


def test_ingest_summarises_what_meters_could_not_read(cli: Cli) -> None:
    t = "2024-01-01T00:05:00Z"
    lines = [
        prompt("w-1", "warn-1", 1, "a", t),
        json.dumps(
            {
                "id": "w-2",
                "source": "cli-test",
                "type": "prompt",
                "subject": "warn-1",
                "time": t,
                "data": {"tokens": "many", "model": "a"},
            }
        ),
        json.dumps({"id": "w-3", "source": "cli-test", "type": "typo", "subject": "warn-1", "time": t}),
    ]
    result = cli("ingest", "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr  # stored all the same: only a warning
    assert result.stdout.strip() == "accepted 3 (2 with warnings), duplicate 0, rejected 0, malformed 0"
    assert (
        "warning: meter tokens_total could not read 1 accepted event(s) (stored; skipped by the meter), e.g. "
        "event 'w-2': value_property $.tokens: not a number: 'many'"
    ) in result.stderr
    assert (
        "warning: no meter reads the type of 1 accepted event(s) (stored; skipped by the meter), e.g. event "
        "'w-3': no meter reads event type typo"
    ) in result.stderr


# -- query -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def query_events(cli: Cli) -> None:
    lines = [
        prompt("q-1", "query-1", 100, "gpt", "2024-02-01T10:05:00Z"),
        prompt("q-2", "query-1", 50, "llama", "2024-02-01T10:20:00Z"),
        prompt("q-3", "query-1", 7, "gpt", "2024-02-01T11:30:00Z"),
        prompt("q-4", "query-2", 1000, "gpt", "2024-02-01T10:10:00Z"),
    ]
    result = cli("ingest", "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr


QUERY = [
    "query",
    "tokens_total",
    "--subject",
    "query-1",
    "--from",
    "2024-02-01T10:00:00Z",
    "--to",
    "2024-02-01T12:00:00Z",
    "--window",
    "HOUR",
]


def test_query_csv(cli: Cli, query_events: None) -> None:
    result = cli(*QUERY, "--group-by", "model", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "window_start,window_end,subject,model,value",
        "2024-02-01T10:00:00+00:00,2024-02-01T11:00:00+00:00,query-1,gpt,100",
        "2024-02-01T10:00:00+00:00,2024-02-01T11:00:00+00:00,query-1,llama,50",
        "2024-02-01T11:00:00+00:00,2024-02-01T12:00:00+00:00,query-1,gpt,7",
    ]


def test_query_json(cli: Cli, query_events: None) -> None:
    result = cli(*QUERY, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {
            "window_start": "2024-02-01T10:00:00+00:00",
            "window_end": "2024-02-01T11:00:00+00:00",
            "subject": "query-1",
            "value": "150",
        },
        {
            "window_start": "2024-02-01T11:00:00+00:00",
            "window_end": "2024-02-01T12:00:00+00:00",
            "subject": "query-1",
            "value": "7",
        },
    ]


def test_query_filter_with_a_repeated_key_matches_any_value(cli: Cli, query_events: None) -> None:
    one = cli(*QUERY, "--filter", "model=gpt", "--format", "json")
    both = cli(*QUERY, "--filter", "model=gpt", "--filter", "model=llama", "--format", "json")
    assert one.returncode == both.returncode == 0, one.stderr + both.stderr
    assert [json.loads(line)["value"] for line in one.stdout.splitlines()] == ["100", "7"]
    assert [json.loads(line)["value"] for line in both.stdout.splitlines()] == ["150", "7"]


def test_query_table(cli: Cli, query_events: None) -> None:
    result = cli(
        "query",
        "tokens_total",
        "--from",
        "2024-02-01T10:00:00Z",
        "--to",
        "2024-02-01T12:00:00Z",
        "--group-by",
        "subject",
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "query-" in line]
    assert len(rows) == 2
    assert "query-1" in rows[0] and rows[0].rstrip("│ ").endswith("157")
    assert "query-2" in rows[1] and rows[1].rstrip("│ ").endswith("1000")
    assert "window_start" in result.stdout and "tokens_total" in result.stdout


def test_query_with_no_rows_says_so(cli: Cli) -> None:
    result = cli(
        "query",
        "tokens_total",
        "--subject",
        "nobody",
        "--from",
        "2020-01-01T00:00:00Z",
        "--to",
        "2020-01-01T01:00:00Z",
    )
    assert result.returncode == 0
    assert "(no rows)" in result.stdout


# -- meters, subjects, entitlements ----------------------------------------------------------------------
def test_meters_list(cli: Cli) -> None:
    table = cli("meters", "list")
    assert table.returncode == 0, table.stderr
    assert "api_requests" in table.stdout and "method=$.method, path=$.path" in table.stdout
    result = cli("meters", "list", "--format", "json")
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {
            "slug": "api_requests",
            "event_type": "request",
            "aggregation": "COUNT",
            "value_property": "",
            "group_by": {"method": "$.method", "path": "$.path"},
            "description": "API requests",
        },
        {
            "slug": "tokens_total",
            "event_type": "prompt",
            "aggregation": "SUM",
            "value_property": "$.tokens",
            "group_by": {"model": "$.model"},
            "description": "AI tokens used",
        },
    ]


def test_subjects_list(cli: Cli, om: OpenMeter) -> None:
    om.subjects.upsert(
        [{"key": "acme", "displayName": "ACME", "metadata": {"plan": "pro"}}, {"key": "globex"}]
    )
    result = cli("subjects", "list", "--format", "json")
    assert result.returncode == 0, result.stderr
    records = {r["key"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert records["acme"]["display_name"] == "ACME"
    assert records["acme"]["metadata"] == {"plan": "pro"}
    assert records["globex"]["display_name"] is None
    assert records["acme"]["created_at"].endswith("+00:00")
    table = cli("subjects", "list")
    assert table.returncode == 0
    assert "ACME" in table.stdout and "plan=pro" in table.stdout


@pytest.fixture(scope="module")
def entitlements(om: OpenMeter) -> None:
    om.features.create({"key": "sso", "name": "Single sign-on"})
    om.features.create({"key": "seats", "name": "Seats"})
    om.subjects.create_entitlement("acme", {"type": "boolean", "featureKey": "sso"})
    om.subjects.create_entitlement("acme", {"type": "static", "featureKey": "seats", "config": {"seats": 5}})


def test_entitlements_value_boolean_and_static(cli: Cli, entitlements: None) -> None:
    result = cli("entitlements", "value", "acme", "sso", "--format", "json", "--check")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "subject": "acme",
        "feature": "sso",
        "type": "boolean",
        "has_access": True,
    }
    static = cli("entitlements", "value", "acme", "seats", "--format", "json")
    assert json.loads(static.stdout)["config"] == '{"seats":5}'
    table = cli("entitlements", "value", "acme", "seats")
    assert table.returncode == 0
    assert "has_access" in table.stdout and "True" in table.stdout and '{"seats":5}' in table.stdout


def test_entitlements_value_metered(cli: Cli, om: OpenMeter, entitlements: None) -> None:
    om.features.create({"key": "ai_tokens", "name": "AI tokens", "meterSlug": "tokens_total"})
    om.subjects.create_entitlement(
        "query-1",
        {
            "type": "metered",
            "featureKey": "ai_tokens",
            "usagePeriod": {"interval": "MONTH"},
            "issueAfterReset": 1000,
        },
    )
    result = cli("entitlements", "value", "query-1", "ai_tokens", "--format", "json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["type"] == "metered"
    assert record["has_access"] is True
    assert record["balance"] + record["usage"] == 1000


def test_entitlements_value_unknown_is_not_found(cli: Cli, entitlements: None) -> None:
    result = cli("entitlements", "value", "acme", "nope")
    assert result.returncode == 1
    assert "NOT_FOUND" in result.stderr


# -- bad input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["query", "no_such_meter"], 1, "NOT_FOUND"),
        (["query", "tokens_total", "--from", "yesterday"], 2, "is not an RFC 3339 time"),
        (["query", "tokens_total", "--from", "2024-01-01T00:00:30Z"], 2, "INVALID_ARGUMENT"),
        (["query", "tokens_total", "--window", "WEEK"], 2, "Invalid value for '--window'"),
        (["query", "tokens_total", "--filter", "model"], 2, "expected key=value"),
        (["query", "tokens_total", "--format", "xml"], 2, "Invalid value for '--format'"),
        (["ingest", "/no/such/file.jsonl"], 2, "No such file or directory"),
        (["ingest", "-", "--batch-size", "0"], 2, "--batch-size"),
        (["entitlements", "value", "acme"], 2, "Missing argument 'FEATURE'"),
        (["meters", "frobnicate"], 2, "No such command"),
    ],
)
def test_bad_input_exit_codes(cli: Cli, args: list[str], code: int, message: str) -> None:
    result = cli(*args, stdin="")
    assert result.returncode == code, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["meters", "list"],
        ["subjects", "list"],
        ["query", "tokens_total"],
        ["entitlements", "value", "a", "b"],
    ],
)
def test_unreachable_server_exits_1_with_a_hint(cli: Cli, args: list[str]) -> None:
    target = f"127.0.0.1:{free_port()}"
    result = cli(*args, target=target)
    assert result.returncode == 1
    assert "UNAVAILABLE" in result.stderr
    assert f"nothing listens at {target!r}: is meterd running there?" in result.stderr


def test_ingest_skips_lines_that_are_not_utf8_with_their_numbers(cli: Cli, tmp_path: Path) -> None:
    t = "2024-01-01T00:05:00Z"
    source = tmp_path / "mixed.jsonl"
    source.write_bytes(
        "\ufeff".encode()
        + prompt("u-1", "utf8-1", 1, "a", t).encode()
        + b"\n"
        + b'{"id": "u-2", "subject": "caf\xe9"}\n'
        + prompt("u-3", "utf8-1", 2, "a", t).encode()
        + b"\n"
    )
    result = cli("ingest", str(source))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "line 2: skipped, not UTF-8 text (byte 30: invalid continuation byte)" in result.stderr
    assert result.stdout.strip().splitlines()[-1] == "accepted 2, duplicate 0, rejected 0, malformed 1"


def test_tables_are_not_cut_when_stdout_is_not_a_terminal(cli: Cli, om: OpenMeter) -> None:
    description = "a long description that no terminal of eighty columns would show whole " * 3
    om.meters.create(
        {
            "slug": "long_description_meter",
            "eventType": "long",
            "aggregation": "COUNT",
            "description": description.strip(),
        }
    )
    env_columns = os.environ.pop("COLUMNS", None)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "meterd.server", "meters", "list", "--target", cli.target],
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if k != "COLUMNS"},
        )
    finally:
        if env_columns is not None:
            os.environ["COLUMNS"] = env_columns
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if "long_description_meter" in line]
    assert description.strip() in line
