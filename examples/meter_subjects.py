"""List the subjects with usage on a meter (SDK: openmeter.meters.subjects('my-meter-slug'))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

subjects = om.meters.subjects("api_requests")
print(subjects)
