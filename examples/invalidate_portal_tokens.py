"""Invalidate portal tokens of all subjects, or of one (SDK: openmeter.portal.invalidateTokens())."""

import os

from meterd.client import OpenMeter

om = OpenMeter(os.environ.get("METERD_TARGET", "localhost:50051"))

count = om.portal.invalidate_tokens()  # or invalidate_tokens(subject="customer-1")
print(f"invalidated {count} token(s)")
