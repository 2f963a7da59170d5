"""Grants: credit added to metered entitlements (SPEC § Grants)."""
