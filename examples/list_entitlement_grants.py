"""List an entitlement's grants (SDK: openmeter.subjects.listEntitlementGrants('customer-1', 'ai_tokens'))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

for grant in om.subjects.list_entitlement_grants("customer-1", "ai_tokens"):
    print(grant.id, f"amount={grant.amount:.10g}", f"priority={grant.priority}")
