"""Grant extra credit to a metered entitlement: 100 tokens, expiring after 12 hours, renewed monthly
(SDK: openmeter.subjects.createEntitlementGrant('customer-1', 'ai_tokens', {...}))."""

from datetime import UTC, datetime

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

now = datetime.now(UTC).replace(second=0, microsecond=0)
grant = om.subjects.create_entitlement_grant("customer-1", "ai_tokens", {
    "amount": 100,
    "priority": 1,
    "effectiveAt": now,
    "expiration": {"duration": "HOUR", "count": 12},
    "minRolloverAmount": 100,
    "maxRolloverAmount": 100,
    "recurrence": {"interval": "MONTH", "anchor": now},
})
print(f"grant {grant.id}: {grant.amount:.10g} from {grant.effective_at.isoformat()} "
      f"until {grant.expires_at.isoformat()}")
