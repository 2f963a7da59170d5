"""Create a subject-specific token for a consumer dashboard (SDK: openmeter.portal.createToken({subject}))."""

import os

from meterd.client import OpenMeter

target = os.environ.get("METERD_TARGET", "localhost:50051")
om = OpenMeter(target)

token = om.portal.create_token(subject="customer-1")
print(f"token for {token.subject}, expires {token.expires_at.ToJsonString()}")

# The dashboard uses the token: it reads only customer-1's usage.
portal = OpenMeter(target, portal_token=token.token)
for row in portal.meters.query("tokens_total").rows:
    print(f"customer-1 used {row.value:.10g} tokens")
