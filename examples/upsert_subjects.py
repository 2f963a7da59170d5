"""Upsert subjects: display names and metadata (SDK: openmeter.subjects.upsert([{key, displayName}]))."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

subjects = om.subjects.upsert([
    {"key": "customer-1", "displayName": "ACME"},
    {"key": "customer-2", "displayName": "Globex", "metadata": {"plan": "pro"}},
])
for subject in subjects:
    print(subject.key, subject.display_name)
