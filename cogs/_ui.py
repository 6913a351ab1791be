"""Shared pieces of the Discord face: colours, timestamps, autocomplete, guarded callbacks."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import discord
from discord import app_commands

from bot.client import handle_interaction_error, taken_up
from bot.services import groups as groups_service

CALM = discord.Colour(0x4F9D9A)
WARM = discord.Colour(0xE0A458)
ALERT = discord.Colour(0xC8553D)


def when(at: datetime) -> str:
    """Show an instant so each viewer sees it in their own time zone."""
    unix = int(at.timestamp())
    return f"<t:{unix}:F> (<t:{unix}:R>)"


def guarded(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Route a component or modal callback's errors through the one error handler."""

    @functools.wraps(func)
    async def wrapper(self: Any, interaction: discord.Interaction, *args: Any) -> Any:
        taken_up(interaction)
        try:
            return await func(self, interaction, *args)
        except Exception as exc:  # every error gets a kind reply, never silence
            await handle_interaction_error(interaction, exc)

    return wrapper


class GuardedView(discord.ui.View):
    """A view whose errors get the same kind replies as commands."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        taken_up(interaction)
        return True

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: Any) -> None:
        await handle_interaction_error(interaction, error)


class Components(discord.ui.View):
    """Buttons for a message whose every button is a DynamicItem, answered by the templates the cogs register.

    Such buttons need nothing from their view once it is sent, so it is finished from the start: discord.py then
    keeps nothing per message. It kept every ephemeral answer's view, with a 15-minute timer, for no use (each
    `/meetings`, `/group list`, RSVP and suggestion). Buttons come as ready-made payloads (`rows`): building a
    discord.py View of Button items for them was a third of the bot's time on `/meetings` with its fifteen
    buttons and a good part of each reminder DM (bench/interactions.py, bench/fanout.py). Each DynamicItem class
    has a `payload(...)` giving exactly what its Button would serialise to; tests/cogs/test_components.py holds
    them to it. DynamicItems may also be added as items (`add_item`, or `items`), which follow on rows of their
    own. Add any other item and the view listens as usual; `bot.add_view` and `wait()` are not for these views.
    """

    def __init__(self, rows: Sequence[Sequence[dict[str, Any]]] = (), items: Sequence[discord.ui.Item] = ()) -> None:
        super().__init__(timeout=None)
        self.rows = [list(row) for row in rows if row]  # its own lists; the payloads in them are never changed
        if len(rows) > 5 or max(map(len, self.rows), default=0) > 5:
            raise ValueError("Discord allows at most 5 rows of 5 buttons")
        for item in items:
            self.add_item(item)

    def to_components(self) -> list[dict[str, Any]]:
        # Items added the usual way (add_item) follow on rows of their own.
        return [{"type": 1, "components": row} for row in self.rows] + super().to_components()

    def is_finished(self) -> bool:
        return all(isinstance(item, discord.ui.DynamicItem) for item in self.children) or super().is_finished()


def button_payload(
    custom_id: str, label: str, style: discord.ButtonStyle, *, emoji: str | None = None
) -> dict[str, Any]:
    """A button as Discord's API takes it (what discord.ui.Button.to_component_dict gives for the same)."""
    payload: dict[str, Any] = {
        "type": 2,
        "style": style.value,
        "disabled": False,
        "label": label,
        "custom_id": custom_id,
    }
    if emoji is not None:
        payload["emoji"] = discord.PartialEmoji.from_str(emoji).to_dict()
    return payload


class ChoiceButton:
    """A DynamicItem button whose custom id is `PREFIX:value` and whose click calls `COG.METHOD(interaction, value)`.

    Mix it in before `discord.ui.DynamicItem[discord.ui.Button]`, with a template whose group is `value`.
    """

    PREFIX: str
    COG: str
    METHOD: str
    LABELS: dict[str, str]
    STYLE = discord.ButtonStyle.secondary

    def __init__(self, value: str) -> None:
        super().__init__(  # type: ignore[call-arg]
            discord.ui.Button(label=self.LABELS[value], style=self.style_for(value), custom_id=f"{self.PREFIX}:{value}")
        )
        self.value = value

    def style_for(self, value: str) -> discord.ButtonStyle:
        return self.STYLE

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: Any):
        return cls(match["value"])

    @guarded
    async def callback(self, interaction: discord.Interaction) -> None:
        await getattr(interaction.client.get_cog(self.COG), self.METHOD)(interaction, self.value)


class GuardedModal(discord.ui.Modal):
    """A modal whose errors get the same kind replies as commands."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        taken_up(interaction)
        return True

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await handle_interaction_error(interaction, error)


async def group_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer this server's active groups whose name matches what was typed."""
    if interaction.guild_id is None:
        return []
    groups = await groups_service.search_groups(interaction.client.db, interaction.guild_id, current)
    return [app_commands.Choice(name=g.name, value=str(g.id)) for g in groups]


async def any_group_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer every group, archived ones included (for moderators)."""
    if interaction.guild_id is None:
        return []
    groups = await groups_service.search_groups(
        interaction.client.db, interaction.guild_id, current, include_archived=True
    )
    return [app_commands.Choice(name=f"{g.name} (archived)" if g.archived else g.name, value=str(g.id)) for g in groups]
