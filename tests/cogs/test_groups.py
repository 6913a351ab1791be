"""/group list|join|leave through the real discord.py client and the local Discord."""

from __future__ import annotations

from bot.services import groups as groups_service
from tests.double.payloads import MANAGE_ROLES


async def test_joining_welcomes_the_member_grants_the_role_and_suggests_own_reminders(running, discord_double, world):
    await discord_double.slash(
        "setup group-create", user=world.maya, name="Tuesday Circle", channel=world.meetings, role=world.members_role
    )
    reply = await discord_double.slash("group join", user=world.alice, group="tuesday circle")
    assert reply.ephemeral
    assert "Welcome to **Tuesday Circle**" in reply.text
    assert "/reminders set" in reply.text and "Nobody else can set them for you" in reply.text
    assert reply.buttons == ["Remind me 1 hour before", "1 day before", "No thanks"]
    assert world.members_role.id in world.guild.members[world.alice.id].roles
    group = (await groups_service.list_groups(running.bot.db, world.guild.id))[0]
    assert await groups_service.is_member(running.bot.db, group.id, world.alice.id)


async def test_joining_twice_is_gentle_and_keeps_one_membership(running, discord_double, world):
    await discord_double.slash("setup group-create", user=world.maya, name="Tuesday Circle", channel=world.meetings)
    await discord_double.slash("group join", user=world.alice, group="Tuesday Circle")
    again = await discord_double.slash("group join", user=world.alice, group="Tuesday Circle")
    assert "already in **Tuesday Circle**" in again.text
    assert await running.bot.db.fetchval("SELECT COUNT(*) FROM memberships") == 1


async def test_join_still_works_when_the_bot_cannot_grant_the_role_and_says_so(running, discord_double, world):
    await discord_double.slash(
        "setup group-create", user=world.maya, name="Tuesday Circle", channel=world.meetings, role=world.members_role
    )
    world.bot_role.permissions &= ~MANAGE_ROLES
    reply = await discord_double.slash("group join", user=world.alice, group="Tuesday Circle")
    assert "Welcome to **Tuesday Circle**" in reply.text
    assert "couldn't give you the **Tuesday Circle** role" in reply.text
    assert world.members_role.id not in world.guild.members[world.alice.id].roles


async def test_unknown_group_gets_a_clear_message(running, discord_double, world):
    reply = await discord_double.slash("group join", user=world.alice, group="Nope")
    assert "There's no group called **Nope** here" in reply.text


async def test_list_shows_groups_with_join_buttons_that_work(running, discord_double, world):
    await discord_double.slash(
        "setup group-create", user=world.maya, name="Tuesday Circle", channel=world.meetings, description="Peers"
    )
    listing = await discord_double.slash("group list", user=world.bob)
    assert listing.ephemeral
    assert "Tuesday Circle" in listing.text and "Peers" in listing.text
    assert listing.buttons == ["Join Tuesday Circle"]
    clicked = await discord_double.click(listing, "Join Tuesday Circle", user=world.bob)
    assert "Welcome to **Tuesday Circle**" in clicked.text
    group = (await groups_service.list_groups(running.bot.db, world.guild.id))[0]
    assert await groups_service.is_member(running.bot.db, group.id, world.bob.id)


async def test_join_button_keeps_working_after_a_restart(running, discord_double, world):
    await discord_double.slash("setup group-create", user=world.maya, name="Tuesday Circle", channel=world.meetings)
    listing = await discord_double.slash("group list", user=world.bob)
    await running.restart()
    clicked = await discord_double.click(listing, "Join Tuesday Circle", user=world.bob)
    assert "Welcome to **Tuesday Circle**" in clicked.text


async def test_leaving_removes_membership_and_role(running, discord_double, world):
    await discord_double.slash(
        "setup group-create", user=world.maya, name="Tuesday Circle", channel=world.meetings, role=world.members_role
    )
    await discord_double.slash("group join", user=world.alice, group="Tuesday Circle")
    reply = await discord_double.slash("group leave", user=world.alice, group="Tuesday Circle")
    assert "You've left **Tuesday Circle**" in reply.text and "welcome back" in reply.text
    assert world.members_role.id not in world.guild.members[world.alice.id].roles
    again = await discord_double.slash("group leave", user=world.alice, group="Tuesday Circle")
    assert "not in **Tuesday Circle**" in again.text


async def test_group_commands_do_not_work_in_dms(running, discord_double, world):
    names = {c["name"]: c for c in discord_double.commands[None]}
    assert names["group"].get("contexts") == [0] or names["group"].get("dm_permission") is False


async def test_help_explains_the_bot_and_links_privacy(running, discord_double, world):
    reply = await discord_double.slash("help", user=world.alice)
    assert reply.ephemeral
    assert "/reminders set" in reply.text and "privacy.md" in reply.text
