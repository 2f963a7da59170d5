"""Get one meter by slug (SDK: openmeter.meters.get('m1'))."""

import os

from meterd.client import OpenMeter
from meterd.v1 import meters_pb2

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

meter = om.meters.get("tokens_total")
aggregation = meters_pb2.Aggregation.Name(meter.aggregation).removeprefix("AGGREGATION_")
print(f"{meter.slug}: {aggregation} of {meter.value_property} over '{meter.event_type}' events, "
      f"grouped by {sorted(meter.group_by)}")
