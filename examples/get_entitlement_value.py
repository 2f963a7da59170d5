"""May the customer use the feature, and how much is left?
(SDK: openmeter.subjects.getEntitlementValue('customer-1', 'ai_tokens'))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

value = om.subjects.get_entitlement_value("customer-1", "ai_tokens")
print(f"has_access={value.has_access} balance={value.balance:.10g} usage={value.usage:.10g} "
      f"overage={value.overage:.10g}")
