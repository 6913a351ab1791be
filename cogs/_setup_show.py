"""What `/setup show` renders: the configuration, and the permissions the bot is missing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord

from bot.client import PERMISSION_NAMES
from bot.services.groups import Group, GuildSettings
from cogs._ui import CALM, WARM

# What the bot needs in each kind of channel it is given.
CHANNEL_NEEDS: dict[str, tuple[str, ...]] = {
    "announcements": ("view_channel", "send_messages", "embed_links"),
    "check-ins": (
        "view_channel",
        "send_messages",
        "embed_links",
        "create_public_threads",
        "send_messages_in_threads",
        "manage_messages",
    ),
    "buddies": ("view_channel", "send_messages", "create_private_threads", "send_messages_in_threads"),
    "mod-log": ("view_channel", "send_messages", "embed_links"),
}


def role_problem(guild: discord.Guild, role: discord.Role) -> str | None:
    """Explain why the bot cannot grant `role`; a leading '!' means the role can never be used."""
    if role.is_default():
        return "!@everyone can't be a group role: everyone has it already."
    if role.managed:
        return f"!{role.name} is managed by an integration, so nobody can be given it. Pick another role."
    me = guild.me
    if not me.guild_permissions.manage_roles:
        return "I can't give out roles yet: I need the **Manage Roles** permission."
    if role >= me.top_role:
        return (
            f"{role.name} is above my own role, so I can't give it out. In Server Settings → Roles, "
            f"drag my role ({me.top_role.name}) above it."
        )
    return None


def _missing_in(channel: discord.abc.GuildChannel | None, me: discord.Member, kind: str) -> list[str]:
    if channel is None:
        return []
    perms = channel.permissions_for(me)
    return [PERMISSION_NAMES.get(p, p) for p in CHANNEL_NEEDS[kind] if not getattr(perms, p)]


def missing_permissions(guild: discord.Guild, settings: GuildSettings, groups: Sequence[Group]) -> list[str]:
    """Return one line per place where the bot lacks a permission it needs."""
    me = guild.me
    lines: list[str] = []
    if not me.guild_permissions.manage_events:
        lines.append("Server: **Manage Events** (to mirror meetings as Discord events)")
    for group in groups:
        if group.archived:
            continue
        for kind, channel_id in (
            ("announcements", group.channel_id),
            ("check-ins", group.checkin_channel_id),
            ("buddies", group.buddy_channel_id),
        ):
            if channel_id is None:
                continue
            channel = guild.get_channel(channel_id)
            if channel is None:
                lines.append(f"{group.name}: its {kind} channel no longer exists")
                continue
            missing = _missing_in(channel, me, kind)
            if missing:
                lines.append(f"{group.name} {kind} in {channel.mention}: **{', '.join(missing)}**")
        if group.role_id:
            role = guild.get_role(group.role_id)
            problem = role_problem(guild, role) if role else "its role no longer exists"
            if problem:
                lines.append(f"{group.name} role: {problem.lstrip('!')}")
    if settings.modlog_channel_id:
        channel = guild.get_channel(settings.modlog_channel_id)
        missing = _missing_in(channel, me, "mod-log") if channel else ["the channel no longer exists"]
        if missing:
            lines.append(f"Mod-log: **{', '.join(missing)}**")
    return lines


def _mention(prefix: str, value: int | None) -> str:
    return f"<{prefix}{value}>" if value else "not set"


def configuration_embed(
    guild: discord.Guild, settings: GuildSettings, groups: Sequence[Group], pairing: Mapping[int, str] | None = None
) -> discord.Embed:
    """Render the whole configuration for moderators."""
    missing = missing_permissions(guild, settings, groups)
    embed = discord.Embed(title=f"Configuration of {guild.name}", colour=WARM if missing else CALM)
    embed.add_field(
        name="Server",
        value="\n".join(
            [
                f"Mod-log: {_mention('#', settings.modlog_channel_id)}",
                f"Peer helpers: {_mention('@&', settings.helper_role_id)}",
                f"Resources: {'custom text' if settings.resources_text else 'international default'}",
                f"Check-in notes kept for: {settings.retention_days} days",
                f"Default time zone: {settings.timezone or 'not set (each group uses its first meeting’s)'}",
            ]
        ),
        inline=False,
    )
    for group in list(groups)[:20]:
        lines = [
            f"Announcements: {_mention('#', group.channel_id)}",
            f"Check-ins: {_mention('#', group.checkin_channel_id)} · anonymity: {group.anonymity}",
            f"Buddies: {_mention('#', group.buddy_channel_id)} · pairing: {(pairing or {}).get(group.id, 'off')}",
            f"Member role: {_mention('@&', group.role_id)} · organisers: {_mention('@&', group.organiser_role_id)}",
        ]
        name = f"{group.name} (archived)" if group.archived else group.name
        embed.add_field(name=name, value="\n".join(lines), inline=False)
    if not groups:
        embed.add_field(name="Groups", value="None yet: create one with `/setup group-create`.", inline=False)
    embed.add_field(
        name="Missing permissions" if missing else "Permissions",
        value="\n".join(f"• {line}" for line in missing)[:1024] if missing else "I have everything I need. ✅",
        inline=False,
    )
    return embed
