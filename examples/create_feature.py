"""Create a feature, the building block of entitlements (SDK: openmeter.features.create({key, name, meterSlug}))."""

from meterd.client import AlreadyExistsError, OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

try:
    feature = om.features.create({
        "key": "ai_tokens",
        "name": "AI Tokens",
        "meterSlug": "tokens_total",  # optional
    })
except AlreadyExistsError:  # created before (by the README's tour, or an earlier run): use that one
    feature = om.features.get("ai_tokens")
print(f"feature {feature.key} ({feature.name}) measured by {feature.meter_slug}, id {feature.id}")
