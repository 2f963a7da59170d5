"""The routes of OpenMeter's v1 API, one module per resource family; ``all_routes`` lists them all.

A new family is a module with ``routes(services) -> list[Route]`` added to ``FAMILIES``.
"""

from __future__ import annotations

from meterd.server.http.app import Route, Services
from meterd.server.http.routes import entitlements, events, meters, notifications, subjects, watch

# watch before entitlements: its /api/v1/entitlements/watch must match before /api/v1/entitlements/{id}.
FAMILIES = (events, meters, subjects, watch, entitlements, notifications)


def all_routes(services: Services) -> list[Route]:
    return [route for family in FAMILIES for route in family.routes(services)]
