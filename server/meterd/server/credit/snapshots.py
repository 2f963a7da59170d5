"""What a balance snapshot was computed from (pure): the store re-checks it before saving the snapshot."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SnapshotBasis:
    """What a computation read, re-checked before its snapshots are saved.

    ``event_seq`` is the highest event sequence number committed before the usage reads began; ``grants`` the
    (id, voided_us) of every grant used; ``resets`` the instants (us) of the manual resets used.
    """

    entitlement_id: str
    event_type: str
    subject_key: str
    event_seq: int
    grants: frozenset[tuple[str, int | None]]
    resets: tuple[int, ...]
