"""Groups, memberships and per-server settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from bot.db import Database, Tx, cached_read, remembered_read
from bot.errors import UserError

ANONYMITY_MODES = ("off", "open", "vetted")
NAME_MAX = 50
DESCRIPTION_MAX = 300
RESOURCES_MAX = 1800
DEFAULT_RETENTION_DAYS = 90


@dataclass(frozen=True)
class Group:
    id: int
    guild_id: int
    name: str
    description: str
    channel_id: int
    role_id: int | None
    checkin_channel_id: int | None
    buddy_channel_id: int | None
    organiser_role_id: int | None
    anonymity: str
    timezone: str | None
    archived_at: int | None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int
    modlog_channel_id: int | None = None
    helper_role_id: int | None = None
    resources_text: str | None = None
    retention_days: int = DEFAULT_RETENTION_DAYS
    timezone: str | None = None
    crisis_terms: str = ""


_GROUP_COLUMNS = ", ".join(f.name for f in fields(Group))
_EDITABLE = {
    "name",
    "description",
    "channel_id",
    "role_id",
    "checkin_channel_id",
    "buddy_channel_id",
    "organiser_role_id",
    "anonymity",
    "timezone",
}


def _group(row: Any) -> Group:
    return Group(**{f.name: row[f.name] for f in fields(Group)})


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise UserError("A group needs a name, e.g. `Tuesday Circle`.")
    if len(cleaned) > NAME_MAX:
        raise UserError(f"Group names can be up to {NAME_MAX} characters; that one has {len(cleaned)}.")
    return cleaned


def _clean_description(description: str | None) -> str:
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise UserError(f"Descriptions can be up to {DESCRIPTION_MAX} characters; that one has {len(text)}.")
    return text


async def _refuse_duplicate(tx: Tx, guild_id: int, name: str, except_id: int | None = None) -> None:
    existing = await tx.fetchone(
        "SELECT id, name FROM groups WHERE guild_id = ? AND name_key = ?", (guild_id, name.casefold())
    )
    if existing is not None and existing["id"] != except_id:
        raise UserError(f"There is already a group called **{existing['name']}** here. Pick another name.")


async def create_group(
    tx: Tx,
    *,
    guild_id: int,
    name: str,
    channel_id: int,
    now: datetime,
    description: str | None = None,
    role_id: int | None = None,
    checkin_channel_id: int | None = None,
    buddy_channel_id: int | None = None,
) -> Group:
    """Create a group in a server; names are unique per server, ignoring case."""
    name = _clean_name(name)
    await _refuse_duplicate(tx, guild_id, name)
    group_id = await tx.insert(
        "INSERT INTO groups (guild_id, name, name_key, description, channel_id, role_id, checkin_channel_id,"
        " buddy_channel_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            guild_id,
            name,
            name.casefold(),
            _clean_description(description),
            channel_id,
            role_id,
            checkin_channel_id,
            buddy_channel_id,
            int(now.timestamp()),
        ),
    )
    return await get_group(tx, guild_id, group_id)


async def edit_group(tx: Tx, group: Group, **changes: Any) -> Group:
    """Change some of a group's fields; unknown fields are a programming error."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if "name" in changes:
        changes["name"] = _clean_name(changes["name"])
        await _refuse_duplicate(tx, group.guild_id, changes["name"], except_id=group.id)
        changes["name_key"] = changes["name"].casefold()
    if "description" in changes:
        changes["description"] = _clean_description(changes["description"])
    if "anonymity" in changes and changes["anonymity"] not in ANONYMITY_MODES:
        raise UserError(f"Anonymity can be {', '.join(ANONYMITY_MODES)}.")
    if changes:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        await tx.execute(f"UPDATE groups SET {assignments} WHERE id = ?", (*changes.values(), group.id))
    return await get_group(tx, group.guild_id, group.id)


async def archive_group(tx: Tx, group: Group, now: datetime) -> Group:
    """Archive a group: history kept, no more meetings, nudges or pairing."""
    if group.archived:
        raise UserError(f"**{group.name}** is already archived.")
    await tx.execute("UPDATE groups SET archived_at = ? WHERE id = ?", (int(now.timestamp()), group.id))
    return await get_group(tx, group.guild_id, group.id)


async def get_group(db: Database | Tx, guild_id: int, group_id: int) -> Group:
    """Return a group of this server, or raise UserError."""
    row = await db.fetchone(f"SELECT {_GROUP_COLUMNS} FROM groups WHERE id = ? AND guild_id = ?", (group_id, guild_id))
    if row is None:
        raise UserError("I can't find that group here. Pick one from the list as you type.")
    return _group(row)


async def find_group(db: Database | Tx, guild_id: int, text: str, *, active: bool = True) -> Group:
    """Resolve an autocomplete value (a group id) or a typed name to a group of this server."""
    text = (text or "").strip()
    row = None
    if text.isdigit():
        row = await db.fetchone(
            f"SELECT {_GROUP_COLUMNS} FROM groups WHERE id = ? AND guild_id = ?", (int(text), guild_id)
        )
    if row is None:
        row = await db.fetchone(
            f"SELECT {_GROUP_COLUMNS} FROM groups WHERE guild_id = ? AND name_key = ?",
            (guild_id, " ".join(text.split()).casefold()),
        )
    if row is None:
        raise UserError(f"There's no group called **{text}** here. `/group list` shows the groups.")
    group = _group(row)
    if active and group.archived:
        raise UserError(f"**{group.name}** has been archived, so it has no meetings or pairing any more.")
    return group


async def list_groups(db: Database | Tx, guild_id: int, *, include_archived: bool = False) -> list[Group]:
    """Return this server's groups by name."""
    where = "" if include_archived else " AND archived_at IS NULL"

    async def load() -> tuple[Group, ...]:
        rows = await db.fetchall(
            f"SELECT {_GROUP_COLUMNS} FROM groups WHERE guild_id = ?{where} ORDER BY name_key", (guild_id,)
        )
        return tuple(_group(r) for r in rows)

    return list(await cached_read(db, ("list_groups", guild_id, include_archived), ("groups",), load))


async def search_groups(
    db: Database | Tx, guild_id: int, text: str, *, include_archived: bool = False, limit: int = 25
) -> list[Group]:
    """Return groups whose name contains `text` (prefix matches first), for autocomplete."""
    needle = text.strip().casefold()
    groups = await list_groups(db, guild_id, include_archived=include_archived)
    matches = [g for g in groups if needle in g.name.casefold()]
    matches.sort(key=lambda g: (not g.name.casefold().startswith(needle), g.name.casefold()))
    return matches[:limit]


async def join_group(tx: Tx, group: Group, user_id: int, now: datetime) -> bool:
    """Add a member; return False when they were already in it."""
    if group.archived:
        raise UserError(f"**{group.name}** has been archived and isn't taking new members.")
    inserted = await tx.execute(
        "INSERT INTO memberships (group_id, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (group.id, user_id, int(now.timestamp())),
    )
    return inserted > 0


async def leave_group(tx: Tx, group: Group, user_id: int) -> bool:
    """Remove a member; return False when they were not in it."""
    return await tx.execute("DELETE FROM memberships WHERE group_id = ? AND user_id = ?", (group.id, user_id)) > 0


async def is_member(db: Database | Tx, group_id: int, user_id: int) -> bool:
    """Say whether a user belongs to a group."""
    return bool(await db.fetchval("SELECT 1 FROM memberships WHERE group_id = ? AND user_id = ?", (group_id, user_id)))


async def member_groups(db: Database | Tx, guild_id: int, user_id: int) -> list[Group]:
    """Return the active groups a member belongs to in a server."""

    async def load() -> tuple[Group, ...]:
        rows = await db.fetchall(
            f"SELECT {', '.join('g.' + f.name for f in fields(Group))} FROM groups g"
            " JOIN memberships m ON m.group_id = g.id"
            " WHERE g.guild_id = ? AND m.user_id = ? AND g.archived_at IS NULL ORDER BY g.name_key",
            (guild_id, user_id),
        )
        return tuple(_group(r) for r in rows)

    key = ("member_groups", guild_id, user_id)
    return list(await cached_read(db, key, ("groups", "memberships"), load))


async def member_counts(db: Database | Tx, group_ids: Sequence[int]) -> dict[int, int]:
    """Return how many members each group has."""
    if not group_ids:
        return {}
    marks = ", ".join("?" for _ in group_ids)
    rows = await db.fetchall(
        f"SELECT group_id, COUNT(*) AS n FROM memberships WHERE group_id IN ({marks}) GROUP BY group_id",
        tuple(group_ids),
    )
    return {r["group_id"]: r["n"] for r in rows}


def settings_key(guild_id: int) -> tuple[str, int]:
    """The key of a server's settings in `Database.remembered` (read on almost every command)."""
    return ("guild_settings", guild_id)


async def get_settings(db: Database | Tx, guild_id: int) -> GuildSettings:
    """Return a server's settings (defaults when none were saved); kept in memory until they change."""

    async def load() -> GuildSettings:
        row = await db.fetchone(
            "SELECT guild_id, modlog_channel_id, helper_role_id, resources_text, retention_days, timezone,"
            " crisis_terms FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        )
        return GuildSettings(**dict(row)) if row is not None else GuildSettings(guild_id)

    return await remembered_read(db, settings_key(guild_id), load)


async def update_settings(tx: Tx, guild_id: int, **changes: Any) -> GuildSettings:
    """Save some of a server's settings."""
    allowed = {f.name for f in fields(GuildSettings)} - {"guild_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"not settings: {sorted(unknown)}")
    if "resources_text" in changes and changes["resources_text"] is not None:
        text = changes["resources_text"].strip()
        if len(text) > RESOURCES_MAX:
            raise UserError(f"Resources can be up to {RESOURCES_MAX} characters; that text has {len(text)}.")
        changes["resources_text"] = text or None
    tx.forget(settings_key(guild_id))
    await tx.execute("INSERT INTO guild_settings (guild_id) VALUES (?) ON CONFLICT DO NOTHING", (guild_id,))
    if changes:
        assignments = ", ".join(f"{column} = ?" for column in changes)
        await tx.execute(f"UPDATE guild_settings SET {assignments} WHERE guild_id = ?", (*changes.values(), guild_id))
    return await get_settings(tx, guild_id)


async def audit(tx: Tx, guild_id: int, action: str, detail: str, now: datetime, actor_id: int | None = None) -> None:
    """Record a moderator or safety action in the audit log."""
    await tx.execute(
        "INSERT INTO audit_log (guild_id, at, actor_id, action, detail) VALUES (?, ?, ?, ?, ?)",
        (guild_id, int(now.timestamp()), actor_id, action, detail),
    )
