"""List meters (SDK: openmeter.meters.list())."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

for meter in om.meters.list():
    print(meter.slug, meter.event_type)
