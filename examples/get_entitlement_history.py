"""Usage and balance of an entitlement over time, by day
(SDK: openmeter.subjects.getEntitlementHistory('customer-1', 'ai_tokens'))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

history = om.subjects.get_entitlement_history("customer-1", "ai_tokens", window_size="DAY")
for row in history.windowed_history:
    print(row.from_time.ToJsonString(), f"usage={row.usage:.10g}",
          f"balance_at_start={row.balance_at_start:.10g}")
print(f"{len(history.windowed_history)} window(s)")
