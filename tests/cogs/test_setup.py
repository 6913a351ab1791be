"""/setup … through the real discord.py client and the local Discord."""

from __future__ import annotations

import pytest

from bot.services import groups as groups_service
from tests.double.driver import CommandError
from tests.double.payloads import GUILD_VOICE, MANAGE_EVENTS, SEND_MESSAGES


async def create_group(double, world, **extra):
    return await double.slash(
        "setup group-create", user=world.maya, name="Tuesday Circle", channel=world.meetings, **extra
    )


async def test_moderator_creates_a_group_and_it_is_saved(running, discord_double, world):
    reply = await create_group(
        discord_double, world, description="Recovery peers", role=world.members_role, checkin_channel=world.checkins
    )
    assert reply.ephemeral
    assert "Created **Tuesday Circle**" in reply.text
    groups = await groups_service.list_groups(running.bot.db, world.guild.id)
    assert [(g.name, g.channel_id, g.role_id, g.checkin_channel_id) for g in groups] == [
        ("Tuesday Circle", world.meetings.id, world.members_role.id, world.checkins.id)
    ]
    audit = await running.bot.db.fetchall("SELECT action, detail, actor_id FROM audit_log")
    assert [tuple(r) for r in audit] == [("group.create", "Tuesday Circle", world.maya.id)]


async def test_member_without_manage_server_is_refused_and_nothing_is_saved(running, discord_double, world):
    reply = await discord_double.slash("setup group-create", user=world.alice, name="Mine", channel=world.general)
    assert reply.ephemeral
    assert "You need the **Manage Server** permission" in reply.text
    assert await groups_service.list_groups(running.bot.db, world.guild.id) == []


async def test_setup_commands_are_hidden_by_default_for_members_without_manage_server(running, discord_double):
    setup = next(c for c in discord_double.commands[None] if c["name"] == "setup")
    assert setup["default_member_permissions"] == str(1 << 5)
    assert setup.get("contexts") == [0] or setup.get("dm_permission") is False


async def test_group_names_are_unique_ignoring_case(running, discord_double, world):
    await create_group(discord_double, world)
    reply = await discord_double.slash(
        "setup group-create", user=world.maya, name="tuesday  circle", channel=world.general
    )
    assert "already a group called **Tuesday Circle**" in reply.text
    assert len(await groups_service.list_groups(running.bot.db, world.guild.id)) == 1


async def test_a_voice_channel_cannot_be_an_announcement_channel(running, discord_double, world):
    voice = discord_double.add_channel(world.guild, "voice-2", GUILD_VOICE)
    with pytest.raises(CommandError, match="channel types"):
        await discord_double.slash("setup group-create", user=world.maya, name="X", channel=voice)


async def test_everyone_role_is_refused_as_a_group_role(running, discord_double, world):
    reply = await create_group(discord_double, world, role=world.guild.everyone)
    assert "@everyone can't be a group role" in reply.text
    assert await groups_service.list_groups(running.bot.db, world.guild.id) == []


async def test_group_edit_changes_only_the_given_fields(running, discord_double, world):
    await create_group(discord_double, world, description="Old")
    group = (await groups_service.list_groups(running.bot.db, world.guild.id))[0]
    reply = await discord_double.slash(
        "setup group-edit", user=world.maya, group=str(group.id), name="Tuesday Evening", buddy_channel=world.buddies
    )
    assert "Updated **Tuesday Evening**" in reply.text
    edited = await groups_service.get_group(running.bot.db, world.guild.id, group.id)
    assert (edited.name, edited.description, edited.buddy_channel_id) == ("Tuesday Evening", "Old", world.buddies.id)


async def test_group_edit_with_nothing_to_change_says_so(running, discord_double, world):
    await create_group(discord_double, world)
    reply = await discord_double.slash("setup group-edit", user=world.maya, group="Tuesday Circle")
    assert "pick at least one field" in reply.text


async def test_group_autocomplete_offers_matching_groups(running, discord_double, world):
    await create_group(discord_double, world)
    await discord_double.slash("setup group-create", user=world.maya, name="Family Room", channel=world.general)
    choices = await discord_double.autocomplete("setup group-edit", user=world.maya, focused="group", value="fam")
    assert [c["name"] for c in choices] == ["Family Room"]


async def test_archiving_keeps_the_group_but_hides_it_from_members(running, discord_double, world):
    await create_group(discord_double, world)
    reply = await discord_double.slash("setup group-archive", user=world.maya, group="Tuesday Circle")
    assert "Archived **Tuesday Circle**" in reply.text
    listing = await discord_double.slash("group list", user=world.alice)
    assert "no groups here yet" in listing.text
    join = await discord_double.slash("group join", user=world.alice, group="Tuesday Circle")
    assert "has been archived" in join.text


async def test_organisers_modlog_and_helpers_are_saved(running, discord_double, world):
    await create_group(discord_double, world)
    await discord_double.slash("setup organisers", user=world.maya, group="Tuesday Circle", role=world.organisers)
    modlog = await discord_double.slash("setup modlog", user=world.maya, channel=world.modlog)
    assert "now go to" in modlog.text
    assert "Moderator alerts" in discord_double.messages_in(world.modlog)[-1]["embeds"][0]["description"]
    await discord_double.slash("setup helpers", user=world.maya, role=world.moderators)
    settings = await groups_service.get_settings(running.bot.db, world.guild.id)
    assert (settings.modlog_channel_id, settings.helper_role_id) == (world.modlog.id, world.moderators.id)
    group = (await groups_service.list_groups(running.bot.db, world.guild.id))[0]
    assert group.organiser_role_id == world.organisers.id


async def test_modlog_refuses_a_channel_the_bot_cannot_post_in(running, discord_double, world):
    world.modlog.overwrites.append((world.bot_role.id, 0, 0, SEND_MESSAGES))
    await discord_double.update_channel(world.modlog)
    reply = await discord_double.slash("setup modlog", user=world.maya, channel=world.modlog)
    assert "I can't post in" in reply.text
    assert (await groups_service.get_settings(running.bot.db, world.guild.id)).modlog_channel_id is None


async def test_resources_text_is_saved_and_empty_text_restores_the_default(running, discord_double, world):
    reply = await discord_double.slash("setup resources", user=world.maya, text="Call our warmline: 555-0100")
    assert "this server's text" in reply.text and "555-0100" in reply.text
    reply = await discord_double.slash("setup resources", user=world.maya, text=" ")
    assert "international default" in reply.text
    assert (await groups_service.get_settings(running.bot.db, world.guild.id)).resources_text is None


async def test_resources_without_text_opens_a_form_prefilled_with_the_current_text(running, discord_double, world):
    await discord_double.slash("setup resources", user=world.maya, text="Warmline 555-0100")
    form = await discord_double.slash("setup resources", user=world.maya)
    assert form.modal is not None
    field = form.modal["components"][0]
    inner = field.get("component") or field["components"][0]
    assert inner["value"] == "Warmline 555-0100"
    saved = await discord_double.submit_modal(form, {inner["custom_id"]: "Text 741741"}, user=world.maya)
    assert "Text 741741" in saved.text
    assert (await groups_service.get_settings(running.bot.db, world.guild.id)).resources_text == "Text 741741"


async def test_show_reports_configuration_and_missing_permissions(running, discord_double, world):
    await create_group(discord_double, world, checkin_channel=world.checkins)
    reply = await discord_double.slash("setup show", user=world.maya)
    assert reply.ephemeral
    assert "Tuesday Circle" in reply.text and "I have everything I need" in reply.text

    world.bot_role.permissions &= ~MANAGE_EVENTS
    world.checkins.overwrites.append((world.bot_role.id, 0, 0, SEND_MESSAGES))
    await discord_double.update_role(world.guild, world.bot_role)
    await discord_double.update_channel(world.checkins)
    await discord_double.wait_until(
        lambda: not running.bot.get_guild(world.guild.id).me.guild_permissions.manage_events
    )
    reply = await discord_double.slash("setup show", user=world.maya)
    assert "Manage Events" in reply.text
    assert f"<#{world.checkins.id}>: **Send Messages" in reply.text


async def test_show_includes_each_groups_pairing_cadence(running, discord_double, world):
    await create_group(discord_double, world, buddy_channel=world.buddies)
    before = await discord_double.slash("setup show", user=world.maya)
    assert "pairing: off" in before.text
    await discord_double.slash("setup pairing", user=world.maya, group="Tuesday Circle", every_days=14, enabled=True)
    after = await discord_double.slash("setup show", user=world.maya)
    assert "pairing: every 14 days, next <t:" in after.text
