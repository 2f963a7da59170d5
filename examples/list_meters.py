"""List meters (SDK: openmeter.meters.list())."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

for meter in om.meters.list():
    print(meter.slug, meter.event_type)
