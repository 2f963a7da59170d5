"""A page token continues the request that issued it, and only that one: passing it with another order or
other filters (which would silently repeat and skip rows) is INVALID_ARGUMENT naming ``page_token``, on every
List. Only ``page_size`` may change from page to page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meterd.client import InvalidArgumentError, OpenMeter

T0 = datetime(2024, 3, 1, tzinfo=UTC)
START = (datetime.now(UTC) - timedelta(days=2)).replace(second=0, microsecond=0)


@pytest.fixture
def seeded(om: OpenMeter) -> OpenMeter:
    om.meters.create({"slug": "tokens", "eventType": "prompt", "aggregation": "SUM", "valueProperty": "$.n"})
    om.meters.create({"slug": "calls", "eventType": "call", "aggregation": "COUNT"})
    om.events.ingest(
        [
            {
                "id": f"e{i}",
                "source": "s",
                "type": "prompt",
                "subject": f"c{i % 2}",
                "time": T0 + timedelta(minutes=i),
                "data": {"n": 1},
            }
            for i in range(6)
        ]
    )
    om.subjects.upsert([{"key": f"c{i}"} for i in range(3)])
    for i in range(3):
        om.features.create({"key": f"f{i}", "name": "F", "meterSlug": "tokens"})
        om.subjects.create_entitlement(
            "c0",
            {
                "type": "metered",
                "featureKey": f"f{i}",
                "usagePeriod": {"interval": "MONTH", "anchor": START},
                "measureUsageFrom": START,
            },
        )
        om.subjects.create_entitlement_grant(
            "c0",
            "f0",
            {"amount": 10 + i, "effectiveAt": START, "expiration": {"duration": "YEAR", "count": 1}},
        )
        om.portal.create_token(subject=f"c{i}")
    om.features.delete("f2")
    return om


# (name, first page, the same request continued, the request with another parameter)
Pages = Callable[[OpenMeter, str | None], Any]
CASES: list[tuple[str, Pages, Pages]] = [
    (
        "ListEvents",
        lambda om, t: om.events.list_page(limit=2, subject=["c0"], page_token=t),
        lambda om, t: om.events.list_page(limit=2, subject=["c1"], page_token=t),
    ),
    (
        "ListEvents (time range)",
        lambda om, t: om.events.list_page(limit=1, from_=T0, page_token=t),
        lambda om, t: om.events.list_page(limit=1, from_=T0 + timedelta(minutes=1), page_token=t),
    ),
    (
        "ListEntitlements",
        lambda om, t: om.entitlements.list_page(limit=1, order="ASC", page_token=t),
        lambda om, t: om.entitlements.list_page(limit=1, order="DESC", page_token=t),
    ),
    (
        "ListSubjectEntitlements",
        lambda om, t: om.subjects.list_entitlements_page("c0", limit=1, page_token=t),
        lambda om, t: om.subjects.list_entitlements_page("c0", limit=1, order_by="updatedAt", page_token=t),
    ),
    (
        "ListGrants",
        lambda om, t: om.grants.list_page(limit=1, order="ASC", page_token=t),
        lambda om, t: om.grants.list_page(limit=1, order="DESC", page_token=t),
    ),
    (
        "ListEntitlementGrants",
        lambda om, t: om.subjects.list_entitlement_grants_page("c0", "f0", limit=1, page_token=t),
        lambda om, t: om.subjects.list_entitlement_grants_page(
            "c0", "f0", limit=1, include_voided=True, page_token=t
        ),
    ),
    (
        "ListFeatures",
        lambda om, t: om.features.list_page(limit=1, page_token=t),
        lambda om, t: om.features.list_page(limit=1, include_archived=True, page_token=t),
    ),
    (
        "ListPortalTokens",
        lambda om, t: om.portal.list_tokens_page(limit=1, page_token=t),
        lambda om, t: om.portal.list_tokens_page(limit=1, include_invalid=True, page_token=t),
    ),
]


@pytest.mark.parametrize(("name", "same", "other"), CASES, ids=[c[0] for c in CASES])
def test_a_page_token_is_bound_to_its_request(
    seeded: OpenMeter, name: str, same: Pages, other: Pages
) -> None:
    first = same(seeded, None)
    token = first.next_page_token
    assert token, name
    assert same(seeded, token) is not None  # the same request goes on
    with pytest.raises(InvalidArgumentError) as exc:
        other(seeded, token)
    assert [v.field for v in exc.value.violations] == ["page_token"]
    assert "other parameters" in exc.value.message


@pytest.mark.parametrize("order", ["ASC", "DESC"])
def test_paging_to_the_end_in_either_order_sees_every_row_once(seeded: OpenMeter, order: str) -> None:
    seen: list[str] = []
    token = None
    while True:
        page = seeded.entitlements.list_page(limit=1, order=order, page_token=token)
        seen += [e.id for e in page.entitlements]
        token = page.next_page_token
        if not token:
            break
    listed = [e.id for e in seeded.entitlements.list(order=order)]
    assert seen == listed and len(set(seen)) == 3


def test_page_size_may_change_between_pages(seeded: OpenMeter) -> None:
    first = seeded.meters.list_page(limit=1)
    assert [m.slug for m in seeded.meters.list_page(limit=5, page_token=first.next_page_token).meters] == [
        "tokens"
    ]
    page = seeded.events.list_page(limit=1)
    assert len(seeded.events.list_page(limit=3, page_token=page.next_page_token).events) == 3
