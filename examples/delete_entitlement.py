"""Delete a subject's entitlement by id, feature id or feature key
(SDK: openmeter.subjects.deleteEntitlement('customer-1', 'ai_tokens'))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

om.subjects.delete_entitlement("customer-1", "ai_tokens")
print("remaining:", [e.feature_key for e in om.subjects.list_entitlements("customer-1")])
