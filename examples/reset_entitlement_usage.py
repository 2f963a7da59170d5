"""Reset an entitlement's usage and start a new period; eligible grants roll over
(SDK: openmeter.subjects.resetEntitlementUsage('customer-1', {retainAnchor: true}))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

om.subjects.reset_entitlement_usage("customer-1", "ai_tokens", retain_anchor=True)
value = om.subjects.get_entitlement_value("customer-1", "ai_tokens")
print(f"after reset: usage={value.usage:.10g} balance={value.balance:.10g}")
