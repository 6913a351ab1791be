"""Mood labels, the personal sparkline and the group weather."""

from __future__ import annotations

import pytest

from bot.logic.errors import UserError
from bot.logic.moods import (
    MOODS,
    SPARK_GAP,
    WEATHER_MIN_MEMBERS,
    distribution,
    mood_label,
    sparkline,
    weather_summary,
)


def test_there_are_five_moods_with_label_and_emoji() -> None:
    assert sorted(MOODS) == [1, 2, 3, 4, 5]
    assert all(label and emoji for label, emoji in MOODS.values())


@pytest.mark.parametrize(
    ("mood", "expected"),
    [(1, "🌧️ Really struggling"), (2, "🌥️ Low"), (3, "⛅ Getting by"), (4, "🌤️ Good"), (5, "☀️ Great")],
)
def test_mood_label_shows_emoji_then_label(mood: int, expected: str) -> None:
    assert mood_label(mood) == expected


@pytest.mark.parametrize("mood", [0, 6, -1, True, 3.0, "3", None])
def test_mood_label_refuses_anything_but_one_to_five(mood: object) -> None:
    with pytest.raises(UserError, match="1 to 5"):
        mood_label(mood)  # type: ignore[arg-type]


def test_sparkline_maps_the_mood_scale_onto_bars() -> None:
    assert sparkline([1, 2, 3, 4, 5]) == "▁▃▅▆█"


def test_sparkline_marks_missing_days_with_a_gap() -> None:
    assert sparkline([1, None, 5, float("nan")]) == f"▁{SPARK_GAP}█{SPARK_GAP}"


def test_sparkline_keeps_a_flat_middle_in_the_middle() -> None:
    assert sparkline([3, 3, 3]) == "▅▅▅"


def test_sparkline_clamps_values_outside_the_scale() -> None:
    assert sparkline([0, 9]) == "▁█"


def test_sparkline_accepts_another_scale() -> None:
    assert sparkline([0, 50, 100], low=0, high=100) == "▁▅█"


def test_sparkline_of_nothing_is_empty() -> None:
    assert sparkline([]) == ""


def test_sparkline_refuses_an_empty_scale() -> None:
    with pytest.raises(ValueError):
        sparkline([1], low=5, high=5)


def test_distribution_counts_every_mood_including_zeros() -> None:
    assert distribution([5, 5, 3, 1]) == {1: 1, 2: 0, 3: 1, 4: 0, 5: 2}


def test_distribution_refuses_impossible_moods() -> None:
    with pytest.raises(ValueError):
        distribution([3, 7])


def test_weather_is_hidden_below_five_members() -> None:
    assert weather_summary(distribution([1, 2, 3, 4]), distinct_members=4) is None


def test_weather_is_shown_at_exactly_five_members() -> None:
    assert WEATHER_MIN_MEMBERS == 5
    assert weather_summary(distribution([1, 2, 3, 4, 5]), distinct_members=5) is not None


def test_weather_threshold_can_be_raised() -> None:
    assert weather_summary(distribution([3] * 9), distinct_members=9, k=10) is None


def test_weather_with_no_check_ins_is_hidden() -> None:
    assert weather_summary(distribution([]), distinct_members=5) is None


def test_weather_shows_a_bar_and_percentage_per_mood_from_sunny_down() -> None:
    moods = [5] * 3 + [4] * 4 + [3] * 2 + [1] * 1

    summary = weather_summary(distribution(moods), distinct_members=6)

    assert summary == "\n".join(
        [
            "☀️ Great ██████ 30%",
            "🌤️ Good ████████ 40%",
            "⛅ Getting by ████ 20%",
            "🌥️ Low 0%",
            "🌧️ Really struggling ██ 10%",
        ]
    )


def test_weather_percentages_always_add_up_to_one_hundred() -> None:
    summary = weather_summary({1: 1, 2: 1, 3: 1, 4: 0, 5: 0}, distinct_members=5)

    assert summary is not None
    percents = [int(line.rsplit(" ", 1)[1].rstrip("%")) for line in summary.splitlines()]
    assert sum(percents) == 100
    assert sorted(percents) == [0, 0, 33, 33, 34]


def test_a_rare_mood_keeps_a_sliver_of_bar() -> None:
    summary = weather_summary({1: 1, 2: 0, 3: 0, 4: 0, 5: 99}, distinct_members=50)

    assert summary is not None
    assert "🌧️ Really struggling ▏ 1%" in summary.splitlines()


def test_weather_never_shows_counts() -> None:
    summary = weather_summary({1: 0, 2: 0, 3: 7, 4: 0, 5: 0}, distinct_members=7)

    assert summary is not None
    assert "7" not in summary
