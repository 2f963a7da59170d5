"""Retrieve the latest raw events, useful for debugging (SDK: openmeter.events.list())."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

events = om.events.list(limit=10)
for item in events:
    e = item.event
    print(e.time.ToJsonString(), e.subject, e.type, e.data)
print(f"{len(events)} event(s)")
