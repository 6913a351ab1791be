import asyncio
import os
import sqlite3
import stat

import pytest

from bot.db import Database, DatabaseError, Migration, load_migrations
from bot.keys import load_or_create_secret, secret_permissions_warning


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "t.sqlite3")
    await database.connect()
    yield database
    await database.close()


@pytest.fixture
def batches(monkeypatch):
    """Each transaction of queued writes, as (how many writes, "loop" or "thread": where it was committed)."""
    import bot.db

    seen = []
    real = bot.db._apply_writes

    def noting(conn, batch, **options):
        seen.append((len(batch), "loop" if options.get("begun") else "thread"))
        return real(conn, batch, **options)

    monkeypatch.setattr(bot.db, "_apply_writes", noting)
    return seen


async def test_migrations_apply_in_order_and_record_their_version(db):
    applied = await db.migrate()
    assert applied == [m.version for m in load_migrations()]
    assert await db.schema_version() == applied[-1]
    assert await db.fetchval("PRAGMA journal_mode") == "wal"
    assert await db.fetchval("PRAGMA foreign_keys") == 1


async def test_migrating_twice_changes_nothing(db):
    await db.migrate()
    assert await db.migrate() == []


async def test_a_failing_migration_leaves_no_trace(db):
    good = Migration(1, "good", "CREATE TABLE a (x INTEGER);")
    bad = Migration(2, "bad", "CREATE TABLE b (x INTEGER);\nINSERT INTO a VALUES (1);\nTHIS IS NOT SQL;")
    with pytest.raises(DatabaseError, match="0002_bad failed and was rolled back"):
        await db.migrate([good, bad])
    assert await db.schema_version() == 1
    tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "b" not in tables
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 0
    async with db.transaction() as tx:  # the connection is usable afterwards
        await tx.execute("INSERT INTO a VALUES (2)")


async def test_a_database_newer_than_the_code_is_refused(db):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);"), Migration(2, "b", "SELECT 1;")])
    with pytest.raises(DatabaseError, match="schema version 2, but this code only knows up to 1"):
        await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])


async def test_a_transaction_rolls_back_on_error(db):
    await db.migrate()
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO bot_state (key, value) VALUES ('k', 'v')")
            raise RuntimeError
    assert await db.fetchval("SELECT COUNT(*) FROM bot_state") == 0


async def test_a_failed_statement_inside_a_transaction_undoes_only_itself(db):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER UNIQUE);")])
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO a VALUES (1)")  # carries the BEGIN
        with pytest.raises(sqlite3.IntegrityError):
            await tx.execute("INSERT INTO a VALUES (1)")
        await tx.execute("INSERT INTO a VALUES (2)")
    assert [r[0] for r in await db.fetchall("SELECT x FROM a ORDER BY x")] == [1, 2]


async def test_a_failing_first_statement_still_rolls_back_the_whole_transaction(db):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER NOT NULL);")])
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO a VALUES (NULL)")
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            with pytest.raises(sqlite3.IntegrityError):
                await tx.execute("INSERT INTO a VALUES (NULL)")
            await tx.execute("INSERT INTO a VALUES (3)")
            raise RuntimeError
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 0
    async with db.transaction() as tx:  # nothing was left open
        await tx.execute("INSERT INTO a VALUES (4)")
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 1


async def test_a_commit_that_fails_leaves_no_transaction_open(db):
    await db.migrate(
        [
            Migration(
                1,
                "fk",
                "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
                "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);",
            )
        ]
    )
    committed = []
    with pytest.raises(sqlite3.IntegrityError):  # a deferred foreign key is checked at COMMIT
        async with db.transaction() as tx:
            tx.after_commit(lambda: committed.append(True))
            await tx.execute("INSERT INTO child VALUES (7)")
    assert committed == []
    assert await db.fetchval("SELECT COUNT(*) FROM child") == 0
    async with db.transaction() as tx:
        tx.after_commit(lambda: committed.append(True))
        await tx.execute("INSERT INTO parent VALUES (7)")
        await tx.execute("INSERT INTO child VALUES (7)")
    assert committed == [True]


async def test_writes_at_the_same_moment_commit_together_and_fail_alone(db, batches):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (id INTEGER PRIMARY KEY, x INTEGER NOT NULL UNIQUE);")])
    values = [*range(40), 5]  # the last repeats 5: a UNIQUE violation of its own
    results = await asyncio.gather(
        *(db.write("INSERT INTO a (x) VALUES (?) RETURNING id, x", (v,)) for v in values), return_exceptions=True
    )
    assert isinstance(results[-1], sqlite3.IntegrityError)
    assert [r[0]["x"] for r in results[:-1]] == list(range(40))
    # Written and committed: the reader connection sees every one of them.
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 40
    assert sum(n for n, _ in batches) == 41 and len(batches) < 41  # fewer transactions than writes
    assert [tuple(r) for r in await db.write("INSERT INTO a (x) VALUES (?) RETURNING x", (100,))] == [(100,)]


async def test_a_lone_write_commits_on_the_event_loop_without_a_trip_to_the_writers_thread(db, monkeypatch):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    import bot.db

    trips = []
    real = bot.db._in_thread
    monkeypatch.setattr(bot.db, "_in_thread", lambda conn, fn, *args: trips.append(fn) or real(conn, fn, *args))
    await db.write("INSERT INTO a VALUES (?)", (0,))  # the migration started the WAL: this one is on the loop
    assert [tuple(r) for r in await db.write("INSERT INTO a VALUES (?) RETURNING x", (1,))] == [(1,)]
    assert trips == []
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 2  # committed: the reader's connection sees it


def _wal_restarts(path) -> int:
    """The WAL header's checkpoint sequence: it moves each time the WAL starts over (and its header is synced)."""
    header = (path.parent / (path.name + "-wal")).read_bytes()[:16]
    return int.from_bytes(header[12:16], "big")


async def test_the_wal_starts_over_on_the_writers_thread_never_on_the_event_loop(db, batches, monkeypatch, tmp_path):
    # Starting the WAL over syncs its header to disk: that must not happen in a write on the loop's connection.
    import bot.db

    monkeypatch.setattr(bot.db, "CHECKPOINT_EVERY", 3)
    path = tmp_path / "t.sqlite3"
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    for x in range(8):
        before = _wal_restarts(path)
        await db.write("INSERT INTO a VALUES (?)", (x,))
        assert _wal_restarts(path) == before  # the write on the loop appended to the WAL, never restarted it
        if db._checkpointing is not None:
            await db._checkpointing  # … and the checkpoint restarted it, on the writer's thread
            assert _wal_restarts(path) == before + 1
    assert [where for _, where in batches] == ["loop"] * 8
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 8


async def test_a_restart_begins_a_new_wal_on_the_writers_thread(tmp_path):
    path = tmp_path / "r.sqlite3"
    first = Database(path)
    await first.connect()
    await first.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    await first.close()
    assert not (tmp_path / "r.sqlite3-wal").exists()  # the last connection to close removed it
    again = Database(path)
    await again.connect()
    wal = tmp_path / "r.sqlite3-wal"
    assert wal.stat().st_size >= 32  # connect began the new WAL (its header is written), before any write
    started, size = _wal_restarts(path), wal.stat().st_size
    await again.write("INSERT INTO a VALUES (1)")
    assert _wal_restarts(path) == started and wal.stat().st_size > size  # the write on the loop only appended
    await again.close()


async def test_a_run_of_writes_committed_at_once_still_lets_the_loop_turn(db, batches):
    import bot.db

    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    turned = []
    asyncio.get_running_loop().call_later(0, turned.append, True)  # runs only once the loop turns
    for x in range(3 * bot.db.HERE_BATCH_MAX):
        await db.write("INSERT INTO a VALUES (?)", (x,))
    assert turned == [True]  # a caller looping over writes does not keep the loop from its sockets and timers
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 3 * bot.db.HERE_BATCH_MAX
    assert {where for _, where in batches} == {"loop"}


async def test_many_writes_in_one_turn_are_committed_in_bounded_batches(db, batches):
    import bot.db

    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    await asyncio.gather(*(db.write("INSERT INTO a VALUES (?)", (x,)) for x in range(200)))
    assert sum(n for n, _ in batches) == 200 and max(n for n, _ in batches) <= bot.db.HERE_BATCH_MAX
    assert {where for _, where in batches} == {"loop"}
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 200


async def test_a_broken_event_loop_connection_is_dropped_and_writes_go_on_through_the_thread(db, caplog):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    await db.write("INSERT INTO a VALUES (0)")
    db._here.close()  # as if it failed for good (an I/O error, say)
    await db.write("INSERT INTO a VALUES (1)")
    await db.write("INSERT INTO a VALUES (2)")
    assert db._here is None and "writes go to the writer's thread" in caplog.text
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 3


async def test_a_write_whose_read_fails_still_stands_and_says_it_has_no_read(db):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    rows, seen = await db.write_then_read("INSERT INTO a VALUES (?) RETURNING x", (1,), "SELECT nope FROM a")
    assert [tuple(r) for r in rows] == [(1,)] and seen is None
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 1


async def test_a_write_while_the_database_closes_is_refused_not_lost_silently(tmp_path):
    database = Database(tmp_path / "c.sqlite3")
    await database.connect()
    await database.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    first = asyncio.create_task(database.write("INSERT INTO a VALUES (1)"))
    await asyncio.sleep(0)
    closing = asyncio.create_task(database.close())
    await asyncio.sleep(0)
    with pytest.raises(DatabaseError, match="closing"):
        await database.write("INSERT INTO a VALUES (2)")
    await closing
    await first  # queued before the close began: written
    again = Database(tmp_path / "c.sqlite3")
    await again.connect()
    assert await again.fetchval("SELECT COUNT(*) FROM a") == 1
    await again.close()


async def test_writes_wait_for_an_open_transaction_and_then_commit_together(db, batches):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO a VALUES (0)")
        writes = [asyncio.create_task(db.write("INSERT INTO a VALUES (?)", (x,))) for x in range(1, 31)]
        await asyncio.sleep(0.05)
        assert not any(w.done() for w in writes)  # not inside our transaction, not beside it
    await asyncio.gather(*writes)
    assert [r[0] for r in await db.fetchall("SELECT x FROM a ORDER BY rowid")] == list(range(31))
    assert sum(n for n, _ in batches) == 30 and len(batches) < 30


async def test_a_write_while_another_process_holds_the_lock_waits_without_stopping_the_bot(db, tmp_path):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    other = sqlite3.connect(tmp_path / "t.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO a VALUES (1)")
    write = asyncio.create_task(db.write("INSERT INTO a VALUES (2)"))
    loop = asyncio.get_running_loop()
    gaps, last = [], loop.time()
    for _ in range(10):  # the loop keeps turning while the write waits for the lock (SQLite's wait is 5 s)
        await asyncio.sleep(0.01)
        gaps.append(loop.time() - last)
        last = loop.time()
    assert max(gaps) < 1 and not write.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(write, 5)
    assert [r[0] for r in await db.fetchall("SELECT x FROM a ORDER BY rowid")] == [1, 2]


async def test_writes_on_the_event_loop_are_checkpointed_into_the_database_file(db, tmp_path, monkeypatch):
    import bot.db

    monkeypatch.setattr(bot.db, "CHECKPOINT_EVERY", 5)
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x TEXT);")])
    before = (tmp_path / "t.sqlite3").stat().st_size
    for _ in range(4):
        await db.write("INSERT INTO a VALUES (?)", ("x" * 3000,))
    assert db._checkpointing is not None  # the migration was the first of five commits
    await db._checkpointing
    assert (tmp_path / "t.sqlite3").stat().st_size >= before + 5 * 3000  # the rows are in the file, not only the WAL


async def test_backup_is_a_consistent_copy(db, tmp_path):
    await db.migrate()
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO bot_state (key, value) VALUES ('k', 'v')")
    await db.backup(tmp_path / "backup.sqlite3")
    copy = Database(tmp_path / "backup.sqlite3")
    await copy.connect()
    assert await copy.fetchval("SELECT value FROM bot_state WHERE key = 'k'") == "v"
    await copy.close()


def test_migration_files_are_numbered_without_gaps():
    versions = [m.version for m in load_migrations()]
    assert versions == list(range(1, len(versions) + 1))


def test_the_secret_is_created_once_with_owner_only_permissions(tmp_path):
    path = tmp_path / "keys" / "anon.key"
    first = load_or_create_secret(path)
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first
    assert secret_permissions_warning(path) is None
    os.chmod(path, 0o644)
    assert "chmod 600" in secret_permissions_warning(path)


async def test_a_cached_read_lasts_until_its_table_is_written_by_any_path(db):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER); CREATE TABLE other (y INTEGER);")])
    loads = []

    async def load():
        loads.append(1)
        return tuple(r[0] for r in await db.fetchall("SELECT x FROM a ORDER BY x"))

    async def read():
        return await db.cached("xs", ("a",), load)

    assert await read() == () and await read() == () and len(loads) == 1
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO other VALUES (1)")  # another table: still cached
    assert await read() == () and len(loads) == 1
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO a VALUES (1)")
        assert await read() == ()  # not committed yet: the committed rows, still cached
    assert await read() == (1,) and len(loads) == 2
    await db.write("INSERT INTO a VALUES (2)")  # group-committed writes count too
    assert await read() == (1, 2)
    async with db.transaction() as tx:
        await tx.executemany("UPDATE a SET x = x * ?", [(10,)])
    assert await read() == (10, 20)


async def test_a_cascading_delete_invalidates_reads_of_the_child_table(db):
    await db.migrate(
        [
            Migration(
                1,
                "fk",
                "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
                "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);"
                "INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1);",
            )
        ]
    )

    async def children():
        return await db.cached("children", ("child",), lambda: db.fetchval("SELECT COUNT(*) FROM child"))

    assert await children() == 1
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM parent WHERE id = 1")  # names parent only; child rows go with it
    assert await children() == 0


async def test_a_statement_whose_table_cannot_be_told_is_refused_before_it_runs(db):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    sneaky = "WITH v AS (SELECT 1) INSERT INTO a SELECT * FROM v"
    with pytest.raises(ValueError, match="Cannot tell which table"):
        await db.write(sneaky)
    with pytest.raises(ValueError, match="Cannot tell which table"):
        async with db.transaction() as tx:
            await tx.execute(sneaky)
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 0


async def test_a_value_loaded_before_a_forget_is_returned_but_not_kept(db):
    started, release = asyncio.Event(), asyncio.Event()
    loads = []

    async def slow_load():
        loads.append(1)
        started.set()
        await release.wait()
        return "old"

    reading = asyncio.create_task(db.remembered("k", slow_load))
    await started.wait()
    db.forget("k")  # a transaction changed it while the read was under way
    release.set()
    assert await reading == "old"
    assert await db.remembered("k", slow_load) == "old" and len(loads) == 2  # read again, not kept stale


async def test_a_write_with_a_bad_parameter_fails_alone_in_its_batch(db):
    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    results = await asyncio.gather(
        db.write("INSERT INTO a VALUES (?)", (1,)),
        db.write("INSERT INTO a VALUES (?)", (2**70,)),  # too large for SQLite: OverflowError, not sqlite3.Error
        db.write("INSERT INTO a VALUES (?)", (3,)),
        return_exceptions=True,
    )
    assert isinstance(results[1], OverflowError)
    assert [r[0] for r in await db.fetchall("SELECT x FROM a ORDER BY x")] == [1, 3]


async def test_a_transaction_cancelled_during_its_commit_still_finishes_what_follows_the_commit(db, monkeypatch):
    import threading

    import bot.db

    await db.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    in_commit, let_go = threading.Event(), threading.Event()
    real_finish = bot.db._finish

    def slow_finish(conn, verb):
        if verb == "COMMIT":
            in_commit.set()
            let_go.wait(5)
        real_finish(conn, verb)

    monkeypatch.setattr(bot.db, "_finish", slow_finish)
    assert await db.cached("count", ("a",), lambda: db.fetchval("SELECT COUNT(*) FROM a")) == 0
    committed = []

    async def write():
        async with db.transaction() as tx:
            tx.after_commit(lambda: committed.append(True))
            await tx.execute("INSERT INTO a VALUES (1)")

    task = asyncio.create_task(write())
    await asyncio.get_running_loop().run_in_executor(None, in_commit.wait, 5)
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done()  # waits for the COMMIT it already sent
    let_go.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert committed == [True]
    assert await db.cached("count", ("a",), lambda: db.fetchval("SELECT COUNT(*) FROM a")) == 1


async def test_closing_waits_for_an_open_transaction_and_refuses_new_ones(tmp_path):
    database = Database(tmp_path / "w.sqlite3")
    await database.connect()
    await database.migrate([Migration(1, "a", "CREATE TABLE a (x INTEGER);")])
    release = asyncio.Event()

    async def long_transaction():
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO a VALUES (1)")
            await release.wait()

    open_one = asyncio.create_task(long_transaction())
    await asyncio.sleep(0.01)
    closing = asyncio.create_task(database.close())
    await asyncio.sleep(0.01)
    assert not closing.done()  # the open transaction is not cut off
    with pytest.raises(DatabaseError, match="closing"):
        async with database.transaction():
            pass
    release.set()
    await open_one
    await closing
    again = Database(tmp_path / "w.sqlite3")
    await again.connect()
    assert await again.fetchval("SELECT COUNT(*) FROM a") == 1
    await again.close()
