"""The local Discord: an aiohttp server that speaks enough REST and gateway for the real discord.py client."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from tests.double.driver import DRIVER_ROUTES, Driver, InteractionRecord
from tests.double.payloads import (
    BOT_PERMS,
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    DM,
    GUILD_TEXT,
    MANAGE_EVENTS,
    MANAGE_MESSAGES,
    MANAGE_ROLES,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    Channel,
    Guild,
    Member,
    Role,
    User,
    iso_now,
    message_payload,
    snowflake,
)

log = logging.getLogger(__name__)

INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_GUILD_SCHEDULED_EVENTS = 1 << 16


# JSON through orjson, as discord.py's own when it is installed (PeerBot depends on it): the double's JSON was a
# good part of its CPU per interaction in the benchmarks, where the double shares the machine with the bot.
def _dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses JSON only when Content-Type is exactly application/json (no charset).
    return web.Response(
        body=_dumps(data),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _stringify_ids(payload: dict[str, Any]) -> None:
    # discord.py sends some snowflakes as numbers; Discord always answers with strings.
    for key in ("channel_id", "entity_id"):
        if payload.get(key) is not None:
            payload[key] = str(payload[key])


class DiscordError(Exception):
    """An error answer the double gives, shaped like Discord's."""

    def __init__(self, status: int, code: int, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra or {}


@dataclass
class RecordedRequest:
    method: str
    path: str
    body: Any
    status: int = 200
    at: float = field(default_factory=time.monotonic)
    query: dict[str, str] = field(default_factory=dict)  # the URL's query string (`with_response`, `wait`, …)


@dataclass
class RateRule:
    method: str | None
    pattern: str
    times: int
    retry_after: float
    is_global: bool


@dataclass
class Faults:
    """What goes wrong, switchable per test."""

    denied: list[tuple[str | None, str]] = field(default_factory=list)  # (method, glob) -> 403 50013
    delays: list[tuple[str | None, str, float]] = field(default_factory=list)  # (method, glob, seconds)
    rate_limits: list[RateRule] = field(default_factory=list)
    global_rps: float | None = None
    interaction_deadline: float = 3.0
    expire_next_interaction: bool = False


class _Gateway:
    """One gateway connection (one bot process)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.seq = 0
        self.intents = 0
        self.session_id = f"session-{snowflake()}"
        self.identified = False

    async def send(self, payload: dict[str, Any]) -> None:
        if not self.ws.closed:
            await self.ws.send_str(_dumps(payload).decode())  # text frames: discord.py takes bytes as compressed

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        await self.send({"op": 0, "t": event, "s": self.seq, "d": data})


class DiscordDouble(Driver):
    """A local Discord for one or more bots; tests read what the bot did through its helpers."""

    def __init__(self) -> None:
        self.bot_user = User("PeerBot", bot=True)
        self.application_id = self.bot_user.id
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.channel_messages: dict[int, list[int]] = {}
        self.deleted_messages: list[dict[str, Any]] = []
        self.files: dict[int, bytes] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.scheduled_events: dict[int, dict[str, Any]] = {}
        self.deleted_events: list[dict[str, Any]] = []
        self.interactions: dict[int, InteractionRecord] = {}
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[str] = []
        self.faults = Faults()
        self.gateways: list[_Gateway] = []
        self._tokens: dict[str, InteractionRecord] = {}
        self._nonces: dict[tuple[int, str], int] = {}
        self._rate_window: list[float] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.identified = asyncio.Event()
        self.changed = asyncio.Event()

    # ---------------------------------------------------------------- fixture building
    def add_user(self, name: str, *, bot: bool = False) -> User:
        """Create a Discord user."""
        user = User(name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, owner: User) -> Guild:
        """Create a server with the bot in it (with a role holding the bot's permissions)."""
        guild = Guild(name, owner)
        self.guilds[guild.id] = guild
        bot_role = Role("PeerBot", permissions=BOT_PERMS, position=10, managed=True)
        guild.roles.append(bot_role)
        guild.members[self.bot_user.id] = Member(self.bot_user, roles=[bot_role.id])
        guild.members[owner.id] = Member(owner)
        return guild

    def add_role(self, guild: Guild, name: str, permissions: int = 0, position: int = 1) -> Role:
        """Add a role to a server."""
        role = Role(name, permissions=permissions, position=position)
        guild.roles.append(role)
        return role

    def add_channel(self, guild: Guild, name: str, type: int = GUILD_TEXT, **kwargs: Any) -> Channel:
        """Add a channel to a server."""
        channel = Channel(name, type=type, guild_id=guild.id, position=len(guild.channels), **kwargs)
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        self.channel_messages[channel.id] = []
        return channel

    def add_member(self, guild: Guild, user: User, roles: list[Role] = ()) -> Member:
        """Put a user in a server (before the bot connects; see member_join for later)."""
        member = Member(user, roles=[r.id for r in roles])
        guild.members[user.id] = member
        return member

    # ---------------------------------------------------------------- server lifecycle
    async def start(self) -> None:
        """Serve on a free loopback port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Close every gateway and stop serving."""
        for gw in list(self.gateways):
            with contextlib.suppress(Exception):
                await gw.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ---------------------------------------------------------------- gateway
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        gw = _Gateway(ws)
        await gw.send({"op": 10, "d": {"heartbeat_interval": 41250}})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                payload = orjson.loads(msg.data)
                await self._gateway_op(gw, payload["op"], payload.get("d"))
        finally:
            if gw in self.gateways:
                self.gateways.remove(gw)
        return ws

    async def _gateway_op(self, gw: _Gateway, op: int, data: Any) -> None:
        if op == 1:  # heartbeat
            await gw.send({"op": 11})
        elif op == 2:  # identify
            gw.intents = data.get("intents", 0)
            await gw.dispatch(
                "READY",
                {
                    "v": 10,
                    "user": self.bot_user.payload(),
                    "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
                    "session_id": gw.session_id,
                    "resume_gateway_url": self.gateway_url,
                    "shard": [0, 1],
                    "application": {"id": str(self.application_id), "flags": 0},
                    "private_channels": [],
                    "relationships": [],
                    "user_settings": {},
                    "presences": [],
                    "guild_join_requests": [],
                    "geo_ordered_rtc_regions": [],
                    "auth": {},
                },
            )
            for guild in self.guilds.values():
                await gw.dispatch("GUILD_CREATE", self._guild_create(guild))
            gw.identified = True
            self.gateways.append(gw)
            self.identified.set()
        elif op == 6:  # resume
            self.gateways.append(gw)
            await gw.dispatch("RESUMED", {})
        elif op == 8:  # request guild members
            guild = self.guilds[int(data["guild_id"])]
            await gw.dispatch(
                "GUILD_MEMBERS_CHUNK",
                {
                    "guild_id": str(guild.id),
                    "members": [m.payload() for m in guild.members.values()],
                    "chunk_index": 0,
                    "chunk_count": 1,
                    "not_found": [],
                    "presences": [],
                    "nonce": data.get("nonce"),
                },
            )

    def _guild_create(self, guild: Guild) -> dict[str, Any]:
        threads = [c for c in self.channels.values() if c.guild_id == guild.id and c.type in (11, 12)]
        return guild.payload(threads)

    async def dispatch(self, event: str, data: dict[str, Any], *, intent: int | None = None) -> None:
        """Send a gateway event to every connected bot that asked for it."""
        for gw in list(self.gateways):
            if intent is None or gw.intents & intent:
                await gw.dispatch(event, data)

    # ---------------------------------------------------------------- REST plumbing
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        method = request.method
        body: Any = None
        files: list[tuple[str, bytes, str]] = []
        if request.content_type == "multipart/form-data":
            form = await request.post()
            for key, value in form.items():
                if key == "payload_json":
                    body = orjson.loads(value)
                elif hasattr(value, "file"):
                    files.append((value.filename, value.file.read(), value.content_type))
        elif request.body_exists:  # (not can_read_body: false once the bytes were read, and read() keeps them)
            raw = await request.read()
            body = orjson.loads(raw) if raw else None
        record = RecordedRequest(method, path, body, query=dict(request.query))
        self.requests.append(record)
        try:
            await self._delay(method, path)
            self._check_rate_limits(method, path)
            self._check_denied(method, path)
            result = await self._route(method, path, body or {}, files, request)
        except DiscordError as err:
            record.status = err.status
            headers = {}
            if err.status == 429:
                headers = {
                    "Via": "1.1 google",
                    "X-RateLimit-Scope": "global" if err.extra.get("global") else "user",
                    "Retry-After": str(err.extra["retry_after"]),
                }
                if err.extra.get("global"):
                    headers["X-RateLimit-Global"] = "true"
            payload = {"message": err.message, "code": err.code, **err.extra}
            return _json(payload, status=err.status, headers=headers)
        finally:
            self.changed.set()
        if result is None:
            record.status = 204
            return web.Response(status=204)
        return _json(result)

    async def _delay(self, method: str, path: str) -> None:
        for delay_method, pattern, seconds in self.faults.delays:
            if (delay_method is None or delay_method == method) and fnmatch.fnmatch(path, pattern):
                await asyncio.sleep(seconds)
                return

    def _check_denied(self, method: str, path: str) -> None:
        for deny_method, pattern in self.faults.denied:
            if (deny_method is None or deny_method == method) and fnmatch.fnmatch(path, pattern):
                raise DiscordError(403, 50013, "Missing Permissions")

    def _check_rate_limits(self, method: str, path: str) -> None:
        for rule in list(self.faults.rate_limits):
            if (rule.method is None or rule.method == method) and fnmatch.fnmatch(path, rule.pattern):
                rule.times -= 1
                if rule.times <= 0:
                    self.faults.rate_limits.remove(rule)
                raise DiscordError(
                    429,
                    0,
                    "You are being rate limited.",
                    {"retry_after": rule.retry_after, "global": rule.is_global},
                )
        rps = self.faults.global_rps
        # Interaction callbacks are outside Discord's global limit.
        if rps and not path.startswith("/interactions/"):
            now = time.monotonic()
            self._rate_window = [t for t in self._rate_window if now - t < 1.0]
            if len(self._rate_window) >= rps:
                retry = max(0.001, 1.0 - (now - self._rate_window[0]))
                raise DiscordError(
                    429, 0, "You are being rate limited.", {"retry_after": round(retry, 3), "global": True}
                )
            self._rate_window.append(now)

    def deny(self, pattern: str, method: str | None = None) -> None:
        """Answer matching requests with 403 / 50013 Missing Permissions."""
        self.faults.denied.append((method, pattern))

    def slow_down(self, pattern: str, seconds: float, method: str | None = None) -> None:
        """Take `seconds` longer to answer matching requests (they still arrive, and are recorded, at once)."""
        self.faults.delays.append((method, pattern, seconds))

    def rate_limit(
        self,
        pattern: str,
        *,
        times: int = 1,
        retry_after: float = 0.05,
        method: str | None = None,
        is_global: bool = False,
    ) -> None:
        """Answer the next `times` matching requests with 429 and `retry_after`."""
        self.faults.rate_limits.append(RateRule(method, pattern, times, retry_after, is_global))

    def close_dms(self, user: User) -> None:
        """Make DMs to this user fail with 50007, as when they block server DMs."""
        user.dms_open = False

    def open_dms(self, user: User) -> None:
        """Let DMs to this user through again."""
        user.dms_open = True

    # ---------------------------------------------------------------- permissions, as Discord checks them
    def _bot_can(self, channel: Channel, perm: int) -> bool:
        if channel.guild_id is None:
            return True
        guild = self.guilds[channel.guild_id]
        target = self.channels.get(channel.parent_id) if channel.type in (11, 12) else channel
        perms = guild.channel_permissions_of(self.bot_user.id, target or channel)
        return bool(perms & perm) and bool(perms & VIEW_CHANNEL)

    def _require(self, channel: Channel, perm: int) -> None:
        if not self._bot_can(channel, perm):
            raise DiscordError(403, 50013, "Missing Permissions")

    def set_role_permissions(self, role: Role, permissions: int) -> None:
        """Change a role's permissions (use `update_role` to tell connected bots)."""
        role.permissions = permissions

    async def update_channel(self, channel: Channel) -> None:
        """Tell the bots a channel changed (name, overwrites)."""
        await self.dispatch("CHANNEL_UPDATE", channel.payload())

    async def update_role(self, guild: Guild, role: Role) -> None:
        """Tell the bots a role changed."""
        await self.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role.payload()})

    # ---------------------------------------------------------------- REST routes
    async def _route(
        self,
        method: str,
        path: str,
        body: dict[str, Any],
        files: list[tuple[str, bytes, str]],
        request: web.Request,
    ) -> Any:
        parts = path.strip("/").split("/")
        key = (method, self._shape(parts))
        handler = ROUTES.get(key)
        if handler is None:
            self.unhandled.append(f"{method} {path}")
            raise DiscordError(404, 0, f"404: Not Found ({method} {path})")
        return await handler(self, parts, body, files, request)

    @staticmethod
    def _shape(parts: list[str]) -> str:
        shaped = []
        for part in parts:
            shaped.append("{}" if part.isdigit() or part.startswith("tok-") else part)
        return "/".join(shaped)

    def _channel(self, cid: str | int) -> Channel:
        channel = self.channels.get(int(cid))
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    def _message(self, channel_id: str | int, message_id: str | int) -> dict[str, Any]:
        msg = self.messages.get(int(message_id))
        if msg is None or int(msg["channel_id"]) != int(channel_id):
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    def store_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """Keep a message and announce it on the gateway (for bots that asked for messages)."""
        self.messages[int(message["id"])] = message
        self.channel_messages.setdefault(int(message["channel_id"]), []).append(int(message["id"]))
        return message

    def _attachments(self, files: list[tuple[str, bytes, str]], body: dict[str, Any]) -> list[dict[str, Any]]:
        out = []
        for index, (name, data, content_type) in enumerate(files):
            aid = snowflake()
            self.files[aid] = data
            described = next((a for a in body.get("attachments", []) if str(a.get("id")) == str(index)), {})
            out.append(
                {
                    "id": str(aid),
                    "filename": name,
                    "size": len(data),
                    "url": f"http://127.0.0.1:{self.port}/files/{aid}/{name}",
                    "proxy_url": f"http://127.0.0.1:{self.port}/files/{aid}/{name}",
                    "content_type": content_type,
                    "description": described.get("description"),
                    "ephemeral": bool(int(body.get("flags") or 0) & 64),
                }
            )
        return out

    async def r_me(self, parts, body, files, request):
        return self.bot_user.payload()

    async def r_user(self, parts, body, files, request):
        user = self.users.get(int(parts[1]))
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return user.payload()

    async def r_app(self, parts, body, files, request):
        return {
            "id": str(self.application_id),
            "name": "PeerBot",
            "icon": None,
            "description": "",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.users[next(iter(self.guilds.values())).owner.id].payload()
            if self.guilds
            else self.bot_user.payload(),
            "verify_key": "0" * 64,
            "team": None,
            "flags": 0,
            "summary": "",
            "bot": self.bot_user.payload(),
        }

    async def r_gateway_bot(self, parts, body, files, request):
        return {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1},
        }

    async def r_put_commands(self, parts, body, files, request):
        guild_id = int(parts[3]) if len(parts) > 4 and parts[2] == "guilds" else None
        stored = []
        for command in body:
            command = dict(command)
            command.setdefault("type", 1)
            command["id"] = str(snowflake())
            command["application_id"] = str(self.application_id)
            command["version"] = str(snowflake())
            perms = command.get("default_member_permissions")
            command["default_member_permissions"] = str(perms) if perms is not None else None
            command.setdefault("dm_permission", True)
            command.setdefault("nsfw", False)
            command.setdefault("options", [])
            command.setdefault("description", "")
            if guild_id is not None:
                command["guild_id"] = str(guild_id)
            stored.append(command)
        self.commands[guild_id] = stored
        return stored

    async def r_get_commands(self, parts, body, files, request):
        guild_id = int(parts[3]) if len(parts) > 4 and parts[2] == "guilds" else None
        return self.commands.get(guild_id, [])

    async def r_create_message(self, parts, body, files, request):
        channel = self._channel(parts[1])
        if channel.type == DM:
            recipient = channel.recipients[0]
            if not recipient.dms_open:
                raise DiscordError(403, 50007, "Cannot send messages to this user")
        elif channel.type in (PUBLIC_THREAD, PRIVATE_THREAD):
            self._require(channel, SEND_MESSAGES_IN_THREADS)
        else:
            self._require(channel, SEND_MESSAGES)
        nonce = body.get("nonce")
        if nonce and body.get("enforce_nonce"):
            # Discord returns the earlier message instead of posting a duplicate with the same nonce.
            earlier = self._nonces.get((channel.id, str(nonce)))
            if earlier is not None and earlier in self.messages:
                return self.messages[earlier]
        message = message_payload(
            channel=channel, author=self.bot_user, body=body, attachments=self._attachments(files, body)
        )
        self.store_message(message)
        if nonce:
            message["nonce"] = str(nonce)
            self._nonces[(channel.id, str(nonce))] = int(message["id"])
        intent = INTENT_DIRECT_MESSAGES if channel.type == DM else INTENT_GUILD_MESSAGES
        await self.dispatch("MESSAGE_CREATE", message, intent=intent)
        return message

    async def r_list_messages(self, parts, body, files, request):
        """A channel's messages, newest first, like Discord (`limit`, `before`, `after`; no ephemeral ones)."""
        channel = self._channel(parts[1])
        if channel.type != DM:
            self._require(channel, READ_MESSAGE_HISTORY)
        query = request.query
        before, after = int(query.get("before") or 1 << 63), int(query.get("after") or 0)
        found = [m for m in self.messages_in(channel) if after < int(m["id"]) < before]
        return list(reversed(found))[: min(int(query.get("limit", 50)), 100)]

    async def r_get_message(self, parts, body, files, request):
        return self._message(parts[1], parts[3])

    async def r_edit_message(self, parts, body, files, request):
        msg = self._message(parts[1], parts[3])
        return self._apply_edit(msg, body, files)

    def _apply_edit(self, msg: dict[str, Any], body: dict[str, Any], files) -> dict[str, Any]:
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if files:
            msg["attachments"] = self._attachments(files, body)
        elif "attachments" in body:
            keep = {str(a.get("id")) for a in body["attachments"]}
            msg["attachments"] = [a for a in msg["attachments"] if a["id"] in keep]
        msg["edited_timestamp"] = iso_now()
        return msg

    async def r_delete_message(self, parts, body, files, request):
        channel = self._channel(parts[1])
        msg = self._message(parts[1], parts[3])
        if msg["author"]["id"] != str(self.bot_user.id):
            self._require(channel, MANAGE_MESSAGES)
        self._delete(msg)
        return None

    def _delete(self, msg: dict[str, Any]) -> None:
        self.messages.pop(int(msg["id"]), None)
        with contextlib.suppress(ValueError):
            self.channel_messages[int(msg["channel_id"])].remove(int(msg["id"]))
        self.deleted_messages.append(msg)

    async def r_get_channel(self, parts, body, files, request):
        return self._channel(parts[1]).payload()

    async def r_dm_channel(self, parts, body, files, request):
        user = self.users.get(int(body["recipient_id"]))
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        for channel in self.channels.values():
            if channel.type == DM and channel.recipients and channel.recipients[0] is user:
                return channel.payload()
        channel = Channel(f"dm-{user.name}", type=DM, recipients=[user])
        self.channels[channel.id] = channel
        self.channel_messages[channel.id] = []
        return channel.payload()

    async def r_create_thread(self, parts, body, files, request):
        parent = self._channel(parts[1])
        thread_type = int(body.get("type") or (PUBLIC_THREAD if len(parts) > 3 else PRIVATE_THREAD))
        if len(parts) > 3:  # from a message
            self._message(parts[1], parts[3])
            thread_type = PUBLIC_THREAD
            if int(parts[3]) in self.channels:
                raise DiscordError(400, 160004, "A thread has already been created for this message")
        needed = CREATE_PRIVATE_THREADS if thread_type == PRIVATE_THREAD else CREATE_PUBLIC_THREADS
        self._require(parent, needed)
        thread = Channel(
            body.get("name", "thread"),
            type=thread_type,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=self.bot_user.id,
            members={self.bot_user.id},
        )
        if len(parts) > 3:
            thread.id = int(parts[3])  # a thread started from a message shares its id
        self.channels[thread.id] = thread
        self.channel_messages.setdefault(thread.id, [])
        data = thread.payload()
        await self.dispatch("THREAD_CREATE", {**data, "newly_created": True})
        return data

    async def r_thread_member(self, parts, body, files, request):
        thread = self._channel(parts[1])
        user_id = int(parts[3])
        if request.method == "PUT":
            thread.members.add(user_id)
        else:
            thread.members.discard(user_id)
        return None

    async def r_member_role(self, parts, body, files, request):
        guild = self.guilds[int(parts[1])]
        member = guild.members.get(int(parts[3]))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        role = next((r for r in guild.roles if r.id == int(parts[5])), None)
        if role is None:
            raise DiscordError(404, 10011, "Unknown Role")
        bot_member = guild.members[self.bot_user.id]
        top = max((r.position for r in guild.roles if r.id in bot_member.roles), default=0)
        if not guild.permissions_of(self.bot_user.id) & MANAGE_ROLES or role.position >= top:
            raise DiscordError(403, 50013, "Missing Permissions")
        if request.method == "PUT" and role.id not in member.roles:
            member.roles.append(role.id)
        elif request.method == "DELETE" and role.id in member.roles:
            member.roles.remove(role.id)
        await self.dispatch("GUILD_MEMBER_UPDATE", {"guild_id": str(guild.id), **member.payload()})
        return None

    async def r_get_member(self, parts, body, files, request):
        guild = self.guilds[int(parts[1])]
        member = guild.members.get(int(parts[3]))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return member.payload()

    async def r_create_event(self, parts, body, files, request):
        guild = self.guilds[int(parts[1])]
        if not guild.permissions_of(self.bot_user.id) & MANAGE_EVENTS:
            raise DiscordError(403, 50013, "Missing Permissions")
        event = {
            "id": str(snowflake()),
            "guild_id": str(guild.id),
            "creator_id": str(self.bot_user.id),
            "creator": self.bot_user.payload(),
            "status": 1,
            "user_count": 0,
            "image": None,
            "recurrence_rule": None,
            "entity_id": None,
            "channel_id": None,
            "entity_metadata": None,
            "description": None,
            "scheduled_end_time": None,
            **body,
        }
        _stringify_ids(event)
        self.scheduled_events[int(event["id"])] = event
        await self.dispatch("GUILD_SCHEDULED_EVENT_CREATE", event, intent=INTENT_GUILD_SCHEDULED_EVENTS)
        return event

    def _event(self, parts: list[str]) -> dict[str, Any]:
        event = self.scheduled_events.get(int(parts[3]))
        if event is None or event["guild_id"] != parts[1]:
            raise DiscordError(404, 10070, "Unknown Guild Scheduled Event")
        return event

    async def r_edit_event(self, parts, body, files, request):
        event = self._event(parts)
        event.update(body)
        _stringify_ids(event)
        return event

    async def r_get_event(self, parts, body, files, request):
        return self._event(parts)

    async def r_delete_event(self, parts, body, files, request):
        event = self._event(parts)
        self.deleted_events.append(self.scheduled_events.pop(int(event["id"])))
        return None

    async def r_list_events(self, parts, body, files, request):
        return [e for e in self.scheduled_events.values() if e["guild_id"] == parts[1]]

    async def r_guild_roles(self, parts, body, files, request):
        return [r.payload() for r in self.guilds[int(parts[1])].roles]


ROUTES: dict[tuple[str, str], Any] = {
    ("GET", "users/@me"): DiscordDouble.r_me,
    ("GET", "users/{}"): DiscordDouble.r_user,
    ("GET", "oauth2/applications/@me"): DiscordDouble.r_app,
    ("GET", "applications/@me"): DiscordDouble.r_app,
    ("GET", "gateway/bot"): DiscordDouble.r_gateway_bot,
    ("PUT", "applications/{}/commands"): DiscordDouble.r_put_commands,
    ("PUT", "applications/{}/guilds/{}/commands"): DiscordDouble.r_put_commands,
    ("GET", "applications/{}/commands"): DiscordDouble.r_get_commands,
    ("GET", "applications/{}/guilds/{}/commands"): DiscordDouble.r_get_commands,
    ("POST", "channels/{}/messages"): DiscordDouble.r_create_message,
    ("GET", "channels/{}/messages"): DiscordDouble.r_list_messages,
    ("GET", "channels/{}/messages/{}"): DiscordDouble.r_get_message,
    ("PATCH", "channels/{}/messages/{}"): DiscordDouble.r_edit_message,
    ("DELETE", "channels/{}/messages/{}"): DiscordDouble.r_delete_message,
    ("GET", "channels/{}"): DiscordDouble.r_get_channel,
    ("POST", "users/@me/channels"): DiscordDouble.r_dm_channel,
    ("POST", "channels/{}/threads"): DiscordDouble.r_create_thread,
    ("POST", "channels/{}/messages/{}/threads"): DiscordDouble.r_create_thread,
    ("PUT", "channels/{}/thread-members/{}"): DiscordDouble.r_thread_member,
    ("DELETE", "channels/{}/thread-members/{}"): DiscordDouble.r_thread_member,
    ("PUT", "guilds/{}/members/{}/roles/{}"): DiscordDouble.r_member_role,
    ("DELETE", "guilds/{}/members/{}/roles/{}"): DiscordDouble.r_member_role,
    ("GET", "guilds/{}/members/{}"): DiscordDouble.r_get_member,
    ("GET", "guilds/{}/roles"): DiscordDouble.r_guild_roles,
    ("POST", "guilds/{}/scheduled-events"): DiscordDouble.r_create_event,
    ("GET", "guilds/{}/scheduled-events"): DiscordDouble.r_list_events,
    ("GET", "guilds/{}/scheduled-events/{}"): DiscordDouble.r_get_event,
    ("PATCH", "guilds/{}/scheduled-events/{}"): DiscordDouble.r_edit_event,
    ("DELETE", "guilds/{}/scheduled-events/{}"): DiscordDouble.r_delete_event,
}

ROUTES.update(DRIVER_ROUTES)
