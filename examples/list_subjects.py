"""List subjects (SDK: openmeter.subjects.list())."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

for subject in om.subjects.list():
    print(subject.key, subject.display_name, subject.metadata)
