"""Wires the subjects domain: service over the subject store, and its servicer."""

from __future__ import annotations

from meterd.server.app import AppContext
from meterd.server.subjects.service import SubjectService
from meterd.server.subjects.servicer import SubjectServicer


def wire(ctx: AppContext) -> None:
    if ctx.db.backend == "postgres":
        from meterd.server.store.postgres.subjects import PgSubjectStore

        store = PgSubjectStore(ctx.db)
    else:
        from meterd.server.store.sqlite.subjects import SqliteSubjectStore

        store = SqliteSubjectStore(ctx.db)
    service = SubjectService(store, ctx.clock)
    ctx.services["subjects"] = service
    ctx.add_servicer("SubjectService", SubjectServicer(service))
