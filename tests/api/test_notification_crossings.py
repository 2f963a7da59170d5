"""The property of notification rules (both backends): for random usage (on time and late), grants (with
priorities, expiries, rollover and recurrence), voids, resets (retaining the anchor or not, preserving
overage or not) and period boundaries, the set of notification events equals the set of crossings computed
from GetEntitlementValue minute by minute: every (entitlement, usage period, threshold) such that some value
GetEntitlementValue answered in that period, after any change or at any minute, was beyond the threshold.

The clock moves one minute at a time (so every instant at which a value changes by itself, a grant's expiry or
a period boundary, is a moment the reference looks at, as the evaluator's timers do) and stays half a minute
past the minute (values read up to the next whole minute: an event stamped now already counts)."""

from __future__ import annotations

import contextlib
import itertools
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from entitlement_support import create_meter
from notify_support import Notifications, Receiver, settle
from support import Clock

from meterd.client import MeterdError, OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.v1 import notifications_pb2 as pb

START = datetime(2024, 1, 1, tzinfo=UTC)
_ids = itertools.count()
Key = tuple[str, datetime, str]  # entitlement id, usage period start, threshold


@pytest.fixture
def server_config(server_config: Config) -> Config:
    server_config.notifications_allow_private_targets = True
    return server_config


def _threshold_key(kind: int, value: float) -> str:
    return f"{pb.NotificationThresholdType.Name(kind).rsplit('_', 1)[1]}:{Decimal(repr(value)).normalize():f}"


def _beyond(kind: int, value: float, v: Any) -> bool:
    """The rule's predicate, restated from the API's definition: NUMBER: usage reaches the value; PERCENT:
    usage reaches that share of balance + usage - overage, when that is positive."""
    usage, credit, level = (
        Decimal(repr(v.usage)),
        Decimal(repr(v.balance)) + Decimal(repr(v.usage)) - Decimal(repr(v.overage)),
        Decimal(repr(value)),
    )
    if kind == pb.NOTIFICATION_THRESHOLD_TYPE_NUMBER:
        return usage >= level
    return credit > 0 and usage * 100 >= level * credit


def _ts(t: Any) -> datetime:
    return t if isinstance(t, datetime) else t.ToDatetime(tzinfo=UTC)


@pytest.mark.parametrize(
    "seed", [5, 55, pytest.param(555, marks=pytest.mark.slow), pytest.param(5555, marks=pytest.mark.slow)]
)
def test_events_equal_the_crossings_of_get_entitlement_value(
    clocked_om: OpenMeter, clock: Clock, clocked_server: MeterdServer, seed: int
) -> None:
    om = clocked_om
    rng = random.Random(seed)
    clock.set(START + timedelta(seconds=30))
    create_meter(om)
    om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    subjects = ["customer-1", "customer-2"]
    entitlements = {}
    for s in subjects:
        e = om.subjects.create_entitlement(
            s,
            {
                "type": "metered",
                "featureKey": "ai_tokens",
                "issueAfterReset": rng.choice([10, 40]),
                # the first boundary within the test's two or three hours
                "usagePeriod": {"interval": "DAY", "anchor": START + timedelta(minutes=rng.choice([45, 95]))},
                "isSoftLimit": rng.random() < 0.3,
                "preserveOverageAtReset": rng.random() < 0.5,
            },
        )
        entitlements[e.id] = s
    thresholds = sorted(
        {(pb.NOTIFICATION_THRESHOLD_TYPE_NUMBER, float(rng.choice([3, 8, 20, 35, 60]))) for _ in range(3)}
        | {
            (pb.NOTIFICATION_THRESHOLD_TYPE_PERCENT, float(rng.choice([10, 50, 75, 90, 100, 150])))
            for _ in range(3)
        }
    )
    receiver = Receiver()
    n = Notifications(om.channel)
    clocked_server.services.notifying.evaluator.interval = 0.0
    channel = n.channel(receiver.url)
    n.CreateNotificationRule(
        pb.CreateNotificationRuleRequest(
            type=pb.NOTIFICATION_EVENT_TYPE_ENTITLEMENTS_BALANCE_THRESHOLD,
            name="all",
            channels=[channel.id],
            thresholds=[pb.NotificationThreshold(type=k, value=v) for k, v in thresholds],
        )
    )
    expected: set[Key] = set()
    grants: list[str] = []

    def observe() -> None:
        """What the reference sees now: each entitlement's value, in its current usage period."""
        settle(clocked_server)
        instant = clock() + timedelta(seconds=30)
        for eid, s in entitlements.items():
            value = om.subjects.get_entitlement_value(s, eid)
            m = om.subjects.get_entitlement(s, eid).metered
            period = m.current_usage_period
            aligned = _ts(period.to_time) if instant >= _ts(period.to_time) else _ts(period.from_time)
            start = max(aligned, _ts(m.last_reset))
            for kind, level in thresholds:
                if _beyond(kind, level, value):
                    expected.add((eid, start, _threshold_key(kind, level)))

    observe()
    for _ in range(150):
        s = rng.choice(subjects)
        op = rng.random()
        now = clock()
        if op < 0.45:
            late = timedelta(minutes=rng.choice([0, 0, 0, 1, 3, 20]))
            om.events.ingest(
                {
                    "specversion": "1.0",
                    "id": f"p-{next(_ids)}",
                    "source": "prop",
                    "type": "tokens",
                    "subject": s,
                    "time": max(START, now - late),
                    "data": {"tokens": rng.choice([0.5, 1, 2.5, 4, 9])},
                }
            )
        elif op < 0.58:
            grant: dict[str, Any] = {
                "amount": rng.choice([3, 10, 25]),
                "priority": rng.choice([1, 2, 5]),
                "effectiveAt": now - timedelta(minutes=rng.choice([0, 0, 2])),
                "expiration": {"duration": rng.choice(["HOUR", "DAY"]), "count": 1},
                "maxRolloverAmount": rng.choice([0, 5, 100]),
            }
            if rng.random() < 0.2:
                grant["recurrence"] = {"interval": "DAY"}
            with contextlib.suppress(MeterdError):  # backdated before a reset
                grants.append(om.subjects.create_entitlement_grant(s, "ai_tokens", grant).id)
        elif op < 0.64 and grants:
            with contextlib.suppress(MeterdError):
                om.grants.void(grants.pop(rng.randrange(len(grants))))
        elif op < 0.70:
            with contextlib.suppress(MeterdError):  # a second reset in the same minute
                om.subjects.reset_entitlement_usage(
                    s,
                    "ai_tokens",
                    retain_anchor=rng.random() < 0.5,
                    preserve_overage=rng.choice([None, True, False]),
                )
        else:
            for _ in range(rng.choice([1, 2, 5, 13])):
                clock.advance(minutes=1)
                observe()
            continue
        observe()
    settle(clocked_server)
    got = {
        (
            e.balance_threshold.entitlement_id,
            _ts(e.balance_threshold.usage_period_start),
            _threshold_key(e.balance_threshold.threshold.type, e.balance_threshold.threshold.value),
        )
        for e in n.events()
    }
    assert len(got) == len(n.events())  # one event per crossing
    assert got == expected
    assert (
        len({start for _, start, _ in got}) > 2
    )  # the sequence crossed into new periods (resets, boundaries)
    receiver.close()
