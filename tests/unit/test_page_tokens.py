"""The one page-token implementation every List uses (meterd.server.rpc): a token round-trips its cursor, and a
signed token whose cursor has another shape than the method reads is INVALID_ARGUMENT on ``page_token``."""

from __future__ import annotations

from typing import Any

import pytest

from meterd.server import errors, rpc


def test_tuple_cursors_round_trip() -> None:
    assert rpc.decode_cursor(rpc.encode_cursor((1_700_000_000_000_000, 42)), int, int) == (
        1_700_000_000_000_000,
        42,
    )
    assert rpc.decode_cursor(rpc.encode_cursor((3, "f1")), int, str) == (3, "f1")
    assert rpc.encode_cursor(None) == "" and rpc.decode_cursor("", int, int) is None


def test_key_cursors_round_trip() -> None:
    assert rpc.decode_key_cursor(rpc.encode_key_cursor("customer-1")) == "customer-1"
    assert rpc.encode_key_cursor(None) == "" and rpc.decode_key_cursor("") is None


@pytest.mark.parametrize("cursor", [[1], [1, 2, 3], ["a", 2], "k", {"a": 1}, [1.5, 2]])
def test_a_signed_tuple_cursor_of_another_shape_is_refused(cursor: Any) -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        rpc.decode_cursor(rpc.encode_page_token(cursor), int, int)
    assert [v.field for v in exc.value.violations] == ["page_token"]


@pytest.mark.parametrize("cursor", [["k"], 1, {"k": 1}])
def test_a_signed_key_cursor_of_another_shape_is_refused(cursor: Any) -> None:
    with pytest.raises(errors.InvalidArgument) as exc:
        rpc.decode_key_cursor(rpc.encode_page_token(cursor))
    assert [v.field for v in exc.value.violations] == ["page_token"]


def test_an_edited_token_is_invalid() -> None:
    mac = rpc.encode_key_cursor("a").split(".")[1]
    with pytest.raises(errors.InvalidArgument) as exc:
        rpc.decode_key_cursor(rpc.encode_key_cursor("b").split(".")[0] + "." + mac)
    assert "invalid page_token" in exc.value.message
