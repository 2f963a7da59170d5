"""What a balance snapshot was computed from (pure): the store re-checks it before saving the snapshot."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SnapshotBasis:
    """What a computation read, re-checked before its snapshots are saved.

    ``event_seq`` is the highest event sequence number committed before the usage reads began; ``grants`` the
    (id, voided_us) of every grant used; ``resets`` the instants (us) of the manual resets used;
    ``meter_version`` the definition of the feature's meter used (``meter_version``): snapshots of another
    version are never read.
    """

    entitlement_id: str
    event_type: str
    subject_key: str
    event_seq: int
    grants: frozenset[tuple[str, int | None]]
    resets: tuple[int, ...]
    meter_version: str = ""


def meter_version(meter_id: str, updated_us: int) -> str:
    """Names one definition of a meter: a meter deleted and created again gets a new id, a changed config
    definition a new update time."""
    return f"{meter_id}@{updated_us}"
