"""Ingesting several events in one call, all or nothing (SDK: openmeter.events.ingest([e1, e2, e3]))."""

import uuid
from datetime import UTC, datetime

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

now = datetime.now(UTC)
event1 = {"id": str(uuid.uuid4()), "source": "my-app", "type": "request", "subject": "customer-1",
          "time": now, "data": {"method": "GET", "path": "/v1/things"}}
event2 = {"id": str(uuid.uuid4()), "source": "my-app", "type": "request", "subject": "customer-1",
          "time": now, "data": {"method": "POST", "path": "/v1/things"}}
event3 = {"id": str(uuid.uuid4()), "source": "my-app", "type": "request", "subject": "customer-2",
          "time": now, "data": {"method": "GET", "path": "/v1/things"}}
reply = om.events.ingest([event1, event2, event3])
print(f"accepted {reply.accepted_count}, duplicate {reply.duplicate_count}")
