from datetime import UTC, datetime

from bot.services import notices as svc
from bot.services import privacy

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_the_cached_answer_changes_when_a_note_is_kept_taken_or_erased(db):
    assert await svc.has_notices(db, 1) is False  # cached: asked after every command
    async with db.transaction() as tx:
        await svc.add_notice(tx, 1, "Your meeting moved.", NOW)
    assert await svc.has_notices(db, 1) is True
    async with db.transaction() as tx:
        assert await svc.take_notices(tx, 1) == ["Your meeting moved."]
    assert await svc.has_notices(db, 1) is False
    async with db.transaction() as tx:
        await svc.add_notice(tx, 1, "Another note.", NOW)
    assert await svc.has_notices(db, 1) is True
    async with db.transaction() as tx:
        await privacy.erase(tx, 1, b"s" * 32)
    assert await svc.has_notices(db, 1) is False
