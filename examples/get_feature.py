"""Get a feature by key (SDK: openmeter.features.get('ai_tokens'))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

feature = om.features.get("ai_tokens")
print(feature.key, feature.name, feature.meter_slug)
