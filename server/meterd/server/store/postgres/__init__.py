"""The PostgreSQL backend: the same store protocols as store/sqlite, for several meterd replicas on one
PostgreSQL (selected by a ``postgresql://`` database URL)."""
