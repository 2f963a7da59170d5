"""Operating meterd: --version, config check, refusing a bad config at start, health, backup under ingest,
reflection v1, and logs."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2
from support import ROOT, free_port

from meterd.client import OpenMeter
from meterd.server import logs
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.store.sqlite.backup import BackupError, backup


def meterd(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("METERD_")}
    return subprocess.run(
        [sys.executable, "-m", "meterd.server", *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=timeout,
    )


def test_version() -> None:
    result = meterd("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"meterd {version('meterd')}"


def test_config_check_accepts_the_example_and_refuses_a_typo(tmp_path: Path) -> None:
    ok = meterd("config", "check", str(ROOT / "examples" / "meterd.yaml"))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("ok (2 meters, plaintext, auth off, metrics off)")
    bad = tmp_path / "meterd.yaml"
    bad.write_text("auth: {adminkey: s3cret}\nmeters:\n  - {slug: m, eventType: e, aggregation: SUMM}\n")
    refused = meterd("config", "check", str(bad))
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"config error: {bad}: auth.adminkey: unknown key (did you mean admin_key?)",
        f"config error: {bad}: meters[0].aggregation: unknown aggregation 'SUMM'; expected one of SUM, COUNT, "
        "AVG, MIN, MAX, UNIQUE_COUNT, LATEST",
    ]


def test_config_check_warns_about_the_old_key_variable(tmp_path: Path) -> None:
    result = meterd("config", "check", str(ROOT / "examples" / "meterd.yaml"), env={"METERD_ADMIN_KEY": "k"})
    assert result.returncode == 0
    assert (
        result.stderr.strip()
        == "warning: METERD_ADMIN_KEY is deprecated: set METERD_API_KEY instead (read for now)"
    )
    assert "auth on" in result.stdout


def test_unauthenticated_names_the_metadata_and_the_variable(server_config: Config) -> None:
    server_config.admin_key = "k"
    secured = MeterdServer(server_config).start()
    try:
        result = meterd("meters", "list", "--target", secured.address)
    finally:
        secured.stop(0)
    assert result.returncode == 1
    assert "authorization: Bearer <admin key>" in result.stderr and "METERD_API_KEY" in result.stderr


def test_serve_refuses_a_bad_config_in_one_line_per_problem_without_starting(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("server:\n  listen: [1\n")
    result = meterd("serve", "--config", str(broken), "--db", str(tmp_path / "m.db"), timeout=30)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"config error: {broken}:3:1: invalid YAML: expected ',' or ']', but got "
        "'<stream end>' (while parsing a flow sequence)"
    ]
    env_problem = meterd(
        "serve", "--db", str(tmp_path / "m.db"), env={"METERD_GRACE_SECONDS": "soon"}, timeout=30
    )
    assert env_problem.returncode == 2
    assert env_problem.stderr.startswith(
        "config error: METERD_GRACE_SECONDS (server.grace_seconds): input should be a valid number"
    )
    assert "Traceback" not in env_problem.stderr
    assert not (tmp_path / "m.db").exists()


def test_serve_on_a_taken_port_is_one_line(server: MeterdServer, tmp_path: Path) -> None:
    result = meterd("serve", "--listen", server.address, "--db", str(tmp_path / "m.db"), timeout=30)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # The log is JSON (the default format): the reason is one record of it, like every other line.
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines[-1]["msg"] == "meterd cannot start" and server.address in lines[-1]["reason"]


def test_health_exits_zero_when_serving_and_one_when_unreachable(server: MeterdServer) -> None:
    ok = meterd("health", "--target", server.address)
    assert (ok.returncode, ok.stdout.strip()) == (0, f"{server.address}: SERVING")
    unknown = meterd("health", "--target", server.address, "--service", "no.such.Service")
    assert unknown.returncode == 1 and "NOT_FOUND" in unknown.stderr
    down = meterd("health", "--target", f"127.0.0.1:{free_port()}", "--timeout", "2")
    assert down.returncode == 1 and "UNAVAILABLE" in down.stderr


def test_reflection_v1_lists_the_services_beside_v1alpha(server: MeterdServer) -> None:
    with grpc.insecure_channel(server.address) as channel:
        for version_name in ("v1", "v1alpha"):
            call = channel.stream_stream(
                f"/grpc.reflection.{version_name}.ServerReflection/ServerReflectionInfo",
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            [reply] = list(call(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10))
            names = {s.name for s in reply.list_services_response.service}
            assert {
                "meterd.v1.EventService",
                "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection",
                "grpc.health.v1.Health",
            } <= names
            [reply] = list(
                call(
                    iter(
                        [
                            reflection_pb2.ServerReflectionRequest(
                                file_containing_symbol="meterd.v1.MeterService"
                            )
                        ]
                    ),
                    timeout=10,
                )
            )
            assert reply.file_descriptor_response.file_descriptor_proto


# -- backup ----------------------------------------------------------------------------------------------
@pytest.fixture
def metered(server_config: Config) -> Config:
    server_config.meters = [{"slug": "calls", "eventType": "call", "aggregation": "COUNT"}]  # type: ignore[list-item]
    return server_config


def copy_counts(path: Path) -> tuple[int, int]:
    """(raw events, the meter's pre-aggregated count) in a backup, read through a server started on it."""
    with sqlite3.connect(path) as conn:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    restored = MeterdServer(Config(listen="127.0.0.1:0", db=str(path), grace_seconds=0)).start()
    try:
        with OpenMeter(restored.address, timeout=30) as om:
            rows = om.meters.query("calls").rows
    finally:
        restored.stop(0)
    return events, int(sum(row.value for row in rows))


def test_backup_during_a_stream_is_consistent_and_verified(
    metered: Config, server: MeterdServer, tmp_path: Path
) -> None:
    total, batch = 40_000, 500
    acked_before: list[int] = []
    with OpenMeter(server.address, timeout=60) as om:
        stream = om.events.stream(batch_size=batch)
        done = threading.Event()

        def produce() -> None:
            with stream:
                for i in range(total):
                    stream.send({"id": f"e-{i}", "source": "backup", "type": "call", "subject": f"s-{i % 7}"})
            done.set()

        producer = threading.Thread(target=produce)
        producer.start()
        try:
            copies = []
            for n in range(3):
                deadline = time.monotonic() + 60
                while stream.tally.accepted < (n + 1) * 2 * batch and not done.is_set():  # wait on acks
                    assert time.monotonic() < deadline, "no acknowledgements"
                    time.sleep(0.01)
                acked_before.append(stream.tally.accepted)
                copies.append(backup(Path(server.config.db), tmp_path / f"copy-{n}.db"))
        finally:
            producer.join(timeout=120)
        assert done.is_set()
    assert any(a < total for a in acked_before), "every backup ran after ingest: the test proved nothing"
    for copy, acked in zip(copies, acked_before, strict=True):
        assert copy.path.stat().st_mode & 0o777 == 0o600
        events, metered_count = copy_counts(copy.path)
        assert acked <= events <= total  # everything acknowledged before the copy is in it
        assert metered_count == events  # raw events and pre-aggregates from one committed state
        assert copy.tables["events"] == events


def test_backup_command_verifies_and_refuses_to_overwrite(
    metered: Config, server: MeterdServer, tmp_path: Path
) -> None:
    with OpenMeter(server.address) as om:
        om.events.ingest([{"id": str(i), "source": "b", "type": "call", "subject": "s"} for i in range(10)])
    dest = tmp_path / "backup.db"
    result = meterd("backup", str(dest), "--db", server.config.db)
    assert result.returncode == 0, result.stderr
    assert "integrity ok" in result.stdout and "events 10" in result.stdout
    assert copy_counts(dest) == (10, 10)
    again = meterd("backup", str(dest), "--db", server.config.db)
    assert again.returncode == 1 and "already exists (pass --force to replace it)" in again.stderr
    assert meterd("backup", str(dest), "--db", server.config.db, "--force").returncode == 0
    with pytest.raises(BackupError, match="no such database file"):
        backup(tmp_path / "missing.db", tmp_path / "x.db")
    assert not (tmp_path / "missing.db").exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(BackupError, match="not a meterd database"):
        backup(empty, tmp_path / "y.db")


# -- logs ------------------------------------------------------------------------------------------------
def test_text_logs_carry_the_same_fields_as_json_logs() -> None:
    record = logging.LogRecord("meterd.server", logging.WARNING, __file__, 1, "meterd listening", None, None)
    record.address, record.tls, record.note = "127.0.0.1:1", True, "two words"
    as_json = json.loads(logs.JsonFormatter().format(record))
    text = logs.TextFormatter().format(record)
    assert set(as_json) == {"ts", "level", "logger", "msg", "address", "tls", "note"}
    assert text == (
        f"{as_json['ts']} WARNING meterd.server: meterd listening address=127.0.0.1:1 tls=true "
        'note="two words"'
    )
