"""Delete a subject by key; its usage stays (SDK: openmeter.subjects.delete('customer-1'))."""

import os

from meterd.client import NotFoundError, OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

om.subjects.delete("customer-1")
try:
    om.subjects.get("customer-1")
except NotFoundError:
    print("customer-1 deleted")
print("usage kept:", om.meters.subjects("tokens_total"))
