"""List the grants of every entitlement (SDK: openmeter.grants.list())."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

grants = om.grants.list()
for grant in grants:
    print(grant.id, grant.subject_key, f"amount={grant.amount:.10g}")
print(f"{len(grants)} grant(s)")
