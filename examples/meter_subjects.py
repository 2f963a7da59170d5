"""List the subjects with usage on a meter (SDK: openmeter.meters.subjects('my-meter-slug'))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

subjects = om.meters.subjects("api_requests")
print(subjects)
