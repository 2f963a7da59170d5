"""Delete (archive) a feature by key (SDK: openmeter.features.delete('ai_tokens'))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

om.features.delete("ai_tokens")
print("active features:", [f.key for f in om.features.list()])
