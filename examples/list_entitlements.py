"""List a subject's entitlements (SDK: openmeter.subjects.listEntitlements('customer-1'))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

for entitlement in om.subjects.list_entitlements("customer-1"):
    print(entitlement.feature_key, entitlement.type, entitlement.id)
