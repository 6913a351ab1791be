"""The database: one writer connection behind a lock, one reader connection, numbered migrations."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class DatabaseError(Exception):
    """Raise when the database cannot be used as it is (too new, a migration failed)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read `NNNN_name.sql` files in version order; refuse gaps and duplicates."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise DatabaseError(f"Migration file {path.name} is not named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text()))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise DatabaseError(f"Migrations must be numbered 1, 2, 3…; found {migration.version:04d} at {expected}")
    return found


class _Queries:
    """Shared read helpers over an aiosqlite connection.

    Each query is one trip to aiosqlite's thread (execute and fetch together): a cursor's execute, fetch and
    close are three trips, and at about 50 µs a trip that was most of a command's time (bench/interactions).
    """

    _conn: aiosqlite.Connection

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Return every row of a query."""
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """Return the first row of a query (meant for queries of one row: it reads them all), or None."""
        rows = await self._conn.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[Any] = (), default: Any = None) -> Any:
        """Return the first column of the first row, or `default`."""
        row = await self.fetchone(sql, params)
        return default if row is None else row[0]


class Tx(_Queries):
    """An open write transaction; reads through it see its own writes."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        async with self._conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT; return the new row's id."""
        row = await self._conn.execute_insert(sql, params)  # one trip to the thread, like the reads
        return row[0]

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        await self._conn.executemany(sql, rows)


class Database(_Queries):
    """SQLite in WAL mode: reads on their own connection, writes serialised through `transaction()`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def connect(self) -> None:
        """Open both connections and set the pragmas."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._open()
        await self._pragma(self._writer, "PRAGMA journal_mode=WAL")
        self._conn = await self._open()

    async def _open(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in ("PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"):
            await self._pragma(conn, pragma)
        return conn

    @staticmethod
    async def _pragma(conn: aiosqlite.Connection, sql: str) -> None:
        # Close the cursor at once: an open PRAGMA statement keeps a lock the other connection waits on.
        async with conn.execute(sql) as cursor:
            await cursor.fetchall()

    async def close(self) -> None:
        """Close both connections."""
        for conn in (getattr(self, "_conn", None), self._writer):
            if conn is not None:
                await conn.close()
        self._writer = None
        self._conn = None  # type: ignore[assignment]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """Open a write transaction; commit on success, roll back on any exception."""
        assert self._writer is not None, "Database.connect() first"
        async with self._write_lock:
            # IMMEDIATE takes the write lock now, so a second process waits instead of failing later.
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._writer)
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")

    async def schema_version(self) -> int:
        """Return the highest applied migration, 0 for an empty database."""
        exists = await self.fetchval(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        )
        if not exists:
            return 0
        return await self.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", default=0)

    async def migrate(self, migrations: list[Migration] | None = None) -> list[int]:
        """Apply pending migrations, each atomically with its version; return the versions applied."""
        assert self._writer is not None, "Database.connect() first"
        migrations = load_migrations() if migrations is None else migrations
        latest = migrations[-1].version if migrations else 0
        current = await self.schema_version()
        if current > latest:
            raise DatabaseError(
                f"The database at {self.path} is at schema version {current}, but this code only knows up to "
                f"{latest}. Update the bot, or restore a backup made by this version."
            )
        applied: list[int] = []
        async with self._write_lock:
            await self._writer.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
            )
            for migration in migrations:
                if migration.version <= current:
                    continue
                # executescript would COMMIT any open transaction first, so the script carries its own.
                script = (
                    "BEGIN IMMEDIATE;\n"
                    f"{migration.sql}\n;\n"
                    "INSERT INTO schema_migrations (version, name, applied_at) "
                    f"VALUES ({migration.version}, '{migration.name}', {int(time.time())});\n"
                    "COMMIT;"
                )
                try:
                    await self._writer.executescript(script)
                except sqlite3.Error as exc:
                    if self._writer.in_transaction:
                        await self._writer.execute("ROLLBACK")
                    raise DatabaseError(
                        f"Migration {migration.version:04d}_{migration.name} failed and was rolled back: {exc}"
                    ) from exc
                applied.append(migration.version)
        return applied

    async def backup(self, target: Path) -> None:
        """Write a consistent copy of the database to `target`, safe while the bot runs."""
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(target) as dest:
            await self._conn.backup(dest)
