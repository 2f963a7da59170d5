"""Create a subject-specific token for a consumer dashboard (SDK: openmeter.portal.createToken({subject}))."""

from meterd.client import OpenMeter

om = OpenMeter()  # METERD_TARGET (default localhost:50051), METERD_API_KEY if the server needs one

token = om.portal.create_token(subject="customer-1")
print(f"token for {token.subject}, expires {token.expires_at.isoformat()}")

# The dashboard uses the token: it reads only customer-1's usage.
portal = OpenMeter(om.target, portal_token=token.token)
for row in portal.meters.query("tokens_total").rows:
    print(f"customer-1 used {row.value:.10g} tokens")
