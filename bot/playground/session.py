"""The playground: the local Discord, a demo server, and the real PeerBot on a throwaway database."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import FakeClock
from bot.errors import UserError
from bot.logic import recurrence, timeparse
from bot.playground.parse import parse_slash, parse_span
from bot.playground.render import Renderer
from tests.double.driver import CommandError, Reply, button_labels
from tests.double.harness import settings_for, start_bot, stop_bot
from tests.double.payloads import DM, Channel, User
from tests.double.server import DiscordDouble
from tests.double.world import World, build_world

ROLES = {"maya": "moderator", "olivia": "organiser", "sam": "server owner"}
HELP = """\
What you can type:
  as NAME                  act as someone: maya (moderator), olivia (organiser), alice, bob, carol, dan, erin
  /command sub opt:value   a slash command, e.g. /meeting create group:"Tuesday Circle" start:"tuesday 19:00"
                           timezone:Europe/London repeat:weekly title:"Evening circle"
  click LABEL              press a button you can see, e.g. click Going, click "I'm here"
  menu "NAME" on last      use a message menu (e.g. "Report anonymous post") on the newest post you see
  leave NAME / join NAME   someone leaves or joins the server
  wait 1h | wait until tuesday 18:00    move time forward (reminders, 'starting now', rounds happen)
  show #channel            what's in a channel;  dms  your DMs;  commands  the bot's commands
  tz ZONE                  show times in another zone (now: {tz});  help;  quit
"""


class Playground:
    """One person at the keyboard acting as any member of the demo server."""

    def __init__(self, db_path: Path | None = None, *, start: datetime | None = None, timezone: str = "Europe/London"):
        self._db_path = db_path
        self.clock = FakeClock(start or datetime.now().astimezone().replace(second=0, microsecond=0))
        self.timezone = timezone
        self.double = DiscordDouble()
        self.world: World | None = None
        self.bot = None
        self.me: User | None = None
        self._seen: dict[int, str | None] = {}
        self._mine: dict[int, list[int]] = {}  # user id -> their ephemeral message ids
        self._tmp: tempfile.TemporaryDirectory | None = None

    async def start(self) -> None:
        """Start the local Discord and the real bot on a throwaway (or chosen) database."""
        await self.double.start()
        self.world = build_world(self.double)
        if self._db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="peerbot-playground-")
            data = Path(self._tmp.name)
            settings = settings_for(self.double, data)
        else:
            data = self._db_path.parent
            settings = replace(settings_for(self.double, data), database_path=self._db_path)
        # Anonymous check-ins wait 1-2 minutes here (1-10 in production), so `wait 2m` shows them.
        settings = replace(settings, anon_delay_min_seconds=60, anon_delay_max_seconds=120)
        self.bot = await start_bot(self.double, settings, self.clock)
        self.me = self.world.maya
        self._mark_all_seen()

    async def stop(self) -> None:
        """Stop the bot and the local Discord; remove the throwaway database."""
        if self.bot is not None:
            await stop_bot(self.bot)
        await self.double.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    # ------------------------------------------------------------------ names and rendering
    def _name(self, kind: str, ident: int) -> str:
        if kind == "user":
            user = self.double.users.get(ident)
            return user.name if user else str(ident)
        if kind == "role":
            return next((r.name for g in self.double.guilds.values() for r in g.roles if r.id == ident), str(ident))
        channel = self.double.channels.get(ident)
        return channel.name if channel else str(ident)

    @property
    def renderer(self) -> Renderer:
        return Renderer(self._name, self.clock.now, self.timezone)

    def _heading(self, message: dict[str, Any]) -> str:
        channel = self.double.channels[int(message["channel_id"])]
        if channel.type == DM:
            return f"DM to {channel.recipients[0].name} (only they see it)"
        where = f"#{channel.name}"
        if channel.type in (11, 12):
            where = f"thread '{channel.name}' in #{self._name('channel', channel.parent_id)}"
        if int(message.get("flags", 0)) & 64:
            return f"{where} · reply only you can see"
        return f"{where} · PeerBot"

    def _mark_all_seen(self) -> None:
        self._seen = {int(m): msg.get("edited_timestamp") for m, msg in self.double.messages.items()}

    def news(self) -> str:
        """Draw every message that is new or edited since the last look, and that the person could see."""
        out = []
        for mid in sorted(self.double.messages):
            message = self.double.messages[mid]
            if mid in self._seen and self._seen[mid] == message.get("edited_timestamp"):
                continue
            edited = mid in self._seen
            self._seen[mid] = message.get("edited_timestamp")
            if int(message.get("flags", 0)) & 64 and mid not in self._mine.get(self.me.id, []):
                continue  # someone else's private reply
            if int(message.get("flags", 0)) & 128:
                continue  # "thinking…"
            heading = self._heading(message) + (" (edited)" if edited else "")
            out.append(self.renderer.message(message, heading))
        return "\n".join(out)

    # ------------------------------------------------------------------ acting
    async def run_line(self, line: str) -> str:
        """Do what the person typed; return what they would see."""
        line = line.strip()
        if not line or line.startswith("#"):
            return ""
        word, _, rest = line.partition(" ")
        try:
            if line.startswith("/"):
                return await self._slash(line)
            handler = {
                "as": self._as,
                "click": self._click,
                "wait": self._wait,
                "show": self._show,
                "dms": self._dms,
                "help": self._help,
                "commands": self._commands,
                "tz": self._tz,
                "leave": self._leave,
                "join": self._join,
                "menu": self._menu,
            }.get(word.lower())
            if handler is None:
                return f"I don't know `{word}`. Type `help` to see what you can do."
            return await handler(rest.strip())
        except (UserError, CommandError) as exc:
            return f"⚠️  {getattr(exc, 'message', None) or exc}"

    async def _settle(self) -> None:
        await self.bot.scheduler.idle(timeout=30)
        await asyncio.sleep(0.05)
        await self.bot.scheduler.idle(timeout=30)

    async def _after(self, reply: Reply | None = None) -> str:
        if reply is not None:
            for mid in [reply.record.message_id, *reply.record.followup_ids]:
                if mid:
                    self._mine.setdefault(self.me.id, []).append(mid)
        await self._settle()
        if reply is not None and reply.followups:
            for f in reply.followups:
                self._mine.setdefault(self.me.id, []).append(int(f["id"]))
        if reply is not None and reply.modal is not None:
            return self._modal_text(reply)
        return self.news()

    def _modal_text(self, reply: Reply) -> str:
        self._pending_modal = reply
        fields = []
        for component in reply.modal.get("components", []):
            inner = component.get("component") or component["components"][0]
            fields.append(f"  {inner['custom_id']}: {component.get('label') or inner.get('label')}")
        return (
            f"📝 A form opened: {reply.modal.get('title')}\n"
            + "\n".join(fields)
            + ("\nFill it in with: submit field:value …")
        )

    async def _as(self, name: str) -> str:
        user = self._user(name)
        self.me = user
        role = ROLES.get(user.name, "member")
        return f"You are now {user.name} ({role})."

    def _user(self, name: str) -> User:
        name = name.strip().lstrip("@").casefold()
        for user in self.double.users.values():
            if user.name.casefold() == name and not user.bot:
                return user
        people = ", ".join(sorted(u.name for u in self.double.users.values() if not u.bot))
        raise UserError(f"There's nobody called {name} here. People: {people}.")

    def _channel(self, name: str) -> Channel:
        name = name.strip().lstrip("#").casefold()
        for channel in self.double.channels.values():
            if channel.name.casefold() == name:
                return channel
        raise UserError(f"There's no channel #{name}.")

    async def _slash(self, line: str) -> str:
        if line.startswith("/submit") or line.startswith("submit"):
            return await self._submit(line)
        parsed = parse_slash(line)
        options = await self._convert(parsed.name, parsed.options)
        reply = await self.double.slash(parsed.name, user=self.me, **options)
        return await self._after(reply)

    async def _convert(self, name: str, raw: dict[str, str]) -> dict[str, Any]:
        """Turn typed text into what Discord's client would send: users, channels, roles, numbers, picks."""
        parts = name.split()
        command = self.double._find_command(parts[0], self.world.guild)
        node = command
        for part in parts[1:]:
            node = next((o for o in node.get("options", []) if o["name"] == part and o["type"] in (1, 2)), None)
            if node is None:
                raise CommandError(f"/{parts[0]} has no subcommand {part!r}")
        declared = {o["name"]: o for o in node.get("options", []) if o["type"] not in (1, 2)}
        out: dict[str, Any] = {}
        for key, value in raw.items():
            option = declared.get(key)
            if option is None:
                raise CommandError(f"/{name} has no option {key!r}; it has {sorted(declared)}")
            kind = option["type"]
            if kind == 6:
                out[key] = self._user(value)
            elif kind == 7:
                out[key] = self._channel(value)
            elif kind == 8:
                role = next(
                    (r for r in self.world.guild.roles if r.name.casefold() == value.lstrip("@").casefold()), None
                )
                if role is None:
                    raise UserError(f"There's no role @{value.lstrip('@')}.")
                out[key] = role
            elif kind == 4:
                out[key] = int(value)
            elif kind == 10:
                out[key] = float(value)
            elif kind == 5:
                out[key] = value.strip().lower() in ("true", "yes", "on", "1")
            elif option.get("autocomplete"):
                out[key] = await self._pick(name, key, value, out)
            else:
                out[key] = value
        return out

    async def _pick(self, name: str, key: str, typed: str, so_far: dict[str, Any]) -> str:
        """Choose what a person would pick from the bot's suggestions for what they typed."""
        choices = await self.double.autocomplete(name, user=self.me, focused=key, value=typed, **so_far)
        for choice in choices:
            if choice["name"].casefold() == typed.casefold():
                return choice["value"]
        for choice in choices:
            if choice["name"].casefold().startswith(typed.casefold()):
                return choice["value"]
        return choices[0]["value"] if choices else typed

    def _visible(self) -> list[dict[str, Any]]:
        """Messages this person can see and press buttons on, newest first."""
        mine = set(self._mine.get(self.me.id, []))
        out = []
        for mid in sorted(self.double.messages, reverse=True):
            message = self.double.messages[mid]
            channel = self.double.channels[int(message["channel_id"])]
            private = int(message.get("flags", 0)) & 64
            if (private and mid not in mine) or (channel.type == DM and channel.recipients[0] is not self.me):
                continue
            out.append(message)
        return out

    async def _click(self, label: str) -> str:
        label = label.strip().strip('"')
        for message in self._visible():
            for candidate in button_labels(message):
                if candidate.casefold() == label.casefold():
                    reply = await self.double.click(message, candidate, user=self.me)
                    return await self._after(reply)
        raise UserError(f"I can't see a [{label}] button. `dms` and `show #channel` show what you can see.")

    async def _menu(self, rest: str) -> str:
        name, _, _target = rest.partition(" on ")
        name = name.strip().strip('"')
        candidates = [m for m in self._visible() if self.double.channels[int(m["channel_id"])].type != DM]
        if not candidates:
            raise UserError("There's no post to use that on.")
        reply = await self.double.message_command(name, candidates[0], user=self.me)
        return await self._after(reply)

    async def _submit(self, line: str) -> str:
        reply = getattr(self, "_pending_modal", None)
        if reply is None:
            raise UserError("No form is open.")
        values = parse_slash("x " + line.partition(" ")[2]).options
        self._pending_modal = None
        return await self._after(await self.double.submit_modal(reply, values, user=self.me))

    async def _wait(self, rest: str) -> str:
        now = self.clock.now()
        if rest.lower().startswith("until "):
            local = timeparse.parse_start(rest[6:], self.timezone, now)
            target = recurrence.to_utc(local, self.timezone)
        else:
            target = now + parse_span(rest)
        # Step an hour at a time so every timer fires at its moment, in order.
        while self.clock.now() < target:
            self.clock.set(min(target, self.clock.now() + timedelta(hours=1)))
            await self._settle()
        shown = self.renderer.text(f"<t:{int(target.timestamp())}:F>")
        news = self.news()
        return f"⏩ It is now {shown} ({self.timezone}).\n" + (news or "(nothing happened)")

    async def _show(self, rest: str) -> str:
        channel = self._channel(rest)
        messages = self.double.messages_in(channel)[-8:]
        threads = self.double.threads_in(channel)
        out = [self.renderer.message(m, self._heading(m)) for m in messages]
        if threads:
            out.append("Threads: " + ", ".join(t.name for t in threads))
        return "\n".join(out) or f"#{channel.name} is empty."

    async def _dms(self, rest: str) -> str:
        messages = self.double.dms_to(self.me)[-8:]
        return "\n".join(self.renderer.message(m, self._heading(m)) for m in messages) or "No DMs."

    async def _help(self, rest: str) -> str:
        return HELP.format(tz=self.timezone)

    async def _commands(self, rest: str) -> str:
        lines = []
        for command in sorted(self.double.commands.get(None, []), key=lambda c: c["name"]):
            subs = [o["name"] for o in command.get("options", []) if o["type"] == 1]
            label = f"/{command['name']}" + (f" {'|'.join(subs)}" if subs else "")
            lines.append(label if command.get("type", 1) == 1 else f'menu "{command["name"]}"')
        return "\n".join(lines)

    async def _tz(self, rest: str) -> str:
        self.timezone = timeparse.validate_timezone(rest)
        return f"Times are now shown in {self.timezone}."

    async def _leave(self, rest: str) -> str:
        user = self._user(rest)
        await self.double.member_leave(self.world.guild, user)
        await self._settle()
        return f"👋 {user.name} left the server.\n" + self.news()

    async def _join(self, rest: str) -> str:
        name = rest.strip().lstrip("@")
        with contextlib.suppress(UserError):
            user = self._user(name)
            await self.double.member_join(self.world.guild, user)
            await self._settle()
            return f"👋 {user.name} joined the server.\n" + self.news()
        user = self.double.add_user(name)
        await self.double.member_join(self.world.guild, user)
        await self._settle()
        return f"👋 {user.name} joined the server.\n" + self.news()

    def command_names(self) -> list[str]:
        """Every command a person could type, for tab completion."""
        names = [
            "as ",
            "click ",
            "wait ",
            "show #",
            "dms",
            "help",
            "commands",
            "tz ",
            "leave ",
            "join ",
            "menu ",
            "quit",
        ]
        for command in self.double.commands.get(None, []):
            subs = [o["name"] for o in command.get("options", []) if o["type"] == 1]
            names += [f"/{command['name']} {s} " for s in subs] or [f"/{command['name']} "]
        return names
