"""List subjects (SDK: openmeter.subjects.list())."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

for subject in om.subjects.list():
    print(subject.key, subject.display_name, dict(subject.metadata))
