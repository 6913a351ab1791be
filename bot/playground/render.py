"""Draw what the bot sent as a person would see it in Discord: boxes for embeds, [buttons], local times."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_CHANNEL = re.compile(r"<#(\d+)>")


def relative(at: datetime, now: datetime) -> str:
    """Say how far `at` is from `now`, as Discord's relative timestamps do."""
    seconds = (at - now).total_seconds()
    size = abs(seconds)
    for unit, span in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if size >= span:
            count = round(size / span)
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {words}" if seconds > 0 else f"{words} ago"
    return "now"


class Renderer:
    """Turns Discord markup into text for one viewer: names for mentions, times in the viewer's zone."""

    def __init__(self, names: Callable[[str, int], str], now: Callable[[], datetime], timezone: str) -> None:
        self.names, self.now, self.timezone = names, now, timezone

    def text(self, raw: str) -> str:
        """Replace mentions and timestamps in `raw`."""
        zone = ZoneInfo(self.timezone)

        def stamp(match: re.Match[str]) -> str:
            at = datetime.fromtimestamp(int(match[1]), UTC)
            if match[2] == "R":
                return relative(at, self.now())
            return at.astimezone(zone).strftime("%a %d %b %Y %H:%M")

        raw = _TIMESTAMP.sub(stamp, raw)
        raw = _ROLE.sub(lambda m: "@" + self.names("role", int(m[1])), raw)
        raw = _USER.sub(lambda m: "@" + self.names("user", int(m[1])), raw)
        return _CHANNEL.sub(lambda m: "#" + self.names("channel", int(m[1])), raw)

    def message(self, message: dict[str, Any], heading: str) -> str:
        """Draw one message with its embeds, attachments and buttons."""
        lines = [f"┌─ {heading}"]
        if message.get("content"):
            lines += [f"│ {line}" for line in self.text(message["content"]).splitlines()]
        for embed in message.get("embeds", []):
            lines.append("│ ╭──────────────────────────────")
            if embed.get("title"):
                lines.append(f"│ │ ▌{self.text(embed['title'])}")
            if embed.get("description"):
                lines += [f"│ │ {line}" for line in self.text(embed["description"]).splitlines()]
            for fld in embed.get("fields", []):
                lines.append(f"│ │ {self.text(fld['name'])}:")
                lines += [f"│ │   {line}" for line in self.text(fld["value"]).splitlines()]
            if embed.get("image") or embed.get("thumbnail"):
                lines.append("│ │ [image]")
            if embed.get("footer"):
                lines.append(f"│ │ — {self.text(embed['footer'].get('text', ''))}")
            lines.append("│ ╰──────────────────────────────")
        for attachment in message.get("attachments", []):
            lines.append(f"│ 📎 {attachment['filename']} ({attachment['size']} bytes)")
        for row in message.get("components", []):
            items = row.get("components", [])
            buttons = [
                f"[{c.get('label') or c.get('emoji', {}).get('name', '?')}]" for c in items if c.get("type") == 2
            ]
            menus = [f"[▾ {c.get('placeholder') or 'choose…'}]" for c in items if c.get("type") == 3]
            if buttons or menus:
                lines.append("│ " + " ".join(buttons + menus))
        lines.append("└─")
        return "\n".join(lines)
