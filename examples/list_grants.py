"""List the grants of every entitlement (SDK: openmeter.grants.list())."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

grants = om.grants.list()
for grant in grants:
    print(grant.id, grant.subject_key, f"amount={grant.amount:.10g}")
print(f"{len(grants)} grant(s)")
