"""What the shared SQL needs of a backend: a connection that runs ``?``-placeholder SQL and raises
``Conflict`` when a constraint refuses a write, a database that runs write jobs in a transaction and hands
out a reader, and the dialect phrases that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Conflict(Exception):
    """A unique, primary-key or foreign-key constraint refused a write: the same error from either backend
    (the driver's own error is its ``__cause__``). Inside a PostgreSQL transaction it aborts the transaction:
    a job that catches it may only turn it into its own error."""


class Rows(Protocol):
    """The result of one statement (sqlite3's cursor shape)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection inside a transaction (a write job's) or a reader's."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Rows: ...


class Database(Protocol):
    """A database as the shared stores use it."""

    def write(self, job: Callable[[Connection], T]) -> T:
        """Runs ``job`` in a transaction of its own and returns its result once it is committed."""
        ...

    def reader(self) -> Connection:
        """A connection that sees the last commit."""
        ...


@dataclass(frozen=True)
class Dialect:
    """The phrases of SQL that differ between the backends."""

    name: str
    # "a is not b" where either may be NULL (SQLite's IS NOT; PostgreSQL's IS NOT means something else).
    distinct_from: str
    # ``column`` equal to any of a list of values: one parameter per value (SQLite's IN) or one array
    # parameter (PostgreSQL's = ANY, a statement whose text does not change with the list's length).
    array_parameters: bool
    # Appended to a SELECT of one row that a concurrent delete must wait for (PostgreSQL's FOR SHARE: a row
    # lock; SQLite's single writer already runs every write job alone).
    lock_for_share: str = ""
    # Appended to a SELECT whose rows a write job then takes (notification deliveries): lock them, skipping
    # rows another transaction holds (PostgreSQL); nothing on SQLite, whose one writer runs one job at a time.
    skip_locked: str = ""

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """The condition and its parameters for ``column`` being one of ``values`` (not empty)."""
        if self.array_parameters:
            return f"{column} = ANY(?)", [list(values)]
        return f"{column} IN ({','.join('?' * len(values))})", list(values)


SQLITE = Dialect("sqlite", distinct_from="IS NOT", array_parameters=False)
POSTGRES = Dialect(
    "postgres",
    distinct_from="IS DISTINCT FROM",
    array_parameters=True,
    lock_for_share=" FOR SHARE",
    skip_locked=" FOR UPDATE SKIP LOCKED",
)
