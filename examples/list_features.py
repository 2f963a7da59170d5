"""List features (SDK: openmeter.features.list())."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

for feature in om.features.list():
    print(feature.key, feature.name, feature.meter_slug)
