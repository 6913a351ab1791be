"""The playground a newcomer runs before they have a bot token, and its narrated tour."""

from __future__ import annotations

from bot.playground import TOUR_START, run_tour
from bot.playground.session import Playground


async def test_the_tour_plays_the_whole_mission_and_exits_zero():
    lines: list[str] = []
    assert await run_tour(out=lines.append) == 0
    shown = "\n".join(lines)
    assert "Reminder: Evening circle" in shown and "starting now" in shown and "Tour complete" in shown


async def test_typed_commands_buttons_and_time_travel_work_like_discord():
    playground = Playground(start=TOUR_START)
    await playground.start()
    try:
        created = await playground.run_line('/setup group-create name:"Circle" channel:#tuesday-circle')
        assert "Created **Circle**" in created and "reply only you can see" in created
        assert "isn't a command" in await playground.run_line(
            "frobnicate"
        ) or "don't know" in await playground.run_line("frobnicate")
        wrong = await playground.run_line("/setup group-create name:X colour:blue")
        assert "has no option 'colour'" in wrong
        assert "You are now alice" in await playground.run_line("as alice")
        refused = await playground.run_line('/setup group-create name:"Mine" channel:#general')
        assert "Manage Server" in refused
        joined = await playground.run_line("/group join group:Circle")
        assert "[Remind me 1 hour before]" in joined
        assert "1 hour before every Circle meeting" in await playground.run_line('click "Remind me 1 hour before"')
        waited = await playground.run_line("wait 2h")
        assert "It is now Mon 02 Nov 2026 14:00" in waited
        assert "Tuesday" not in await playground.run_line("tz America/New_York")
    finally:
        await playground.stop()
