"""Void a grant: its remaining balance is gone from the void on; usage before it still burnt it
(SDK: openmeter.grants.void(grantId)). A past instant may be given: om.grants.void(grant_id, at=...)."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

# The customer's most recently created grant that is not the monthly issue (the 100-token one).
page = om.grants.list_page(subject="customer-1", feature="ai_tokens", order_by="createdAt", order="DESC")
grant = next(g for g in page.grants if g.metadata.get("issueAfterReset") != "true")
voided = om.grants.void(grant.id)
print(f"voided {voided.id} at {voided.voided_at.isoformat()}; "
      f"{page.total_size - 1} other grant(s) left; next refill: {voided.next_recurrence is not None}")
