"""Moderating anonymous posts end to end: report, remove, block, vetted mode, /setup anonymity. By alias only."""

from __future__ import annotations

import json

from bot.services import checkins as checkins_service
from tests.cogs.checkin_helpers import (
    GROUP,
    alias_in,
    audit,
    circle,
    modlog,
    posts,
    restarted,
    share_anonymously,
    with_delay,
)

REPORT, REMOVE, BLOCK = "Report anonymous post", "Remove anonymous post", "Block anonymous author"


async def alices_post(double, running, world, **options):
    """Alice shares anonymously in Tuesday Circle; return (her alias, the post's message)."""
    await circle(double, world, **options)
    reply = await share_anonymously(double, running, world.alice, mood=2, note="hard week")
    return alias_in(reply.text), posts(double, world)[-1]


def never_names_alice(world, messages) -> bool:
    text = json.dumps(messages)
    return str(world.alice.id) not in text and world.alice.name not in text.lower()


# ---------------------------------------------------------------------------------------------- report
async def test_anyone_can_report_and_moderators_get_the_link_not_the_reporter(running, discord_double, world):
    alias, post = await alices_post(discord_double, running, world)
    reply = await discord_double.message_command(REPORT, post, user=world.bob)
    assert reply.ephemeral and "they see the post, not who reported it" in reply.text
    [report] = modlog(discord_double, world)
    assert f"**{alias}**" in report["content"] and f"/{world.checkins.id}/{post['id']}" in report["content"]
    assert str(world.bob.id) not in report["content"] and never_names_alice(world, report)
    assert (await audit(running))[-1] == ("anon.report", f"{alias} in {GROUP} (post 1)", None)
    again = await discord_double.message_command(REPORT, post, user=world.bob)
    assert "already reported" in again.text and len(modlog(discord_double, world)) == 1
    await discord_double.message_command(REPORT, post, user=world.carol)
    assert "(2 reports)" in modlog(discord_double, world)[-1]["content"]


async def test_reporting_a_message_that_is_not_anonymous_says_so(running, discord_double, world):
    await circle(discord_double, world)
    await discord_double.slash("checkin", user=world.alice, mood=3, share="named")
    reply = await discord_double.message_command(REPORT, posts(discord_double, world)[0], user=world.bob)
    assert "isn't an anonymous check-in" in reply.text


async def test_without_a_mod_log_a_report_asks_to_tell_a_moderator(running, discord_double, world):
    _, post = await alices_post(discord_double, running, world, modlog=False)
    reply = await discord_double.message_command(REPORT, post, user=world.bob)
    assert "no mod-log" in reply.text


# ---------------------------------------------------------------------------------------------- remove
async def test_a_moderator_removes_a_post_by_alias(running, discord_double, world):
    alias, post = await alices_post(discord_double, running, world)
    reply = await discord_double.message_command(REMOVE, post, user=world.maya)
    assert reply.ephemeral and f"Removed **{alias}**'s check-in" in reply.text
    assert posts(discord_double, world) == []
    assert (await checkins_service.get_post(running.bot.db, 1)).status == "removed"
    assert (await audit(running))[-1] == ("anon.remove", f"{alias} in {GROUP} (post 1)", world.maya.id)
    [entry] = modlog(discord_double, world)
    assert entry["content"] == f"<@{world.maya.id}> removed an anonymous check-in by **{alias}** in **{GROUP}**."


async def test_members_cannot_remove_or_block(running, discord_double, world):
    _, post = await alices_post(discord_double, running, world)
    for menu in (REMOVE, BLOCK):
        reply = await discord_double.message_command(menu, post, user=world.bob)
        assert "Manage Server" in reply.text
    assert len(posts(discord_double, world)) == 1
    menus = {c["name"]: c for c in discord_double.commands[None] if c.get("type") == 3}
    assert menus[REMOVE]["default_member_permissions"] == str(1 << 5)
    assert menus[REPORT]["default_member_permissions"] is None


async def test_an_anonymous_reply_can_be_removed_too(running, discord_double, world):
    await alices_post(discord_double, running, world)
    reply = await discord_double.slash("checkin-reply", user=world.bob, post="1", message="rude words")
    bob_alias = alias_in(reply.text)
    [thread] = discord_double.threads_in(world.checkins)
    [message] = discord_double.messages_in(thread)
    removed = await discord_double.message_command(REMOVE, message, user=world.maya)
    assert f"Removed **{bob_alias}**'s reply" in removed.text
    assert discord_double.messages_in(thread) == []


# ---------------------------------------------------------------------------------------------- block
async def block(double, world, post, days="7"):
    """Maya uses Block anonymous author on a post and answers the form."""
    form = await double.message_command(BLOCK, post, user=world.maya)
    first = form.modal["components"][0]
    days_field = (first.get("component") or first["components"][0])["custom_id"]
    return await double.submit_modal(form, {days_field: days}, user=world.maya)


async def test_a_blocked_author_learns_it_kindly_when_they_next_try(running, discord_double, world):
    alias, post = await alices_post(discord_double, running, world)
    blocked = await block(discord_double, world, post)
    assert f"The author of **{alias}** can't post anonymously" in blocked.text and "told kindly" in blocked.text
    assert (await audit(running))[-1] == ("anon.block", f"{alias} in {GROUP}: 7 days", world.maya.id)
    assert "blocked the author" in modlog(discord_double, world)[-1]["content"]
    attempt = await discord_double.slash("checkin", user=world.alice, mood=2, share="anonymous", note="again")
    assert attempt.ephemeral and "paused anonymous sharing for you" in attempt.text and "<t:" in attempt.text
    assert attempt.buttons == ["Share by name instead", "Keep it private"]
    kept = await discord_double.click(attempt, "Keep it private", user=world.alice)
    assert "private journal" in kept.text
    reply = await discord_double.slash("checkin-reply", user=world.alice, post="1", message="hi")
    assert "paused anonymous sharing" in reply.text
    other = await share_anonymously(discord_double, running, world.bob)
    assert "will appear" in other.text  # only that author is blocked


async def test_a_block_ends_after_its_days_and_can_be_lifted_with_zero(running, discord_double, world):
    _, post = await alices_post(discord_double, running, world)
    await block(discord_double, world, post, days="2")
    running.clock.advance(days=2, minutes=1)
    assert "will appear" in (await discord_double.slash("checkin", user=world.alice, mood=3, share="anonymous")).text
    await running.bot.scheduler.idle()
    await block(discord_double, world, post, days="30")
    lifted = await block(discord_double, world, post, days="0")
    assert "can post anonymously again" in lifted.text
    assert "will appear" in (await discord_double.slash("checkin", user=world.alice, mood=3, share="anonymous")).text


async def test_a_post_still_queued_when_its_author_is_blocked_is_withheld(running, discord_double, world):
    _, post = await alices_post(discord_double, running, world)
    with_delay(running, 300)
    await discord_double.slash("checkin", user=world.alice, mood=3, share="anonymous", note="queued")
    await block(discord_double, world, post)
    running.clock.advance(minutes=6)
    await running.bot.scheduler.idle()
    assert len(posts(discord_double, world)) == 1
    assert (await checkins_service.get_post(running.bot.db, 2)).status == "withheld"


async def test_a_bad_number_of_days_gets_a_clear_message(running, discord_double, world):
    _, post = await alices_post(discord_double, running, world)
    reply = await block(discord_double, world, post, days="abc")
    assert "whole number" in reply.text


# ---------------------------------------------------------------------------------------------- vetted
async def test_vetted_posts_wait_in_the_mod_log_until_a_moderator_approves(running, discord_double, world):
    await circle(discord_double, world, anonymity="vetted")
    reply = await share_anonymously(discord_double, running, world.alice, mood=2, note="hard week")
    alias = alias_in(reply.text)
    assert "goes to the moderators" in reply.text
    assert posts(discord_double, world) == []
    [held] = modlog(discord_double, world)
    assert held["embeds"][0]["title"] == f"Anonymous check-in waiting for approval · {GROUP}"
    assert f"**{alias}**" in held["embeds"][0]["description"] and "hard week" in held["embeds"][0]["description"]
    assert never_names_alice(world, held)
    await discord_double.click(held, "Approve", user=world.maya)
    await discord_double.wait_until(lambda: posts(discord_double, world))
    [post] = posts(discord_double, world)
    assert post["content"].startswith(f"🕊️ **{alias}**") and len(discord_double.threads_in(world.checkins)) == 1
    decided = discord_double.messages[int(held["id"])]
    assert decided["components"] == [] and "Approved" in json.dumps(decided["embeds"])
    assert ("anon.approve", f"{alias} in {GROUP} (post 1)", world.maya.id) in await audit(running)


async def test_a_rejected_vetted_post_is_never_posted(running, discord_double, world):
    await circle(discord_double, world, anonymity="vetted")
    await share_anonymously(discord_double, running, world.alice)
    [held] = modlog(discord_double, world)
    await discord_double.click(held, "Reject", user=world.maya)
    await discord_double.wait_until(lambda: discord_double.messages[int(held["id"])]["components"] == [])
    assert posts(discord_double, world) == []
    assert (await checkins_service.get_post(running.bot.db, 1)).status == "rejected"
    assert [a for a, _, _ in await audit(running)][-1] == "anon.reject"


async def test_approve_and_reject_keep_working_after_a_restart_and_only_for_moderators(running, discord_double, world):
    await circle(discord_double, world, anonymity="vetted")
    await share_anonymously(discord_double, running, world.alice)
    [held] = modlog(discord_double, world)
    refused = await discord_double.click(held, "Approve", user=world.bob)
    assert "Only moderators" in refused.text
    await restarted(running)
    await discord_double.click(held, "Approve", user=world.maya)
    await discord_double.wait_until(lambda: posts(discord_double, world))
    assert discord_double.messages[int(held["id"])]["components"] == []  # decided: no buttons left
    assert len(posts(discord_double, world)) == 1


async def test_a_second_moderator_is_told_the_post_was_already_decided(running, discord_double, world):
    await circle(discord_double, world, anonymity="vetted")
    await share_anonymously(discord_double, running, world.alice)
    [held] = modlog(discord_double, world)
    stale = dict(held)  # what a second moderator's client still shows
    await discord_double.click(held, "Reject", user=world.maya)
    await discord_double.wait_until(lambda: discord_double.messages[int(held["id"])]["components"] == [])
    discord_double.messages[int(held["id"])]["components"] = stale["components"]
    second = await discord_double.click(held, "Approve", user=world.maya)
    assert "already rejected" in second.text and posts(discord_double, world) == []


async def test_an_interrupted_approval_goes_back_to_the_moderators_after_a_restart(running, discord_double, world):
    await circle(discord_double, world, anonymity="vetted")
    await share_anonymously(discord_double, running, world.alice)
    async with running.bot.db.transaction() as tx:
        await checkins_service.move_post(tx, 1, ("held",), "approving")  # the crash came mid-approval
    await restarted(running)
    assert (await checkins_service.get_post(running.bot.db, 1)).status == "held"
    await discord_double.click(modlog(discord_double, world)[0], "Approve", user=world.maya)
    await discord_double.wait_until(lambda: posts(discord_double, world))


# ---------------------------------------------------------------------------------------------- /setup anonymity
async def test_setup_anonymity_changes_the_mode_and_is_audited(running, discord_double, world):
    await circle(discord_double, world, modlog=False)
    reply = await discord_double.slash("setup anonymity", user=world.maya, group=GROUP, mode="vetted")
    assert "wait in the mod-log" in reply.text and "no mod-log yet" in reply.text
    assert (await audit(running))[-1] == ("group.anonymity", f"{GROUP}: vetted", world.maya.id)
    refused = await discord_double.slash("checkin", user=world.alice, mood=3, share="anonymous")
    assert "no mod-log set up yet" in refused.text
    member = await discord_double.slash("setup anonymity", user=world.alice, group=GROUP, mode="off")
    assert "Manage Server" in member.text


async def test_turning_anonymity_off_withholds_posts_still_in_the_queue(running, discord_double, world):
    await circle(discord_double, world)
    with_delay(running, 300)
    await discord_double.slash("checkin", user=world.alice, mood=3, share="anonymous")
    await discord_double.slash("setup anonymity", user=world.maya, group=GROUP, mode="off")
    running.clock.advance(minutes=6)
    await running.bot.scheduler.idle()
    assert posts(discord_double, world) == []
    assert (await checkins_service.get_post(running.bot.db, 1)).status == "withheld"
