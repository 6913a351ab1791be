"""Derive unlinkable author keys and weekly aliases for anonymous posts.

Everything here is a keyed HMAC of the ids, so the database, its backups and the logs can hold the
results without revealing who wrote a post: linking a key or alias back to a member needs the secret,
which lives outside the database. Each purpose gets its own domain-separated message, so an author key
and an alias computed from the same ids are unrelated values.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

__all__ = [
    "ADJECTIVES",
    "EPOCH",
    "MIN_SECRET_BYTES",
    "NOUNS",
    "alias_for",
    "alias_for_unique",
    "author_key",
    "forget_author_keys",
    "new_secret",
    "report_key",
    "validate_secret",
    "week_index",
]

MIN_SECRET_BYTES = 32

# A Monday at midnight UTC, so week boundaries (and alias rotation) fall on Monday 00:00 UTC.
EPOCH = datetime(1970, 1, 5, tzinfo=UTC)

# Gentle, plain words. Left out on purpose: anything that reads as a judgement of the person ("Lost",
# "Slow", "Lonely", "Sleepy", "Shy"), mood words ("Blue", "Grey"), recovery-loaded words ("Clean",
# "Sober"), and animals that double as insults or slang ("Loon", "Cuckoo", "Sloth", "Lemming", "Tit").
ADJECTIVES: tuple[str, ...] = (
    "Amber", "Balmy", "Bold", "Brave", "Breezy", "Bright", "Calm", "Candid",
    "Caring", "Cheerful", "Clear", "Coral", "Crisp", "Curious", "Earnest", "Evergreen",
    "Fair", "Faithful", "Friendly", "Gentle", "Glad", "Glowing", "Golden", "Gracious",
    "Grounded", "Hardy", "Hearty", "Honest", "Hopeful", "Humble", "Hushed", "Ivory",
    "Jade", "Kind", "Kindly", "Leafy", "Lilac", "Lively", "Loyal", "Lucid",
    "Mellow", "Merry", "Mild", "Mindful", "Misty", "Moonlit", "Nimble", "Noble",
    "Open", "Patient", "Peaceful", "Placid", "Plucky", "Quiet", "Radiant", "Restful",
    "Rooted", "Rosy", "Russet", "Serene", "Settled", "Shining", "Silver", "Sincere",
    "Snowy", "Soft", "Sparkling", "Starlit", "Steady", "Still", "Sturdy", "Sunlit",
    "Sunny", "Tender", "Thoughtful", "Tranquil", "Trusty", "Unhurried", "Velvet", "Verdant",
    "Vivid", "Warm", "Wise", "Woodland",
)  # fmt: skip

NOUNS: tuple[str, ...] = (
    "Alder", "Aspen", "Aurora", "Badger", "Birch", "Brook", "Canyon", "Cedar",
    "Clover", "Comet", "Cove", "Crane", "Cypress", "Daisy", "Deer", "Delta",
    "Dolphin", "Dove", "Dragonfly", "Dune", "Elk", "Elm", "Falcon", "Fawn",
    "Fern", "Finch", "Firefly", "Fox", "Glacier", "Glade", "Grove", "Harbor",
    "Hare", "Hazel", "Heath", "Heron", "Horizon", "Iris", "Island", "Juniper",
    "Kestrel", "Kingfisher", "Lagoon", "Lake", "Lark", "Laurel", "Lily", "Linden",
    "Lotus", "Lynx", "Maple", "Meadow", "Moss", "Oak", "Orchard", "Otter",
    "Owl", "Pebble", "Pine", "Plover", "Poppy", "Prairie", "Puffin", "Raven",
    "Reef", "Ridge", "River", "Robin", "Rowan", "Sequoia", "Sparrow", "Spruce",
    "Summit", "Swan", "Tide", "Valley", "Whale", "Willow", "Wren", "Zephyr",
)  # fmt: skip

_SUFFIX_ATTEMPTS = 64


def new_secret() -> bytes:
    """Generate a fresh 32-byte anonymity secret."""
    return secrets.token_bytes(MIN_SECRET_BYTES)


def validate_secret(data: bytes) -> bytes:
    """Return the secret as bytes if it is long enough to key the HMACs, else raise ValueError."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValueError(f"The anonymity secret must be bytes, not {type(data).__name__}.")
    secret = bytes(data)
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(
            f"The anonymity secret must be at least {MIN_SECRET_BYTES} bytes, but it is {len(secret)}. "
            "Generate a new one with new_secret() and keep it outside the database and its backups."
        )
    return secret


def _digest(secret: bytes, message: str) -> bytes:
    """HMAC-SHA256 a domain-separated message under a validated secret."""
    return hmac.digest(validate_secret(secret), message.encode("utf-8"), "sha256")


def author_key(secret: bytes, guild_id: int, user_id: int) -> str:
    """Return the hex author key that stands in for a member on anonymous posts in one server."""
    if type(secret) is bytes:  # hashable: the usual case, the bot's secret
        return _kept_author_key(secret, int(guild_id), int(user_id))
    return _digest(secret, f"author|{int(guild_id)}|{int(user_id)}").hex()


# Every /checkin derives its author's key (its 7-day trend includes their anonymous posts): a few microseconds
# of HMAC each, kept for the members seen lately. It holds nothing the secret in memory could not recompute.
@functools.lru_cache(maxsize=4096)
def _kept_author_key(secret: bytes, guild_id: int, user_id: int) -> str:
    return _digest(secret, f"author|{guild_id}|{user_id}").hex()


def forget_author_keys() -> None:
    """Drop the kept author keys (a member's data erased: nothing about them lingers, even in memory)."""
    _kept_author_key.cache_clear()


def report_key(secret: bytes, post_id: int, user_id: int) -> str:
    """Return the key that stops a member reporting one post twice without recording who reported it.

    It is per post, so one member's reports cannot be grouped, and it never equals an author key.
    """
    return _digest(secret, f"report|{int(post_id)}|{int(user_id)}").hex()


def week_index(at_utc: datetime) -> int:
    """Return how many whole weeks have passed since the Monday epoch, so aliases rotate Monday 00:00 UTC."""
    if at_utc.tzinfo is None or at_utc.utcoffset() is None:
        # A naive time could be local time on the host; guessing would rotate aliases at the wrong hour.
        raise ValueError("week_index needs a timezone-aware datetime.")
    return (at_utc.astimezone(UTC) - EPOCH) // timedelta(weeks=1)


def alias_for(secret: bytes, guild_id: int, group_id: int, user_id: int, week: int) -> str:
    """Return the member's two-word alias in a group for one week, e.g. "Quiet Heron"."""
    digest = _digest(secret, f"alias|{int(guild_id)}|{int(group_id)}|{int(user_id)}|{int(week)}")
    # 64-bit slices make the modulo bias negligible for lists of under a hundred words.
    adjective = ADJECTIVES[int.from_bytes(digest[:8], "big") % len(ADJECTIVES)]
    noun = NOUNS[int.from_bytes(digest[8:16], "big") % len(NOUNS)]
    return f"{adjective} {noun}"


def alias_for_unique(
    secret: bytes, guild_id: int, group_id: int, user_id: int, week: int, taken: Collection[str]
) -> str:
    """Return the member's alias, with a deterministic number appended if another author already has it.

    `taken` holds the aliases other authors use in this group this week; it must not contain the
    member's own alias, or the member would be moved off it. Callers should store the result for the
    (group, week, author key) and reuse it, so an alias never changes within a week.
    """
    base = alias_for(secret, guild_id, group_id, user_id, week)
    taken_folded = {alias.casefold() for alias in taken}
    if base.casefold() not in taken_folded:
        return base
    # Numbers come from the HMAC, not a counter, so a suffix reveals nothing about how many people post.
    for attempt in range(_SUFFIX_ATTEMPTS):
        digest = _digest(secret, f"alias-suffix|{int(guild_id)}|{int(group_id)}|{int(user_id)}|{int(week)}|{attempt}")
        candidate = f"{base} {2 + int.from_bytes(digest[:8], 'big') % 98}"
        if candidate.casefold() not in taken_folded:
            return candidate
    # Only reachable when almost every suffix is taken; a plain scan always ends because `taken` is finite.
    number = 100
    while f"{base} {number}".casefold() in taken_folded:
        number += 1
    return f"{base} {number}"
