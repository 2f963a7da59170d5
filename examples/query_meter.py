"""Query meter values (SDK: openmeter.meters.query('my-meter-slug', {subject, groupBy, from, to, windowSize}))."""

from datetime import UTC, datetime, timedelta

from meterd.client import OpenMeter, WindowSize

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

# from and to fall on whole minutes; here: the last 24 hours, by the hour.
to = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
values = om.meters.query(
    "api_requests",
    subject=["customer-1"],
    group_by=["method", "path"],
    from_=to - timedelta(hours=24),
    to=to,
    window_size=WindowSize.HOUR,
)
for row in values.rows:
    print(row.window_start.isoformat(), row.group_by["method"], row.group_by["path"], row.value)
