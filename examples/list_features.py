"""List features (SDK: openmeter.features.list())."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

for feature in om.features.list():
    print(feature.key, feature.name, feature.meter_slug)
