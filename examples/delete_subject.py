"""Delete a subject by key; its usage stays (SDK: openmeter.subjects.delete('customer-1'))."""

from meterd.client import NotFoundError, OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

om.subjects.delete("customer-1")
try:
    om.subjects.get("customer-1")
except NotFoundError:
    print("customer-1 deleted")
print("usage kept:", om.meters.subjects("tokens_total"))
