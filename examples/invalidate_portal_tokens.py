"""Invalidate portal tokens of all subjects, or of one (SDK: openmeter.portal.invalidateTokens())."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

count = om.portal.invalidate_tokens()  # or invalidate_tokens(subject="customer-1")
print(f"invalidated {count} token(s)")
