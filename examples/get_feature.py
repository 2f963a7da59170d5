"""Get a feature by key (SDK: openmeter.features.get('ai_tokens'))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

feature = om.features.get("ai_tokens")
print(feature.key, feature.name, feature.meter_slug)
