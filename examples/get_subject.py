"""Get a subject by key (SDK: openmeter.subjects.get('customer-1'))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

subject = om.subjects.get("customer-1")
print(subject.key, subject.display_name)
