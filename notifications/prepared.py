"""The request's written-out statements, planned once per database connection.

PostgreSQL plans every statement it is sent. The followers' UNION and the
assignment emails' INSERT ... SELECT, which a request that changes a task
pays for, spent more time being planned than being run (docs/benchmarks.md).
psycopg2 does not prepare statements, so on PostgreSQL each is sent once as
`PREPARE` (in the same round trip as its first `EXECUTE`) and as `EXECUTE`
afterwards, for as long as the connection is kept (DB_CONN_MAX_AGE). A kept
connection holds one per statement text, at most MOST_PREPARED: the texts
differ only in how many ids they name. Other databases run the statement as
it is. Both drivers are served: psycopg2 (tests, `make run`) and psycopg 3
(the production image).

A prepared statement outlives the transaction that made it, even a rolled
back one. After a failed statement this module cannot know whether its
`PREPARE` took, so the connection's next one starts with `DEALLOCATE ALL`.
(A pooler in between must keep each connection on one server session:
PgBouncer's session mode does, its transaction mode does not.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import is_psycopg3

# Statements kept prepared per connection at most: the assignment emails'
# INSERT has a text per count of ids; past this many, a new text runs as it is.
MOST_PREPARED = 32

# The names prepared on each open connection (the driver's connection object),
# or None where the next statement must first drop them all.
prepared_on: WeakKeyDictionary[Any, set[str] | None] = WeakKeyDictionary()


def fetch_all(
    database: BaseDatabaseWrapper, statement: str, params: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """`statement`'s rows (its %s placeholders filled from `params`), sent as a
    prepared statement on PostgreSQL."""
    with database.cursor() as cursor:
        if database.vendor != "postgresql" or "%s" not in statement:
            cursor.execute(statement, params)
            return list(cursor.fetchall())
        driver_connection = database.connection
        try:
            cursor.execute(as_prepared(driver_connection, statement), params)
        except BaseException:
            prepared_on[driver_connection] = None
            raise
        if is_psycopg3:
            # psycopg 3 keeps each statement's result and shows the first
            # (PREPARE's, without rows); psycopg2 shows only the last.
            while cursor.nextset():
                pass
        return list(cursor.fetchall())


def as_prepared(driver_connection: Any, statement: str) -> str:
    """What to send for `statement` on this connection: its EXECUTE, preceded
    by its PREPARE the first time (and by DEALLOCATE ALL after a failure)."""
    name = "written_" + hashlib.sha256(statement.encode()).hexdigest()[:24]
    execute = f"EXECUTE {name} ({', '.join(['%s'] * statement.count('%s'))})"
    names = prepared_on.get(driver_connection, set())
    start = "DEALLOCATE ALL; " if names is None else ""
    names = names or set()
    if name in names:
        return execute
    if len(names) >= MOST_PREPARED:
        return statement
    prepared_on[driver_connection] = names | {name}
    return f"{start}PREPARE {name} AS {numbered(statement)}; {execute}"


def numbered(statement: str) -> str:
    """%s placeholders as PostgreSQL's $1, $2, ... in their order."""
    counter = iter(range(1, statement.count("%s") + 1))
    return re.sub("%s", lambda _: f"${next(counter)}", statement)
