"""/checkin and /checkin-reply end to end: each share mode, the anonymous queue, replies, crisis language."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logic.anonymity import author_key
from bot.services import checkins as checkins_service
from tests.cogs.checkin_helpers import (
    GROUP,
    alias_in,
    circle,
    modlog,
    posts,
    restarted,
    share_anonymously,
    with_delay,
)
from tests.double.driver import CommandError


# ---------------------------------------------------------------------------------------------- private and named
async def test_a_private_checkin_goes_only_to_the_journal_with_a_kind_ephemeral_answer(running, discord_double, world):
    await circle(discord_double, world)
    reply = await discord_double.slash("checkin", user=world.alice, mood=2, share="private", note="rough day")
    assert reply.ephemeral
    assert "🌥️ Low" in reply.text and "It's okay not to be okay" in reply.text
    assert "private journal" in reply.text and "average **2.0** from 1 check-in" in reply.text
    assert posts(discord_double, world) == []
    row = await running.bot.db.fetchone("SELECT user_id, mood, note, share, group_id FROM checkins")
    assert tuple(row) == (world.alice.id, 2, "rough day", "private", None)


async def test_a_private_checkin_needs_no_group(running, discord_double, world):
    reply = await discord_double.slash("checkin", user=world.erin, mood=4, share="private")
    assert "private journal" in reply.text


async def test_the_seven_day_average_includes_earlier_checkins(running, discord_double, world):
    await discord_double.slash("checkin", user=world.alice, mood=1, share="private")
    running.clock.advance(days=1)
    reply = await discord_double.slash("checkin", user=world.alice, mood=4, share="private")
    assert "average **2.5** from 2 check-ins" in reply.text


async def test_a_checkin_while_another_process_holds_the_database_is_saved_once_it_is_free(
    running, discord_double, world
):
    # Say a backup script or a second copy of the bot holds SQLite's write lock for a moment: the check-in
    # waits for it off the event loop, so other members are answered meanwhile, and is then saved as said.
    import asyncio
    import sqlite3

    # Another connection, used from a thread of its own as another process would be (the bot may still be
    # writing what it does at start, and must go on doing so while this one waits for the lock).
    other = sqlite3.connect(running.bot.db.path, isolation_level=None, check_same_thread=False)
    await asyncio.to_thread(other.execute, "BEGIN IMMEDIATE")
    checkin = asyncio.create_task(discord_double.slash("checkin", user=world.alice, mood=3, share="private"))
    await asyncio.sleep(0.1)
    assert not checkin.done()
    loop = asyncio.get_running_loop()
    asked = loop.time()
    help_reply = await discord_double.slash("help", user=world.erin)
    assert loop.time() - asked < 2  # not stuck behind the lock (SQLite would wait up to 5 s for it)
    assert help_reply.ephemeral and not checkin.done()
    await asyncio.to_thread(other.execute, "COMMIT")
    other.close()
    reply = await checkin
    assert "private journal" in reply.text
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM checkins WHERE user_id = ?", (world.alice.id,)) == 1


async def test_a_named_checkin_is_posted_under_the_members_name_without_pinging(running, discord_double, world):
    await circle(discord_double, world)
    reply = await discord_double.slash(
        "checkin", user=world.alice, mood=4, share="named", note="made it to a meeting", in_channel=world.meetings
    )
    assert reply.ephemeral and "Shared in" in reply.text
    [post] = posts(discord_double, world)
    assert post["content"].startswith(f"<@{world.alice.id}> checked in · 🌤️ Good")
    assert "made it to a meeting" in post["content"]
    body = discord_double.requests_to("POST", f"/channels/{world.checkins.id}/messages")[-1].body
    assert body["allowed_mentions"]["parse"] == []
    row = await running.bot.db.fetchone("SELECT share, message_id FROM checkins")
    assert tuple(row) == ("named", int(post["id"]))


async def test_content_warning_hides_the_note_behind_a_spoiler(running, discord_double, world):
    await circle(discord_double, world)
    await discord_double.slash(
        "checkin", user=world.alice, mood=2, share="named", note="used || again", content_warning="relapse"
    )
    content = posts(discord_double, world)[0]["content"]
    assert "⚠️ **Content warning:** relapse\n||used \\|\\| again||" in content


async def test_notes_are_limited_to_a_thousand_characters_in_the_discord_client(running, discord_double, world):
    option = next(
        o for c in discord_double.commands[None] if c["name"] == "checkin" for o in c["options"] if o["name"] == "note"
    )
    assert option["max_length"] == 1000
    with pytest.raises(CommandError, match="longer than 1000"):
        await discord_double.slash("checkin", user=world.alice, mood=3, share="private", note="x" * 1001)


# ---------------------------------------------------------------------------------------------- choosing a group
async def test_the_group_defaults_to_the_group_of_the_channel(running, discord_double, world):
    await circle(discord_double, world)
    await discord_double.slash("setup group-create", user=world.maya, name="Family Room", channel=world.general)
    await discord_double.slash("group join", user=world.alice, group="Family Room")
    await discord_double.slash("checkin", user=world.alice, mood=3, share="named", in_channel=world.checkins)
    assert len(posts(discord_double, world)) == 1


async def test_a_member_of_several_groups_picks_one_and_nothing_is_saved_before(running, discord_double, world):
    await circle(discord_double, world)
    await discord_double.slash("setup group-create", user=world.maya, name="Family Room", channel=world.general)
    await discord_double.slash("group join", user=world.alice, group="Family Room")
    ask = await discord_double.slash(
        "checkin", user=world.alice, mood=3, share="named", note="hi", in_channel=world.voice
    )
    assert "Which group" in ask.text and "isn't saved yet" in ask.text
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM checkins") == 0
    circle_id = str(next(g.id for g in await _groups(running) if g.name == GROUP))
    done = await discord_double.select(ask, [circle_id], user=world.alice)
    assert "Shared in" in done.text
    assert "hi" in posts(discord_double, world)[0]["content"]


async def test_someone_in_no_group_can_keep_the_checkin_private_instead(running, discord_double, world):
    await circle(discord_double, world, members=())
    ask = await discord_double.slash("checkin", user=world.carol, mood=2, share="anonymous", note="first time")
    assert "not in a group here yet" in ask.text
    kept = await discord_double.click(ask, "Keep it private", user=world.carol)
    assert "private journal" in kept.text
    assert (
        await running.bot.db.fetchval("SELECT note FROM checkins WHERE user_id = ?", (world.carol.id,)) == "first time"
    )
    assert posts(discord_double, world) == []


async def test_sharing_in_a_group_you_are_not_in_is_refused(running, discord_double, world):
    await circle(discord_double, world, members=())
    ask = await discord_double.slash("checkin", user=world.carol, mood=3, share="named", group=GROUP)
    assert "You're not in **Tuesday Circle**" in ask.text


# ---------------------------------------------------------------------------------------------- anonymous
async def test_an_anonymous_checkin_is_a_separate_post_after_the_delay_with_a_thread(running, discord_double, world):
    await circle(discord_double, world)
    with_delay(running, 120)
    reply = await discord_double.slash("checkin", user=world.alice, mood=3, share="anonymous", note="one day at a time")
    alias = alias_in(reply.text)
    assert reply.ephemeral and "within about 2 minutes" in reply.text and "your name in Tuesday Circle" in reply.text
    running.clock.advance(minutes=1)
    await running.bot.scheduler.idle()
    assert posts(discord_double, world) == []
    running.clock.advance(minutes=1)
    await running.bot.scheduler.idle()
    [post] = posts(discord_double, world)
    assert post["content"].startswith(f"🕊️ **{alias}** checked in · ⛅ Getting by\none day at a time")
    assert "interaction_metadata" not in post and "webhook_id" not in post  # not the interaction's reply
    [thread] = discord_double.threads_in(world.checkins)
    assert thread.name == f"Replies to {alias}" and thread.id == int(post["id"])


async def test_the_alias_is_stable_within_a_week_and_changes_the_next(running, discord_double, world):
    await circle(discord_double, world)
    first = alias_in((await share_anonymously(discord_double, running, world.alice)).text)
    running.clock.advance(days=3)
    again = alias_in((await share_anonymously(discord_double, running, world.alice)).text)
    running.clock.advance(days=7)
    later = alias_in((await share_anonymously(discord_double, running, world.alice)).text)
    other = alias_in((await share_anonymously(discord_double, running, world.bob)).text)
    assert first == again != later
    assert other != later


async def test_the_anonymous_queue_survives_a_restart_and_posts_once(running, discord_double, world):
    await circle(discord_double, world)
    with_delay(running, 300)
    await discord_double.slash("checkin", user=world.alice, mood=2, share="anonymous", note="still here")
    await restarted(running)
    assert [k for k in running.bot.scheduler.pending() if k.startswith("anon-post:")] == ["anon-post:1"]
    assert posts(discord_double, world) == []
    running.clock.advance(minutes=6)
    await running.bot.scheduler.idle()
    await restarted(running)
    running.clock.advance(minutes=6)
    await running.bot.scheduler.idle()
    assert [p["content"].count("still here") for p in posts(discord_double, world)] == [1]


async def test_a_post_cut_off_mid_send_by_a_crash_is_sent_once_after_the_restart(running, discord_double, world):
    await circle(discord_double, world)
    with_delay(running, 300)
    await discord_double.slash("checkin", user=world.alice, mood=2, share="anonymous", note="still here")
    # The crash: the post was claimed and Discord took the message, but the bot died before recording it.
    async with running.bot.db.transaction() as tx:
        post = await checkins_service.claim_post(tx, 1)
    from cogs._checkin_ui import render_post

    await running.bot.get_channel(world.checkins.id).send(render_post(post), nonce="anon-1-p")
    await restarted(running)
    running.clock.advance(minutes=6)
    await running.bot.scheduler.idle()
    [sent] = posts(discord_double, world)
    stored = await checkins_service.get_post(running.bot.db, 1)
    assert (stored.status, stored.message_id, stored.thread_id) == ("published", int(sent["id"]), int(sent["id"]))


async def test_nothing_ties_an_anonymous_post_to_its_author(running, discord_double, world, caplog):
    caplog.set_level(logging.DEBUG)
    await circle(discord_double, world)
    note = "Day twelve and the cravings are loud tonight"
    reply = await share_anonymously(discord_double, running, world.alice, mood=2, note=note)
    await discord_double.slash("checkin-reply", user=world.alice, post="1", message="thank you all, truly")
    alias = alias_in(reply.text)
    [post] = posts(discord_double, world)
    key = author_key(running.bot.anon_secret, world.guild.id, world.alice.id)
    marks = {alias, note, key, post["id"], "thank you all, truly"}
    who = {str(world.alice.id), world.alice.name, world.alice.name.title()}
    # The database: no row holds both something of the post and something of alice.
    tables = [r["name"] for r in await running.bot.db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for row in await running.bot.db.fetchall(f"SELECT * FROM {table}"):
            values = {str(v) for v in tuple(row)}
            assert not (values & who and any(m in v for m in marks for v in values)), (table, tuple(row))
    # The logs: never the note, and never alice next to the post.
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert note not in text
        assert not (any(w in text for w in who) and any(m in text for m in (alias, post["id"], key)))
    # The traffic: what the bot sent to Discord never puts alice next to the post.
    for request in discord_double.requests:
        body = json.dumps(request.body) if request.body is not None else ""
        if any(m in body or m in request.path for m in marks):
            assert not any(w in body for w in who), (request.method, request.path)


# ---------------------------------------------------------------------------------------------- refusals
async def test_a_group_with_anonymity_off_refuses_kindly_and_offers_other_ways(running, discord_double, world):
    await circle(discord_double, world, anonymity="off")
    ask = await discord_double.slash("checkin", user=world.alice, mood=3, share="anonymous", note="hi")
    assert "doesn't take anonymous check-ins" in ask.text and "isn't saved yet" in ask.text
    assert ask.buttons == ["Share by name instead", "Keep it private"]
    named = await discord_double.click(ask, "Share by name instead", user=world.alice)
    assert "Shared in" in named.text
    assert posts(discord_double, world)[0]["content"].startswith(f"<@{world.alice.id}>")


async def test_anonymous_sharing_is_refused_when_the_bot_cannot_post_in_the_channel(running, discord_double, world):
    from tests.double.payloads import SEND_MESSAGES

    await circle(discord_double, world)
    world.checkins.overwrites.append((world.bot_role.id, 0, 0, SEND_MESSAGES))
    await discord_double.update_channel(world.checkins)
    await discord_double.wait_until(
        lambda: (
            not running.bot.get_channel(world.checkins.id)
            .permissions_for(running.bot.get_guild(world.guild.id).me)
            .send_messages
        )
    )
    ask = await discord_double.slash("checkin", user=world.alice, mood=3, share="anonymous")
    assert "can't post in **Tuesday Circle**'s check-in channel" in ask.text
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM anon_posts") == 0


# ---------------------------------------------------------------------------------------------- replies
async def test_the_author_replies_under_the_posts_alias_and_others_under_their_own(running, discord_double, world):
    await circle(discord_double, world)
    alias = alias_in((await share_anonymously(discord_double, running, world.alice)).text)
    running.clock.advance(days=7)  # the author's alias for new posts has rotated since
    mine = await discord_double.slash("checkin-reply", user=world.alice, post="1", message="thanks, everyone")
    theirs = await discord_double.slash("checkin-reply", user=world.bob, post="1", message="proud of you")
    assert mine.ephemeral and f"as **{alias}**" in mine.text
    bob_alias = alias_in(theirs.text)
    [thread] = discord_double.threads_in(world.checkins)
    contents = [m["content"] for m in discord_double.messages_in(thread)]
    assert contents == [f"💬 **{alias}** (who posted this): thanks, everyone", f"💬 **{bob_alias}**: proud of you"]


async def test_a_member_can_reply_from_their_dms_so_nobody_sees_them_typing(running, discord_double, world):
    await circle(discord_double, world)
    await share_anonymously(discord_double, running, world.alice)
    choices = await discord_double.autocomplete(
        "checkin-reply", user=world.bob, focused="post", in_channel=world.general
    )
    assert [c["value"] for c in choices] == ["1"]
    reply = await discord_double.slash("checkin-reply", user=world.bob, post="1", message="sending strength", dm=True)
    assert "Replied in the thread" in reply.text
    [thread] = discord_double.threads_in(world.checkins)
    assert "sending strength" in discord_double.messages_in(thread)[0]["content"]


async def test_only_members_of_the_group_can_reply_anonymously(running, discord_double, world):
    await circle(discord_double, world)
    await share_anonymously(discord_double, running, world.alice)
    reply = await discord_double.slash("checkin-reply", user=world.carol, post="1", message="hi")
    assert "Only members of **Tuesday Circle**" in reply.text


async def test_a_reply_to_something_that_is_not_an_anonymous_checkin_gets_a_clear_message(
    running, discord_double, world
):
    reply = await discord_double.slash("checkin-reply", user=world.alice, post="12345", message="hi")
    assert "can't find that anonymous check-in" in reply.text


# ---------------------------------------------------------------------------------------------- crisis language
async def test_crisis_language_brings_resources_and_the_ask_button_in_the_same_private_reply(
    running, discord_double, world
):
    await circle(discord_double, world)
    reply = await discord_double.slash("checkin", user=world.alice, mood=1, share="private", note="I want to die")
    assert reply.ephemeral
    assert "sounds really heavy" in reply.text and "988" in reply.text
    assert reply.buttons == ["Ask a person to reach out"]
    assert modlog(discord_double, world) == []  # nothing is sent to anyone without the button


@pytest.mark.parametrize("note", ["killing it at work today!", "this commute is killing me", "dead tired but ok"])
async def test_everyday_idioms_do_not_bring_crisis_resources(running, discord_double, world, note):
    reply = await discord_double.slash("checkin", user=world.alice, mood=4, share="private", note=note)
    assert "988" not in reply.text and reply.buttons == []


async def test_without_a_mod_log_crisis_language_still_brings_the_resources(running, discord_double, world):
    reply = await discord_double.slash("checkin", user=world.alice, mood=1, share="private", note="i feel suicidal")
    assert "988" in reply.text and reply.buttons == []


async def test_a_servers_own_terms_and_resources_are_used(running, discord_double, world):
    await discord_double.slash("setup resources", user=world.maya, text="Call our warmline: 555-0100")
    saved = await discord_double.slash("setup crisis-terms", user=world.maya, terms="no way out, Giving Up")
    assert "no way out, giving up" in saved.text
    reply = await discord_double.slash("checkin", user=world.alice, mood=2, share="private", note="feel like giving up")
    assert "555-0100" in reply.text and "988" not in reply.text


async def test_an_anonymous_crisis_post_alerts_the_moderators_with_the_link_never_the_author(
    running, discord_double, world
):
    await circle(discord_double, world)
    reply = await share_anonymously(discord_double, running, world.alice, mood=1, note="i want to end it all")
    alias = alias_in(reply.text)
    [post] = posts(discord_double, world)
    [alert] = modlog(discord_double, world)
    assert f"<@&{world.moderators.id}>" in alert["content"] and f"**{alias}**" in alert["content"]
    assert f"/{world.checkins.id}/{post['id']}" in alert["content"]
    assert str(world.alice.id) not in json.dumps(alert)
    assert ("anon.crisis_alert", f"{alias} in {GROUP} (post 1)", None) in [
        tuple(r) for r in await running.bot.db.fetchall("SELECT action, detail, actor_id FROM audit_log")
    ]


async def _groups(running):
    from bot.services import groups as groups_service

    return await groups_service.list_groups(running.bot.db, next(iter(running.bot.guilds)).id)
