"""Operating meterd when something is wrong, as an operator meets it (real processes, real files): `config
check` and `serve` refuse the same settings with exit 2 and never print a setting's value; a database URL's
password never reaches the log; a second `serve` on one SQLite file refuses to start; the JSON log holds only
JSON; misspelled METERD_* variables are reported; `backup` takes what `serve` takes; the client names the
real cause of a failed connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import ServerProcess, free_port, wait_healthy, wait_until
from tls_support import make_pki

from meterd.client import InvalidArgumentError, OpenMeter, UnavailableError
from meterd.server.app import MeterdServer
from meterd.server.config import Config

SECRET = "s3cret-Pa55word"


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


# -- every setting bounded, refused alike by config check and serve ------------------------------------------
OUT_OF_BOUNDS = [
    ("METERD_KEEPALIVE_TIME_SECONDS", "inf"),
    ("METERD_KEEPALIVE_TIME_SECONDS", "3000000"),
    ("METERD_KEEPALIVE_TIMEOUT_SECONDS", "nan"),
    ("METERD_MAX_MESSAGE_BYTES", "3000000000"),
    ("METERD_MAX_STREAMS", "2000000000"),
    ("METERD_WORKERS", "100000"),
    ("METERD_GRACE_SECONDS", "1e12"),
    ("METERD_DB_WAIT_SECONDS", "-1"),
    ("METERD_PORTAL_TOKEN_TTL_SECONDS", "99999999999"),
    ("METERD_LISTEN", "::1:50051"),
    ("METERD_DB", "mysql://root:" + SECRET + "@db/meterd"),
    ("METERD_DB", "postgresql://u:" + SECRET + "@db:port/meterd"),
    ("METERD_API_KEY", SECRET + " with spaces"),
    ("METERD_PORTAL_SECRET", SECRET + "\u00e9" * 30),
]


@pytest.mark.parametrize(
    ("variable", "value"), OUT_OF_BOUNDS, ids=[f"{v}={x[:12]}" for v, x in OUT_OF_BOUNDS]
)
def test_config_check_and_serve_refuse_the_same_values_without_printing_them(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = {variable: value}
    checked = meterd("config", "check", "/dev/null", env=env)
    flags = {"METERD_LISTEN": ["--db", str(tmp_path / "m.db")], "METERD_DB": ["--listen", "127.0.0.1:0"]}
    # (a flag would win over its variable)
    served = meterd(
        "serve",
        *flags.get(variable, ["--listen", "127.0.0.1:0", "--db", str(tmp_path / "m.db")]),
        env=env,
        timeout=30,
    )
    assert (checked.returncode, served.returncode) == (2, 2), (checked.stderr, served.stderr)
    assert checked.stderr == served.stderr
    [line] = checked.stderr.splitlines()
    assert line.startswith(f"config error: {variable} (")
    assert value not in checked.stderr and SECRET not in checked.stderr and "Traceback" not in served.stderr
    assert not (tmp_path / "m.db").exists()


def test_a_numeric_admin_key_in_yaml_is_refused_without_being_printed(tmp_path: Path) -> None:
    config = tmp_path / "meterd.yaml"
    config.write_text("auth:\n  admin_key: 123456789012345\n")
    result = meterd("config", "check", str(config))
    assert result.returncode == 2
    assert "123456789012345" not in result.stderr
    assert result.stderr.strip() == (
        f"config error: {config}: auth.admin_key: must be text (quote it in YAML: a "
        "number or a date is read as one)"
    )


def test_tls_files_that_grpc_would_refuse_are_config_errors(tmp_path: Path) -> None:
    pki, other = make_pki(tmp_path / "a"), make_pki(tmp_path / "b")
    cases = [
        (
            {"METERD_TLS_CERT": str(pki.server_cert), "METERD_TLS_KEY": str(other.server_key)},
            "tls.key: is not the private key of tls.cert",
        ),
        (
            {"METERD_TLS_CERT": str(pki.server_key), "METERD_TLS_KEY": str(pki.server_key)},
            "tls.cert: is not a PEM certificate",
        ),
        (
            {"METERD_TLS_CERT": str(pki.server_cert), "METERD_TLS_KEY": str(pki.server_cert)},
            "tls.key: is not an unencrypted PEM private key",
        ),
        (
            {
                "METERD_TLS_CERT": str(pki.server_cert),
                "METERD_TLS_KEY": str(pki.server_key),
                "METERD_TLS_CLIENT_CA": str(pki.server_key),
            },
            "tls.client_ca: is not a PEM bundle of CA certificates",
        ),
    ]
    for env, message in cases:
        checked = meterd("config", "check", "/dev/null", env=env)
        served = meterd("serve", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "m.db"), env=env)
        assert (checked.returncode, served.returncode) == (2, 2), message
        assert checked.stderr.strip() == served.stderr.strip() == f"config error: {message}"
    good = {
        "METERD_TLS_CERT": str(pki.server_cert),
        "METERD_TLS_KEY": str(pki.server_key),
        "METERD_TLS_CLIENT_CA": str(pki.ca),
    }
    assert meterd("config", "check", "/dev/null", env=good).returncode == 0


def test_a_misspelled_variable_is_reported(tmp_path: Path) -> None:
    result = meterd(
        "config", "check", "/dev/null", env={"METERD_LISTN": "0.0.0.0:1", "METERD_NOTHING_LIKE": "x"}
    )
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "warning: METERD_LISTN is not a meterd setting (did you mean METERD_LISTEN?): ignored",
        "warning: METERD_NOTHING_LIKE is not a meterd setting: ignored",
    ]


# -- secrets in logs -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["userinfo", "parameter"])
def test_a_database_password_never_reaches_the_log(pg_url: str, tmp_path: Path, form: str) -> None:
    """(The test cluster trusts its users: the password is sent and ignored, as a real one would be used.)"""
    if form == "userinfo":
        with_password = pg_url.replace("://meterd@", f"://meterd:{SECRET}@")
    else:
        with_password = pg_url + ("&" if "?" in pg_url else "?") + f"password={SECRET}"
    assert SECRET in with_password
    server = ServerProcess(with_password)  # type: ignore[arg-type]
    server.terminate()
    log = server.proc.stderr.read().decode() if server.proc.stderr else ""
    records = [json.loads(line) for line in log.splitlines()]
    [listening] = [r for r in records if r["msg"] == "meterd listening"]
    assert ":***@" in listening["db"] if form == "userinfo" else "password=***" in listening["db"]
    assert SECRET not in log
    # Unreachable: the error names the database, not the URL's secrets.
    port = free_port()
    failed = meterd(
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        f"postgresql://u:{SECRET}@127.0.0.1:{port}/x",
        env={"METERD_DB_WAIT_SECONDS": "0"},
    )
    assert failed.returncode == 1 and SECRET not in failed.stderr and "127.0.0.1" in failed.stderr


# -- one process per SQLite file -------------------------------------------------------------------------------
def test_a_second_server_on_the_same_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    first = ServerProcess(tmp_path / "meterd.db")
    try:
        second = meterd("serve", "--listen", "127.0.0.1:0", "--db", f"sqlite:{tmp_path / 'meterd.db'}")
        assert second.returncode == 1
        [record] = [json.loads(line) for line in second.stderr.splitlines()]
        assert (
            record["msg"] == "meterd cannot start"
            and "is in use by another meterd process" in record["reason"]
        )
        with pytest.raises(RuntimeError, match="in use by another meterd process"):
            MeterdServer(Config(listen="127.0.0.1:0", db=str(tmp_path / "meterd.db")))
        with OpenMeter(first.address) as om:  # the first one is untouched
            om.meters.create({"slug": "m", "eventType": "t", "aggregation": "COUNT"})
    finally:
        assert first.terminate() == 0
    # Once it is stopped, the file is free again.
    MeterdServer(Config(listen="127.0.0.1:0", db=str(tmp_path / "meterd.db"), log_format="text")).stop(0)


# -- the JSON log is only JSON ---------------------------------------------------------------------------------
def test_the_json_log_holds_only_json_lines(tmp_path: Path) -> None:
    """gRPC's C core writes a failed TLS handshake straight to stderr; it becomes a record like the rest."""
    pki = make_pki(tmp_path / "pki")
    address = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "meterd.server",
            "serve",
            "--listen",
            address,
            "--db",
            str(tmp_path / "m.db"),
            "--tls-cert",
            str(pki.server_cert),
            "--tls-key",
            str(pki.server_key),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("METERD_")}, "METERD_LISTN": "x"},
    )
    try:
        with OpenMeter(address, timeout=5, tls=True, ca=pki.ca) as om:
            wait_until(lambda: _answers(om), 30, "the TLS server to answer")
        with OpenMeter(address, timeout=2) as plain, pytest.raises(UnavailableError):
            plain.meters.list()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    records = [json.loads(line) for line in err.splitlines()]  # every line parses
    loggers = {r["logger"] for r in records}
    assert "grpc" in loggers and "meterd.config" in loggers
    assert any("Handshake failed" in r["msg"] for r in records if r["logger"] == "grpc")


def _answers(om: OpenMeter) -> bool:
    try:
        om.meters.list()
    except UnavailableError:
        return False
    return True


# -- backup takes what serve takes -------------------------------------------------------------------------------
def test_backup_takes_a_sqlite_url_and_names_a_missing_directory(tmp_path: Path) -> None:
    db = tmp_path / "meterd.db"
    MeterdServer(Config(listen="127.0.0.1:0", db=str(db), log_format="text")).stop(0)
    ok = meterd("backup", str(tmp_path / "copy.db"), "--db", f"sqlite:{db}")
    assert ok.returncode == 0, ok.stderr
    missing = meterd("backup", str(tmp_path / "no" / "such" / "copy.db"), "--db", str(db))
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.strip() == f"error: {tmp_path / 'no' / 'such'}: no such directory"


# -- the client names the real cause ------------------------------------------------------------------------------
def test_the_client_names_the_cause_of_a_failed_connection(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    plain = MeterdServer(
        Config(listen="127.0.0.1:0", db=str(tmp_path / "plain.db"), log_format="text")
    ).start()
    secure = MeterdServer(
        Config(
            listen="127.0.0.1:0",
            db=str(tmp_path / "tls.db"),
            log_format="text",
            tls_cert=str(pki.server_cert),
            tls_key=str(pki.server_key),
        )
    ).start()
    mutual = MeterdServer(
        Config(
            listen="127.0.0.1:0",
            db=str(tmp_path / "mtls.db"),
            log_format="text",
            tls_cert=str(pki.server_cert),
            tls_key=str(pki.server_key),
            tls_client_ca=str(pki.ca),
        )
    ).start()
    closed = f"127.0.0.1:{free_port()}"
    cases = [
        (dict(target=secure.address), "it probably serves TLS"),
        (dict(target=plain.address, tls=True, ca=pki.ca), "does not speak TLS"),
        (dict(target=secure.address, tls=True), "not signed by a CA this client trusts"),
        (dict(target=mutual.address, ca=pki.ca), "requires a client certificate"),
        (dict(target=closed), f"nothing listens at {closed!r}"),
    ]
    try:
        for kwargs, cause in cases:
            with OpenMeter(timeout=5, **kwargs) as om, pytest.raises(UnavailableError) as exc:  # type: ignore[arg-type]
                om.meters.list()
            assert cause in exc.value.message, (kwargs, exc.value.message)
            assert "is it running there" not in exc.value.message or cause.startswith("nothing listens")
        for target, problem in (
            ("http://localhost:50051", "not a URL"),
            ("https://h:443/", "with tls=True"),
            ("localhost", "has no port"),
            ("::1", "has no port"),
            ("h:0", "the port"),
        ):
            with pytest.raises(InvalidArgumentError, match=problem):
                OpenMeter(target)
        with OpenMeter("[::1]:1", timeout=1), OpenMeter("dns:///localhost:1", timeout=1):
            pass
    finally:
        for server in (plain, secure, mutual):
            server.stop(0)


def test_a_database_outage_keeps_meterds_own_message(tmp_path: Path) -> None:
    """An UNAVAILABLE that meterd sends itself (here: its disk is full) is not mistaken for an unreachable
    server."""
    server = MeterdServer(Config(listen="127.0.0.1:0", db=str(tmp_path / "m.db"), log_format="text")).start()
    try:
        with OpenMeter(server.address, timeout=10) as om:
            server.db._write_conn.execute("PRAGMA max_page_count=1")  # no room beyond the pages it has
            with pytest.raises(UnavailableError) as exc:
                om.events.ingest(
                    {"id": "big", "source": "s", "type": "t", "subject": "c", "data": {"blob": "x" * 200_000}}
                )
            assert (
                exc.value.message.startswith("storage is full") and "is it running" not in exc.value.message
            )
    finally:
        server.stop(0)


def test_serve_warns_about_a_misspelled_variable_in_its_log(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "meterd.server", "serve", "--listen", address, "--db", str(tmp_path / "m.db")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "METERD_WORKER": "4"},
    )
    try:
        wait_healthy(address)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    warnings = [json.loads(line) for line in err.splitlines() if "METERD_WORKER" in line]
    assert warnings[0]["level"] == "warning"
    assert (
        warnings[0]["msg"] == "METERD_WORKER is not a meterd setting (did you mean METERD_WORKERS?): ignored"
    )
