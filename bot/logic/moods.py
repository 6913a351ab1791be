"""Name moods, draw a member's own trend and summarise a group's "weather" without naming anyone."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from bot.logic.errors import UserError

__all__ = [
    "MOODS",
    "SPARK_BARS",
    "SPARK_GAP",
    "WEATHER_MIN_MEMBERS",
    "distribution",
    "mood_label",
    "sparkline",
    "weather_summary",
]

# Weather, because a mood passes like weather does; every label is something a person can say of
# themselves without feeling judged.
MOODS: dict[int, tuple[str, str]] = {
    1: ("Really struggling", "🌧️"),
    2: ("Low", "🌥️"),
    3: ("Getting by", "⛅"),
    4: ("Good", "🌤️"),
    5: ("Great", "☀️"),
}

SPARK_BARS = "▁▂▃▄▅▆▇█"
# A middle dot reads as "nothing recorded" and cannot be mistaken for the lowest bar.
SPARK_GAP = "·"
WEATHER_MIN_MEMBERS = 5
_WEATHER_BAR_WIDTH = 20


def _is_mood(value: object) -> bool:
    """Tell whether value is a mood number (bools are ints in Python but never moods)."""
    return isinstance(value, int) and not isinstance(value, bool) and value in MOODS


def mood_label(mood: int) -> str:
    """Return a mood as emoji and label, e.g. "⛅ Getting by"."""
    if not _is_mood(mood):
        raise UserError("Mood is a number from 1 to 5.")
    label, emoji = MOODS[mood]
    return f"{emoji} {label}"


def sparkline(values: Sequence[float | None], *, low: float = 1, high: float = 5) -> str:
    """Draw values as one line of bars on a fixed scale (moods by default), with a gap for None."""
    if high <= low:
        raise ValueError("sparkline needs high > low.")
    # A fixed scale keeps a steady "Getting by" in the middle instead of stretching it to the floor.
    top = len(SPARK_BARS) - 1
    chars = []
    for value in values:
        if value is None or math.isnan(value):
            chars.append(SPARK_GAP)
            continue
        fraction = (min(max(value, low), high) - low) / (high - low)
        chars.append(SPARK_BARS[math.floor(fraction * top + 0.5)])
    return "".join(chars)


def distribution(moods: Iterable[int]) -> dict[int, int]:
    """Count check-ins per mood, with every mood from 1 to 5 present."""
    counts = dict.fromkeys(MOODS, 0)
    for mood in moods:
        if not _is_mood(mood):
            raise ValueError(f"Not a mood: {mood!r}")
        counts[mood] += 1
    return counts


def _percentages(counts: Mapping[int, int]) -> dict[int, int]:
    """Round shares to whole percents that add up to exactly 100 (largest remainder)."""
    total = sum(counts.values())
    exact = {mood: counts.get(mood, 0) * 100 / total for mood in MOODS}
    rounded = {mood: math.floor(share) for mood, share in exact.items()}
    leftover = 100 - sum(rounded.values())
    by_remainder = sorted(MOODS, key=lambda mood: (-(exact[mood] - rounded[mood]), -mood))
    for mood in by_remainder[:leftover]:
        rounded[mood] += 1
    return rounded


def weather_summary(distribution: Mapping[int, int], distinct_members: int, k: int = WEATHER_MIN_MEMBERS) -> str | None:
    """Render a group's mood mix as one bar per mood, or None when fewer than k members checked in.

    Percentages are of check-ins, not of people, and no names or counts are shown, so with at least
    k distinct members nobody's own mood can be read off the chart.
    """
    total = sum(distribution.get(mood, 0) for mood in MOODS)
    if distinct_members < k or total <= 0:
        return None
    shares = _percentages(distribution)
    lines = []
    for mood in sorted(MOODS, reverse=True):
        label, emoji = MOODS[mood]
        blocks = round(shares[mood] * _WEATHER_BAR_WIDTH / 100)
        # A mood that someone did report keeps a sliver of bar even when it rounds to nothing.
        bar = "█" * blocks if blocks or not distribution.get(mood) else "▏"
        lines.append(" ".join(part for part in (emoji, label, bar, f"{shares[mood]}%") if part))
    return "\n".join(lines)
