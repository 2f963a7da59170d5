"""OpenMeter's v1 HTTP API beside gRPC, in the same process and on the same event loop.

A front like the gRPC servicers: it translates HTTP and JSON to the domain services and their errors to
statuses, and holds no rule of its own (validation, authentication, bounds and isolation are the services').

- ``app``: the ASGI application (Starlette): the route table, authentication, request bodies and their
  limits, problem+json errors. Every route is a ``Route`` (method, path, handler, who may call it).
- ``shapes``: domain values to OpenMeter's JSON shapes and query strings to domain values.
- ``routes``: the routes of each resource family, built from the typed ``Services``.
- ``server``: serves the application with uvicorn as a task on meterd's event loop (no thread per
  connection), with the connection limits of README "The HTTP API".
"""
