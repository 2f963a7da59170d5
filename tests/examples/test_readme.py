"""The README's tour works as written: its ```python blocks run in order, in one namespace, against a live
``meterd serve`` started with examples/meterd.yaml (as ``make run`` does), and print what the README says."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator

import pytest
from support import ROOT, ServerProcess

from meterd.client import OpenMeter

README = ROOT / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


class Tour:
    """Runs README blocks in order (each at most once) and keeps what each printed."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.namespace: dict[str, object] = {"__name__": "__readme__"}
        self.outputs: dict[int, str | BaseException] = {}

    def output(self, index: int) -> str:
        for i in range(index + 1):
            if i not in self.outputs:
                self.outputs[i] = self._run(BLOCKS[i])
        result = self.outputs[index]
        if isinstance(result, BaseException):
            raise result
        return result

    def _run(self, code: str) -> str | BaseException:
        # The README talks to `make run`'s server; the test's server listens elsewhere.
        code = code.replace('"localhost:50051"', repr(self.target))
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, str(README), "exec"), self.namespace)
        except Exception as error:
            return error
        return out.getvalue()


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:
    server = ServerProcess(tmp_path_factory.mktemp("readme") / "meterd.db", config=ROOT / "examples" / "meterd.yaml")
    t = Tour(server.address)
    try:
        yield t
    finally:
        client = t.namespace.get("om")
        if isinstance(client, OpenMeter):
            client.close()
        server.terminate()


def test_readme_has_the_tour_blocks() -> None:
    assert len(BLOCKS) == 5
    assert 'OpenMeter("localhost:50051")' in BLOCKS[0]


def test_portal_token_reads_its_own_subject(tour: Tour) -> None:
    assert tour.output(3).splitlines() == ["1500.0"]


def test_ingest_stream_list_and_query(tour: Tour) -> None:
    lines = tour.output(0).splitlines()
    assert lines == ["['id-1004', 'id-1003', 'id-1002']", "gpt-4o 1200.0", "llama 300.0"]


def test_entitlement_check(tour: Tour) -> None:
    assert tour.output(1) == "True 8500.0 1500.0\n"


def test_watch_and_cache(tour: Tour) -> None:
    assert tour.output(2).splitlines() == ["ai_tokens 8500.0", "ai_tokens 9000.0", "True"]


def test_more_of_openmeters_api(tour: Tour) -> None:
    assert tour.output(4).splitlines() == ["1 ['ai_tokens']", "1 day, 0:00:00", "1500.0"]
