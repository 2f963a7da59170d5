"""Reset an entitlement's usage and start a new period; eligible grants roll over
(SDK: openmeter.subjects.resetEntitlementUsage('customer-1', {retainAnchor: true}))."""

from meterd.client import FailedPreconditionError, OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

try:
    om.subjects.reset_entitlement_usage("customer-1", "ai_tokens", retain_anchor=True)
    print("reset")
except FailedPreconditionError as error:
    # Resets have minute resolution and must fall after the current period's start: not in the minute the
    # entitlement was created (as right after the README's tour) or last reset.
    print(f"not reset: {error.message}")
value = om.subjects.get_entitlement_value("customer-1", "ai_tokens")
print(f"now: usage={value.usage:.10g} balance={value.balance:.10g}")
