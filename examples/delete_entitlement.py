"""Delete a subject's entitlement by id, feature id or feature key
(SDK: openmeter.subjects.deleteEntitlement('customer-1', 'ai_tokens'))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

om.subjects.delete_entitlement("customer-1", "ai_tokens")
print("remaining:", [e.feature_key for e in om.subjects.list_entitlements("customer-1")])
