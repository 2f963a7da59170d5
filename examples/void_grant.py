"""Void a grant: its remaining balance is gone from the void on; usage before it still burnt it
(SDK: openmeter.grants.void(grantId)). A past instant may be given: om.grants.void(grant_id, at=...)."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

# The customer's most recently created grant that is not the monthly issue (the 100-token one).
page = om.grants.list_page(subject="customer-1", feature="ai_tokens", order_by="createdAt", order="DESC")
grant = next(g for g in page.grants if g.metadata.get("issueAfterReset") != "true")
voided = om.grants.void(grant.id)
print(f"voided {voided.id} at {voided.voided_at.ToJsonString()}; "
      f"{page.total_size - 1} other grant(s) left; next refill: {voided.HasField('next_recurrence')}")
