"""/resources and the escalation ladder end to end, on the fake clock."""

from __future__ import annotations

import pytest

from tests.cogs.checkin_helpers import audit, circle, modlog, restarted

ASK = "Ask a person to reach out"


@pytest.fixture
def helpers(discord_double, world):
    """A 'Peer Helpers' role held by bob, in the server before the bot connects."""
    role = discord_double.add_role(world.guild, "Peer Helpers", 0, position=3)
    discord_double.add_member(world.guild, world.bob, [role])
    return role


@pytest.fixture
async def running(helpers, running):
    return running


async def claim(double, message, user):
    """Press "I'm on it" and wait for the helper's private note (it follows the edit of the message)."""
    clicked = await double.click(message, "I'm on it", user=user)
    await double.wait_until(lambda: clicked.followups)
    return clicked


async def ask_for_help(double, world, helpers, *, set_helpers: bool = True):
    """Alice writes a crisis note privately and presses the button."""
    await circle(double, world, members=("alice",))
    if set_helpers:
        await double.slash("setup helpers", user=world.maya, role=helpers)
    checkin = await double.slash("checkin", user=world.alice, mood=1, share="private", note="I want to die tonight")
    return await double.click(checkin, ASK, user=world.alice)


# ---------------------------------------------------------------------------------------------- /resources
async def test_resources_show_the_international_default_and_the_ask_button(running, discord_double, world):
    await discord_double.slash("setup modlog", user=world.maya, channel=world.modlog)
    reply = await discord_double.slash("resources", user=world.alice)
    assert reply.ephemeral and "988" in reply.text and "findahelpline.com" in reply.text
    assert reply.buttons == [ASK]


async def test_resources_show_the_servers_own_text(running, discord_double, world):
    await discord_double.slash("setup resources", user=world.maya, text="Our warmline: 555-0100")
    reply = await discord_double.slash("resources", user=world.alice)
    assert "555-0100" in reply.text and reply.buttons == []  # no mod-log, so no one to ask


async def test_resources_work_in_dms_with_a_button_per_server_that_can_take_a_request(running, discord_double, world):
    await discord_double.slash("setup modlog", user=world.maya, channel=world.modlog)
    reply = await discord_double.slash("resources", user=world.alice, dm=True)
    assert "988" in reply.text
    assert reply.buttons == ["Ask someone in Harbour Peer Support"]
    [command] = [c for c in discord_double.commands[None] if c["name"] == "resources"]
    assert command.get("contexts") is None or 1 in command["contexts"]


async def test_resources_are_never_rate_limited(running, discord_double, world):
    for _ in range(8):
        assert "988" in (await discord_double.slash("resources", user=world.alice)).text


async def test_resources_still_show_when_the_database_fails(running, discord_double, world):
    await running.bot.db.close()
    reply = await discord_double.slash("resources", user=world.alice)
    assert "988" in reply.text
    await running.bot.db.connect()


# ---------------------------------------------------------------------------------------------- the ladder
async def test_asking_pings_the_helpers_with_the_member_who_consented(running, discord_double, world, helpers):
    asked = await ask_for_help(discord_double, world, helpers)
    assert asked.ephemeral and "I've let the peer helpers" in asked.text
    [request] = modlog(discord_double, world)
    assert request["content"].startswith(f"<@&{helpers.id}> 🤝 <@{world.alice.id}>")
    assert "tonight" not in request["content"]  # the request never carries what she wrote
    body = discord_double.requests_to("POST", f"/channels/{world.modlog.id}/messages")[-1].body
    assert [int(r) for r in body["allowed_mentions"]["roles"]] == [helpers.id]
    assert ("escalation.request", "asked for someone to reach out", world.alice.id) in await audit(running)


async def test_a_helper_claims_and_the_member_is_told_who_is_coming(running, discord_double, world, helpers):
    await ask_for_help(discord_double, world, helpers)
    [request] = modlog(discord_double, world)
    claimed = await claim(discord_double, request, world.bob)
    assert "I've told them you're coming" in claimed.followups[0]["content"]
    edited = modlog(discord_double, world)[0]
    assert f"✅ <@{world.bob.id}> is on it" in edited["content"]
    with pytest.raises(AssertionError, match="disabled"):
        await discord_double.click(edited, "I'm on it", user=world.maya)
    [dm] = discord_double.dms_to(world.alice)
    assert "**Bob** from **Harbour Peer Support** is on their way" in dm["content"]
    running.clock.advance(minutes=11)
    await running.bot.scheduler.idle()
    assert len(modlog(discord_double, world)) == 1  # claimed: the moderators are never pinged
    assert ("escalation.claim", f"for <@{world.alice.id}>", world.bob.id) in await audit(running)


async def test_unclaimed_after_ten_minutes_the_moderators_are_pinged_once(running, discord_double, world, helpers):
    await ask_for_help(discord_double, world, helpers)
    running.clock.advance(minutes=9)
    await running.bot.scheduler.idle()
    assert len(modlog(discord_double, world)) == 1
    running.clock.advance(minutes=2)
    await running.bot.scheduler.idle()
    request, escalated = modlog(discord_double, world)
    assert escalated["content"].startswith(f"<@&{world.moderators.id}> ⏰ Nobody has picked up <@{world.alice.id}>")
    assert int(escalated["message_reference"]["message_id"]) == int(request["id"])
    running.clock.advance(minutes=30)
    await running.bot.scheduler.idle()
    assert len(modlog(discord_double, world)) == 2
    # A moderator can still pick it up from the first message.
    await claim(discord_double, request, world.maya)
    assert "**Maya**" in discord_double.dms_to(world.alice)[0]["content"]
    assert [a for a, _, _ in await audit(running) if a.startswith("escalation")] == [
        "escalation.request",
        "escalation.escalate",
        "escalation.claim",
    ]


WITHDRAW = "I'm OK for now, cancel my request"


async def test_the_member_can_take_the_request_back_before_anyone_picks_it_up(running, discord_double, world, helpers):
    asked = await ask_for_help(discord_double, world, helpers)
    await discord_double.wait_until(lambda: WITHDRAW in asked.buttons)  # "thinking…" became the answer
    assert asked.ephemeral and asked.followups == []
    withdrawn = await discord_double.click(asked, WITHDRAW, user=world.alice)
    assert "nobody will be pinged" in withdrawn.text
    [request] = modlog(discord_double, world)
    assert f"↩️ <@{world.alice.id}> said they're OK for now" in request["content"]
    with pytest.raises(AssertionError, match="disabled"):  # nobody is sent to someone who said they're OK
        await discord_double.click(request, "I'm on it", user=world.bob)
    running.clock.advance(minutes=11)
    await running.bot.scheduler.idle()
    assert len(modlog(discord_double, world)) == 1  # and the moderators are not pinged
    assert discord_double.dms_to(world.alice) == []
    status = await running.bot.db.fetchval("SELECT status FROM escalations")
    assert status == "cancelled"
    assert ("escalation.withdraw", "took back their request", world.alice.id) in await audit(running)


async def test_after_a_helper_picked_it_up_taking_it_back_says_who_is_coming(running, discord_double, world, helpers):
    asked = await ask_for_help(discord_double, world, helpers)
    await discord_double.wait_until(lambda: WITHDRAW in asked.buttons)
    [request] = modlog(discord_double, world)
    await claim(discord_double, request, world.bob)
    late = await discord_double.click(asked, WITHDRAW, user=world.alice)
    assert "**Bob** has already picked this up" in late.text and late.ephemeral
    assert await running.bot.db.fetchval("SELECT status FROM escalations") == "claimed"


async def test_only_the_member_who_asked_can_take_a_request_back(running, discord_double, world, helpers):
    await ask_for_help(discord_double, world, helpers)
    escalation_id = await running.bot.db.fetchval("SELECT id FROM escalations")
    from bot.services import safety as safety_service

    async with running.bot.db.transaction() as tx:
        assert not await safety_service.withdraw_escalation(tx, escalation_id, world.bob.id)
    assert await running.bot.db.fetchval("SELECT status FROM escalations") == "open"


async def test_the_ladder_survives_a_restart(running, discord_double, world, helpers):
    await ask_for_help(discord_double, world, helpers)
    await restarted(running)
    running.clock.advance(minutes=11)
    await running.bot.scheduler.idle()
    request, escalated = modlog(discord_double, world)
    assert "Nobody has picked up" in escalated["content"]
    await claim(discord_double, request, world.bob)  # the button survived too
    assert len(discord_double.dms_to(world.alice)) == 1


async def test_the_ask_button_keeps_working_after_a_restart(running, discord_double, world, helpers):
    await circle(discord_double, world, members=("alice",))
    checkin = await discord_double.slash("checkin", user=world.alice, mood=1, share="private", note="i feel suicidal")
    await restarted(running)
    asked = await discord_double.click(checkin, ASK, user=world.alice)
    assert "I've let the peer helpers" in asked.text


async def test_asking_twice_does_not_ping_twice(running, discord_double, world, helpers):
    await ask_for_help(discord_double, world, helpers)
    again = await discord_double.slash("resources", user=world.alice)
    second = await discord_double.click(again, ASK, user=world.alice)
    assert "You've already asked" in second.text
    assert len(modlog(discord_double, world)) == 1


async def test_only_helpers_and_moderators_can_claim(running, discord_double, world, helpers):
    await ask_for_help(discord_double, world, helpers)
    [request] = modlog(discord_double, world)
    refused = await discord_double.click(request, "I'm on it", user=world.carol)
    assert refused.ephemeral and "Only peer helpers or moderators" in refused.text
    assert discord_double.dms_to(world.alice) == []


async def test_when_the_members_dms_are_closed_they_are_told_at_their_next_interaction(
    running, discord_double, world, helpers
):
    await ask_for_help(discord_double, world, helpers)
    discord_double.close_dms(world.alice)
    claimed = await claim(discord_double, modlog(discord_double, world)[0], world.bob)
    assert "couldn't DM them" in claimed.followups[0]["content"]
    later = await discord_double.slash("help", user=world.alice)
    await discord_double.wait_until(lambda: later.followups)  # notes come after the command's own answer
    assert "**Bob** from **Harbour Peer Support** is on their way" in later.text
    assert discord_double.messages_in(world.general) == []  # never a public fallback


async def test_without_a_helper_role_the_moderators_are_pinged_at_once(running, discord_double, world, helpers):
    await ask_for_help(discord_double, world, helpers, set_helpers=False)
    [request] = modlog(discord_double, world)
    assert request["content"].startswith(f"<@&{world.moderators.id}> 🤝")
    assert [a for a, _, _ in await audit(running)][-2:] == ["escalation.request", "escalation.escalate"]
    running.clock.advance(minutes=11)
    await running.bot.scheduler.idle()
    assert len(modlog(discord_double, world)) == 1


async def test_asking_from_dms_reaches_that_servers_helpers(running, discord_double, world, helpers):
    await circle(discord_double, world, members=())
    await discord_double.slash("setup helpers", user=world.maya, role=helpers)
    resources = await discord_double.slash("resources", user=world.alice, dm=True)
    asked = await discord_double.click(resources, "Ask someone in Harbour Peer Support", user=world.alice)
    assert "Harbour Peer Support" in asked.text
    assert f"<@{world.alice.id}>" in modlog(discord_double, world)[0]["content"]


# ---------------------------------------------------------------------------------------------- /setup crisis-terms
async def test_crisis_terms_can_be_edited_in_a_form_and_cleared(running, discord_double, world):
    await discord_double.slash("setup crisis-terms", user=world.maya, terms="no way out")
    form = await discord_double.slash("setup crisis-terms", user=world.maya)
    field = form.modal["components"][0]
    inner = field.get("component") or field["components"][0]
    assert inner["value"] == "no way out"
    cleared = await discord_double.submit_modal(form, {inner["custom_id"]: ""}, user=world.maya)
    assert "only the built-in list" in cleared.text


async def test_members_cannot_change_crisis_terms(running, discord_double, world):
    reply = await discord_double.slash("setup crisis-terms", user=world.alice, terms="x")
    assert "Manage Server" in reply.text
