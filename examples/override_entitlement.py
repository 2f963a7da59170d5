"""Replace a subject's entitlement with a new definition in one atomic call: the old one is deleted and the
new one created, or nothing changes
(SDK: openmeter.subjects.overrideEntitlement('customer-1', 'ai_tokens', {type, usagePeriod, ...}))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

old = om.subjects.get_entitlement("customer-1", "ai_tokens")
# The feature may be left out: the override keeps the old entitlement's feature.
new = om.subjects.override_entitlement("customer-1", "ai_tokens", {
    "type": "metered",
    "usagePeriod": {"interval": "WEEK"},
    "issueAfterReset": 2_000_000,
    "isSoftLimit": True,
})
print(f"replaced {old.id} by {new.id}: {new.metered.issue_after_reset:.10g} per week")
print("deleted:", [e.id for e in om.subjects.list_entitlements("customer-1", include_deleted=True)
                   if e.deleted_at is not None] == [old.id])
