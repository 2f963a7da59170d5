"""Get a subject's entitlement by id, feature id or feature key
(SDK: openmeter.subjects.getEntitlement('customer-1', 'ai_tokens'))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

entitlement = om.subjects.get_entitlement("customer-1", "ai_tokens")
print(entitlement.id, entitlement.feature_key, entitlement.WhichOneof("type"))
