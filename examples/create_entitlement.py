"""Create an entitlement for a subject: issue 10,000,000 tokens every month
(SDK: openmeter.subjects.createEntitlement('customer-1', {type, featureKey, usagePeriod, issueAfterReset}))."""

from datetime import UTC, datetime

from meterd.client import AlreadyExistsError, OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

# Calendar months: anchor the usage period on the first of a month (without an anchor, periods start
# at the entitlement's creation), and count usage from the start of this month (by default, as OpenMeter
# does, usage counts from the creation minute).
first_of_month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
try:
    entitlement = om.subjects.create_entitlement("customer-1", {
        "type": "metered",
        "featureKey": "ai_tokens",
        "usagePeriod": {"interval": "MONTH", "anchor": first_of_month},
        "measureUsageFrom": first_of_month,
        "issueAfterReset": 10_000_000,
    })
except AlreadyExistsError:  # customer-1 has one for ai_tokens already (the README's tour made one): use it
    entitlement = om.subjects.get_entitlement("customer-1", "ai_tokens")
print(f"entitlement {entitlement.id}: {entitlement.feature_key} for {entitlement.subject_key}, "
      f"{entitlement.metered.issue_after_reset:.10g} per {entitlement.metered.usage_period.interval.lower()}")
