"""Get a subject by key (SDK: openmeter.subjects.get('customer-1'))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

subject = om.subjects.get("customer-1")
print(subject.key, subject.display_name)
