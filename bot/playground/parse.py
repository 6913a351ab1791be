"""Read what a person types at the playground prompt."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import timedelta

from bot.errors import UserError

_OPTION = re.compile(r"^([a-z_][a-z0-9_-]*):(.*)$", re.S)
_SPAN = re.compile(r"^(\d+)\s*(m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)$")


@dataclass
class Slash:
    name: str
    options: dict[str, str] = field(default_factory=dict)


def parse_slash(line: str) -> Slash:
    """Split `/meeting create group:Tuesday start:"tuesday 19:00"` into a name and options."""
    try:
        tokens = shlex.split(line.strip().lstrip("/"))
    except ValueError as exc:
        raise UserError(f"I couldn't read that line ({exc}). Put values with spaces in quotes.") from None
    words, options = [], {}
    for token in tokens:
        match = _OPTION.match(token)
        if match and not options.get(match[1]):
            options[match[1]] = match[2]
        elif options:
            raise UserError(f"`{token}` comes after the options; write it as name:value (quote values with spaces).")
        else:
            words.append(token)
    if not words:
        raise UserError("Type a command after the slash, e.g. `/help`.")
    return Slash(" ".join(words), options)


def parse_span(text: str) -> timedelta:
    """Read `wait 1h`, `wait 30m`, `wait 2d`."""
    match = _SPAN.match(text.strip().lower())
    if not match:
        raise UserError("Say how long, e.g. `wait 30m`, `wait 1h`, `wait 2d`, or `wait until tuesday 18:00`.")
    amount, unit = int(match[1]), match[2][0]
    return {
        "m": timedelta(minutes=amount),
        "h": timedelta(hours=amount),
        "d": timedelta(days=amount),
        "w": timedelta(weeks=amount),
    }[unit]
