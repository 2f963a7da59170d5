"""Changes as NOTIFY payloads (watch/remote.py): every payload within the byte limit, changes round-trip in
order, a USAGE change too big for one payload is split by subjects, and one naming very many subjects becomes
"usage of this event type for every subject"."""

from __future__ import annotations

from datetime import UTC, datetime

from meterd.server.watch.changes import Change, Reason
from meterd.server.watch.remote import MAX_NAMED_SUBJECTS, MAX_PAYLOAD_BYTES, decode, encode

MINUTE = datetime(2024, 1, 1, 0, 5, tzinfo=UTC)


def usage(n: int, prefix: str = "customer-") -> Change:
    subjects = frozenset(f"{prefix}{i}" for i in range(n))
    return Change(Reason.USAGE, event_type="tokens", subjects=subjects, future=((f"{prefix}1", MINUTE),))


def roundtrip(changes: list[Change], replica: str = "r1") -> list[Change]:
    payloads = encode(changes, replica)
    assert all(len(p.encode()) <= MAX_PAYLOAD_BYTES for p in payloads)
    out = []
    for p in payloads:
        r, cs = decode(p)
        assert r == replica
        out.extend(cs)
    return out


def test_small_changes_round_trip_in_one_payload() -> None:
    changes = [
        usage(3),
        Change(Reason.GRANT_CREATED, "customer-1", entitlement_id="e1", feature_key="f"),
        Change(Reason.ENTITLEMENT_DELETED, "customer-2", entitlement_id="e2", feature_key="g"),
    ]
    assert len(encode(changes, "r1")) == 1
    assert roundtrip(changes) == changes


def test_how_early_events_are_stamped_and_meter_changes_round_trip() -> None:
    changes = [
        Change(
            Reason.USAGE,
            event_type="tokens",
            subjects=frozenset({"a", "b"}),
            earliest_us=123,
            late=(("b", 45),),
        ),
        Change(Reason.METER_DELETED, meter_slug="tokens_total"),
    ]
    assert roundtrip(changes) == changes
    old = (
        '{"r":"r0","c":[["USAGE","","tokens","","",["a"],[],0]]}'  # a payload without them: earliest unknown
    )
    assert decode(old)[1][0].earliest_us == 0


def test_a_big_usage_change_is_split_by_subjects_without_losing_any() -> None:
    big = usage(MAX_NAMED_SUBJECTS, prefix="ü-subject-with-a-long-key-")  # non-ASCII: bytes, not characters
    out = roundtrip([big, Change(Reason.RESET, "s", entitlement_id="e", feature_key="f")])
    parts, last = out[:-1], out[-1]
    assert len(parts) > 1 and last.reason is Reason.RESET
    assert all(p.reason is Reason.USAGE and not p.all_subjects for p in parts)
    assert frozenset().union(*(p.subjects for p in parts)) == big.subjects
    assert [f for p in parts for f in p.future] == list(big.future)


def test_too_many_subjects_become_usage_for_every_subject() -> None:
    out = roundtrip([usage(MAX_NAMED_SUBJECTS + 1, prefix="a-rather-long-subject-key-")])
    assert out == [Change(Reason.USAGE, event_type="tokens", all_subjects=True)]
