"""Get one meter by slug (SDK: openmeter.meters.get('m1'))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

meter = om.meters.get("tokens_total")
print(f"{meter.slug}: {meter.aggregation} of {meter.value_property} over '{meter.event_type}' events, "
      f"grouped by {sorted(meter.group_by)}")
