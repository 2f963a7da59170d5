"""May the customer use the feature, and how much is left?
(SDK: openmeter.subjects.getEntitlementValue('customer-1', 'ai_tokens'))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

value = om.subjects.get_entitlement_value("customer-1", "ai_tokens")
print(f"has_access={value.has_access} balance={value.balance:.10g} usage={value.usage:.10g} "
      f"overage={value.overage:.10g}")
