import pytest

from bot.errors import UserError
from bot.services import groups as svc

GUILD = 111


async def make(db, clock, name="Tuesday Circle", **kw):
    async with db.transaction() as tx:
        return await svc.create_group(tx, guild_id=GUILD, name=name, channel_id=5, now=clock.now(), **kw)


async def test_create_trims_the_name_and_keeps_fields(db, clock):
    group = await make(db, clock, "  Tuesday   Circle ", description="Peers", role_id=9)
    assert (group.name, group.description, group.role_id, group.anonymity) == ("Tuesday Circle", "Peers", 9, "open")


async def test_names_are_unique_per_server_ignoring_case_but_not_across_servers(db, clock):
    await make(db, clock)
    with pytest.raises(UserError, match="already a group"):
        await make(db, clock, "TUESDAY circle")
    async with db.transaction() as tx:
        other = await svc.create_group(tx, guild_id=222, name="Tuesday Circle", channel_id=1, now=clock.now())
    assert other.guild_id == 222


@pytest.mark.parametrize("name", ["", "   ", "x" * 51])
async def test_bad_names_are_refused(db, clock, name):
    with pytest.raises(UserError):
        await make(db, clock, name)


async def test_renaming_to_another_groups_name_is_refused_but_own_name_is_fine(db, clock):
    first = await make(db, clock)
    await make(db, clock, "Family Room")
    async with db.transaction() as tx:
        with pytest.raises(UserError):
            await svc.edit_group(tx, first, name="family room")
    async with db.transaction() as tx:
        renamed = await svc.edit_group(tx, first, name="tuesday circle")
    assert renamed.name == "tuesday circle"


async def test_find_group_by_id_or_name_and_refuses_archived_for_members(db, clock):
    group = await make(db, clock)
    assert (await svc.find_group(db, GUILD, str(group.id))).id == group.id
    assert (await svc.find_group(db, GUILD, "tuesday circle")).id == group.id
    with pytest.raises(UserError):
        await svc.find_group(db, 999, str(group.id))
    async with db.transaction() as tx:
        await svc.archive_group(tx, group, clock.now())
    with pytest.raises(UserError, match="archived"):
        await svc.find_group(db, GUILD, "Tuesday Circle")
    assert (await svc.find_group(db, GUILD, "Tuesday Circle", active=False)).archived


async def test_join_and_leave_are_idempotent(db, clock):
    group = await make(db, clock)
    async with db.transaction() as tx:
        assert await svc.join_group(tx, group, 42, clock.now()) is True
        assert await svc.join_group(tx, group, 42, clock.now()) is False
    assert [g.id for g in await svc.member_groups(db, GUILD, 42)] == [group.id]
    assert await svc.member_counts(db, [group.id]) == {group.id: 1}
    async with db.transaction() as tx:
        assert await svc.leave_group(tx, group, 42) is True
        assert await svc.leave_group(tx, group, 42) is False


async def test_search_puts_prefix_matches_first(db, clock):
    await make(db, clock, "Morning Family")
    await make(db, clock, "Family Room")
    assert [g.name for g in await svc.search_groups(db, GUILD, "fam")] == ["Family Room", "Morning Family"]


async def test_settings_default_then_saved(db, clock):
    assert (await svc.get_settings(db, GUILD)).retention_days == svc.DEFAULT_RETENTION_DAYS
    async with db.transaction() as tx:
        saved = await svc.update_settings(tx, GUILD, modlog_channel_id=7, resources_text="  call 1  ")
    assert (saved.modlog_channel_id, saved.resources_text) == (7, "call 1")
    with pytest.raises(UserError):
        async with db.transaction() as tx:
            await svc.update_settings(tx, GUILD, resources_text="x" * (svc.RESOURCES_MAX + 1))


async def test_cached_settings_follow_a_committed_change_and_ignore_a_rolled_back_one(db):
    assert (await svc.get_settings(db, GUILD)).timezone is None  # read once: cached from here on
    async with db.transaction() as tx:
        await svc.update_settings(tx, GUILD, timezone="Europe/Paris")
    assert (await svc.get_settings(db, GUILD)).timezone == "Europe/Paris"
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await svc.update_settings(tx, GUILD, timezone="Asia/Tokyo")
            assert (await svc.get_settings(db, GUILD)).timezone == "Europe/Paris"  # refilled mid-transaction
            raise RuntimeError
    assert (await svc.get_settings(db, GUILD)).timezone == "Europe/Paris"


async def test_forgetting_a_server_forgets_its_cached_settings(db):
    from bot.services import privacy

    async with db.transaction() as tx:
        await svc.update_settings(tx, GUILD, retention_days=30)
    assert (await svc.get_settings(db, GUILD)).retention_days == 30
    async with db.transaction() as tx:
        await privacy.forget_guild(tx, GUILD)
    assert (await svc.get_settings(db, GUILD)).retention_days == svc.DEFAULT_RETENTION_DAYS
