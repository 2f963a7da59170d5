"""Wires the subjects domain: service over the SQLite subject store, and its servicer."""

from __future__ import annotations

from meterd.server.app import AppContext
from meterd.server.store.sqlite.subjects import SqliteSubjectStore
from meterd.server.subjects.service import SubjectService
from meterd.server.subjects.servicer import SubjectServicer


def wire(ctx: AppContext) -> None:
    service = SubjectService(SqliteSubjectStore(ctx.db), ctx.clock)
    ctx.services["subjects"] = service
    ctx.add_servicer("SubjectService", SubjectServicer(service))
