"""Ingesting an event: one CloudEvent reporting usage (SDK: openmeter.events.ingest(event))."""

import uuid
from datetime import UTC, datetime

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

event = {
    "specversion": "1.0",
    "id": str(uuid.uuid4()),
    "source": "my-app",
    "type": "prompt",
    "subject": "customer-1",
    "time": datetime.now(UTC),
    "data": {"tokens": 1200, "model": "gpt-4o"},
}
reply = om.events.ingest(event)
print(f"accepted {reply.accepted_count}, duplicate {reply.duplicate_count}")
