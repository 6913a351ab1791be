"""Permission checks enforced on every call, not only hidden in the client by default_permissions."""

from __future__ import annotations

import discord
from discord import app_commands


def require_manage_guild(interaction: discord.Interaction) -> None:
    """Raise MissingPermissions unless the member can manage this server."""
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage()
    perms = interaction.permissions
    if not (perms.manage_guild or perms.administrator):
        raise app_commands.MissingPermissions(["manage_guild"])


def is_moderator(member: discord.Member | discord.User) -> bool:
    """Say whether a member holds Manage Server (the bot's definition of a moderator)."""
    return isinstance(member, discord.Member) and (
        member.guild_permissions.manage_guild or member.guild_permissions.administrator
    )


def moderator_only():
    """Decorate a command so only members with Manage Server can run it."""

    def predicate(interaction: discord.Interaction) -> bool:
        require_manage_guild(interaction)
        return True

    def decorator(func):
        func = app_commands.default_permissions(manage_guild=True)(func)
        func = app_commands.guild_only()(func)
        return app_commands.check(predicate)(func)

    return decorator


def attach_setup_commands(bot, *commands: app_commands.Command) -> None:
    """Add a feature's moderator commands under `/setup` (cogs.setup loads first and owns the group).

    Each command must carry its own `@moderator_only()`: the Setup cog's check covers only its own commands.
    """
    group = bot.tree.get_command("setup")
    if group is None:
        raise RuntimeError("cogs.setup must be loaded before the cogs that add /setup commands")
    for command in commands:
        group.add_command(command)


def detach_setup_commands(bot, *commands: app_commands.Command) -> None:
    """Remove what attach_setup_commands added (on unload, so a reload does not define them twice)."""
    group = bot.tree.get_command("setup")
    if group is not None:
        for command in commands:
            group.remove_command(command.name)
