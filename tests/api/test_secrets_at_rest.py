"""Secrets at rest (issue 11 § 8): the database and its -wal/-shm files are readable by their owner only, and
the portal signing secret can come from the environment or a file instead of the database."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import jwt
import pytest

from meterd.client import OpenMeter
from meterd.server import config as config_module
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.errors import InvalidArgument
from meterd.server.portal.model import ALGORITHM


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_files_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, under which files are created world-readable
    try:
        server = MeterdServer(Config(listen="127.0.0.1:0", db=str(tmp_path / "data" / "meterd.db"))).start()
    finally:
        os.umask(old)
    try:
        with OpenMeter(server.address, timeout=10) as om:
            om.events.ingest({"id": "1", "source": "s", "type": "t", "subject": "c"})
        files = sorted(p.name for p in (tmp_path / "data").iterdir())
        assert files == ["meterd.db", "meterd.db-shm", "meterd.db-wal"]
        assert {name: mode(tmp_path / "data" / name) for name in files} == dict.fromkeys(files, 0o600)
    finally:
        server.stop(0)


def test_portal_secret_from_a_file_signs_tokens_and_stays_out_of_the_database(tmp_path: Path) -> None:
    secret_file = tmp_path / "portal.secret"
    secret_file.write_text("s" * 48 + "\n")
    secret_file.chmod(0o600)
    cfg = config_module.load(None, env={"METERD_PORTAL_SECRET_FILE": str(secret_file)})
    cfg.listen, cfg.db = "127.0.0.1:0", str(tmp_path / "meterd.db")
    server = MeterdServer(cfg).start()
    try:
        with OpenMeter(server.address, timeout=10) as om:
            token = om.portal.create_token(subject="c1").token
        claims = jwt.decode(token, "s" * 48, algorithms=[ALGORITHM], options={"verify_aud": False})
        assert claims["sub"] == "c1"
        conn = sqlite3.connect(cfg.db)
        assert conn.execute("SELECT COUNT(*) FROM portal_settings").fetchone()[0] == 0
        conn.close()
    finally:
        server.stop(0)


def test_portal_secret_precedence(tmp_path: Path) -> None:
    env_file, conf_file = tmp_path / "env.secret", tmp_path / "conf.secret"
    env_file.write_text("from-env-file\n")
    conf_file.write_text("from-config-file")
    config_path = tmp_path / "meterd.yaml"
    config_path.write_text(f"portal:\n  secret_file: {conf_file}\n")
    assert config_module.load(config_path, env={}).portal_secret == "from-config-file"
    assert config_module.load(
        config_path, env={"METERD_PORTAL_SECRET_FILE": str(env_file)}
    ).portal_secret == ("from-env-file")
    assert (
        config_module.load(
            config_path, env={"METERD_PORTAL_SECRET": "from-env", "METERD_PORTAL_SECRET_FILE": str(env_file)}
        ).portal_secret
        == "from-env"
    )
    config_path.write_text(f"portal:\n  secret: inline\n  secret_file: {conf_file}\n")
    assert config_module.load(config_path, env={}).portal_secret == "inline"
    assert config_module.load(
        config_path, env={"METERD_PORTAL_SECRET_FILE": str(env_file)}
    ).portal_secret == ("from-env-file")
    for bad in (tmp_path / "missing", tmp_path / "empty"):
        if bad.name == "empty":
            bad.write_text("\n")
        with pytest.raises(InvalidArgument) as exc:
            config_module.load(None, env={"METERD_PORTAL_SECRET_FILE": str(bad)})
        assert exc.value.violations[0].field == "portal.secret_file"
