"""PeerBot: owns the settings, the database, the scheduler and the clock; loads the cogs."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import secrets
import time
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.clock import Clock
from bot.db import Database
from bot.errors import NotPermitted, UserError
from bot.keys import load_or_create_secret
from bot.scheduler import Scheduler
from bot.services import notices as notices_service
from bot.settings import Settings

log = logging.getLogger(__name__)

# Explicit, so a stray file in cogs/ is never loaded by accident (a test checks this list is complete).
EXTENSIONS: tuple[str, ...] = (
    "cogs.setup",
    "cogs.buddies",
    "cogs.checkins",
    "cogs.journal",
    "cogs.safety",
    "cogs.moderation",
    "cogs.groups",
    "cogs.meetings",
    "cogs.rsvp",
    "cogs.schedule",
    "cogs.reminders",
    "cogs.nudges",
    "cogs.privacy",
    "cogs.help",
)

INTENTS = discord.Intents.none()
INTENTS.guilds = True
INTENTS.members = True
INTENTS.voice_states = True


# At DEBUG, discord.py logs HTTP bodies and gateway payloads and aiosqlite logs every statement with its
# parameters: check-in notes next to the id of who wrote them.
PAYLOAD_LOGGERS = ("discord.http", "discord.gateway", "aiosqlite")


def keep_payloads_out_of_logs() -> None:
    """Pin discord.py's payload loggers to INFO or above, however logging was configured (tests included)."""
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:  # NOTSET would inherit a DEBUG root
            logger.setLevel(logging.INFO)


# discord.py prunes idle rate-limit buckets by scanning every bucket each time it creates one (once it holds
# 256). A reminder fan-out creates a bucket per DM channel, so that scan made a fan-out quadratic: about 0.5 ms
# of CPU per DM at 5,000 members (bench/fanout.py). A bucket only counts as idle after 5 minutes, so pruning
# at most once a minute keeps the same bound on memory.
BUCKET_PRUNE_INTERVAL = 60.0


def throttle_bucket_pruning(http: Any, interval: float = BUCKET_PRUNE_INTERVAL) -> None:
    """Let discord.py's HTTP client prune its idle rate-limit buckets at most once per `interval` seconds."""
    prune = getattr(http, "_try_clear_expired_ratelimits", None)
    if prune is None:  # a discord.py without the scan: nothing to throttle
        return
    last = -math.inf

    def throttled() -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= interval:
            last = now
            prune()

    http._try_clear_expired_ratelimits = throttled


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py at another Discord (a REST proxy or the local test double) before login."""
    discord.http.Route.BASE = settings.discord_api_base or "https://discord.com/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        settings.discord_gateway_url or "wss://gateway.discord.gg/"
    )


async def reply(interaction: discord.Interaction, content: str | None = None, **kwargs: Any) -> None:
    """Answer ephemerally, through the followup when the response was already used."""
    kwargs.setdefault("ephemeral", True)
    if interaction.response.is_done():
        await interaction.followup.send(content, **kwargs)
    else:
        await interaction.response.send_message(content, **kwargs)


PERMISSION_NAMES = {
    "manage_guild": "Manage Server",
    "manage_events": "Manage Events",
    "manage_roles": "Manage Roles",
    "manage_threads": "Manage Threads",
    "create_private_threads": "Create Private Threads",
    "send_messages": "Send Messages",
    "send_messages_in_threads": "Send Messages in Threads",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
    "view_channel": "View Channel",
    "read_message_history": "Read Message History",
    "manage_messages": "Manage Messages",
}


def _names(perms: list[str]) -> str:
    return ", ".join(PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in perms)


def describe_error(error: BaseException) -> tuple[str, bool]:
    """Turn an error into (message for the user, whether it was expected)."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        error = error.__cause__ or getattr(error, "original", error)
    if isinstance(error, UserError):
        return error.message, True
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the **{_names(error.missing_permissions)}** permission to do this.", True
    if isinstance(error, app_commands.BotMissingPermissions):
        return (
            f"I'm missing the **{_names(error.missing_permissions)}** permission here. "
            "A moderator can fix that in Server Settings → Roles; `/setup show` lists what is missing.",
            True,
        )
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works inside a server, not in DMs.", True
    if isinstance(error, app_commands.CheckFailure):
        return "You don't have permission to do this.", True
    if isinstance(error, discord.Forbidden):
        return (
            "Discord didn't let me do that: I'm missing a permission in that channel. "
            "A moderator can run `/setup show` to see what is missing.",
            True,
        )
    return "", False


class PeerTree(app_commands.CommandTree):
    """The one place where command errors become short, kind, ephemeral replies."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await handle_interaction_error(interaction, error)


async def handle_interaction_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Reply to the member about `error`; log the unexpected ones with a code they can quote."""
    message, expected = describe_error(error)
    if not expected:
        code = secrets.token_hex(3).upper()
        command = interaction.command.qualified_name if interaction.command else "component"
        log.error("Error %s in %s", code, command, exc_info=error)
        message = (
            f"Something went wrong on my side (error `{code}`). It wasn't anything you did. "
            "Please try again; if it keeps happening, tell a moderator the code."
        )
    try:
        await reply(interaction, message)
    except discord.HTTPException:
        log.warning("Could not deliver an error reply for interaction %s", interaction.id)


async def deliver_notices(bot: PeerBot, interaction: discord.Interaction) -> None:
    """Send, ephemerally, whatever waits for the member; forget it once delivered."""
    if not await notices_service.has_notices(bot.db, interaction.user.id):
        return
    async with bot.db.transaction() as tx:
        texts = await notices_service.take_notices(tx, interaction.user.id)
    if texts:
        try:
            await reply(interaction, "\n\n".join(f"📬 {t}" for t in texts)[:2000])
        except discord.HTTPException:
            async with bot.db.transaction() as tx:
                for text in texts:
                    await notices_service.add_notice(tx, interaction.user.id, text, bot.clock.now())


class PeerBot(commands.Bot):
    """The bot: one instance per process, built from Settings by `bot.__main__`."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        sync_on_start: bool = True,
        **options: Any,
    ) -> None:
        apply_endpoints(settings)
        keep_payloads_out_of_logs()
        options.setdefault("intents", INTENTS)
        options.setdefault("help_command", None)
        options.setdefault("allowed_mentions", discord.AllowedMentions(everyone=False, users=True, roles=True))
        super().__init__(command_prefix=commands.when_mentioned, tree_cls=PeerTree, **options)
        throttle_bucket_pruning(self.http)
        self.settings = settings
        self.clock = clock or Clock()
        self.db = Database(settings.database_path)
        self.scheduler = Scheduler(self.clock)
        self.anon_secret = b""
        self.sync_on_start = sync_on_start
        self._shutting_down = False

    async def setup_hook(self) -> None:
        await self.db.connect()
        await self.db.migrate()
        self.anon_secret = load_or_create_secret(self.settings.anon_secret_path)
        self.scheduler.start()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.sync_on_start:
            await self.sync_commands_if_changed()

    def command_hash(self, guild_id: int | None) -> str:
        """Return a hash of the command definitions as they would be synced."""
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands()]
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    async def sync_commands(self, guild_id: int | None = None) -> int:
        """Sync commands globally or to one guild; remember the hash; return how many."""
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        key = f"commands_hash:{guild_id or 'global'}"
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO bot_state (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, self.command_hash(guild_id)),
            )
        log.info("Synced %d commands to %s", len(synced), guild_id or "all servers")
        return len(synced)

    async def sync_commands_if_changed(self) -> bool:
        """Sync only when the definitions differ from the last sync (Discord rate-limits syncing)."""
        guild_id = self.settings.dev_guild_id
        stored = await self.db.fetchval(
            "SELECT value FROM bot_state WHERE key = ?", (f"commands_hash:{guild_id or 'global'}",)
        )
        if stored == self.command_hash(guild_id):
            return False
        await self.sync_commands(guild_id)
        return True

    async def on_app_command_completion(self, interaction: discord.Interaction, command: Any) -> None:
        """Deliver notes kept for this member (closed DMs, changed meetings) after their command."""
        await deliver_notices(self, interaction)

    async def close(self) -> None:
        """Shut down in reverse order of start: cogs, scheduler, gateway and HTTP, database."""
        if self._shutting_down:
            # discord.py calls close() again from connect(); the first call does the work.
            await super().close()
            return
        self._shutting_down = True
        for extension in reversed(list(self.extensions)):
            try:
                await self.unload_extension(extension)
            except Exception:
                log.exception("Unloading %s failed", extension)
        self.scheduler.shutdown()
        await super().close()
        await self.db.close()


__all__ = ["EXTENSIONS", "NotPermitted", "PeerBot", "apply_endpoints", "handle_interaction_error", "reply"]
