"""The README's tour works as written: its ```python blocks run in order, in one namespace, against a live
``meterd serve`` started with examples/meterd.yaml (as ``make run`` does), and print what the README says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import README_BLOCKS, ROOT, ServerProcess, Tour

from meterd.client import OpenMeter

README = ROOT / "README.md"
BLOCKS = README_BLOCKS


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:
    server = ServerProcess(
        tmp_path_factory.mktemp("readme") / "meterd.db", config=ROOT / "examples" / "meterd.yaml"
    )
    t = Tour(server.address)
    try:
        yield t
    finally:
        client = t.namespace.get("om")
        if isinstance(client, OpenMeter):
            client.close()
        server.terminate()


def test_readme_has_the_tour_blocks() -> None:
    assert len(BLOCKS) == 7  # (the webhook receiver's block is a script of its own: ```python receiver.py)
    assert 'OpenMeter("localhost:50051")' in BLOCKS[0]


def test_portal_token_reads_its_own_subject(tour: Tour) -> None:
    assert tour.output(4).splitlines() == ["1500.0"]


def test_ingest_stream_list_and_query(tour: Tour) -> None:
    lines = tour.output(0).splitlines()
    assert lines == ["['id-1004', 'id-1003', 'id-1002']", "gpt-4o 1200.0", "llama 300.0"]


def test_entitlement_check(tour: Tour) -> None:
    assert tour.output(1) == "True 8500.0 1500.0\n"


def test_watch_and_cache(tour: Tour) -> None:
    assert tour.output(3).splitlines() == ["ai_tokens 8500.0", "ai_tokens 9000.0", "True"]


def test_results_are_python_values(tour: Tour) -> None:
    printed, *rest = tour.output(2).splitlines()
    assert re.fullmatch(
        r"MeterQueryRow\(value=1200\.0, window_start=\S+T\S+:00:00Z, window_end=\S+:00:00Z, "
        r"group_by=\{'model': 'gpt-4o'\}\)",
        printed,
    ), printed
    assert rest == ["UTC float", "SUM"]


def test_the_shell_lines_use_files_the_repository_ships(tmp_path: Path) -> None:
    """The README's `meterd ingest` line ingests the sample it names (run from the repository's root), on a
    server of its own (the tour's numbers stay the README's)."""
    shell = re.search(r"^### From the shell\n\n```sh\n(.*?)^```", README.read_text(), flags=re.S | re.M)
    assert shell
    ingest = next(line for line in shell.group(1).splitlines() if " ingest " in line)
    sample = ingest.split()[2]
    assert (ROOT / sample).is_file(), sample
    server = ServerProcess(tmp_path / "meterd.db", config=ROOT / "examples" / "meterd.yaml")
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "meterd.server",
                "ingest",
                sample,
                "--target",
                server.address,
                "--rejected",
                str(tmp_path / "rejected.jsonl"),
                "--no-progress",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    finally:
        server.terminate()
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith("accepted 5, duplicate 0, rejected 0")


@pytest.mark.parametrize("doc", ["README.md", "examples/README.md", "stubs/README.md"])
def test_docs_link_nothing_outside_the_repository(doc: str) -> None:
    text = (ROOT / doc).read_text()
    assert "../shared" not in text and "shared/" not in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):  # markdown links
        if "://" in target:
            continue
        path = (ROOT / doc).parent / target
        assert path.resolve().is_relative_to(ROOT) and path.exists(), target


def test_more_of_openmeters_api(tour: Tour) -> None:
    assert tour.output(5).splitlines() == ["1 ['ai_tokens']", "1 day, 0:00:00", "1500.0"]


def test_notification_channels_and_rules(tour: Tour) -> None:
    secret, listed, *events = tour.output(6).splitlines()
    assert secret == "whsec_ [{'value': 80.0, 'type': 'PERCENT'}, {'value': 50000.0, 'type': 'NUMBER'}]"
    assert listed == "None" and events == []  # customer-1 used 15% of ai_tokens: no threshold crossed


def test_the_webhook_receiver_verifies_what_meterd_sends(tmp_path: Path) -> None:
    """The README's receiver, run as written (a script), gets a crossing from a live meterd and prints it."""
    from notify_support import Notifications, closed_port

    found = re.search(r"^```python receiver\.py\n(.*?)^```", README.read_text(), flags=re.S | re.M)
    assert found, "the README's receiver block"
    block = found.group(1)
    script = tmp_path / "receiver.py"
    script.write_text(block)
    port = closed_port()
    server = ServerProcess(
        tmp_path / "meterd.db",
        config=ROOT / "examples" / "meterd.yaml",
        env={"METERD_NOTIFICATIONS_ALLOW_PRIVATE_TARGETS": "true"},
    )
    receiver = None
    try:
        with OpenMeter(server.address) as om:
            om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
            om.subjects.create_entitlement(
                "customer-1",
                {
                    "type": "metered",
                    "featureKey": "ai_tokens",
                    "usagePeriod": {"interval": "MONTH"},
                    "issueAfterReset": 10_000,
                },
            )
            n = Notifications(om.channel)
            channel = n.channel(f"http://127.0.0.1:{port}/meterd")
            receiver = subprocess.Popen(
                [sys.executable, str(script)],
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "WEBHOOK_SECRET": channel.signing_secret, "PORT": str(port)},
            )
            n.rule([channel.id], [("PERCENT", 80)], features=["ai_tokens"])
            om.events.ingest(
                {
                    "specversion": "1.0",
                    "id": "r-1",
                    "source": "readme",
                    "type": "prompt",
                    "subject": "customer-1",
                    "data": {"tokens": 8050, "model": "gpt-4o"},
                }
            )
            assert receiver.stdout is not None
            line = receiver.stdout.readline()  # the receiver prints once it has verified the signature
        assert line.strip() == (
            "customer-1 ai_tokens {'value': 80, 'type': 'PERCENT'} "
            "{'hasAccess': True, 'balance': 1950, 'usage': 8050, 'overage': 0}"
        )
    finally:
        if receiver is not None:
            receiver.kill()
        server.terminate()
