"""Create a feature, the building block of entitlements (SDK: openmeter.features.create({key, name, meterSlug}))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

feature = om.features.create({
    "key": "ai_tokens",
    "name": "AI Tokens",
    "meterSlug": "tokens_total",  # optional
})
print(f"feature {feature.key} ({feature.name}) measured by {feature.meter_slug}, id {feature.id}")
