"""What buddy pairing says: introductions, kind news when a buddy steps away, replies and /buddy status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import discord
from discord import app_commands

from bot.logic.timeparse import search_timezones
from bot.services.buddies import (
    ROUND_HOUR,
    Cadence,
    Departure,
    JoinResult,
    MemberStatus,
    Pairing,
    Profile,
    RoundOutcome,
)
from bot.services.groups import Group
from cogs._ui import CALM, WARM, when

NameOf = Callable[[int], str]

ROLE_CHOICES = [
    app_commands.Choice(name="Peer: walk alongside another member", value="peer"),
    app_commands.Choice(name="Mentor: support someone newer, from lived experience", value="mentor"),
    app_commands.Choice(name="Mentee: get support from someone further along", value="mentee"),
]
WEEKDAY_CHOICES = [
    app_commands.Choice(name=name, value=index)
    for index, name in enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
]

# Gentle, open, nothing that asks for a disclosure; one per pairing, in turn.
OPENER_QUESTIONS = (
    "What's one small thing that went okay for you this week?",
    "What does a good day look like for you at the moment?",
    "What's something you're looking forward to, however small?",
    "What helps you most when a day gets heavy?",
    "Is there something you'd like a bit of support with over the next couple of weeks?",
    "What brought you to this group, if you'd like to share?",
)

STEP_BACK = (
    "If this pairing doesn't feel right, `/buddy pause` or `/buddy leave` any time: your buddy only hears that "
    "you stepped away, never why. If things are hard right now, `/resources` lists people to talk to."
)


def thread_name(pairing_id: int) -> str:
    """Name a pairing's thread; a restart finds a thread it asked for by this name."""
    return f"Buddy chat #{pairing_id}"


def footer(group: Group, ref: int) -> str:
    """Sign a message with its delivery reference, so a restart can tell it was already sent."""
    return f"{group.name} · buddy pairing · ref {ref}"


def carries_ref(message: discord.Message, ref: int) -> bool:
    """Say whether a message is the one signed with `ref`."""
    return any(e.footer and (e.footer.text or "").endswith(f"ref {ref}") for e in message.embeds)


def only_users(user_ids: Sequence[int]) -> discord.AllowedMentions:
    """Ping exactly these members (an "about" that mentions anyone else pings nobody)."""
    return discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(u) for u in user_ids])


def _quote(about: str) -> str:
    return f"“{about}”" if about else "_(no intro yet)_"


def introduce(profile: Profile) -> str:
    """One line about a member, as their buddy sees it: mention, role and their "about"."""
    return f"<@{profile.user_id}> · {profile.role} · {_quote(profile.about)}"


def _until(next_round_at: datetime | None) -> str:
    return f" until the next round, {when(next_round_at)}" if next_round_at else ""


def _mentions(user_ids: Sequence[int]) -> str:
    return " ".join(f"<@{u}>" for u in user_ids)


def _names(user_ids: Sequence[int], name_of: NameOf) -> str:
    names = [f"**{name_of(u)}**" for u in user_ids]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# ---------------------------------------------------------------- introductions


def opener_in_thread(group: Group, profiles: Sequence[Profile], pairing_id: int, next_round_at, ref: int) -> dict:
    """The first post in a pairing's private thread."""
    ids = [p.user_id for p in profiles]
    together = "buddies" if len(ids) == 2 else "a buddy trio"
    embed = discord.Embed(
        title="Say hello 👋",
        description=(
            f"You're {together} in **{group.name}**{_until(next_round_at)}.\n\n"
            + "\n".join(introduce(p) for p in profiles)
            + f"\n\n**To start, if you like:** {OPENER_QUESTIONS[pairing_id % len(OPENER_QUESTIONS)]}\n\n"
            "This thread is private: only you and the server's moderators can see it. No pressure to talk every "
            f"day; a hello is a good start.\n{STEP_BACK}"
        ),
        colour=CALM,
    )
    embed.set_footer(text=footer(group, ref))
    return {"content": f"{_mentions(ids)} 💚", "embed": embed, "allowed_mentions": only_users(ids)}


def opener_by_dm(group: Group, me: int, profiles: Sequence[Profile], pairing_id: int, next_round_at, ref: int):
    """The introduction by DM, when a private thread was not possible."""
    others = [p for p in profiles if p.user_id != me]
    embed = discord.Embed(
        title=f"Your buddy in {group.name}",
        description=(
            f"You've been paired{_until(next_round_at)} with:\n"
            + "\n".join(introduce(p) for p in others)
            + "\n\nI couldn't open a private thread in the server, so I'm introducing you here. Send them a "
            f"message to say hello; I have introduced you to them too.\n\n**To start, if you like:** "
            f"{OPENER_QUESTIONS[pairing_id % len(OPENER_QUESTIONS)]}\n\n{STEP_BACK}"
        ),
        colour=CALM,
    )
    embed.set_footer(text=footer(group, ref))
    return {"embed": embed}


def welcome_in_thread(group: Group, newcomer: Profile, others: Sequence[Profile], ref: int) -> dict:
    """A post in an existing thread when someone whose buddy left joins it."""
    ids = [p.user_id for p in (*others, newcomer)]
    embed = discord.Embed(
        title="Someone new joins you 🌱",
        description=(
            f"Please welcome <@{newcomer.user_id}>, who joins you for the rest of this round in **{group.name}**.\n\n"
            f"{introduce(newcomer)}\n" + "\n".join(introduce(p) for p in others)
        ),
        colour=CALM,
    )
    embed.set_footer(text=footer(group, ref))
    return {"content": f"{_mentions(ids)} 💚", "embed": embed, "allowed_mentions": only_users(ids)}


def welcome_by_dm(group: Group, me: int, newcomer: Profile, others: Sequence[Profile], ref: int) -> dict:
    """The DM version of a welcome: to the newcomer, an introduction; to the others, who joins them."""
    if me == newcomer.user_id:
        text = (
            f"You're joining {'a pair' if len(others) == 2 else 'a small group'} in **{group.name}** for the rest "
            "of this round:\n" + "\n".join(introduce(p) for p in others) + "\n\nSay hello when you're ready."
        )
    else:
        text = (
            f"Someone joins you and your buddy in **{group.name}** for the rest of this round:\n{introduce(newcomer)}"
        )
    embed = discord.Embed(title="Someone new joins you 🌱", description=text, colour=CALM)
    embed.set_footer(text=footer(group, ref))
    return {"embed": embed}


# ---------------------------------------------------------------- when a buddy steps away, or nobody is free


def departed_text(
    recipients: Sequence[int],
    still_together: bool,
    new_pairing: Pairing | None,
    next_round_at: datetime | None,
    name_of: NameOf,
) -> str:
    """Kind news for members whose buddy stepped away: never why, and always what happens next."""
    if still_together:
        return "One of your trio has stepped away from buddy pairing. You two carry on together; nothing else changes."
    me = recipients[0]
    text = (
        "Your buddy has stepped away from buddy pairing. People step back for all kinds of reasons, and it isn't "
        "a reflection on you."
    )
    if new_pairing is None:
        later = f", and at the latest at the next round, {when(next_round_at)}" if next_round_at else ""
        return f"{text} Nobody else is free right now, so I'll pair you as soon as someone is{later}."
    others = [u for u in new_pairing.members if u != me]
    where = (
        f"say hello in <#{new_pairing.thread_id}>"
        if new_pairing.via == "thread" and new_pairing.thread_id
        else "I've sent you an introduction by DM"
    )
    return f"{text} I've paired you with {_names(others, name_of)} for the rest of this round: {where}."


def departed_message(group: Group, recipients: Sequence[int], text: str, ref: int, *, in_thread: bool) -> dict:
    embed = discord.Embed(description=text, colour=WARM)
    embed.set_footer(text=footer(group, ref))
    if not in_thread:
        embed.title = f"About your buddy in {group.name}"
        return {"embed": embed}
    return {"content": f"{_mentions(recipients)} 💛", "embed": embed, "allowed_mentions": only_users(recipients)}


def unplaced_by_dm(group: Group, next_round_at: datetime | None, ref: int) -> dict:
    later = f", and otherwise at the next round, {when(next_round_at)}" if next_round_at else ""
    embed = discord.Embed(
        title=f"Buddy pairing in {group.name}",
        description=(
            f"I couldn't make a pairing for you in this round. You're still in: I'll pair you as soon as someone is "
            f"free{later}. `/buddy status` shows where things stand."
        ),
        colour=WARM,
    )
    embed.set_footer(text=footer(group, ref))
    return {"embed": embed}


def undelivered_notice(group: Group) -> str:
    """What a member with closed DMs is told at their next command instead."""
    return f"I have buddy news for you in **{group.name}** but couldn't DM you. `/buddy status` shows your buddy now."


# ---------------------------------------------------------------- replies to commands


def _next_round(cadence: Cadence | None) -> str:
    if cadence is not None and cadence.enabled and cadence.next_round_at:
        return f"The next round is {when(cadence.next_round_at)}."
    return "Rounds aren't scheduled for this group right now; a moderator sets them up with `/setup pairing`."


def _buddy_told(departure: Departure | None) -> str:
    if departure is None or not departure.told:
        return ""
    return (
        " Your buddy will be told kindly that you stepped away (never why) and paired with someone else as soon "
        "as someone is free."
    )


def joined_text(group: Group, result: JoinResult, cadence: Cadence | None, paired_now: bool) -> str:
    profile = result.profile
    if result.created:
        first = f"You're in buddy pairing for **{group.name}** as a **{profile.role}**. 💚"
    elif result.resumed:
        first = f"Welcome back to buddy pairing in **{group.name}**. 💚"
    else:
        first = f"Updated your buddy profile for **{group.name}** (**{profile.role}**)."
    lines = [first]
    if profile.about:
        lines.append(f"Your buddy will see: “{profile.about}”")
    else:
        lines.append("Add a line about yourself any time with `/buddy join … about:`; your buddy will see it.")
    if result.placement is not None:
        lines.append("Someone was waiting for a buddy, so I've paired you right away. I'm introducing you now.")
    elif paired_now:
        lines.append("Your current buddy stays the same.")
    else:
        lines.append(_next_round(cadence))
    lines.append(
        "You can `/buddy pause` or `/buddy leave` any time, and `/buddy avoid` keeps someone out of your matches "
        "(only you can see that list)."
    )
    return "\n".join(lines)


def left_text(group: Group, departure: Departure) -> str:
    return (
        f"You've left buddy pairing for **{group.name}**.{_buddy_told(departure)} "
        "You're welcome back any time with `/buddy join`."
    )


def paused_text(group: Group, until: datetime | None, departure: Departure) -> str:
    if until is None:
        first = f"Paused buddy pairing for **{group.name}** until you come back with `/buddy join`."
    else:
        unix = int(until.timestamp())
        first = (
            f"Paused buddy pairing for **{group.name}** until <t:{unix}:D>. You'll be back in the first round after "
            "that; to come back sooner, run `/buddy join`."
        )
    return f"{first}{_buddy_told(departure)} Take the time you need. 💚"


def avoid_text(name: str, *, undo: bool, changed: bool, paired_in: Sequence[Group]) -> str:
    if undo:
        return f"Taken **{name}** off your list." if changed else f"**{name}** wasn't on your list."
    lines = [
        f"Done: I'll never pair you with **{name}**." if changed else f"**{name}** is already on your list.",
        f"Only you can see this list: not {name}, and not the moderators. `/buddy status` shows it, and "
        "`/buddy avoid … undo:True` takes someone off.",
    ]
    for group in paired_in:
        lines.append(
            f"{name} is your buddy in **{group.name}** this round. If you'd rather stop now, `/buddy pause` steps you "
            "back; they'll only hear that you stepped away, never why."
        )
    return "\n".join(lines)


def round_text(group: Group, outcome: RoundOutcome) -> str:
    placed = sum(len(g) for g in outcome.groups)
    pairs = sum(1 for g in outcome.groups if len(g) == 2)
    trios = len(outcome.groups) - pairs
    shape = f"{pairs} pair{'s' if pairs != 1 else ''}" + (" and a trio" if trios else "")
    lines = [
        f"Round {outcome.round_index + 1} for **{group.name}**: {placed} members in {shape}. "
        "I'm introducing them now, in private threads (or by DM where a thread isn't possible)."
    ]
    if outcome.unplaced:
        waiting = len(outcome.unplaced)
        lines.append(
            f"{waiting} member{'s are' if waiting != 1 else ' is'} waiting for a buddy; they've been told kindly "
            "and will be paired as soon as someone is free."
        )
    if outcome.next_round_at:
        lines.append(f"The next round is {when(outcome.next_round_at)}.")
    return "\n".join(lines)


def cadence_text(group: Group, cadence: Cadence, active: int, warning: str | None) -> str:
    if not cadence.enabled:
        text = f"Buddy pairing rounds are off for **{group.name}**. Current buddies keep their chats."
    else:
        day = f" on {WEEKDAY_CHOICES[cadence.weekday].name}s" if cadence.weekday is not None else ""
        at = f"{ROUND_HOUR:02d}:00 ({group.timezone or 'UTC'})"
        text = (
            f"Buddy pairing for **{group.name}**: every {cadence.every_days} days{day}, at {at}. "
            f"The next round is {when(cadence.next_round_at)}. {active} member{'s' if active != 1 else ''} "
            "taking part so far; members opt in with `/buddy join`, and `/buddy pair-now` runs a round at once."
        )
    return f"{text}\n⚠️ {warning}" if warning else text


def status_embed(statuses: Sequence[MemberStatus], avoided: Sequence[int], now: datetime) -> discord.Embed:
    """Everything about a member's pairing, for their eyes only."""
    embed = discord.Embed(title="Your buddy pairing", colour=CALM)
    if not statuses:
        embed.description = "You're not in buddy pairing here. `/buddy join` with a group opts you in."
    for status in statuses[:20]:
        profile = status.profile
        lines = [f"You: {profile.role} · {_quote(profile.about)}"]
        if profile.paused(now):
            lines.append(
                f"⏸️ Paused until <t:{profile.paused_until}:D>"
                if profile.paused_until
                else "⏸️ Paused until you `/buddy join` again"
            )
        if status.pairing is not None and status.buddies:
            label = "Your buddy" if len(status.buddies) == 1 else "Your buddies"
            lines.append(f"{label}:")
            lines.extend(introduce(b) for b in status.buddies)
            if status.pairing.via == "thread" and status.pairing.thread_id:
                lines.append(f"Your chat: <#{status.pairing.thread_id}>")
            elif status.pairing.via == "dm":
                lines.append("You were introduced by DM.")
        elif not profile.paused(now):
            later = ", or at the next round" if status.next_round_at else ""
            lines.append(f"No buddy right now: you'll be paired as soon as someone is free{later}.")
        if status.next_round_at:
            lines.append(f"Next round: {when(status.next_round_at)}")
        embed.add_field(name=status.group.name, value="\n".join(lines)[:1024], inline=False)
    if avoided:
        embed.add_field(
            name="Only you can see this",
            value=("You asked never to be paired with: " + ", ".join(f"<@{u}>" for u in avoided))[:1024],
            inline=False,
        )
    return embed


async def timezone_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer IANA timezones matching what was typed."""
    return [app_commands.Choice(name=name, value=name) for name in search_timezones(current)]


def display_name(guild: discord.Guild | None, client: Any, user_id: int) -> str:
    """Return a member's name as the server shows it, or a gentle placeholder."""
    member = guild.get_member(user_id) if guild else None
    user = member or client.get_user(user_id)
    return user.display_name if user else "a member"
