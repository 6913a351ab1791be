"""The database: one writer connection behind a lock, one reader connection, numbered migrations.

Small single-statement writes may also be committed on the event loop's own connection (`Database.write`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# The table a writing statement changes (every write in the code starts like this; a test checks the services).
_WRITTEN_TABLE = re.compile(
    r"^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+(\w+)",
    re.IGNORECASE,
)
# How many results `Database.cached` keeps (the oldest go first): per-member reads of a large server.
READ_CACHE_SIZE = 20_000
# The WAL is copied into the database file (a checkpoint, on the writer's thread) after this many commits.
CHECKPOINT_EVERY = 200
# At most this many writes are committed in one go on the event loop (see `Database.write`).
HERE_BATCH_MAX = 64
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


_READS = re.compile(r"^\s*(?:SELECT|PRAGMA|VALUES)\b", re.IGNORECASE)
_SCHEMA = re.compile(r"^\s*(?:CREATE|DROP|ALTER)\b", re.IGNORECASE)
EVERY_TABLE = "*"


@functools.lru_cache(maxsize=1024)  # the code's statements are a fixed set of strings: each is told once
def written_table(sql: str) -> str | None:
    """Return the table a statement changes: None when it only reads, EVERY_TABLE for a schema change.

    Raise ValueError for a statement whose table cannot be told (say one starting with WITH), so a write can
    never slip past `Database.cached` unnoticed: write it as INSERT INTO / UPDATE / DELETE FROM <table>.
    """
    match = _WRITTEN_TABLE.match(sql)
    if match:
        return match.group(1).lower()
    if _READS.match(sql):
        return None
    if _SCHEMA.match(sql):
        return EVERY_TABLE
    raise ValueError(f"Cannot tell which table this statement changes: {sql.strip()[:60]!r}")


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


def _in_thread(conn: aiosqlite.Connection, fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    """Run `fn(sqlite3_connection, *args)` in the connection's thread as one trip, and return its result.

    aiosqlite runs one call per trip; a trip (queue, thread wake-up, loop wake-up) costs about 100 µs of CPU on
    our 2-core machine, against about 10 µs for a small query, so the hot paths do several statements per
    trip. aiosqlite has no public call for this: `_execute` is its own way of running a function in its
    thread (unchanged from 0.17 to 0.22; pyproject pins the range and tests/bot/test_db.py covers it).
    """
    return conn._execute(fn, conn._conn, *args)


def _fetchall(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[sqlite3.Row]:
    return conn.execute(sql, params).fetchall()


def _begin_then(conn: sqlite3.Connection, fn: Callable[..., Any], *args: Any) -> Any:
    # The first statement of a transaction carries its BEGIN with it: one trip, not two. A failing statement
    # leaves the transaction open (SQLite backs out the statement only), as it would on a trip of its own.
    conn.execute("BEGIN IMMEDIATE")
    return fn(conn, *args)


def _finish(conn: sqlite3.Connection, verb: str) -> None:
    if conn.in_transaction:
        try:
            conn.execute(verb)
        except BaseException:
            if conn.in_transaction:  # a COMMIT that failed must not leave the transaction open
                conn.execute("ROLLBACK")
            raise


def _execute(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    return conn.execute(sql, params).rowcount


def _insert(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    return conn.execute(sql, params).lastrowid


def _executemany(conn: sqlite3.Connection, sql: str, rows: list[Sequence[Any]]) -> None:
    conn.executemany(sql, rows)


@dataclass
class _Write:
    sql: str
    params: Sequence[Any]
    read: tuple[str, Sequence[Any]] | None
    table: str | None  # what it changes (`written_table`), told once when it is asked for
    done: asyncio.Future


def _apply_writes(
    conn: sqlite3.Connection,
    batch: list[tuple[str, Sequence[Any], tuple[str, Sequence[Any]] | None]],
    *,
    begun: bool = False,
) -> list[Any]:
    """Run queued single-statement writes in one transaction; return each one's rows or its error.

    A failing statement undoes only itself (SQLite backs out a statement that fails and keeps the
    transaction), so one bad write does not cost the others theirs. An error that ends the whole
    transaction (disk full, I/O) fails every write of the batch: none of them is stored. `begun`: the
    caller already ran BEGIN IMMEDIATE on `conn`.
    """
    outcomes: list[Any] = []
    if not begun:
        conn.execute("BEGIN IMMEDIATE")
    try:
        for sql, params, read in batch:
            try:
                rows = conn.execute(sql, params).fetchall()
            except Exception as exc:  # a bad parameter (say an int too large) fails its own statement only
                if not conn.in_transaction:
                    raise
                outcomes.append(exc)
                continue
            if read is None:
                outcomes.append(rows)
                continue
            try:
                seen = conn.execute(*read).fetchall()
            except Exception:  # the write stands: its caller is told it has no read (None), not that it failed
                if not conn.in_transaction:
                    raise
                seen = None
            outcomes.append((rows, seen))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return outcomes


def _others_ready(loop: asyncio.AbstractEventLoop) -> bool:
    """Say whether anything else is due to run in this turn of the loop (and might write too).

    A write waits a turn for the others due in it, to commit with them (`Database._enqueue`); with none due, that
    turn would only add its own cost (about 10 µs of a /checkin, bench/interactions.py). asyncio's loops keep
    what is due in `_ready` (not public, there since 3.4); a loop without it is taken as always busy.
    """
    ready = getattr(loop, "_ready", None)
    return ready is None or len(ready) > 0


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Copy the WAL into the database file as far as readers allow; if all of it was, restart it here."""
    busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    if busy == 0 and frames == copied:
        _restart_wal(conn)


def _restart_wal(conn: sqlite3.Connection) -> None:
    # The first write after a complete checkpoint (or into a new WAL) starts the WAL over and syncs its header
    # to disk. Make it this one, on the writer's thread, so the loop's connection never does: rewriting the
    # header's user_version (unused; the same value) is a write of one page. Should a reader keep the WAL from
    # restarting, the page is appended instead, and the WAL is not all checkpointed until our next checkpoint.
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    conn.execute(f"PRAGMA user_version = {int(version)}")


class _Queries:
    """Shared read helpers over an aiosqlite connection.

    Each query is one trip to aiosqlite's thread (execute and fetch together): a cursor's execute, fetch and
    close are three trips, and at about 100 µs a trip that was most of a command's time (bench/interactions).
    """

    _conn: aiosqlite.Connection

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await _in_thread(self._conn, fn, *args)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Return every row of a query."""
        return await self._call(_fetchall, sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """Return the first row of a query (meant for queries of one row: it reads them all), or None."""
        rows = await self._call(_fetchall, sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Sequence[Any] = (), default: Any = None) -> Any:
        """Return the first column of the first row, or `default`."""
        row = await self.fetchone(sql, params)
        return default if row is None else row[0]


class Tx(_Queries):
    """An open write transaction; reads through it see its own writes.

    BEGIN IMMEDIATE goes with the first statement, in the same trip; a transaction that ran no statement
    neither begins nor commits.
    """

    def __init__(self, conn: aiosqlite.Connection, forget: Callable[[Hashable], None] | None = None) -> None:
        self._conn = conn
        self.begun = False
        self._after_commit: list[Callable[[], None]] = []
        self._forget = forget or (lambda key: None)
        self.written: set[str] = set()  # tables this transaction wrote to (see Database.cached)

    def _note(self, sql: str) -> None:
        table = written_table(sql)
        if table is not None:
            self.written.add(table)

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.begun:
            return await _in_thread(self._conn, fn, *args)
        self.begun = True  # set first: even a failed first statement has sent BEGIN
        return await _in_thread(self._conn, _begin_then, fn, *args)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this transaction has committed (not if it rolls back): e.g. forget a cache."""
        self._after_commit.append(callback)

    def forget(self, key: Hashable) -> None:
        """Drop `key` from the Database's cache now, and again once committed (`Database.forget`)."""
        self._forget(key)
        self.after_commit(lambda: self._forget(key))

    # A write with RETURNING may come through the read helpers: note its table too.
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Return every row of a query (or of a write's RETURNING)."""
        self._note(sql)
        return await super().fetchall(sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """Return the first row of a query (or of a write's RETURNING), or None."""
        self._note(sql)
        return await super().fetchone(sql, params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        self._note(sql)
        return await self._call(_execute, sql, params)

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT; return the new row's id."""
        self._note(sql)
        return await self._call(_insert, sql, params)

    async def write(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run one writing statement inside this transaction; return its rows (RETURNING), like `Database.write`."""
        self._note(sql)
        return await self._call(_fetchall, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        self._note(sql)
        await self._call(_executemany, sql, list(rows))


class Database(_Queries):
    """SQLite in WAL mode: reads on their own connection, writes serialised through `transaction()`.

    Two caches keep hot reads off aiosqlite's thread (a trip there is most of a command's time):
    - `cached(key, tables, load)` keeps a read until any of its tables is written. Every write goes through
      `Tx` or `Database.write`, which note the table each statement changes (and the tables its foreign keys
      cascade to) and move those tables' generation on once the transaction is over. Right for reads whose
      tables change rarely (groups, meetings, skips).
    - `remembered(key, load)` keeps a value under a key that the services changing it forget exactly
      (`Tx.forget`, `forget`): a server's settings, whether notes wait for a member, a member's DM channel.
      Right where a table changes often but each key rarely. A load that began before a forget is not kept.
    Both assume one bot process per database, which is how the bot runs (one process per token).

    Writes: `transaction()` on the writer's aiosqlite connection, serialised by a lock; small single-statement
    writes (`write`, `write_then_read`) on the event loop's own sqlite3 connection when the writer is free
    (see `write`: it never waits for a lock and never syncs to disk), else on the writer's thread. SQLite's own
    write lock keeps the two connections, and any other process, from writing at once.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._remembered: dict[Hashable, Any] = {}
        self._versions: dict[Hashable, int] = {}  # moved on by each forget of a key
        self._generations: dict[str, int] = {}
        self._reads: dict[Hashable, tuple[tuple[int, ...], Any]] = {}
        self._cascades: dict[str, frozenset[str]] = {}
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._queued: list[_Write] = []
        self._flusher: asyncio.Task | None = None
        self._here: sqlite3.Connection | None = None  # the event loop's own connection, for `write`
        self._here_due = False  # a call to `_write_here` is scheduled
        self._at_once = 0  # writes committed in a row without waiting a turn (`_enqueue`)
        self._commits = 0
        self._checkpointing: asyncio.Future | None = None
        self._closing = False

    async def connect(self) -> None:
        """Open the connections (writer, reader, the event loop's own) and set the pragmas."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._open()
        await self._pragma(self._writer, "PRAGMA journal_mode=WAL")
        # Checkpoints are ours (`_committed`): one run by a commit could fall on the loop's connection.
        await self._pragma(self._writer, "PRAGMA wal_autocheckpoint=0")
        self._conn = await self._open()
        # The loop's connection never waits for a lock (timeout 0) nor checkpoints: it must not stop the bot.
        self._here = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        self._here.row_factory = sqlite3.Row
        for pragma in ("foreign_keys=ON", "synchronous=NORMAL", "wal_autocheckpoint=0"):
            self._here.execute(f"PRAGMA {pragma}").fetchall()
        self._closing = False
        await self._load_cascades()
        try:  # the WAL is new (the last close removed it): start it on the writer's thread (`_restart_wal`)
            async with self._write_lock:
                await self._to_the_end(_restart_wal)
        except sqlite3.Error:  # another process held the lock for 5 s: the bot still starts
            log.warning("Could not start the WAL on the writer's thread", exc_info=True)

    async def _load_cascades(self) -> None:
        """Learn which tables a write to each table can change through ON DELETE CASCADE / SET NULL."""
        children: dict[str, set[str]] = {}
        tables = await self.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        for (table,) in tables:
            for fk in await self.fetchall(f"PRAGMA foreign_key_list({table})"):
                if fk["on_delete"] != "NO ACTION" or fk["on_update"] != "NO ACTION":
                    children.setdefault(fk["table"].lower(), set()).add(table.lower())
        closure: dict[str, frozenset[str]] = {}
        for parent in children:
            seen, todo = set(), [parent]
            while todo:
                for child in children.get(todo.pop(), ()):
                    if child not in seen:
                        seen.add(child)
                        todo.append(child)
            closure[parent] = frozenset(seen)
        self._cascades = closure

    def _written(self, tables: Iterable[str]) -> None:
        if EVERY_TABLE in tables:
            self._reads.clear()
        for table in tables:
            for changed in (table, *self._cascades.get(table, ())):
                self._generations[changed] = self._generations.get(changed, 0) + 1

    async def remembered(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """Return the value kept under `key`, or `await load()`, kept unless `key` was forgotten meanwhile."""
        if key in self._remembered:
            return self._remembered[key]
        version = self.version(key)
        value = await load()
        self.keep(key, value, version)
        return value

    def version(self, key: Hashable) -> int:
        """How many times `key` was forgotten: take it before loading a value to `keep`."""
        return self._versions.get(key, 0)

    def keep(self, key: Hashable, value: Any, version: int) -> None:
        """Keep `value` under `key` if `key` was not forgotten since `version` (the value is not stale)."""
        if self._versions.get(key, 0) == version:
            self._remembered[key] = value

    def is_remembered(self, key: Hashable) -> bool:
        """Say whether a value is kept under `key`."""
        return key in self._remembered

    def remembered_now(self, key: Hashable, default: Any = None) -> Any:
        """Return the value kept under `key` without loading it (`default` when none is kept)."""
        return self._remembered.get(key, default)

    def forget(self, key: Hashable) -> None:
        """Drop the value kept under `key`, and make any load already under way not keep what it read."""
        self._remembered.pop(key, None)
        self._versions[key] = self._versions.get(key, 0) + 1

    async def cached(self, key: Hashable, tables: Sequence[str], load: Callable[[], Awaitable[Any]]) -> Any:
        """Return `await load()`, kept until one of `tables` is written (see the class). Keep results immutable."""
        generations = self._generations
        stamp = tuple([generations.get(t, 0) for t in tables])  # before reading: a write meanwhile reloads
        hit = self._reads.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = await load()
        self._reads.pop(key, None)
        if len(self._reads) >= READ_CACHE_SIZE:
            del self._reads[next(iter(self._reads))]
        self._reads[key] = (stamp, value)
        return value

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
        """Finish the queued writes and open transactions, then close the connections (later ones are refused)."""
        self._closing = True
        if self._queued and self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
        async with self._write_lock:  # a transaction still open ends first
            self._drop_here()  # first: the last connection to close checkpoints, and that must not be this one
            for conn in (getattr(self, "_conn", None), self._writer):
                if conn is not None:
                    await conn.close()
            self._writer = None
            self._conn = None  # type: ignore[assignment]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """Open a write transaction; commit on success, roll back on any exception."""
        assert self._writer is not None, "Database.connect() first"
        if self._closing:
            raise DatabaseError("The database is closing; the change was not made.")
        async with self._write_lock:
            # IMMEDIATE takes the write lock at the first statement, so a second process waits instead of
            # failing later; nothing is read or written before it.
            tx = Tx(self._writer, self.forget)
            cancelled = False
            try:
                yield tx
            except BaseException:
                if tx.begun:
                    await self._to_the_end(_finish, "ROLLBACK")
                raise
            else:
                if tx.begun:
                    _, cancelled = await self._to_the_end(_finish, "COMMIT")
                    if tx.written:
                        self._committed()
            finally:
                # After COMMIT (or ROLLBACK), never before: a read in between would keep the old rows as new.
                self._written(tx.written)
        for callback in tx._after_commit:
            callback()
        if cancelled:
            raise asyncio.CancelledError

    async def _to_the_end(self, fn: Callable[..., Any], *args: Any) -> tuple[Any, bool]:
        """Run `fn` in the writer's thread and wait until it is done, even if this task is cancelled meanwhile.

        Once queued, a COMMIT happens whatever becomes of the task that asked for it, so what must follow it
        (cache generations, after-commit callbacks, callers' results) has to wait for it. Return what `fn`
        returned and whether a cancellation arrived in the meantime (the caller raises it once done); raise
        what `fn` raised.
        """
        trip = asyncio.ensure_future(_in_thread(self._writer, fn, *args))
        cancelled = False
        while True:
            try:
                return await asyncio.shield(trip), cancelled
            except asyncio.CancelledError:
                if trip.done() and trip.cancelled():
                    raise
                cancelled = True

    async def write(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run one small writing statement as a change of its own; return its rows (RETURNING), once committed.

        Meant for a statement that changes a row or a few (a check-in, a delivery mark), not for a sweep.
        When the writer is free, the writes asked for in one turn of the event loop are committed together
        right there, on the loop's own connection (up to HERE_BATCH_MAX at a time): SQLite commits such a
        transaction in 20–40 µs here (WAL, synchronous=NORMAL: no fsync), while a trip to aiosqlite's thread
        and back costs 300 µs or more of waiting and about 100 µs of CPU on a small cloud machine
        (bench/interactions.py). Nothing on that connection may wait, so it never waits for a lock
        (timeout 0) and never syncs to disk: checkpoints run on the writer's thread, which also makes the
        write that starts the WAL over after each (it syncs the WAL's header; see `_restart_wal`). This
        assumes one bot process per database: another process's checkpoint could leave that write to us.
        When a transaction of ours is open or another process holds the write lock, the writes go to the
        writer's thread instead, where those that arrive together share one transaction (group commit). Either
        way each statement succeeds or fails on its own (see `_apply_writes`) and the call returns only after
        its transaction has committed. A write with nothing else due in its turn commits without waiting for
        one, so it may return without yielding to the loop (at most HERE_BATCH_MAX such writes in a row).
        """
        return await self._enqueue(sql, params)

    async def write_then_read(
        self, sql: str, params: Sequence[Any], read_sql: str, read_params: Sequence[Any] = ()
    ) -> tuple[list[sqlite3.Row], list[sqlite3.Row] | None]:
        """`write`, then a small query that sees the write, in the same transaction: (the write's rows, the query's).

        Should the query fail, the write stands and the query's rows are None (read again if they are needed).
        """
        return await self._enqueue(sql, params, (read_sql, tuple(read_params)))

    async def _enqueue(self, sql: str, params: Sequence[Any], read: tuple[str, Sequence[Any]] | None = None) -> Any:
        assert self._writer is not None, "Database.connect() first"
        table = written_table(sql)  # refuse, before it runs, a statement whose table cannot be told
        if self._closing:
            raise DatabaseError("The database is closing; the change was not made.")
        write = _Write(sql, tuple(params), read, table, asyncio.get_running_loop().create_future())
        self._queued.append(write)
        if self._flusher is None and not self._here_due:
            loop = asyncio.get_running_loop()
            if _others_ready(loop) or self._at_once >= HERE_BATCH_MAX:
                # Not at once: the writes of everything else due to run in this turn of the loop join this one.
                # (Nor after a run of writes committed at once: those never yield, and the loop must read its
                # sockets now and then, whatever loop of writes a caller runs.)
                self._at_once = 0
                self._here_due = True
                loop.call_soon(self._write_here)
            else:  # nothing else could join it before the next turn: commit now, and skip that turn
                self._at_once += 1
                self._write_here()
        return await write.done

    def _write_here(self) -> None:
        """Commit queued writes on the loop's connection, or hand them to the writer's thread."""
        self._here_due = False
        if not self._queued or self._flusher is not None:
            return
        if self._here is None or self._write_lock.locked() or not self._begin_here():
            self._flusher = asyncio.create_task(self._flush())
            return
        here = self._here
        batch, self._queued = self._queued[:HERE_BATCH_MAX], self._queued[HERE_BATCH_MAX:]
        try:
            outcomes = _apply_writes(here, [(w.sql, w.params, w.read) for w in batch], begun=True)
        except Exception as exc:  # the transaction failed as a whole: every write in it failed
            outcomes = [exc] * len(batch)
            if here.in_transaction:  # not even rolled back: this connection is of no more use
                log.error("The event loop's database connection failed; writes go to the writer's thread")
                self._drop_here()
        except BaseException:  # KeyboardInterrupt, SystemExit: nobody waits for ever, and it goes on up
            for w in batch + self._queued:
                w.done.cancel()
            self._queued = []
            raise
        finally:
            self._written({w.table for w in batch if w.table is not None})
        _settle(batch, outcomes)
        self._committed()
        if self._queued and not self._here_due:  # more than one batch's worth: the rest on the next turn
            self._here_due = True
            asyncio.get_running_loop().call_soon(self._write_here)

    def _begin_here(self) -> bool:
        """Take SQLite's write lock on the loop's connection if it is free this instant; say whether it was."""
        assert self._here is not None
        try:
            self._here.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _BUSY:
                log.error("The event loop's database connection failed; writes go to the writer's thread")
                self._drop_here()
            return False  # locked by another process: the writer's thread waits for it
        return True

    def _drop_here(self) -> None:
        if self._here is not None:
            self._here.close()
            self._here = None

    def _committed(self) -> None:
        """Count a commit; start a checkpoint every CHECKPOINT_EVERY of them."""
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0 and self._checkpointing is None and not self._closing:
            self._checkpointing = asyncio.ensure_future(self._checkpoint())

    async def _checkpoint(self) -> None:
        """Checkpoint on the writer's thread, holding our write lock (reads go on; writes wait for it)."""
        try:
            async with self._write_lock:
                _, cancelled = await self._to_the_end(_checkpoint)
            if cancelled:
                raise asyncio.CancelledError
        except Exception:  # the next one will try again
            log.warning("A WAL checkpoint failed; the next one will try again", exc_info=True)
        finally:
            self._checkpointing = None

    async def _flush(self) -> None:
        batch: list[_Write] = []
        try:
            while self._queued:
                cancelled = False
                async with self._write_lock:
                    batch, self._queued = self._queued, []
                    try:
                        statements = [(w.sql, w.params, w.read) for w in batch]
                        outcomes, cancelled = await self._to_the_end(_apply_writes, statements)
                    except Exception as exc:  # the transaction failed as a whole: every write in it failed
                        outcomes = [exc] * len(batch)
                    finally:
                        self._written({w.table for w in batch if w.table is not None})
                _settle(batch, outcomes)
                batch = []
                self._committed()
                if cancelled:
                    raise asyncio.CancelledError
        finally:
            self._flusher = None
            for w in batch + self._queued:  # cancelled (the loop is closing): nobody waits for ever
                w.done.cancel()
            self._queued = []

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
        if applied:
            self._reads.clear()
            self._committed()
            await self._load_cascades()
        return applied

    async def backup(self, target: Path) -> None:
        """Write a consistent copy of the database to `target`, safe while the bot runs."""
        target.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(target) as dest:
            await self._conn.backup(dest)


def _settle(batch: list[_Write], outcomes: list[Any]) -> None:
    for w, outcome in zip(batch, outcomes, strict=True):
        if w.done.done():  # the caller went away (cancelled): the write stands all the same
            continue
        if isinstance(outcome, Exception):
            w.done.set_exception(outcome)
        else:
            w.done.set_result(outcome)


async def remembered_read(db: Database | Tx, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
    """`Database.remembered` for a service that may be given a transaction (which always reads through itself)."""
    if isinstance(db, Tx):
        return await load()
    return await db.remembered(key, load)


async def cached_read(
    db: Database | Tx, key: Hashable, tables: Sequence[str], load: Callable[[], Awaitable[Any]]
) -> Any:
    """`Database.cached` for a service that may be given a transaction (which always reads through itself)."""
    if isinstance(db, Tx):
        return await load()
    return await db.cached(key, tables, load)
