"""The safety service on a real database: the escalation ladder, blocks and reports."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import UserError
from bot.services import safety as svc

GUILD = 111
ALICE, HELPER, OTHER_HELPER = 1001, 2001, 2002
TEN = timedelta(minutes=10)


async def open_one(db, clock, user_id=ALICE):
    async with db.transaction() as tx:
        return await svc.open_escalation(tx, guild_id=GUILD, user_id=user_id, now=clock.now(), escalate_after=TEN)


async def test_a_member_has_one_open_request_at_a_time(db, clock):
    first, new = await open_one(db, clock)
    again, new_again = await open_one(db, clock)
    assert new and not new_again and again.id == first.id
    assert first.escalate_at == int((clock.now() + TEN).timestamp())
    assert [e.id for e in await svc.waiting_escalations(db)] == [first.id]


async def test_one_helper_claims_and_a_second_is_told_who_has_it(db, clock):
    escalation, _ = await open_one(db, clock)
    async with db.transaction() as tx:
        claimed = await svc.claim_escalation(tx, escalation.id, HELPER, clock.now())
    assert (claimed.status, claimed.helper_user_id) == ("claimed", HELPER)
    with pytest.raises(UserError, match=f"<@{HELPER}> is already on it"):
        async with db.transaction() as tx:
            await svc.claim_escalation(tx, escalation.id, OTHER_HELPER, clock.now())
    with pytest.raises(UserError, match="You're already on it"):
        async with db.transaction() as tx:
            await svc.claim_escalation(tx, escalation.id, HELPER, clock.now())


async def test_a_claimed_request_is_never_escalated(db, clock):
    escalation, _ = await open_one(db, clock)
    async with db.transaction() as tx:
        await svc.claim_escalation(tx, escalation.id, HELPER, clock.now())
        assert await svc.escalate_if_unclaimed(tx, escalation.id, clock.now() + TEN) is None
    assert await svc.waiting_escalations(db) == []


async def test_an_unclaimed_request_is_escalated_once_and_can_still_be_claimed(db, clock):
    escalation, _ = await open_one(db, clock)
    clock.advance(minutes=10)
    async with db.transaction() as tx:
        escalated = await svc.escalate_if_unclaimed(tx, escalation.id, clock.now())
        assert await svc.escalate_if_unclaimed(tx, escalation.id, clock.now()) is None
        claimed = await svc.claim_escalation(tx, escalation.id, HELPER, clock.now())
    assert escalated.escalated_at == int(clock.now().timestamp())
    assert claimed.status == "claimed"


async def test_a_cancelled_request_cannot_be_claimed_and_a_new_one_can_open(db, clock):
    escalation, _ = await open_one(db, clock)
    async with db.transaction() as tx:
        assert await svc.cancel_escalation(tx, escalation.id)
    with pytest.raises(UserError, match="closed"):
        async with db.transaction() as tx:
            await svc.claim_escalation(tx, escalation.id, HELPER, clock.now())
    _, new = await open_one(db, clock)
    assert new


async def test_a_block_lasts_its_days_and_zero_lifts_it(db, clock):
    async with db.transaction() as tx:
        until = await svc.block_author(tx, guild_id=GUILD, author_key="k", alias="Quiet Heron", days=7, now=clock.now())
    assert until == clock.now() + timedelta(days=7)
    assert await svc.blocked_until(db, GUILD, "k", clock.now()) == int(until.timestamp())
    assert await svc.blocked_until(db, 999, "k", clock.now()) is None
    assert await svc.blocked_until(db, GUILD, "k", until) is None
    async with db.transaction() as tx:
        await svc.block_author(tx, guild_id=GUILD, author_key="k", alias="Quiet Heron", days=0, now=clock.now())
    assert await svc.blocked_until(db, GUILD, "k", clock.now()) is None


@pytest.mark.parametrize(("text", "days"), [("7", 7), (" 0 ", 0), ("365", 365)])
def test_block_days_are_whole_numbers_up_to_a_year(text, days):
    assert svc.block_days(text) == days


@pytest.mark.parametrize("text", ["", "-1", "seven", "366", "1.5"])
def test_other_block_days_get_a_clear_message(text):
    with pytest.raises(UserError, match="0"):
        svc.block_days(text)


async def test_a_member_reports_a_post_once(db, clock):
    async with db.transaction() as tx:
        group_id = await tx.insert(
            "INSERT INTO groups (guild_id, name, name_key, channel_id, created_at) VALUES (?, 'G', 'g', 1, 0)", (GUILD,)
        )
        post_id = await tx.insert(
            "INSERT INTO anon_posts (guild_id, group_id, author_key, alias, mood) VALUES (?, ?, 'k', 'A', 3)",
            (GUILD, group_id),
        )
        assert await svc.record_report(tx, post_id, "r1", clock.now())
        assert not await svc.record_report(tx, post_id, "r1", clock.now())
        assert await svc.record_report(tx, post_id, "r2", clock.now())
    assert await db.fetchval("SELECT reports FROM anon_posts WHERE id = ?", (post_id,)) == 2
