"""What a person does in the Discord client (slash commands, clicks, modals) and what a test reads back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.double.payloads import (
    DM,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    Channel,
    Guild,
    Role,
    User,
    message_payload,
    snowflake,
)

if TYPE_CHECKING:
    from tests.double.server import DiscordDouble

EPHEMERAL = 64
LOADING = 128

# Application command option types
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = range(1, 11)


class CommandError(AssertionError):
    """What Discord's client would refuse (unknown command, bad option), or a bot that never answered."""


@dataclass
class InteractionRecord:
    id: int
    token: str
    type: int
    user: User
    channel: Channel
    guild: Guild | None
    payload: dict[str, Any]
    created: float = field(default_factory=time.monotonic)
    callback_type: int | None = None
    message_id: int | None = None
    source_message_id: int | None = None
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    followup_ids: list[int] = field(default_factory=list)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    settled: asyncio.Event = field(default_factory=asyncio.Event)


class Reply:
    """A view onto one interaction: the response the member saw, its followups, a modal or choices."""

    def __init__(self, double: DiscordDouble, record: InteractionRecord) -> None:
        self._double = double
        self.record = record

    @property
    def message(self) -> dict[str, Any] | None:
        """The response message (as edited since), if any."""
        mid = self.record.message_id
        if mid is None:
            return None
        return self._double.messages.get(mid) or next(
            (m for m in self._double.deleted_messages if int(m["id"]) == mid), None
        )

    @property
    def content(self) -> str:
        return (self.message or {}).get("content", "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return (self.message or {}).get("embeds", [])

    @property
    def ephemeral(self) -> bool:
        return bool(int((self.message or {}).get("flags", 0)) & EPHEMERAL)

    @property
    def deferred(self) -> bool:
        return self.record.callback_type in (5, 6)

    @property
    def modal(self) -> dict[str, Any] | None:
        return self.record.modal

    @property
    def choices(self) -> list[dict[str, Any]]:
        return self.record.choices or []

    @property
    def followups(self) -> list[dict[str, Any]]:
        return [self._double.messages[m] for m in self.record.followup_ids if m in self._double.messages]

    @property
    def text(self) -> str:
        """Everything readable in the response and its followups, for simple assertions."""
        return "\n".join(message_text(m) for m in [self.message, *self.followups] if m)

    @property
    def buttons(self) -> list[str]:
        return button_labels(self.message or {})

    @property
    def files(self) -> list[bytes]:
        return [self._double.files[int(a["id"])] for a in (self.message or {}).get("attachments", [])] + [
            self._double.files[int(a["id"])] for m in self.followups for a in m.get("attachments", [])
        ]

    def __repr__(self) -> str:
        return f"<Reply callback={self.record.callback_type} ephemeral={self.ephemeral} text={self.text!r}>"


def iter_components(components: list[dict[str, Any]]):
    """Yield every component, however deeply nested in rows, sections or containers."""
    for component in components or []:
        yield component
        yield from iter_components(component.get("components", []))
        if "accessory" in component:
            yield component["accessory"]
        if "component" in component:
            yield component["component"]


def button_labels(message: dict[str, Any]) -> list[str]:
    """Return the labels of a message's buttons, in order."""
    return [
        c.get("label") or c.get("emoji", {}).get("name", "")
        for c in iter_components(message.get("components", []))
        if c.get("type") == 2
    ]


def message_text(message: dict[str, Any]) -> str:
    """Flatten a message's content and embeds into text."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds", []):
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for fld in embed.get("fields", []):
            parts += [fld.get("name", ""), fld.get("value", "")]
        if embed.get("footer"):
            parts.append(embed["footer"].get("text", ""))
    for component in iter_components(message.get("components", [])):
        if component.get("type") == 10:
            parts.append(component.get("content", ""))
    return "\n".join(p for p in parts if p)


class Driver:
    """Mixed into DiscordDouble: act as a member, and read what the bot did."""

    default_guild: Guild | None = None
    default_channel: Channel | None = None
    reply_timeout: float = 8.0

    # ---------------------------------------------------------------- reading what the bot did
    def messages_in(self: DiscordDouble, channel: Channel, *, ephemeral: bool = False) -> list[dict[str, Any]]:
        """Return the channel's messages, oldest first (ephemeral ones only when asked)."""
        out = [self.messages[m] for m in self.channel_messages.get(channel.id, []) if m in self.messages]
        return out if ephemeral else [m for m in out if not int(m.get("flags", 0)) & EPHEMERAL]

    def dm_channel(self: DiscordDouble, user: User) -> Channel | None:
        """Return the DM channel the bot opened with `user`, if any."""
        return next((c for c in self.channels.values() if c.type == DM and c.recipients[0] is user), None)

    def dms_to(self: DiscordDouble, user: User) -> list[dict[str, Any]]:
        """Return the DMs the bot sent to `user`, oldest first."""
        channel = self.dm_channel(user)
        return self.messages_in(channel) if channel else []

    def threads_in(self: DiscordDouble, channel: Channel) -> list[Channel]:
        """Return the threads created under `channel`."""
        return [
            c for c in self.channels.values() if c.parent_id == channel.id and c.type in (PUBLIC_THREAD, PRIVATE_THREAD)
        ]

    def requests_to(self: DiscordDouble, method: str, path_glob: str) -> list[Any]:
        """Return the recorded requests matching a method and a path glob."""
        import fnmatch

        return [r for r in self.requests if r.method == method and fnmatch.fnmatch(r.path, path_glob)]

    def assert_all_handled(self: DiscordDouble) -> None:
        """Fail when the bot called a route the double does not know (a route we have not modelled)."""
        assert not self.unhandled, f"the bot called unhandled routes: {self.unhandled}"

    async def wait_until(self: DiscordDouble, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked whenever the bot calls the double)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("condition not met in time")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=min(remaining, 0.05))
            except TimeoutError:
                pass

    async def until(self: DiscordDouble, check: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until the async `check()` returns something truthy (e.g. a database condition)."""
        deadline = time.monotonic() + timeout
        while True:
            value = await check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.02)

    async def settle(self: DiscordDouble, seconds: float = 0.2) -> None:
        """Give the bot a moment (to show that something does NOT happen)."""
        await asyncio.sleep(seconds)

    # ---------------------------------------------------------------- gateway events a test injects
    async def member_join(self: DiscordDouble, guild: Guild, user: User, roles: list[Role] = ()) -> None:
        """A user joins the server."""
        member = self.add_member(guild, user, list(roles))
        await self.dispatch("GUILD_MEMBER_ADD", {"guild_id": str(guild.id), **member.payload()})

    async def member_leave(self: DiscordDouble, guild: Guild, user: User) -> None:
        """A member leaves the server."""
        guild.members.pop(user.id, None)
        await self.dispatch("GUILD_MEMBER_REMOVE", {"guild_id": str(guild.id), "user": user.payload()})

    async def voice_state(self: DiscordDouble, guild: Guild, user: User, channel: Channel | None) -> None:
        """A member joins (or leaves, with None) a voice channel."""
        member = guild.members[user.id]
        await self.dispatch(
            "VOICE_STATE_UPDATE",
            {
                "guild_id": str(guild.id),
                "channel_id": str(channel.id) if channel else None,
                "user_id": str(user.id),
                "member": member.payload(),
                "session_id": "s",
                "deaf": False,
                "mute": False,
                "self_deaf": False,
                "self_mute": False,
                "self_video": False,
                "suppress": False,
                "request_to_speak_timestamp": None,
            },
        )

    # ---------------------------------------------------------------- interactions
    def _find_command(self: DiscordDouble, name: str, guild: Guild | None, kind: int = 1) -> dict[str, Any]:
        pool = (self.commands.get(guild.id, []) if guild else []) + self.commands.get(None, [])
        for command in pool:
            if command["name"] == name and command.get("type", 1) == kind:
                return command
        known = sorted(c["name"] for c in pool if c.get("type", 1) == kind)
        raise CommandError(f"no command {name!r} is registered; registered: {known}")

    def _resolve_value(self: DiscordDouble, option: dict, value: Any, resolved: dict, guild: Guild | None) -> Any:
        kind = option["type"]
        if kind in (USER, MENTIONABLE) and isinstance(value, User):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            if guild and value.id in guild.members:
                member = guild.members[value.id].payload(permissions=guild.permissions_of(value.id))
                member.pop("user")
                resolved.setdefault("members", {})[str(value.id)] = member
            return str(value.id)
        if kind in (ROLE, MENTIONABLE) and isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        if kind == CHANNEL and isinstance(value, Channel):
            allowed = option.get("channel_types")
            if allowed and value.type not in allowed:
                # Discord's client only offers channels of the declared types.
                raise CommandError(f"option {option['name']!r} only takes channel types {allowed}")
            data = value.payload()
            data["permissions"] = str(guild.channel_permissions_of(self.bot_user.id, value) if guild else 0)
            resolved.setdefault("channels", {})[str(value.id)] = data
            return str(value.id)
        if kind in (USER, ROLE, CHANNEL, MENTIONABLE):
            raise CommandError(f"option {option['name']!r} needs a user, role or channel object, not {value!r}")
        if kind == INTEGER:
            if not isinstance(value, int) or isinstance(value, bool):
                raise CommandError(f"option {option['name']!r} must be a whole number")
            lo, hi = option.get("min_value"), option.get("max_value")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise CommandError(f"option {option['name']!r} must be between {lo} and {hi}")
        if kind == NUMBER:
            value = float(value)
        if kind == BOOLEAN and not isinstance(value, bool):
            raise CommandError(f"option {option['name']!r} must be True or False")
        if kind == STRING:
            value = str(value)
            if option.get("max_length") and len(value) > option["max_length"]:
                raise CommandError(f"option {option['name']!r} is longer than {option['max_length']}")
        choices = option.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise CommandError(f"{value!r} is not a choice of {option['name']!r}: {[c['value'] for c in choices]}")
        return value

    def _build_options(
        self: DiscordDouble,
        command: dict,
        path: list[str],
        values: dict[str, Any],
        guild: Guild | None,
        focused: str | None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        resolved: dict[str, Any] = {}
        options = command.get("options", [])
        if path:
            sub = next((o for o in options if o["name"] == path[0] and o["type"] in (1, 2)), None)
            if sub is None:
                raise CommandError(f"{command['name']!r} has no subcommand {path[0]!r}")
            inner, resolved = self._build_options(sub, path[1:], values, guild, focused)
            return [{"name": sub["name"], "type": sub["type"], "options": inner}], resolved
        if any(o["type"] in (1, 2) for o in options):
            raise CommandError(f"{command['name']!r} needs a subcommand: {[o['name'] for o in options]}")
        known = {o["name"]: o for o in options}
        for name in values:
            if name not in known:
                raise CommandError(f"{command['name']!r} has no option {name!r}; it has {sorted(known)}")
        built = []
        for option in options:
            name = option["name"]
            if name not in values:
                if option.get("required") and focused is None:  # autocomplete carries partial options
                    raise CommandError(f"option {name!r} is required")
                continue
            if name == focused:
                built.append({"name": name, "type": option["type"], "value": str(values[name]), "focused": True})
                continue
            built.append(
                {
                    "name": name,
                    "type": option["type"],
                    "value": self._resolve_value(option, values[name], resolved, guild),
                }
            )
        return built, resolved

    def _interaction(
        self: DiscordDouble,
        kind: int,
        data: dict[str, Any],
        user: User,
        guild: Guild | None,
        channel: Channel | None,
        message: dict[str, Any] | None = None,
    ) -> InteractionRecord:
        iid = snowflake()
        token = f"tok-{iid}"
        if guild is None and channel is None:
            channel = self._user_dm(user)
        assert channel is not None
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "locale": "en-GB",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "channel": channel.payload(),
            "channel_id": str(channel.id),
        }
        if guild is not None:
            if user.id not in guild.members:
                raise CommandError(f"{user.name} is not a member of {guild.name}")
            perms = guild.channel_permissions_of(user.id, channel)
            payload.update(
                guild_id=str(guild.id),
                guild_locale="en-US",
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                member=guild.members[user.id].payload(permissions=perms),
                app_permissions=str(guild.channel_permissions_of(self.bot_user.id, channel)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.payload(),
                app_permissions="0",
                context=1,
                authorizing_integration_owners={"0": str(user.id)},
            )
        if message is not None:
            payload["message"] = message
        record = InteractionRecord(iid, token, kind, user, channel, guild, payload)
        if message is not None:
            record.source_message_id = int(message["id"])
        self.interactions[iid] = record
        self._tokens[token] = record
        return record

    def _user_dm(self: DiscordDouble, user: User) -> Channel:
        """The DM channel between a user and the bot, as seen in the user's client."""
        for channel in self.channels.values():
            if channel.type == DM and channel.recipients and channel.recipients[0] is user:
                return channel
        channel = Channel(f"dm-{user.name}", type=DM, recipients=[user])
        self.channels[channel.id] = channel
        self.channel_messages[channel.id] = []
        return channel

    async def _send(self: DiscordDouble, record: InteractionRecord, *, settle: bool = True) -> Reply:
        if self.faults.expire_next_interaction:
            self.faults.expire_next_interaction = False
            record.created -= 3600
        await self.dispatch("INTERACTION_CREATE", record.payload)
        try:
            await asyncio.wait_for(record.answered.wait(), self.reply_timeout)
        except TimeoutError:
            raise CommandError("the bot did not acknowledge the interaction") from None
        if settle and record.callback_type in (5, 6):
            try:
                await asyncio.wait_for(record.settled.wait(), self.reply_timeout)
            except TimeoutError:
                raise CommandError("the bot deferred but never sent its answer") from None
        return Reply(self, record)

    def _place(self, guild: Guild | None, channel: Channel | None, dm: bool) -> tuple[Guild | None, Channel | None]:
        if dm:
            return None, None
        guild = guild or self.default_guild
        if channel is None:
            channel = self.default_channel if guild is self.default_guild else guild.channels[0]
        return guild, channel

    async def slash(
        self: DiscordDouble,
        name: str,
        /,
        *,
        user: User,
        in_guild: Guild | None = None,
        in_channel: Channel | None = None,
        dm: bool = False,
        **options: Any,
    ) -> Reply:
        """Run `/name sub option:value` as `user`; return the bot's answer."""
        guild, channel = self._place(in_guild, in_channel, dm)
        parts = name.split()
        command = self._find_command(parts[0], guild)
        built, resolved = self._build_options(command, parts[1:], options, guild, None)
        data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": 1, "options": built}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return await self._send(self._interaction(2, data, user, guild, channel))

    async def autocomplete(
        self: DiscordDouble,
        name: str,
        /,
        *,
        user: User,
        focused: str,
        value: str = "",
        in_guild: Guild | None = None,
        in_channel: Channel | None = None,
        **options: Any,
    ) -> list[dict[str, Any]]:
        """Type `value` into option `focused` of `/name`; return the choices the bot offered."""
        guild, channel = self._place(in_guild, in_channel, False)
        parts = name.split()
        command = self._find_command(parts[0], guild)
        built, resolved = self._build_options(command, parts[1:], {**options, focused: value}, guild, focused)
        data = {"id": command["id"], "name": command["name"], "type": 1, "options": built}
        if resolved:
            data["resolved"] = resolved
        reply = await self._send(self._interaction(4, data, user, guild, channel))
        return reply.choices

    async def message_command(
        self: DiscordDouble,
        name: str,
        message: dict[str, Any],
        /,
        *,
        user: User,
        guild: Guild | None = None,
    ) -> Reply:
        """Use a message context-menu command on `message`."""
        guild = guild or self.default_guild
        command = self._find_command(name, guild, kind=3)
        channel = self.channels[int(message["channel_id"])]
        data = {
            "id": command["id"],
            "name": name,
            "type": 3,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}},
        }
        return await self._send(self._interaction(2, data, user, guild, channel))

    def _message_place(self, message: dict[str, Any]) -> tuple[Guild | None, Channel]:
        channel = self.channels[int(message["channel_id"])]
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        return guild, channel

    async def click(
        self: DiscordDouble, message: dict[str, Any] | Reply, label: str, *, user: User, settle: bool = True
    ) -> Reply:
        """Click the button labelled `label` (or with that custom_id) on a message.

        Returns once the bot acknowledged the click and, unless `settle` is False, gave the answer it deferred.
        """
        if isinstance(message, Reply):
            message = message.message
        message = self.messages.get(int(message["id"]), message)
        button = next(
            (
                c
                for c in iter_components(message.get("components", []))
                if c.get("type") == 2 and label in (c.get("label"), c.get("custom_id"))
            ),
            None,
        )
        if button is None:
            raise CommandError(f"no button {label!r} on the message; buttons: {button_labels(message)}")
        if button.get("disabled"):
            raise CommandError(f"the button {label!r} is disabled")
        if "custom_id" not in button:
            raise CommandError(f"{label!r} is a link button ({button.get('url')}); the bot never hears it")
        guild, channel = self._message_place(message)
        data = {"custom_id": button["custom_id"], "component_type": 2}
        return await self._send(self._interaction(3, data, user, guild, channel, message), settle=settle)

    async def select(
        self: DiscordDouble,
        message: dict[str, Any] | Reply,
        values: list[str],
        *,
        user: User,
        custom_id: str | None = None,
    ) -> Reply:
        """Pick `values` in a message's select menu (the first one, or the one with `custom_id`)."""
        if isinstance(message, Reply):
            message = message.message
        menu = next(
            (
                c
                for c in iter_components(message.get("components", []))
                if c.get("type") == 3 and custom_id in (None, c.get("custom_id"))
            ),
            None,
        )
        if menu is None:
            raise CommandError("no select menu on the message")
        allowed = {o["value"] for o in menu.get("options", [])}
        if not set(values) <= allowed:
            raise CommandError(f"{values} are not all options of the menu: {sorted(allowed)}")
        guild, channel = self._message_place(message)
        data = {"custom_id": menu["custom_id"], "component_type": 3, "values": values}
        return await self._send(self._interaction(3, data, user, guild, channel, message))

    async def submit_modal(self: DiscordDouble, reply: Reply, values: dict[str, str], *, user: User) -> Reply:
        """Fill in the modal the bot opened in `reply` (fields by custom_id or label) and submit it."""
        modal = reply.modal
        if modal is None:
            raise CommandError("the bot did not open a modal")
        rows = []
        used = set()
        for component in modal.get("components", []):
            if component["type"] == 1:
                inner = component["components"][0]
                label = inner.get("label")
            else:  # a Label (18) wrapping its component
                inner, label = component["component"], component.get("label")
            key = inner["custom_id"] if inner["custom_id"] in values else label
            value = values.get(key, inner.get("value") or "")
            used.add(key)
            if inner.get("required", True) and not value:
                raise CommandError(f"the modal field {label or inner['custom_id']!r} is required")
            if inner.get("max_length") and len(value) > inner["max_length"]:
                raise CommandError(f"the modal field {label!r} allows {inner['max_length']} characters")
            submitted = {"type": inner["type"], "custom_id": inner["custom_id"], "value": value}
            rows.append(
                {"type": 1, "components": [submitted]}
                if component["type"] == 1
                else {"type": 18, "component": submitted}
            )
        unknown = set(values) - used
        if unknown:
            raise CommandError(f"the modal has no fields {sorted(unknown)}")
        record = reply.record
        message = self.messages.get(record.source_message_id) if record.source_message_id else None
        data = {"custom_id": modal["custom_id"], "components": rows}
        return await self._send(self._interaction(5, data, user, record.guild, record.channel, message))

    # ---------------------------------------------------------------- the bot's side of interactions
    def _record_for(self: DiscordDouble, token: str) -> InteractionRecord:
        from tests.double.server import DiscordError

        record = self._tokens.get(token)
        if record is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return record

    async def r_callback(self: DiscordDouble, parts, body, files, request):
        from tests.double.server import DiscordError

        record = self._record_for(parts[2])
        if time.monotonic() - record.created > self.faults.interaction_deadline:
            raise DiscordError(404, 10062, "Unknown interaction")
        if record.answered.is_set():
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        kind = body["type"]
        data = body.get("data") or {}
        record.callback_type = kind
        message = None
        meta = {
            "id": str(record.id),
            "type": record.type,
            "user": record.user.payload(),
            "authorizing_integration_owners": {},
        }
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) & EPHEMERAL
            body_data = {**data, "flags": flags | (LOADING if kind == 5 else 0)}
            message = message_payload(
                channel=record.channel,
                author=self.bot_user,
                body=body_data,
                attachments=self._attachments(files, data),
                interaction=meta,
                webhook_id=self.application_id,
            )
            self.store_message(message)
            record.message_id = int(message["id"])
            if kind == 4:
                record.settled.set()
        elif kind in (6, 7):
            if record.source_message_id is not None:
                record.message_id = record.source_message_id
                if kind == 7:
                    message = self._apply_edit(self.messages[record.source_message_id], data, files)
            record.settled.set() if kind == 7 else None
        elif kind == 8:
            record.choices = data.get("choices", [])
            record.settled.set()
        elif kind == 9:
            record.modal = data
            record.settled.set()
        record.answered.set()
        response: dict[str, Any] = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "activity_instance_id": None,
                "response_message_id": str(record.message_id) if record.message_id else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(message and int(message["flags"]) & EPHEMERAL),
            }
        }
        if message is not None:
            response["resource"] = {"type": kind, "message": message}
        # As Discord: the callback object only when asked for (discord.py always asks); otherwise 204 No Content.
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return None
        return response

    async def r_followup(self: DiscordDouble, parts, body, files, request):
        record = self._record_for(parts[2])
        loading = self.messages.get(record.message_id) if record.callback_type == 5 and record.message_id else None
        if loading is not None and int(loading.get("flags", 0)) & LOADING:
            # As Discord does: the first followup after "thinking…" becomes that message, and stays as
            # ephemeral (or not) as the defer said, whatever flags it asks for.
            flags = int(loading["flags"]) & ~LOADING
            self._apply_edit(loading, body, files)
            loading["flags"], loading["edited_timestamp"] = flags, None
            record.settled.set()
            return loading
        message = message_payload(
            channel=record.channel,
            author=self.bot_user,
            body=body,
            attachments=self._attachments(files, body),
            webhook_id=self.application_id,
        )
        self.store_message(message)
        record.followup_ids.append(int(message["id"]))
        record.settled.set()
        return message

    def _webhook_message(self: DiscordDouble, parts: list[str]) -> tuple[InteractionRecord, dict[str, Any]]:
        from tests.double.server import DiscordError

        record = self._record_for(parts[2])
        mid = record.message_id if parts[4] == "@original" else int(parts[4])
        if mid is None or mid not in self.messages:
            raise DiscordError(404, 10008, "Unknown Message")
        return record, self.messages[mid]

    async def r_webhook_get(self: DiscordDouble, parts, body, files, request):
        return self._webhook_message(parts)[1]

    async def r_webhook_edit(self: DiscordDouble, parts, body, files, request):
        record, message = self._webhook_message(parts)
        if int(message.get("flags", 0)) & LOADING:
            message["flags"] = int(message["flags"]) & ~LOADING
        self._apply_edit(message, body, files)
        record.settled.set()
        return message

    async def r_webhook_delete(self: DiscordDouble, parts, body, files, request):
        record, message = self._webhook_message(parts)
        self._delete(message)
        record.settled.set()
        return None


DRIVER_ROUTES: dict[tuple[str, str], Any] = {
    ("POST", "interactions/{}/{}/callback"): Driver.r_callback,
    ("POST", "webhooks/{}/{}"): Driver.r_followup,
    ("GET", "webhooks/{}/{}/messages/@original"): Driver.r_webhook_get,
    ("PATCH", "webhooks/{}/{}/messages/@original"): Driver.r_webhook_edit,
    ("DELETE", "webhooks/{}/{}/messages/@original"): Driver.r_webhook_delete,
    ("GET", "webhooks/{}/{}/messages/{}"): Driver.r_webhook_get,
    ("PATCH", "webhooks/{}/{}/messages/{}"): Driver.r_webhook_edit,
    ("DELETE", "webhooks/{}/{}/messages/{}"): Driver.r_webhook_delete,
}
