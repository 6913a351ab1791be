"""Try PeerBot without Discord: the real bot against the local Discord, from a terminal prompt."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

# The local Discord lives with the tests (tests/double); the playground runs from a checkout.
_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

TOUR_START = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # a Monday noon


async def run_tour(out=print) -> int:
    """Play the narrated tour; return 0 when every step showed what it should."""
    from bot.playground.session import Playground
    from bot.playground.tour import STEPS, narrate

    playground = Playground(start=TOUR_START)
    await playground.start()
    failures = 0
    try:
        out("🎬 PeerBot tour: a peer-support server on a local Discord, with simulated time.")
        for step in STEPS:
            if step.say:
                out(narrate(step))
            out(f"> {step.line}")
            shown = await playground.run_line(step.line)
            if shown:
                out(shown)
            if step.expect and step.expect not in shown:
                failures += 1
                out(f"❌ expected to see: {step.expect}")
        playground.double.assert_all_handled()
    finally:
        await playground.stop()
    out("\n✅ Tour complete." if not failures else f"\n❌ {failures} step(s) did not show what they should.")
    return 1 if failures else 0


async def run_playground(*, tour: bool = False, db_path: Path | None = None) -> int:
    """Run the interactive prompt (or the tour)."""
    if tour:
        return await run_tour()
    import asyncio

    from bot.playground.session import Playground

    playground = Playground(db_path)
    await playground.start()
    complete = _readline(playground.command_names())
    print("PeerBot playground: the real bot on a local Discord. Nothing leaves this machine.")
    print("You are maya (moderator). Type `help`, or start with /setup group-create …; `quit` to leave.")
    try:
        while True:
            try:
                line = await asyncio.to_thread(input, f"[{playground.me.name}] > ")
            except EOFError:
                break
            if line.strip() in ("quit", "exit"):
                break
            shown = await playground.run_line(line)
            if shown:
                print(shown)
            complete(playground.command_names())
    finally:
        await playground.stop()
    return 0


def _readline(words: list[str]):
    """Arrow-key history and tab completion where the terminal supports it."""
    state = {"words": words}
    try:
        import readline
    except ImportError:
        return lambda new: None

    def completer(text: str, index: int) -> str | None:
        line = readline.get_line_buffer()
        matches = [w for w in state["words"] if w.startswith(line)]
        if not matches:
            return None
        offset = len(line) - len(text)
        return matches[index][offset:] if index < len(matches) else None

    readline.set_completer_delims("")
    readline.set_completer(completer)
    readline.parse_and_bind("tab: complete")

    def update(new: list[str]) -> None:
        state["words"] = new

    return update
