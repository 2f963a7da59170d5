"""Create an entitlement for a subject: issue 10,000,000 tokens every month
(SDK: openmeter.subjects.createEntitlement('customer-1', {type, featureKey, usagePeriod, issueAfterReset}))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

entitlement = om.subjects.create_entitlement("customer-1", {
    "type": "metered",
    "featureKey": "ai_tokens",
    "usagePeriod": {"interval": "MONTH"},
    "issueAfterReset": 10_000_000,
})
print(f"entitlement {entitlement.id}: {entitlement.feature_key} for {entitlement.subject_key}, "
      f"{entitlement.metered.issue_after_reset:g} per month")
