"""Retrieve the latest raw events, useful for debugging (SDK: openmeter.events.list())."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

events = om.events.list(limit=10)
for item in events:
    e = item.event
    print(e.time.isoformat(), e.subject, e.type, e.data)
print(f"{len(events)} event(s)")
