"""Ready-made button payloads are exactly what discord.py's Buttons serialise to, and clicks still work."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import discord
import pytest

from bot.services.meetings import STATUS_LABELS, STATUSES
from cogs._meeting_ui import RsvpButton, rsvp_view, upcoming_view
from cogs._reminder_ui import StopButton, reminder_view
from cogs._ui import Components
from tests.cogs.meeting_helpers import make_meeting
from tests.memory import all_let_go


def built_from_items(items) -> list:
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view.to_components()


def occurrence(meeting_id: int, day: int) -> SimpleNamespace:
    start = datetime(2026, 11 if day > 2 else 12, day, 19, tzinfo=UTC)
    return SimpleNamespace(meeting=SimpleNamespace(id=meeting_id), key=int(start.timestamp()))


async def test_an_rsvp_row_is_what_discord_py_would_send():
    items = [RsvpButton(7, "n", s, f"Every time: {STATUS_LABELS[s]}") for s in STATUSES]
    assert rsvp_view(7, prefix="Every time: ").to_components() == built_from_items(items)


async def test_the_upcoming_list_and_a_reminder_are_what_discord_py_would_send():
    occs = [occurrence(5, d) for d in (3, 10, 17, 24, 1)]
    items = []
    for number, occ in enumerate(occs, start=1):
        for status in STATUSES:
            item = RsvpButton(occ.meeting.id, str(occ.key), status, f"{number} · {STATUS_LABELS[status]}")
            item.row = number - 1  # one row per date, numbered like the list
            items.append(item)
    assert upcoming_view(occs).to_components() == built_from_items(items)
    reminder_items = [RsvpButton(5, str(occs[0].key), s, STATUS_LABELS[s]) for s in STATUSES] + [StopButton(5)]
    assert reminder_view(occs[0]).to_components() == built_from_items(reminder_items)


async def test_more_buttons_than_discord_allows_are_refused():
    with pytest.raises(ValueError, match="at most 5 rows"):
        Components([[RsvpButton.payload(1, "n", "going")]] * 6)


async def test_buttons_added_the_usual_way_follow_on_their_own_row():
    view = rsvp_view(7, prefix="Every time: ")
    view.add_item(StopButton(7))
    rows = view.to_components()
    assert [len(r["components"]) for r in rows] == [3, 1]
    assert rows[1]["components"][0]["custom_id"] == "remind:stop:7"


async def test_answers_whose_buttons_are_templates_leave_no_view_behind(running, discord_double, world):
    # Their buttons are answered by DynamicItem templates, so nothing needs their view once sent: discord.py kept
    # each one, with a timer, for 15 minutes (an ephemeral answer's default), one more for every answer.
    await asyncio.wait_for(running.bot.started, timeout=10)  # after start-up's heap is frozen, where gc sees all
    await make_meeting(discord_double, world, running)
    listed = await discord_double.slash("group list", user=world.carol)
    assert "Join Tuesday Circle" in [b["label"] for row in listed.message["components"] for b in row["components"]]
    await discord_double.slash("group join", user=world.carol, group="Tuesday Circle")
    for _ in range(3):
        reply = await discord_double.slash("meetings", user=world.carol)
        assert reply.message["components"]
    going = await discord_double.slash("rsvp", user=world.carol, meeting="Evening circle", status="going")
    assert "remind you" in going.text  # the suggestion's buttons ride along
    assert await all_let_go(lambda o: isinstance(o, discord.ui.View))  # Components among them
    clicked = await discord_double.click(reply, "1 · Going", user=world.carol)
    assert "You're going to" in clicked.text
    joined = await discord_double.click(listed, "Join Tuesday Circle", user=world.dan)
    assert "Tuesday Circle" in joined.text


async def test_a_view_with_items_of_its_own_still_listens():
    view = rsvp_view(7)
    assert view.is_finished()  # only payloads: the DynamicItem templates answer them
    view.add_item(StopButton(7))
    assert view.is_finished()  # a DynamicItem, answered by its template too
    view.add_item(discord.ui.Button(label="Not a template", custom_id="plain"))
    assert not view.is_finished()
