"""Upsert subjects: display names and metadata (SDK: openmeter.subjects.upsert([{key, displayName}]))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

subjects = om.subjects.upsert([
    {"key": "customer-1", "displayName": "ACME"},
    {"key": "customer-2", "displayName": "Globex", "metadata": {"plan": "pro"}},
])
for subject in subjects:
    print(subject.key, subject.display_name)
