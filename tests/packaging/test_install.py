"""Packaging: the wheel builds from a copy of the sources, installs into a new virtualenv outside the
repository, and gives a working client without the server's packages; requirements.lock pins every
dependency that pyproject.toml names."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from support import ROOT, ServerProcess

SERVER_ONLY = ["yaml", "click", "rich", "jwt", "jsonpath", "orjson", "grpc_health", "grpc_reflection"]

CLIENT_SESSION = """
import sys
from datetime import datetime, timezone
from meterd.client import OpenMeter, InvalidArgumentError
import meterd.v1.meters_pb2

with OpenMeter() as om:   # METERD_TARGET
    om.meters.create({"slug": "m", "eventType": "t", "aggregation": "COUNT"})
    om.events.ingest({"id": "1", "source": "s", "type": "t", "subject": "c",
                      "time": datetime(2024, 1, 1, tzinfo=timezone.utc)})
    rows = om.meters.query("m").rows
    print(rows[0].value, rows[0].window_start.tzinfo)
    try:
        om.meters.query("m", windowSize="WEEK")
    except InvalidArgumentError as error:
        print(error.violations[0].field)
loaded = sorted(name for name in %r if name in sys.modules)
print("server packages loaded:", loaded)
"""


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv outside the repository with only the built wheel installed (and its dependencies)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for tree in ("client", "server"):
        shutil.copytree(
            ROOT / tree, source / tree, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
        )
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist", source, cwd=work)
    [wheel] = (work / "dist").glob("meterd-*.whl")
    venv = work / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=work)
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=work)
    return venv


def test_the_client_installs_alone_and_works(client_venv: Path, tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "meterd.db")
    try:
        out = run(
            client_venv / "bin" / "python",
            "-c",
            CLIENT_SESSION % SERVER_ONLY,
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "METERD_TARGET": server.address},
        ).stdout
    finally:
        server.terminate()
    assert out.splitlines() == ["1.0 UTC", "window_size", "server packages loaded: []"]


def test_the_server_extra_is_absent_from_a_client_install(client_venv: Path, tmp_path: Path) -> None:
    python = client_venv / "bin" / "python"
    installed = run(python, "-m", "pip", "list", "--format=freeze", cwd=tmp_path).stdout.lower()
    names = {line.split("==")[0] for line in installed.splitlines()}
    assert {"meterd", "grpcio", "grpcio-status", "protobuf"} <= names
    assert not names & {"pyyaml", "click", "rich", "pyjwt", "python-jsonpath", "orjson", "grpcio-reflection"}
    probe = subprocess.run(
        [python, "-c", "import meterd.client, meterd.v1; import meterd.server.cli"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr
    command = subprocess.run(
        [client_venv / "bin" / "meterd", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert command.returncode == 1
    assert "pip install 'meterd[server]'" in command.stderr and "Traceback" not in command.stderr


def test_the_lock_pins_every_dependency_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    for extra in ("server", "dev"):
        wanted += [Requirement(r) for r in project["optional-dependencies"][extra]]
    pinned: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, version = line.split(";")[0].strip().partition("==")
            pinned[name.lower().replace("_", "-")] = version
    for requirement in wanted:
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"{name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pinned[name]), (
            f"{name}=={pinned[name]} is outside {requirement}"
        )
