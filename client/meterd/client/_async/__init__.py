"""The client's namespaces and streams, written once (here, for asyncio) and made blocking in ``_sync/`` by
scripts/unasync.py; see client/meterd/client/README.md."""
