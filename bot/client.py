"""PeerBot: owns the settings, the database, the scheduler and the clock; loads the cogs."""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import json
import logging
import math
import secrets
import time
from collections.abc import Coroutine
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.http import Route
from discord.webhook.async_ import async_context, interaction_message_response_params

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


# What the bot builds as it starts (discord.py's caches of servers and members, every meeting's timers, the
# services' caches) lives as long as the process, and Python's cycle collector walked all of it in every full
# collection: 120-180 ms with 10,000 series (bench/startup.py), a stall that every interaction in flight waited
# through, every few thousand interactions under load. Once the start-up work is done, one last full collection
# clears what start-up left in reference cycles (interactions answered meanwhile among them: each refers to
# itself through its response), and what is alive then is frozen, so later collections walk only what came after.
# The price: something frozen that later becomes garbage *in a reference cycle* (the server objects of a server
# the bot leaves) stays until the process ends; garbage without a cycle is freed by reference counting as ever.
def settle_heap() -> None:
    """Collect what start-up left behind, then keep everything alive now out of the collector's later walks."""
    gc.collect()
    gc.freeze()


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py at another Discord (a REST proxy or the local test double) before login."""
    discord.http.Route.BASE = settings.discord_api_base or "https://discord.com/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        settings.discord_gateway_url or "wss://gateway.discord.gg/"
    )


# ---------------------------------------------------------------------------------------------- answering
# Discord forgets an interaction that is not acknowledged within 3 seconds: the member sees "The application
# did not respond" even when the work was done (a check-in saved, so trying again saves it twice). Nearly
# everything answers within milliseconds, and slow commands defer first. Whatever has still not answered
# ACKNOWLEDGE_AFTER seconds after Discord created it (another process holding the database, a stalled event
# loop, a slow Discord call before the answer) is acknowledged for it, and its answer follows when ready.
#
# The first response to an interaction can be given once, so every cog answers through the helpers below
# (tests/test_structure.py checks it): each takes the interaction's gate, and uses the followup or edits the
# deferred message when the safeguard was first. The safeguard waits for an answer that is on its way (the
# gate is held), and does nothing once it has been given.
ACKNOWLEDGE_AFTER = 2.0
_GATE = "peerbot.first-response"
MODAL_TOO_LATE = (
    "Discord needed an answer from me before I could open the form, so it didn't open. "
    "Please try again; it should be quick now."
)
NOTHING_ANSWERS = (
    "That button doesn't work any more: it may be from before I restarted, or it was left too long. "
    "If you already got an answer, it went through; if not, please run the command again."
)
_HANDLED = "peerbot.taken-up"
_WATCHED = "peerbot.safeguard"
_background: set[asyncio.Task[Any]] = set()  # tasks nobody awaits, kept (so not collected) until they finish


def in_background(work: Coroutine[Any, Any, Any], failure: str) -> asyncio.Task[Any]:
    """Run `work` as a task kept until it finishes; should it fail, log `failure` with the error."""
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(functools.partial(_finished, failure))
    return task


def _finished(failure: str, task: asyncio.Task[Any]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("%s", failure, exc_info=task.exception())


def taken_up(interaction: discord.Interaction) -> None:
    """Note that a handler of ours has this click or form (cogs/_ui.py's guarded callbacks, views and modals).

    A click on a button nothing answers any more (a short-lived view from before a restart) is then told so by
    the safeguard, instead of being acknowledged in silence.
    """
    interaction.extras[_HANDLED] = True


def _gate(interaction: discord.Interaction) -> asyncio.Lock:
    gate = interaction.extras.get(_GATE)
    if gate is None:
        gate = interaction.extras[_GATE] = asyncio.Lock()
    return gate


_ANSWERABLE = frozenset(
    (
        discord.InteractionType.application_command,
        discord.InteractionType.component,
        discord.InteractionType.modal_submit,
    )
)  # autocomplete cannot be deferred; pings are answered by discord.py


class Safeguard:
    """Makes sure Discord hears from us within `after` seconds of creating an interaction, whatever its handler does.

    One timer serves them all: it ticks every `after / TICKS` while any interaction waits for its answer, and
    acknowledges those past their time. (A timer each, made, pushed on the loop's heap and cancelled, cost every
    interaction about 8 µs, for answers nearly all given within a millisecond: bench/interactions.py.) So the
    acknowledgement comes up to a tick (0.1 s of the 2) after its time, a second before Discord's deadline.
    """

    TICKS = 20

    def __init__(self) -> None:
        self._waiting: dict[int, tuple[float, discord.Interaction]] = {}  # id → (when due, on the loop's clock)
        self._tick: asyncio.TimerHandle | None = None
        self._step = ACKNOWLEDGE_AFTER / self.TICKS  # the latest `after` sets it
        self._stopped = False

    def watch(self, interaction: discord.Interaction, after: float) -> None:
        """Acknowledge `interaction` `after` seconds after Discord created it, unless `answered` is called first."""
        if interaction.type not in _ANSWERABLE or self._stopped:
            return
        loop = asyncio.get_running_loop()
        # The seconds run from when Discord created it: one that reached us late (a busy loop) has less time left.
        # But never less than half: with this machine's clock ahead of Discord's, every interaction would look late,
        # and each would be deferred (and every form refused) however quick the answer.
        late = max(0.0, _age(interaction))
        self._waiting[interaction.id] = (loop.time() + max(after / 2, after - late), interaction)
        interaction.extras[_WATCHED] = self
        self._step = after / self.TICKS
        if self._tick is None:
            self._tick = loop.call_later(self._step, self._sweep)

    @property
    def ticking(self) -> bool:
        """Whether its timer runs (only while an interaction waits for its answer)."""
        return self._tick is not None

    def answered(self, interaction: discord.Interaction) -> None:
        """Forget `interaction`: its first response is given (and let it go: see `_answered`)."""
        self._waiting.pop(interaction.id, None)

    def stop(self) -> None:
        """Stop ticking and forget every interaction, for good (the bot is closing)."""
        self._stopped = True
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        self._waiting.clear()

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        try:
            due = [key for key, (at, _) in self._waiting.items() if at <= now]
            for key in due:
                _, interaction = self._waiting.pop(key)
                interaction.extras.pop(_WATCHED, None)
                try:
                    _acknowledge_if_silent(interaction)
                except Exception:  # one interaction's trouble must not stop the safeguard for all the others
                    log.exception("Could not acknowledge interaction %s", interaction.id)
        finally:
            self._tick = loop.call_later(self._step, self._sweep) if self._waiting else None


def _answered(interaction: discord.Interaction) -> None:
    """Take the safeguard off once the first response is given.

    An interaction the safeguard still held stayed alive (member, options, data) for the whole 2 seconds: at a few
    hundred interactions a second that kept about a thousand of them, long enough for Python's garbage collector
    to move them to its oldest generation and then walk them all (bench/interactions.py).
    """
    safeguard = interaction.extras.pop(_WATCHED, None)
    if safeguard is not None:
        safeguard.answered(interaction)


def _acknowledge_if_silent(interaction: discord.Interaction) -> None:
    if interaction.response.is_done() or interaction.client.is_closed():
        return
    in_background(_acknowledge(interaction), f"Acknowledging interaction {interaction.id} failed")


async def _acknowledge(interaction: discord.Interaction) -> None:
    async with _gate(interaction):
        if interaction.response.is_done():
            return
        orphan = (
            interaction.type is not discord.InteractionType.application_command and _HANDLED not in interaction.extras
        )
        try:
            if orphan:
                await interaction.response.send_message(NOTHING_ANSWERS, ephemeral=True)
            elif interaction.type is discord.InteractionType.component:
                await interaction.response.defer()  # the clicked message is edited or answered later
            else:
                await interaction.response.defer(ephemeral=True, thinking=True)
        except Exception as exc:  # expired already, or Discord refused: the handler's own answer is all that is left
            log.warning("Could not acknowledge slow interaction %s in time: %s", interaction.id, exc)
            return
    if orphan:
        log.info("Interaction %s: nothing answers that component or form any more; told the member", interaction.id)
        return
    name = interaction.command.qualified_name if interaction.command else "a component or form"
    age = _age(interaction)
    log.warning("Interaction %s (%s) had no answer after %.1f s; acknowledged it", interaction.id, name, age)


def _age(interaction: discord.Interaction) -> float:
    """Seconds since Discord created the interaction (by its snowflake), by our clock."""
    return time.time() - ((interaction.id >> 22) + discord.utils.DISCORD_EPOCH) / 1000


# What a first response may carry to go the lean way (`_respond`); anything else goes through discord.py.
_LEAN_SEND = frozenset(("content", "embed", "embeds", "view", "allowed_mentions", "ephemeral"))
_LEAN_EDIT = frozenset(("content", "embed", "embeds", "view", "allowed_mentions", "attachments"))
_LEAN_EDITABLE = frozenset((discord.InteractionType.component, discord.InteractionType.modal_submit))


def _lean(fields: dict[str, Any], allowed: frozenset[str]) -> bool:
    view = fields.get("view")
    return (
        fields.keys() <= allowed
        and (view is None or view.is_finished())
        and not any(isinstance(kept, discord.File) for kept in fields.get("attachments", ()))
    )


async def _respond(
    interaction: discord.Interaction, kind: discord.InteractionResponseType, fields: dict[str, Any]
) -> None:
    """Give the first response without asking Discord for the message back.

    discord.py's `send_message` and `edit_message` always ask for it (`with_response`), then build a Message of it:
    its embeds and every button parsed into objects, which PeerBot never reads. For `/meetings`, with fifteen
    buttons, that was about a fifth of the bot's CPU per command with 50 in flight (bench/interactions.py). The
    request is otherwise discord.py's own: the same payload, the same adapter (its retries on 429 and its errors),
    and the response is marked as given as discord.py marks it, only once Discord took it. A reply with files, or with
    a view that listens (discord.py keeps that by the message's id), goes through discord.py instead (`_lean`).
    """
    fields = dict(fields)
    flags = discord.MessageFlags(ephemeral=True) if fields.pop("ephemeral", False) else discord.utils.MISSING
    state = interaction._state
    if kind is discord.InteractionResponseType.message_update and "view" in fields and interaction.message:
        state.prevent_view_updates_for(interaction.message.id)  # as discord.py's edit_message does
    params = interaction_message_response_params(
        type=kind.value, flags=flags, previous_allowed_mentions=state.allowed_mentions, **fields
    )
    route = Route(
        "POST",
        "/interactions/{webhook_id}/{webhook_token}/callback",
        webhook_id=interaction.id,
        webhook_token=interaction.token,
    )
    await async_context.get().request(
        route,
        session=interaction._session,
        proxy=state.http.proxy,
        proxy_auth=state.http.proxy_auth,
        payload=params.payload,
    )
    interaction.response._response_type = kind


async def reply(interaction: discord.Interaction, content: str | None = None, **kwargs: Any) -> None:
    """Answer ephemerally, through the followup when the response was already used.

    After a "thinking…" defer, Discord makes the first followup that message, ephemeral as the defer was,
    whatever `ephemeral` says; the deferrals here (and the safeguard's) are all ephemeral, like every answer.
    """
    kwargs.setdefault("ephemeral", True)
    if not interaction.response.is_done():
        async with _gate(interaction):
            if not interaction.response.is_done():
                if _lean(kwargs, _LEAN_SEND):
                    await _respond(
                        interaction, discord.InteractionResponseType.channel_message, {"content": content, **kwargs}
                    )
                else:
                    await interaction.response.send_message(content, **kwargs)
                _answered(interaction)
                return
    await interaction.followup.send(content, **kwargs)


async def defer_reply(interaction: discord.Interaction) -> None:
    """Show "thinking…" (ephemerally) ahead of a slow answer; `reply` then gives the answer."""
    async with _gate(interaction):
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
            _answered(interaction)


async def defer_update(interaction: discord.Interaction) -> None:
    """Acknowledge a click ahead of slow work; `edit_reply` then changes the clicked message."""
    async with _gate(interaction):
        if not interaction.response.is_done():
            await interaction.response.defer()
            _answered(interaction)


async def edit_reply(interaction: discord.Interaction, **fields: Any) -> None:
    """Change the message a button was clicked on (or, once deferred, the message that answers)."""
    if not interaction.response.is_done():
        async with _gate(interaction):
            if not interaction.response.is_done():
                if interaction.type in _LEAN_EDITABLE and _lean(fields, _LEAN_EDIT):
                    await _respond(interaction, discord.InteractionResponseType.message_update, fields)
                else:
                    await interaction.response.edit_message(**fields)
                _answered(interaction)
                return
    await interaction.edit_original_response(**fields)


async def open_modal(interaction: discord.Interaction, modal: discord.ui.Modal) -> None:
    """Open a form, which must be the first response; say so kindly if Discord had to be answered before."""
    async with _gate(interaction):
        if not interaction.response.is_done():
            await interaction.response.send_modal(modal)
            _answered(interaction)
            return
    await interaction.followup.send(MODAL_TOO_LATE, ephemeral=True)


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
        self.acknowledge_after = ACKNOWLEDGE_AFTER
        self.safeguard = Safeguard()
        self._shutting_down = False
        self._start_work: list[asyncio.Task[Any]] = []
        self.started: asyncio.Task[None] | None = None  # done once the start-up work is, and the heap settled

    def at_start(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a cog's start-up work (rebuilding its timers from the database) as a task; log it if it fails."""
        task = in_background(work, f"Start-up work {work.__qualname__} failed")
        if self.started is None or not self.started.done():  # a cog reloaded later is not the start's
            self._start_work.append(task)
        return task

    async def _settle_after_start(self) -> None:
        await self.wait_until_ready()
        if self._start_work:
            await asyncio.wait(self._start_work)
        self._start_work = []
        settle_heap()

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        # discord.py dispatches "interaction" for every interaction it receives, right as it arrives (no task).
        if event_name == "interaction":
            self.safeguard.watch(args[0], self.acknowledge_after)
        elif event_name == "app_command_completion":
            self._after_command(args[0])
        if self._heard(event_name):
            super().dispatch(event_name, *args, **kwargs)

    def _heard(self, event_name: str) -> bool:
        """Say whether anything listens for `event_name`: an `on_…` method, a cog's listener, a `wait_for`.

        discord.py dispatches three events for every interaction (its gateway event's type, "interaction", and
        "app_command_completion") that nothing here listens for, and finding that out its way (a failed attribute
        lookup each) cost several µs of each interaction (bench/interactions.py).
        """
        name = "on_" + event_name
        waiting = getattr(self, "_listeners", None)  # discord.py's wait_for futures (not public: if gone, dispatch all)
        return (
            name in self.__dict__  # @bot.event
            or getattr(type(self), name, None) is not None
            or bool(self.extra_events.get(name))
            or waiting is None
            or bool(waiting.get(event_name))
        )

    def _after_command(self, interaction: discord.Interaction) -> None:
        """Deliver notes kept for this member (closed DMs, changed meetings) after their command.

        Most members have none, and that is known without reading (`notices.none_waiting`): no task for them.
        """
        if notices_service.none_waiting(self.db, interaction.user.id):
            return
        in_background(deliver_notices(self, interaction), "Could not deliver waiting notes")

    async def setup_hook(self) -> None:
        await self.db.connect()
        await self.db.migrate()
        self.anon_secret = load_or_create_secret(self.settings.anon_secret_path)
        self.scheduler.start()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.started = asyncio.create_task(self._settle_after_start())
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

    async def close(self) -> None:
        """Shut down in reverse order of start: cogs, scheduler, gateway and HTTP, database."""
        if self._shutting_down:
            # discord.py calls close() again from connect(); the first call does the work.
            await super().close()
            return
        self._shutting_down = True
        if self.started is not None:
            self.started.cancel()
        gc.unfreeze()  # the whole process's: one bot per process (a test's next bot freezes again once started)
        for extension in reversed(list(self.extensions)):
            try:
                await self.unload_extension(extension)
            except Exception:
                log.exception("Unloading %s failed", extension)
        self.scheduler.shutdown()
        self.safeguard.stop()
        await super().close()
        await self.db.close()


__all__ = [
    "EXTENSIONS",
    "NotPermitted",
    "PeerBot",
    "apply_endpoints",
    "defer_reply",
    "defer_update",
    "edit_reply",
    "handle_interaction_error",
    "open_modal",
    "reply",
    "taken_up",
]
