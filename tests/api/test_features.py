"""Features through the real server and client: create, get, list, archive, and every refusal."""

from __future__ import annotations

import asyncio

import pytest
from entitlement_support import create_meter

from meterd.client import (
    AlreadyExistsError,
    AsyncOpenMeter,
    InvalidArgumentError,
    NotFoundError,
    OpenMeter,
)
from meterd.server.app import MeterdServer


def test_create_get_list_with_a_meter_and_filters(om: OpenMeter) -> None:
    meter = create_meter(om)
    created = om.features.create(
        {
            "key": "ai_tokens",
            "name": "AI Tokens",
            "meterSlug": "tokens_total",
            "meterGroupByFilters": {"model": "gpt-4"},
            "metadata": {"tier": "pro"},
        }
    )
    assert len(created.id) == 26
    assert (created.key, created.name, created.meter_slug) == ("ai_tokens", "AI Tokens", meter.slug)
    assert dict(created.meter_group_by_filters) == {"model": "gpt-4"}
    assert dict(created.metadata) == {"tier": "pro"}
    assert created.created_at is not None and not created.HasField("archived_at")

    assert om.features.get("ai_tokens") == created
    assert om.features.get(created.id) == created
    assert [f.key for f in om.features.list()] == ["ai_tokens"]


def test_feature_without_meter_and_snake_case_keys(om: OpenMeter) -> None:
    f = om.features.create({"key": "sso", "name": "Single sign-on", "metadata": {"a": "b"}})
    assert f.meter_slug == "" and dict(f.meter_group_by_filters) == {}


def test_list_orders_by_creation_filters_by_meter_and_pages(om: OpenMeter) -> None:
    create_meter(om, "m_one")
    create_meter(om, "m_two")
    for i in range(5):
        om.features.create({"key": f"f{i}", "name": f"F{i}", "meterSlug": "m_one" if i % 2 else "m_two"})
    assert [f.key for f in om.features.list()] == ["f0", "f1", "f2", "f3", "f4"]
    assert [f.key for f in om.features.list(meter_slug="m_one")] == ["f1", "f3"]
    first = om.features.list_page(limit=2)
    assert [f.key for f in first.features] == ["f0", "f1"] and first.next_page_token
    second = om.features.list_page(limit=2, page_token=first.next_page_token)
    third = om.features.list_page(limit=2, page_token=second.next_page_token)
    assert [f.key for f in second.features] == ["f2", "f3"]
    assert [f.key for f in third.features] == ["f4"] and third.next_page_token == ""
    assert first.total_size == second.total_size == third.total_size == 5  # over every page
    assert om.features.list_page(meter_slug="m_one", limit=1).total_size == 2


def test_delete_archives_and_frees_the_key(om: OpenMeter) -> None:
    old = om.features.create({"key": "seats", "name": "Seats"})
    om.features.delete("seats")
    with pytest.raises(NotFoundError):
        om.features.get("seats")  # a key names only an active feature
    archived = om.features.get(old.id)  # an id still finds it
    assert archived.HasField("archived_at")
    assert om.features.list() == []
    assert [f.id for f in om.features.list(include_archived=True)] == [old.id]

    new = om.features.create({"key": "seats", "name": "Seats v2"})
    assert new.id != old.id
    assert om.features.get("seats").id == new.id
    with pytest.raises(NotFoundError):
        om.features.delete(old.id)  # already archived
    with pytest.raises(NotFoundError):
        om.features.delete("nope")


def test_duplicate_active_key_is_already_exists(om: OpenMeter) -> None:
    om.features.create({"key": "seats", "name": "Seats"})
    with pytest.raises(AlreadyExistsError, match="seats"):
        om.features.create({"key": "seats", "name": "Other"})


@pytest.mark.parametrize(
    ("feature", "field"),
    [
        ({"key": "Bad-Key", "name": "x"}, "feature.key"),
        ({"key": "a" * 64, "name": "x"}, "feature.key"),
        ({"key": "ok", "name": ""}, "feature.name"),
        (
            {"key": "ok", "name": "x", "meterGroupByFilters": {"model": "gpt"}},
            "feature.meter_group_by_filters",
        ),
    ],
)
def test_invalid_features(om: OpenMeter, feature: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        om.features.create(feature)
    assert field in [v.field for v in info.value.violations]


def test_meter_must_exist_be_additive_and_have_the_filtered_keys(om: OpenMeter) -> None:
    with pytest.raises(NotFoundError, match="meter"):
        om.features.create({"key": "f", "name": "F", "meterSlug": "missing"})
    create_meter(om, "latest_tokens", aggregation="MAX")
    with pytest.raises(InvalidArgumentError) as info:
        om.features.create({"key": "f", "name": "F", "meterSlug": "latest_tokens"})
    assert [v.field for v in info.value.violations] == ["feature.meter_slug"]
    create_meter(om, "calls", aggregation="COUNT")
    with pytest.raises(InvalidArgumentError) as info:
        om.features.create(
            {"key": "f", "name": "F", "meterSlug": "calls", "meterGroupByFilters": {"colour": "red"}}
        )
    assert [v.field for v in info.value.violations] == ["feature.meter_group_by_filters[colour]"]
    assert om.features.create({"key": "f", "name": "F", "meterSlug": "calls"}).meter_slug == "calls"


def test_client_refuses_unknown_keys_and_wrong_types(om: OpenMeter) -> None:
    with pytest.raises(InvalidArgumentError, match="colour"):
        om.features.create({"key": "f", "name": "F", "colour": "red"})
    with pytest.raises(InvalidArgumentError, match="name"):
        om.features.create({"key": "f"})
    with pytest.raises(InvalidArgumentError, match="metadata"):
        om.features.create({"key": "f", "name": "F", "metadata": {"n": 1}})


def test_async_client(server: MeterdServer) -> None:
    async def session() -> None:
        async with AsyncOpenMeter(server.address) as om:
            created = await om.features.create({"key": "sso", "name": "SSO"})
            assert (await om.features.get("sso")).id == created.id
            assert [f.key for f in await om.features.list()] == ["sso"]
            await om.features.delete(created.id)
            assert await om.features.list() == []

    asyncio.run(session())
