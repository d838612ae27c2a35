"""A psycopg 3 connection that the named queries can use as they use `sqlite3.Connection`.

`execute` and `executemany` take the named queries' `?` parameters (as psycopg's, by
`storage.postgres.dialect`),
and rows are read by column name or position like `sqlite3.Row`. Values are bound on the
server, so that a query used often is prepared once and planned once; the few whose
parameters the server cannot type by itself (`?1 IS NULL`) are bound on the client
(psycopg's ClientCursor), as SQLite binds them all. Which is which the server says once
per query, asked on a connection of its own (`PREPARE`, which runs nothing).

Writes run in pipeline mode (`pipelined`): a statement is sent without waiting for its
answer, which is read when the query function asks for it (a row, or `rowcount`) or when
the work ends. A check-in's counter updates then ride along with its next read instead
of a round trip each, which is most of what a write costs on a server close by.

Every connection of one process carries its name (`APPLICATION_NAME`): a standby that
takes over ends the old leader's connections by it (`storage.postgres.leader`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.adapt import Buffer, Dumper, Loader
from psycopg.rows import RowMaker

from storage.postgres.dialect import bind, numbered_form
from storage.postgres.functions import POSTGRES

# this process's connections, all of them: pg_stat_activity shows it to every role
APPLICATION_NAME = f"snowbot:{uuid.uuid4().hex}"
# A connection whose network is cut fails within about 15 s instead of hanging until the
# kernel gives up (minutes): keepalives when idle, tcp_user_timeout (ms) when sending.
SETTINGS: dict[str, Any] = {
    "application_name": APPLICATION_NAME,
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
}
# a transaction left open by a client that went silent gives its row locks back after this
IDLE_IN_TRANSACTION = "60s"


class Row:
    """A row read by column name (`row["id"]`) or position, with `keys()`: as sqlite3.Row."""

    __slots__ = ("_index", "_names", "_values")

    def __init__(self, values: Sequence[Any], names: tuple[str, ...], index: dict[str, int]):
        self._values = values
        self._names = names
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._names)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._names, self._values, strict=True))!r})"


def _rows(cursor: Any) -> RowMaker[Row]:
    description = cursor.description
    if description is None:
        return lambda values: Row(values, (), {})
    names = tuple(d.name for d in description)
    index = {name: i for i, name in enumerate(names)}
    return lambda values: Row(values, names, index)


class _Number(Loader):
    """NUMERIC (what SUM of integers gives) as int when whole, as SQLite gives it."""

    def load(self, data: Buffer) -> int | float:
        text = bytes(data).decode()
        if "." in text:
            value = float(text)
            return int(value) if value.is_integer() else value
        return int(text)


class _Truth(Dumper):
    """True and False as 1 and 0: the truth columns are integers, as in SQLite."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: Any) -> Buffer:
        return b"1" if obj else b"0"

    def quote(self, obj: Any) -> Buffer:
        return self.dump(obj)


def _connect(url: str) -> psycopg.Connection[Row]:
    conn = psycopg.connect(url, autocommit=True, row_factory=_rows, **SETTINGS)
    conn.execute(f"SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION}'")
    conn.adapters.register_loader("numeric", _Number)
    conn.adapters.register_dumper(bool, _Truth)
    return conn


class Answer:
    """A statement's cursor in pipeline mode, whose answer may still be on its way: what
    the query function reads of it is waited for then."""

    __slots__ = ("_cursor", "_pipeline")

    def __init__(self, cursor: psycopg.Cursor[Row], pipeline: psycopg.Pipeline) -> None:
        self._cursor, self._pipeline = cursor, pipeline

    @property
    def rowcount(self) -> int:
        if self._cursor.pgresult is None:
            self._pipeline.sync()
        return self._cursor.rowcount

    def fetchone(self) -> Row | None:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Row]:
        return self._cursor.fetchall()

    def __iter__(self) -> Iterator[Row]:
        return iter(self._cursor)


class PgConnection:
    """The psycopg connection the named queries run on, in one thread only."""

    functions = POSTGRES  # PostgreSQL's spelling of the few it spells otherwise

    def __init__(self, conn: psycopg.Connection[Row], url: str = "") -> None:
        self.raw = conn
        self.url = url
        self._pipeline: psycopg.Pipeline | None = None
        self._typed: dict[str, bool] = {}  # query -> whether the server types its parameters
        self._prober: psycopg.Connection[Any] | None = None

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """Statements sent without waiting for each answer (see the module's docstring);
        `sync` waits for them all, raising the first failure."""
        with self.raw.pipeline() as pipeline:
            self._pipeline = pipeline
            try:
                yield
            finally:
                self._pipeline = None

    def sync(self) -> None:
        """Wait for every statement sent so far (pipeline mode), raising what failed."""
        if self._pipeline is not None:
            self._pipeline.sync()

    @classmethod
    def open(cls, url: str) -> PgConnection:
        return cls(_connect(url), url)

    def revive(self) -> None:
        """Connect again if the connection was lost (a server restart, a network cut):
        the transaction that saw it fail was never committed, and the next one starts here."""
        if self.raw.broken and self.url:
            self.raw = _connect(self.url)

    def execute(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> psycopg.Cursor[Row]:
        text, values = bind(sql, params)
        cursor: psycopg.Cursor[Row]
        if values and not self._typed_on_server(text):
            cursor = psycopg.ClientCursor(self.raw).execute(text, values)
        else:
            cursor = self.raw.execute(text, values)
        return cursor if self._pipeline is None else Answer(cursor, self._pipeline)  # type: ignore[return-value]

    def _typed_on_server(self, text: str) -> bool:
        known = self._typed.get(text)
        if known is None:
            known = self._typed[text] = self._ask_types(text)
        return known

    def _ask_types(self, text: str) -> bool:
        """Whether the server can type every parameter of the query by itself: PREPARE
        (which runs nothing) on a connection of its own, outside any transaction here."""
        if not self.url:
            return False
        try:
            if self._prober is None or self._prober.broken:
                self._prober = psycopg.connect(self.url, autocommit=True, **SETTINGS)
            self._prober.execute(f"PREPARE snowbot_types AS {numbered_form(text)}".encode())
        except psycopg.Error:  # a type it cannot tell, DDL, or no prober: on the client
            return False
        self._prober.execute(b"DEALLOCATE snowbot_types")
        return True

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]] | Any) -> psycopg.Cursor[Row]:
        rows = list(rows)
        cursor = self.raw.cursor()
        if not rows:
            return cursor
        text, _ = bind(sql, rows[0])
        if not self._typed_on_server(text):
            cursor = psycopg.ClientCursor(self.raw)
        cursor.executemany(text, [bind(sql, row)[1] for row in rows])
        return cursor

    def script(self, sql: str) -> None:
        """A statement without parameters (DDL, BEGIN, a savepoint): `%` is not psycopg's
        here, and it is never prepared (sent as it is, each time)."""
        self.raw.execute(sql.encode(), prepare=False)

    def close(self) -> None:
        if self._prober is not None:
            self._prober.close()
        self.raw.close()
