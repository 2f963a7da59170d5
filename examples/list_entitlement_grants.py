"""List an entitlement's grants (SDK: openmeter.subjects.listEntitlementGrants('customer-1', 'ai_tokens'))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

for grant in om.subjects.list_entitlement_grants("customer-1", "ai_tokens"):
    print(grant.id, f"amount={grant.amount:.10g}", f"priority={grant.priority}")
