"""Usage and balance of an entitlement over time, by day
(SDK: openmeter.subjects.getEntitlementHistory('customer-1', 'ai_tokens'))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

history = om.subjects.get_entitlement_history("customer-1", "ai_tokens", window_size="DAY")
for row in history.windowed_history:
    print(row.from_time.isoformat(), f"usage={row.usage:.10g}",
          f"balance_at_start={row.balance_at_start:.10g}")
print(f"{len(history.windowed_history)} window(s)")
