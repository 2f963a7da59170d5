"""Get a subject's entitlement by id, feature id or feature key
(SDK: openmeter.subjects.getEntitlement('customer-1', 'ai_tokens'))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

entitlement = om.subjects.get_entitlement("customer-1", "ai_tokens")
print(entitlement.id, entitlement.feature_key, entitlement.type)
