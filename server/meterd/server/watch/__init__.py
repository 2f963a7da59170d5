"""Watching entitlement values: the change feed (which entitlements a change affects, coalescing,
thresholds, positions) as pure code, and the service that turns changes into values for watchers."""
