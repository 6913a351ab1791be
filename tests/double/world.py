"""A small demo server, declared once: used by the tests and by the playground."""

from __future__ import annotations

from dataclasses import dataclass

from tests.double.payloads import (
    GUILD_CATEGORY,
    GUILD_VOICE,
    MANAGE_EVENTS,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    Channel,
    Guild,
    Role,
    User,
)
from tests.double.server import DiscordDouble


@dataclass
class World:
    """Who and what is in the demo server."""

    guild: Guild
    owner: User
    maya: User  # moderator
    olivia: User  # organiser
    alice: User
    bob: User
    carol: User
    dan: User
    erin: User
    moderators: Role
    organisers: Role
    members_role: Role
    bot_role: Role
    general: Channel
    meetings: Channel
    checkins: Channel
    buddies: Channel
    modlog: Channel
    voice: Channel


def build_world(double: DiscordDouble) -> World:
    """Create the demo server in the double: a moderator, an organiser, five members, the usual channels."""
    owner = double.add_user("sam")
    guild = double.add_guild("Harbour Peer Support", owner)
    moderators = double.add_role(guild, "Moderators", MANAGE_GUILD | MANAGE_MESSAGES, position=5)
    organisers = double.add_role(guild, "Organisers", MANAGE_EVENTS, position=4)
    members_role = double.add_role(guild, "Tuesday Circle", 0, position=2)
    category = double.add_channel(guild, "Groups", GUILD_CATEGORY)
    general = double.add_channel(guild, "general")
    meetings = double.add_channel(guild, "tuesday-circle", parent_id=category.id)
    checkins = double.add_channel(guild, "check-ins", parent_id=category.id)
    buddies = double.add_channel(guild, "buddies", parent_id=category.id)
    modlog = double.add_channel(guild, "mod-log")
    voice = double.add_channel(guild, "Meeting Room", GUILD_VOICE)
    people = {name: double.add_user(name) for name in ("maya", "olivia", "alice", "bob", "carol", "dan", "erin")}
    double.add_member(guild, people["maya"], [moderators])
    double.add_member(guild, people["olivia"], [organisers])
    for name in ("alice", "bob", "carol", "dan", "erin"):
        double.add_member(guild, people[name])
    double.default_guild = guild
    double.default_channel = general
    return World(
        guild=guild,
        owner=owner,
        moderators=moderators,
        organisers=organisers,
        members_role=members_role,
        bot_role=guild.role("PeerBot"),
        general=general,
        meetings=meetings,
        checkins=checkins,
        buddies=buddies,
        modlog=modlog,
        voice=voice,
        **people,
    )
