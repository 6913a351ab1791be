"""Discord-shaped JSON payloads: every field discord.py reads is present, or the client dies."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
_increment = itertools.count()

# Channel types
GUILD_TEXT, DM, GUILD_VOICE, GUILD_CATEGORY, GUILD_FORUM = 0, 1, 2, 4, 15
PUBLIC_THREAD, PRIVATE_THREAD = 11, 12


def snowflake(at: float | None = None) -> int:
    """Return a real, time-based snowflake (discord.py derives created_at from it)."""
    ms = int((at if at is not None else time.time()) * 1000)
    return ((ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | (next(_increment) % 4096)


def iso_now() -> str:
    """Return the current time as Discord writes it."""
    return datetime.now(UTC).isoformat()


@dataclass(eq=False)
class User:
    name: str
    id: int = field(default_factory=snowflake)
    bot: bool = False
    dms_open: bool = True

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name.title(),
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class Role:
    name: str
    permissions: int = 0
    id: int = field(default_factory=snowflake)
    position: int = 1
    managed: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": True,
            "flags": 0,
        }

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass(eq=False)
class Channel:
    name: str
    type: int = GUILD_TEXT
    guild_id: int | None = None
    id: int = field(default_factory=snowflake)
    parent_id: int | None = None
    position: int = 0
    # (target id, type 0=role 1=member, allow, deny)
    overwrites: list[tuple[int, int, int, int]] = field(default_factory=list)
    recipients: list[User] = field(default_factory=list)
    owner_id: int | None = None
    members: set[int] = field(default_factory=set)  # thread members
    archived: bool = False

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": None,
                "recipients": [u.payload() for u in self.recipients],
                "flags": 0,
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [
                {"id": str(t), "type": k, "allow": str(a), "deny": str(d)} for t, k, a, d in self.overwrites
            ],
            "nsfw": False,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "flags": 0,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "topic": None,
            "default_auto_archive_duration": 1440,
            "default_thread_rate_limit_per_user": 0,
        }
        if self.type == GUILD_VOICE:
            data.update(bitrate=64000, user_limit=0, rtc_region=None, video_quality_mode=1)
        if self.type == GUILD_FORUM:
            data.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
            )
        if self.type in (PUBLIC_THREAD, PRIVATE_THREAD):
            data.update(
                owner_id=str(self.owner_id),
                message_count=0,
                member_count=len(self.members),
                total_message_sent=0,
                applied_tags=[],
                thread_metadata={
                    "archived": self.archived,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso_now(),
                    "locked": False,
                    "invitable": False,
                    "create_timestamp": iso_now(),
                },
            )
        return data


@dataclass(eq=False)
class Member:
    user: User
    roles: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_now)

    def payload(self, permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "user": self.user.payload(),
            "nick": None,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.roles],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
            "avatar_decoration_data": None,
        }
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass(eq=False)
class Guild:
    name: str
    owner: User
    id: int = field(default_factory=snowflake)
    roles: list[Role] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    members: dict[int, Member] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The @everyone role has the guild's id.
        self.roles.insert(0, Role("@everyone", permissions=EVERYONE_PERMS, id=self.id, position=0))

    @property
    def everyone(self) -> Role:
        return self.roles[0]

    def role(self, name: str) -> Role:
        return next(r for r in self.roles if r.name == name)

    def channel(self, name: str) -> Channel:
        return next(c for c in self.channels if c.name == name)

    def payload(self, threads: list[Channel] | None = None) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner.id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
            "joined_at": iso_now(),
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [m.payload() for m in self.members.values()],
            "channels": [c.payload() for c in self.channels],
            "threads": [t.payload() for t in (threads or [])],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def permissions_of(self, user_id: int) -> int:
        """Return a member's guild-level permissions, as Discord computes them."""
        if user_id == self.owner.id:
            return ALL_PERMS
        member = self.members.get(user_id)
        perms = self.everyone.permissions
        if member is not None:
            for role in self.roles:
                if role.id in member.roles:
                    perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMS
        return perms

    def channel_permissions_of(self, user_id: int, channel: Channel) -> int:
        """Return a member's permissions in a channel, applying overwrites as Discord does."""
        perms = self.permissions_of(user_id)
        if perms == ALL_PERMS:
            return perms
        member = self.members.get(user_id)
        role_ids = set(member.roles if member else []) | {self.id}
        allow = deny = 0
        for target, kind, a, d in channel.overwrites:
            if kind == 0 and target == self.id:
                perms = (perms & ~d) | a
        for target, kind, a, d in channel.overwrites:
            if kind == 0 and target in role_ids and target != self.id:
                allow |= a
                deny |= d
        perms = (perms & ~deny) | allow
        for target, kind, a, d in channel.overwrites:
            if kind == 1 and target == user_id:
                perms = (perms & ~d) | a
        return perms


# Permission bits (https://discord.com/developers/docs/topics/permissions)
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
CONNECT = 1 << 20
MANAGE_ROLES = 1 << 28
MANAGE_EVENTS = 1 << 33
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMS = (1 << 51) - 1
EVERYONE_PERMS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | EMBED_LINKS
    | ATTACH_FILES
    | CONNECT
    | (SEND_MESSAGES_IN_THREADS | CREATE_PUBLIC_THREADS)
)
BOT_PERMS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MANAGE_ROLES
    | MANAGE_EVENTS
    | MANAGE_THREADS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
    | MANAGE_MESSAGES
)


def message_payload(
    *,
    channel: Channel,
    author: User,
    body: dict[str, Any],
    message_id: int | None = None,
    attachments: list[dict[str, Any]] | None = None,
    interaction: dict[str, Any] | None = None,
    webhook_id: int | None = None,
) -> dict[str, Any]:
    """Build the message Discord would store for a create-message body."""
    mid = message_id or snowflake()
    data: dict[str, Any] = {
        "id": str(mid),
        "channel_id": str(channel.id),
        "author": author.payload(),
        "content": body.get("content") or "",
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": bool(body.get("tts", False)),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "mention_channels": [],
        "attachments": attachments or [],
        "embeds": body.get("embeds") or [],
        "reactions": [],
        "pinned": False,
        "type": 0,
        "flags": int(body.get("flags") or 0),
        "components": body.get("components") or [],
        "sticker_items": [],
        "position": None,
    }
    if channel.guild_id:
        data["guild_id"] = str(channel.guild_id)
    if interaction is not None:
        data["interaction_metadata"] = interaction
        data["type"] = 20 if interaction.get("type") == 2 else 19
    if webhook_id is not None:
        data["webhook_id"] = str(webhook_id)
        data["application_id"] = str(webhook_id)
    if body.get("message_reference"):
        data["message_reference"] = body["message_reference"]
    return data
