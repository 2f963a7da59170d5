"""Reset an entitlement's usage and start a new period; eligible grants roll over
(SDK: openmeter.subjects.resetEntitlementUsage('customer-1', {retainAnchor: true}))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

om.subjects.reset_entitlement_usage("customer-1", "ai_tokens", retain_anchor=True)
value = om.subjects.get_entitlement_value("customer-1", "ai_tokens")
print(f"after reset: usage={value.usage:.10g} balance={value.balance:.10g}")
