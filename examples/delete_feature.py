"""Delete (archive) a feature by key (SDK: openmeter.features.delete('ai_tokens'))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

om.features.delete("ai_tokens")
print("active features:", [f.key for f in om.features.list()])
