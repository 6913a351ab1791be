"""What check-ins look like on Discord: posts, the draft a member is still deciding about, persistent buttons,
the mod-log, resources and autocomplete. Shared by the check-in, journal, safety and moderation cogs."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import discord
from discord import app_commands

from bot.client import defer_update, edit_reply, reply
from bot.logic.crisis import DEFAULT_RESOURCES
from bot.logic.moods import mood_label
from bot.services import checkins as checkins_service
from bot.services import groups as groups_service
from bot.services.checkins import AnonPost
from bot.services.groups import Group, GuildSettings
from cogs._ui import ALERT, CALM, WARM, Components, GuardedView, guarded

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
DRAFT_TIMEOUT = 600


# ---------------------------------------------------------------------------------------------- rendering
def _protected(note: str, content_warning: str | None) -> str:
    """Hide a note behind a spoiler with a warning line; pipes are escaped so the note cannot end it early."""
    if not content_warning:
        return note
    escaped = note.replace("|", "\\|")
    return f"⚠️ **Content warning:** {content_warning}\n||{escaped}||"


def render_post(post: AnonPost) -> str:
    """Render an anonymous check-in as it appears in the group's channel."""
    lines = [f"🕊️ **{post.alias}** checked in · {mood_label(post.mood)}"]
    if post.note:
        lines.append(_protected(post.note, post.content_warning))
    elif post.content_warning:
        lines.append(f"⚠️ **Content warning:** {post.content_warning}")
    lines.append("-# Anonymous. Reply in the thread, or with `/checkin-reply`. Aliases change every Monday.")
    return "\n".join(lines)


def render_reply(reply_post: AnonPost, parent: AnonPost) -> str:
    """Render an anonymous reply in a check-in's thread; the original author is marked as such."""
    who = f"**{reply_post.alias}**" + (" (who posted this)" if reply_post.author_key == parent.author_key else "")
    return f"💬 {who}: {reply_post.note}"


def render_named(user_mention: str, mood: int, note: str | None, content_warning: str | None) -> str:
    """Render a check-in shared under the member's own name."""
    lines = [f"{user_mention} checked in · {mood_label(mood)}"]
    if note:
        lines.append(_protected(note, content_warning))
    return "\n".join(lines)


def held_embed(post: AnonPost, group: Group, crisis: Sequence[str]) -> discord.Embed:
    """Render a post waiting for a moderator in vetted mode."""
    kind = "reply" if post.is_reply else "check-in"
    embed = discord.Embed(
        title=f"Anonymous {kind} waiting for approval · {group.name}",
        description=render_post(post) if not post.is_reply else f"💬 **{post.alias}**: {post.note}",
        colour=ALERT if crisis else WARM,
    )
    if crisis:
        embed.add_field(
            name="⚠️ Possible crisis language",
            value=f"Matched: {', '.join(crisis)}. The author was shown the crisis resources privately.",
            inline=False,
        )
    embed.set_footer(text=f"Post {post.id} · the author is not known to moderators, only the alias")
    return embed


def resources_embed(text: str | None, *, title: str = "Support, right now") -> discord.Embed:
    """Render crisis and support resources (the server's own text, or the international default)."""
    return discord.Embed(title=title, description=(text or DEFAULT_RESOURCES)[:4096], colour=CALM)


def crisis_extras(settings: GuildSettings, guild_id: int) -> tuple[discord.Embed, discord.ui.View | None]:
    """Return the resources and, when the server can take it, the "Ask a person to reach out" button."""
    embed = resources_embed(settings.resources_text)
    if not settings.modlog_channel_id:
        return embed, None
    embed.set_footer(
        text="Press the button and one of this server's peer helpers will reach out to you. "
        "Nothing is sent to anyone unless you press it."
    )
    return embed, persistent_view(ReachOutButton(guild_id))


def blocked_text(until: int) -> str:
    """Tell a blocked author, kindly, what happened and what still works."""
    return (
        f"A moderator has paused anonymous sharing for you in this server until <t:{until}:F> (<t:{until}:R>). "
        "You can still check in privately or share under your name, and `/resources` is always here."
    )


def timezone_of(settings: GuildSettings) -> ZoneInfo:
    """Return the server's time zone for counting days (UTC when unset or unknown)."""
    try:
        return ZoneInfo(settings.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# ---------------------------------------------------------------------------------------------- the mod-log
def moderator_mentions(guild: discord.Guild) -> tuple[str, discord.AllowedMentions]:
    """Return mentions of the roles that can manage the server (the owner when there are none)."""
    roles = [
        r
        for r in guild.roles
        if not r.is_default() and not r.managed and (r.permissions.manage_guild or r.permissions.administrator)
    ]
    if roles:
        return " ".join(r.mention for r in roles), discord.AllowedMentions(everyone=False, users=False, roles=roles)
    owner = discord.Object(guild.owner_id) if guild.owner_id else None
    return (f"<@{guild.owner_id}>" if owner else ""), discord.AllowedMentions(
        everyone=False, roles=False, users=[owner] if owner else False
    )


def modlog_channel(bot: Any, channel_id: int | None) -> discord.TextChannel | None:
    """Return the mod-log channel if it is set and still exists."""
    channel = bot.get_channel(channel_id) if channel_id else None
    return channel if isinstance(channel, discord.TextChannel) else None


async def send_modlog(bot: Any, channel_id: int | None, **message: Any) -> discord.Message | None:
    """Post in the mod-log; return None (logged) when it is not set or Discord refuses."""
    channel = modlog_channel(bot, channel_id)
    if channel is None:
        return None
    message.setdefault("allowed_mentions", NO_MENTIONS)
    try:
        return await channel.send(**message)
    except discord.HTTPException:
        log.warning("Could not post in the mod-log of guild %s", channel.guild.id, exc_info=True)
        return None


def jump_url(guild_id: int, channel_id: int | None, message_id: int | None) -> str:
    """Return a link to a message."""
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


# ---------------------------------------------------------------------------------------------- autocomplete
async def my_groups_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer the member's own groups in this server."""
    groups = await groups_service.member_groups(interaction.client.db, interaction.guild_id, interaction.user.id)
    needle = current.casefold()
    return [app_commands.Choice(name=g.name, value=str(g.id)) for g in groups if needle in g.name.casefold()][:25]


async def post_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer recent anonymous check-ins in the member's groups, the thread it is typed in first."""
    db, now = interaction.client.db, interaction.client.clock.now()
    group_ids = await checkins_service.member_group_ids(db, interaction.user.id)
    posts = await checkins_service.recent_posts(db, group_ids, now - timedelta(days=14))
    posts.sort(key=lambda p: p.thread_id != interaction.channel_id)
    choices = []
    for post in posts:
        hours = max(0, int(now.timestamp() - (post.published_at or 0)) // 3600)
        ago = f"{hours}h ago" if hours < 48 else f"{hours // 24}d ago"
        name = f"{post.alias} · {mood_label(post.mood)} · {ago}"
        if current.casefold() in name.casefold():
            choices.append(app_commands.Choice(name=name[:100], value=str(post.id)))
    return choices[:25]


# ---------------------------------------------------------------------------------------------- answering
async def answer(interaction: discord.Interaction, content: str | None = None, **kwargs: Any) -> None:
    """Answer a command ephemerally, or replace the message a button or menu was clicked on."""
    if interaction.type is discord.InteractionType.component:
        file = kwargs.pop("file", None)
        kwargs.setdefault("embed", None)
        kwargs.setdefault("view", None)
        await edit_reply(interaction, content=content, attachments=[file] if file else [], **kwargs)
        return
    await reply(interaction, content, **{k: v for k, v in kwargs.items() if v is not None})


# ---------------------------------------------------------------------------------------------- persistent buttons
class ReachOutButton(discord.ui.DynamicItem[discord.ui.Button], template=r"safety:reach:(?P<guild>[0-9]+)"):
    """The "Ask a person to reach out" button: the member's consent to be contacted by a server's peer helpers."""

    def __init__(self, guild_id: int, label: str = "Ask a person to reach out") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80], style=discord.ButtonStyle.primary, emoji="🤝", custom_id=f"safety:reach:{guild_id}"
            )
        )
        self.guild_id = guild_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(int(match["guild"]), item.label or "Ask a person to reach out")

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.get_cog("Safety").reach_out(interaction, self.guild_id)


class _EscalationAction:
    """What the escalation buttons share: an escalation id in the custom id, and a Safety cog method to call."""

    LABEL: str
    STYLE: discord.ButtonStyle
    PREFIX: str
    METHOD: str

    def __init__(self, escalation_id: int, *, disabled: bool = False) -> None:
        super().__init__(  # type: ignore[call-arg]
            discord.ui.Button(
                label=self.LABEL, style=self.STYLE, custom_id=f"{self.PREFIX}:{escalation_id}", disabled=disabled
            )
        )
        self.escalation_id = escalation_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(int(match["id"]))

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        await getattr(interaction.client.get_cog("Safety"), self.METHOD)(interaction, self.escalation_id)


class ClaimButton(
    _EscalationAction, discord.ui.DynamicItem[discord.ui.Button], template=r"safety:claim:(?P<id>[0-9]+)"
):
    """The "I'm on it" button: a helper takes a request for someone to reach out."""

    LABEL, STYLE, PREFIX, METHOD = "I'm on it", discord.ButtonStyle.success, "safety:claim", "claim"


class WithdrawButton(
    _EscalationAction, discord.ui.DynamicItem[discord.ui.Button], template=r"safety:withdraw:(?P<id>[0-9]+)"
):
    """ "I'm OK for now": the member who asked takes the request back before anyone has picked it up."""

    LABEL, STYLE = "I'm OK for now, cancel my request", discord.ButtonStyle.secondary
    PREFIX, METHOD = "safety:withdraw", "withdraw"


class ReviewButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"anon:(?P<verdict>approve|reject):(?P<id>[0-9]+)"
):
    """Approve or Reject on a post held in the mod-log (vetted mode)."""

    def __init__(self, verdict: str, post_id: int) -> None:
        approve = verdict == "approve"
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Reject",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=f"anon:{verdict}:{post_id}",
            )
        )
        self.verdict, self.post_id = verdict, post_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(match["verdict"], int(match["id"]))

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.get_cog("Moderation").review(interaction, self.post_id, self.verdict)


def persistent_view(*items: discord.ui.Item) -> discord.ui.View:
    """Wrap persistent items in a view that never times out."""
    return Components(items=items)


# ---------------------------------------------------------------------------------------------- the draft
@dataclass(frozen=True)
class Draft:
    """A check-in the member has written but not yet placed (group to pick, or a share mode to change)."""

    mood: int
    share: str
    note: str | None = None
    content_warning: str | None = None
    group_id: int | None = None


class DraftView(GuardedView):
    """Keeps a member's words while they choose a group or another way to share; nothing is saved until then."""

    def __init__(
        self, cog: Any, draft: Draft, owner: discord.Interaction, *, groups: Sequence[Group] = (), named: bool = False
    ) -> None:
        super().__init__(timeout=DRAFT_TIMEOUT)
        self.cog, self.draft, self.owner = cog, draft, owner
        self.choice_made = False
        if groups:
            menu = discord.ui.Select(
                placeholder="Which group?",
                options=[discord.SelectOption(label=g.name[:100], value=str(g.id)) for g in groups[:25]],
            )
            menu.callback = self._picked
            self.add_item(menu)
        if named:
            self._button("Share by name instead", discord.ButtonStyle.primary, replace(draft, share="named"))
        self._button("Keep it private", discord.ButtonStyle.secondary, replace(draft, share="private", group_id=None))

    def _button(self, label: str, style: discord.ButtonStyle, draft: Draft) -> None:
        button = discord.ui.Button(label=label, style=style)

        async def chosen(interaction: discord.Interaction) -> None:
            await self.cog.submit(interaction, draft)

        button.callback = chosen
        self.add_item(button)

    async def _picked(self, interaction: discord.Interaction) -> None:
        value = interaction.data["values"][0]  # type: ignore[index]
        await self.cog.submit(interaction, replace(self.draft, group_id=int(value)))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # The view keeps listening until it times out (it is never stopped), so a second click, while the first
        # is saved or just after, is acknowledged here rather than told the buttons no longer work, which would
        # invite the member to check in twice.
        await super().interaction_check(interaction)
        if self.choice_made:
            await defer_update(interaction)
            return False
        self.choice_made = True
        return True

    async def on_timeout(self) -> None:
        if self.choice_made:
            return
        try:
            await self.owner.edit_original_response(
                content="I didn't save or share that check-in because nothing was picked. Run `/checkin` again "
                "whenever you like.",
                view=None,
            )
        except discord.HTTPException:
            pass
