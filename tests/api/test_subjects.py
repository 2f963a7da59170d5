"""Subjects through the real server and client: upsert (create, merge, clear), list, get, delete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from meterd.client import (
    AsyncOpenMeter,
    InvalidArgumentError,
    NotFoundError,
    OpenMeter,
    ResourceExhaustedError,
)
from meterd.server.app import MeterdServer

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 2, 1, tzinfo=UTC)


def test_upsert_creates_with_every_field_and_get_returns_it(om: OpenMeter) -> None:
    [created] = om.subjects.upsert(
        [
            {
                "key": "customer-1",
                "displayName": "ACME",
                "metadata": {"tier": "gold"},
                "currentPeriodStart": T0,
                "current_period_end": "2024-02-01T00:00:00Z",
                "stripeCustomerId": "cus_1",
            }
        ]
    )
    assert created.key == "customer-1"
    assert len(created.id) == 26
    assert created.display_name == "ACME"
    assert dict(created.metadata) == {"tier": "gold"}
    assert created.current_period_start == T0
    assert created.current_period_end == T1
    assert created.stripe_customer_id == "cus_1"
    assert created.created_at == created.updated_at

    got = om.subjects.get("customer-1")
    assert got == created


def test_upsert_returns_request_order_and_accepts_a_single_dict(om: OpenMeter) -> None:
    stored = om.subjects.upsert([{"key": "b"}, {"key": "a"}, {"key": "c"}])
    assert [s.key for s in stored] == ["b", "a", "c"]
    [single] = om.subjects.upsert({"key": "d", "display_name": "Dee"})
    assert single.key == "d" and single.display_name == "Dee"
    # A minimal subject has no optional fields set.
    a = om.subjects.get("a")
    assert not a.HasField("display_name") and not a.HasField("stripe_customer_id")
    assert not a.HasField("current_period_start") and dict(a.metadata) == {}


def test_upsert_updates_only_the_given_fields(clocked_om: OpenMeter, clock) -> None:
    om = clocked_om
    [first] = om.subjects.upsert(
        [
            {
                "key": "c1",
                "display_name": "Old",
                "metadata": {"a": "1"},
                "current_period_start": T0,
                "current_period_end": T1,
                "stripe_customer_id": "cus_1",
            }
        ]
    )
    clock.advance(minutes=5)
    [second] = om.subjects.upsert([{"key": "c1", "display_name": "New"}])
    assert second.id == first.id
    assert second.display_name == "New"
    assert dict(second.metadata) == {"a": "1"}
    assert second.current_period_start == first.current_period_start
    assert second.current_period_end == first.current_period_end
    assert second.stripe_customer_id == "cus_1"
    assert second.created_at == first.created_at
    assert second.updated_at == datetime(2024, 1, 1, 0, 5, tzinfo=UTC)

    # Metadata given replaces the whole map; None clears optional strings.
    [third] = om.subjects.upsert(
        [{"key": "c1", "metadata": {"b": "2"}, "displayName": None, "stripe_customer_id": None}]
    )
    assert dict(third.metadata) == {"b": "2"}
    assert not third.HasField("display_name") and not third.HasField("stripe_customer_id")
    assert om.subjects.get("c1") == third


def test_list_is_ordered_by_key_and_pages(om: OpenMeter) -> None:
    keys = [f"k{i:02d}" for i in range(25)]
    om.subjects.upsert([{"key": k} for k in reversed(keys)])
    assert [s.key for s in om.subjects.list()] == keys

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = om.subjects.list_page(limit=10, page_token=token)
        seen += [s.key for s in page.subjects]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == keys and pages == 3


def test_delete_removes_the_subject_but_keeps_its_events(om: OpenMeter) -> None:
    om.subjects.upsert([{"key": "customer-1"}, {"key": "customer-2"}])
    om.events.ingest(
        [
            {
                "id": "e1",
                "source": "app",
                "type": "api-calls",
                "subject": "customer-1",
                "time": T0,
                "data": {"n": 1},
            },
            {
                "id": "e2",
                "source": "app",
                "type": "api-calls",
                "subject": "customer-1",
                "time": T1,
                "data": {"n": 2},
            },
        ]
    )
    om.subjects.delete("customer-1")
    with pytest.raises(NotFoundError, match="customer-1"):
        om.subjects.get("customer-1")
    assert [s.key for s in om.subjects.list()] == ["customer-2"]
    assert sorted(e.event.id for e in om.events.list(subject="customer-1")) == ["e1", "e2"]
    # The key can be upserted again: a new subject.
    [again] = om.subjects.upsert({"key": "customer-1"})
    assert again.key == "customer-1"


def test_unknown_subject_is_not_found(om: OpenMeter) -> None:
    with pytest.raises(NotFoundError):
        om.subjects.get("nobody")
    with pytest.raises(NotFoundError):
        om.subjects.delete("nobody")


@pytest.mark.parametrize(
    ("subjects", "field"),
    [
        ([{"key": ""}], "subjects[0].key"),
        ([{"key": "ok"}, {"key": "x" * 257}], "subjects[1].key"),
        ([{"key": "a"}, {"key": "b"}, {"key": "a"}], "subjects[2].key"),
        (
            [{"key": "a", "current_period_start": T1, "current_period_end": T0}],
            "subjects[0].current_period_end",
        ),
        ([{"key": "a", "metadata": {"": "v"}}], "subjects[0].metadata"),
        ([], "subjects"),
    ],
)
def test_bad_upserts_are_invalid_argument_and_store_nothing(
    om: OpenMeter, subjects: list[dict[str, object]], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        om.subjects.upsert(subjects)
    assert field in [v.field for v in info.value.violations]
    assert om.subjects.list() == []


def test_a_256_character_key_is_accepted(om: OpenMeter) -> None:
    [s] = om.subjects.upsert({"key": "k" * 256})
    assert om.subjects.get("k" * 256) == s


def test_merged_period_must_not_be_empty(om: OpenMeter) -> None:
    om.subjects.upsert({"key": "a", "current_period_start": T0, "current_period_end": T1})
    with pytest.raises(InvalidArgumentError) as info:
        om.subjects.upsert({"key": "a", "current_period_start": datetime(2024, 3, 1, tzinfo=UTC)})
    assert [v.field for v in info.value.violations] == ["subjects[0].current_period_end"]
    assert om.subjects.get("a").current_period_start == T0


def test_batch_over_the_limit_is_resource_exhausted(om: OpenMeter) -> None:
    with pytest.raises(ResourceExhaustedError):
        om.subjects.upsert([{"key": f"k{i}"} for i in range(1001)])


def test_client_refuses_bad_shapes_before_sending(om: OpenMeter) -> None:
    with pytest.raises(InvalidArgumentError, match="unknown key"):
        om.subjects.upsert({"key": "a", "nickname": "x"})
    with pytest.raises(InvalidArgumentError, match="'key' is required"):
        om.subjects.upsert({"display_name": "x"})
    with pytest.raises(InvalidArgumentError, match="metadata"):
        om.subjects.upsert({"key": "a", "metadata": {"n": 1}})
    with pytest.raises(InvalidArgumentError, match="display_name"):
        om.subjects.upsert({"key": "a", "display_name": 5})
    with pytest.raises(InvalidArgumentError, match="naive"):
        om.subjects.upsert({"key": "a", "current_period_start": datetime(2024, 1, 1)})
    assert om.subjects.list() == []


def test_bad_page_token_is_invalid_argument(om: OpenMeter) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        om.subjects.list(page_token="not a token")
    assert info.value.violations[0].field == "page_token"


def test_async_client(server: MeterdServer) -> None:
    async def session() -> None:
        async with AsyncOpenMeter(server.address) as om:
            [s] = await om.subjects.upsert([{"key": "a", "displayName": "A"}])
            assert (await om.subjects.get("a")) == s
            assert [x.key for x in await om.subjects.list()] == ["a"]
            await om.subjects.delete("a")
            with pytest.raises(NotFoundError):
                await om.subjects.get("a")

    asyncio.run(session())
