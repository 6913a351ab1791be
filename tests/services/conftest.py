import pytest

from bot.clock import FakeClock
from bot.db import Database


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "service.sqlite3")
    await database.connect()
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
def clock():
    return FakeClock()
