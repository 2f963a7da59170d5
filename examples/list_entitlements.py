"""List a subject's entitlements (SDK: openmeter.subjects.listEntitlements('customer-1'))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

for entitlement in om.subjects.list_entitlements("customer-1"):
    print(entitlement.feature_key, entitlement.WhichOneof("type"), entitlement.id)
