"""The self-managed attendance policy, as tables of histories and the decisions they lead to.

Histories are written one character per weekly occurrence, oldest first:
    A attended (RSVP going)      a attended (no RSVP)        X attended (RSVP not going)
    M missed (RSVP going)        m missed (RSVP maybe)
    N not there, RSVP not going  - not there, no RSVP
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.logic.errors import UserError
from bot.logic.nudging import (
    Decision,
    NudgeState,
    Outcome,
    apply_offer_answer,
    attended_run,
    effective_lead_times,
    evaluate,
    missed_rsvped_run,
    offer_is_current,
    with_style,
)

BASE = datetime(2026, 1, 5, 19, 0, tzinfo=UTC)
CODES: dict[str, tuple[str | None, bool]] = {
    "A": ("going", True),
    "a": (None, True),
    "X": ("not_going", True),
    "M": ("going", False),
    "m": ("maybe", False),
    "N": ("not_going", False),
    "-": (None, False),
}
NOTHING = {
    "send_fading_offer": False,
    "send_fading_applied": False,
    "send_welcome_back": False,
    "send_buddy_alert": False,
    "restored": False,
}


def at(index: int) -> datetime:
    """Return the start of the index-th weekly occurrence."""
    return BASE + timedelta(weeks=index)


def history(codes: str) -> list[Outcome]:
    """Build a weekly history from its one-character codes."""
    return [Outcome(at(i), *CODES[code]) for i, code in enumerate(codes)]


def day_after(codes: str) -> datetime:
    """Return the day after the last occurrence of a history."""
    return at(len(codes) - 1) + timedelta(days=1)


def flags(decision: Decision) -> dict[str, bool]:
    """Return the decision's message flags by name."""
    return {name: getattr(decision, name) for name in NOTHING}


def decide(state: NudgeState, codes: str, *, consent: bool = False, now: datetime | None = None) -> Decision:
    """Evaluate a coded history the day after its last occurrence."""
    return evaluate(state, history(codes), now or day_after(codes), buddy_alert_consent=consent)


# --- runs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "attended", "missed"),
    [
        ("", 0, 0),
        ("A", 1, 0),
        ("AAA", 3, 0),
        ("MAA", 2, 0),
        ("AAM", 0, 1),
        ("AMM", 0, 2),
        ("A-N-A", 2, 0),
        ("aXA", 3, 0),
        ("M-M", 0, 2),
        ("MNm", 0, 2),
        ("AAN-", 2, 0),
        ("MM--", 0, 2),
        ("---", 0, 0),
    ],
)
def test_trailing_runs_skip_occurrences_that_are_neither_attended_nor_missed(
    codes: str, attended: int, missed: int
) -> None:
    assert attended_run(history(codes)) == attended
    assert missed_rsvped_run(history(codes)) == missed


def test_runs_are_counted_in_start_order_whatever_the_input_order() -> None:
    assert attended_run(list(reversed(history("MAA")))) == 2


# --- the fading offer ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "codes", "run_start"),
    [
        ("steady", "AAA", None),
        ("steady", "AAAAAAAA", None),
        ("off", "AAA", None),
        ("fading", "", None),
        ("fading", "AA", None),
        ("fading", "AAA", 0),
        ("fading", "MAAA", 1),
        ("fading", "AA-A", 0),
        ("fading", "AANA", 0),
        ("fading", "AAMAA", None),
        ("fading", "aXa", 0),
        ("fading", "AAAA", 0),
        ("fading", "AMm-AAA", 4),
    ],
)
def test_fading_offers_after_three_attended_in_a_row(style: str, codes: str, run_start: int | None) -> None:
    decision = decide(NudgeState(style=style), codes)

    assert decision.send_fading_offer is (run_start is not None)
    if run_start is not None:
        assert decision.state.offer_sent_at == day_after(codes)
        assert decision.state.offer_streak_start == at(run_start)
        assert decision.state.offer_answered is False


@pytest.mark.parametrize(
    ("codes", "offered_run_start", "offered"),
    [
        ("AAA", 0, False),
        ("AAAAAA", 0, False),
        ("AAAMAAA", 0, True),
        ("AAAMAAA", 4, False),
        ("AAA-MAAA", 0, True),
    ],
)
def test_fading_offers_once_per_attended_run(codes: str, offered_run_start: int, offered: bool) -> None:
    state = NudgeState(
        style="fading",
        offer_sent_at=at(offered_run_start + 2) + timedelta(days=1),
        offer_answered=True,
        offer_streak_start=at(offered_run_start),
    )

    assert decide(state, codes).send_fading_offer is offered


# --- stepping back when the offer goes unanswered ----------------------------------------------


OFFERED = NudgeState(style="fading", offer_sent_at=day_after("AAA"), offer_streak_start=at(0))


@pytest.mark.parametrize(
    ("state", "codes", "days_after_offer", "applied"),
    [
        pytest.param(OFFERED, "AAA", 6, False, id="6 days"),
        pytest.param(OFFERED, "AAA", 7, True, id="7 days"),
        pytest.param(OFFERED, "AAA", 40, True, id="40 days"),
        pytest.param(OFFERED, "AAAA", 7, True, id="run continues"),
        pytest.param(OFFERED, "AAA-N", 14, True, id="neutral occurrences"),
        pytest.param(OFFERED, "AAAM", 8, False, id="run broken"),
        pytest.param(OFFERED, "AAAMA", 14, False, id="new run"),
        pytest.param(replace(OFFERED, offer_answered=True), "AAA", 30, False, id="answered"),
        pytest.param(replace(OFFERED, style="steady"), "AAA", 30, False, id="style changed"),
        pytest.param(replace(OFFERED, level="none", offer_answered=True), "AAA", 30, False, id="answered none"),
    ],
)
def test_an_unanswered_offer_steps_back_to_fewer_after_seven_days(
    state: NudgeState, codes: str, days_after_offer: int, applied: bool
) -> None:
    assert state.offer_sent_at is not None
    now = state.offer_sent_at + timedelta(days=days_after_offer)

    decision = decide(state, codes, now=now)

    assert decision.send_fading_applied is applied
    expected_level = "fewer" if applied else state.level
    assert decision.state.level == expected_level


def test_answering_keep_means_the_run_is_never_stepped_back() -> None:
    state = apply_offer_answer(OFFERED, "keep", day_after("AAA"))

    for weeks in range(1, 10):
        codes = "AAA" + "A" * weeks
        decision = decide(state, codes)
        assert flags(decision) == NOTHING
        assert decision.state.level == "full"


@pytest.mark.parametrize(("answer", "level"), [("keep", "full"), ("fewer", "fewer"), ("none", "none")])
def test_an_answer_sets_the_level_and_closes_the_offer(answer: str, level: str) -> None:
    state = apply_offer_answer(OFFERED, answer, day_after("AAA"))

    assert state.level == level
    assert state.offer_answered is True
    assert state.offer_streak_start == OFFERED.offer_streak_start


def test_an_answer_may_change_an_automatic_step_back() -> None:
    stepped_back = replace(OFFERED, level="fewer")

    assert apply_offer_answer(stepped_back, "keep", day_after("AAA")).level == "full"


@pytest.mark.parametrize("answer", ["maybe", "", "KEEP", "all"])
def test_an_unknown_answer_is_refused(answer: str) -> None:
    with pytest.raises(UserError):
        apply_offer_answer(OFFERED, answer, day_after("AAA"))


def test_an_answer_after_leaving_fading_is_refused() -> None:
    with pytest.raises(UserError, match="no longer fading"):
        apply_offer_answer(replace(OFFERED, style="steady"), "none", day_after("AAA"))


@pytest.mark.parametrize(
    ("state", "codes", "current"),
    [
        (OFFERED, "AAA", True),
        (OFFERED, "AAAA-", True),
        (OFFERED, "AAAM", False),
        (OFFERED, "AAAMAAA", False),
        (replace(OFFERED, style="steady"), "AAA", False),
        (NudgeState(style="fading"), "AAA", False),
    ],
)
def test_an_offer_is_current_while_its_run_is_unbroken(state: NudgeState, codes: str, current: bool) -> None:
    assert offer_is_current(state, history(codes)) is current


# --- a miss restores the member's own setting ---------------------------------------------------


STEPPED_BACK = replace(OFFERED, level="fewer")


@pytest.mark.parametrize(
    ("state", "codes", "restored"),
    [
        pytest.param(STEPPED_BACK, "AAA", False, id="no miss"),
        pytest.param(STEPPED_BACK, "AAAA", False, id="more attended"),
        pytest.param(STEPPED_BACK, "AAAM", True, id="missed going"),
        pytest.param(STEPPED_BACK, "AAAm", True, id="missed maybe"),
        pytest.param(STEPPED_BACK, "AAAN", False, id="said not going"),
        pytest.param(STEPPED_BACK, "AAA-", False, id="no rsvp"),
        pytest.param(STEPPED_BACK, "AAAMA", True, id="missed then came"),
        pytest.param(replace(STEPPED_BACK, level="none", offer_answered=True), "AAAM", True, id="answered none"),
        pytest.param(replace(STEPPED_BACK, offer_streak_start=at(1)), "MAAAA", False, id="miss before the run"),
        pytest.param(replace(STEPPED_BACK, style="steady"), "AAAM", False, id="steady"),
        pytest.param(NudgeState(style="fading"), "AAAM", False, id="already full"),
    ],
)
def test_a_missed_rsvp_restores_the_full_setting(state: NudgeState, codes: str, restored: bool) -> None:
    decision = decide(state, codes)

    assert decision.restored is restored
    assert decision.state.level == ("full" if restored else state.level)


def test_a_restored_member_who_came_back_three_times_is_offered_again_at_once() -> None:
    decision = decide(STEPPED_BACK, "AAAMAAA")

    assert decision.restored is True
    assert decision.send_fading_offer is True
    assert decision.state.offer_streak_start == at(4)


# --- welcome back ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "codes", "welcomed"),
    [
        ("steady", "AAAMM", True),
        ("fading", "AAAMM", True),
        ("off", "AAAMM", False),
        ("steady", "AAMM", False),
        ("steady", "AAAM", False),
        ("steady", "AAAM-M", True),
        ("steady", "AAAMNm", True),
        ("steady", "AAA--", False),
        ("steady", "AAANN", False),
        ("steady", "AMAMAMM", True),
        ("steady", "aXAMM", True),
        ("steady", "AAAMMA", False),
        ("steady", "MMMMM", False),
    ],
)
def test_welcome_back_needs_three_visits_then_two_rsvped_misses_in_a_row(
    style: str, codes: str, welcomed: bool
) -> None:
    decision = decide(NudgeState(style=style), codes)

    assert decision.send_welcome_back is welcomed
    assert decision.state.last_welcome_back_at == (day_after(codes) if welcomed else None)


@pytest.mark.parametrize(
    ("codes", "last_sent", "welcomed"),
    [
        ("AAAMMAMM", at(4) + timedelta(days=1), False),
        ("AAAMMAAAAMM", at(4) + timedelta(days=1), True),
        ("AAAMMAMM", day_after("AAAMMAMM") - timedelta(days=30), True),
        ("AAAMMAMM", day_after("AAAMMAMM") - timedelta(days=29), False),
        ("AAAMMMMMMMM", at(4) + timedelta(days=1), False),
    ],
    ids=["within 30 days", "after 30 days", "exactly 30 days", "29 days", "same streak, much later"],
)
def test_welcome_back_is_sent_at_most_once_a_month_and_once_per_absence(
    codes: str, last_sent: datetime, welcomed: bool
) -> None:
    decision = decide(NudgeState(last_welcome_back_at=last_sent), codes)

    assert decision.send_welcome_back is welcomed


# --- buddy alert ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "codes", "consent", "alert_for"),
    [
        pytest.param(NudgeState(), "MM", True, 1, id="two misses"),
        pytest.param(NudgeState(), "MM", False, None, id="no consent"),
        pytest.param(NudgeState(), "AAM", True, None, id="one miss"),
        pytest.param(NudgeState(), "AM-Nm", True, 4, id="neutral between"),
        pytest.param(NudgeState(), "AMMA", True, None, id="came back"),
        pytest.param(NudgeState(style="off"), "MM", True, 1, id="style off"),
        pytest.param(NudgeState(buddy_alert_for=at(2)), "AMMM", True, None, id="same streak"),
        pytest.param(NudgeState(buddy_alert_for=at(2)), "AMMMMMM", True, None, id="same long streak"),
        pytest.param(NudgeState(buddy_alert_for=at(1)), "MMAMM", True, 4, id="new streak"),
    ],
)
def test_a_consenting_members_buddy_hears_once_per_streak_of_misses(
    state: NudgeState, codes: str, consent: bool, alert_for: int | None
) -> None:
    decision = decide(state, codes, consent=consent)

    assert decision.send_buddy_alert is (alert_for is not None)
    expected = at(alert_for) if alert_for is not None else state.buddy_alert_for
    assert decision.state.buddy_alert_for == expected


# --- lead times and styles ------------------------------------------------------------------------


HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@pytest.mark.parametrize(
    ("style", "level", "chosen", "expected"),
    [
        ("off", "full", [DAY, HOUR], []),
        ("steady", "full", [DAY, HOUR], [DAY, HOUR]),
        ("steady", "fewer", [DAY, HOUR], [DAY, HOUR]),
        ("fading", "full", [DAY, HOUR], [DAY, HOUR]),
        ("fading", "fewer", [DAY, HOUR, 2 * DAY], [HOUR]),
        ("fading", "none", [DAY, HOUR], []),
        ("fading", "fewer", [], []),
        ("steady", "full", [], []),
    ],
)
def test_effective_lead_times_follow_style_and_level(
    style: str, level: str, chosen: list[timedelta], expected: list[timedelta]
) -> None:
    assert effective_lead_times(chosen, NudgeState(style=style, level=level)) == expected


def test_switching_style_starts_fading_afresh_without_reoffering_the_same_run() -> None:
    state = with_style(with_style(STEPPED_BACK, "steady"), "fading")

    assert state.style == "fading"
    assert state.level == "full"
    assert state.offer_sent_at is None
    assert flags(decide(state, "AAAA", now=day_after("AAAA") + timedelta(days=30))) == NOTHING


def test_keeping_the_same_style_changes_nothing() -> None:
    assert with_style(STEPPED_BACK, "fading") is STEPPED_BACK


def test_an_unknown_style_is_refused() -> None:
    with pytest.raises(UserError):
        with_style(NudgeState(), "sometimes")
    with pytest.raises(ValueError):
        evaluate(NudgeState(style="sometimes"), [], BASE, buddy_alert_consent=False)


# --- whole journeys and idempotence --------------------------------------------------------------


def test_occurrences_that_have_not_started_are_ignored() -> None:
    before_third = at(2) - timedelta(hours=1)

    decision = evaluate(NudgeState(style="fading"), history("AAA"), before_third, buddy_alert_consent=False)

    assert decision.send_fading_offer is False


def test_a_fading_member_steps_back_and_gets_their_reminders_back_after_a_miss() -> None:
    state = NudgeState(style="fading")
    sent: list[tuple[int, str]] = []
    codes = "AAAAAMAA"
    # Evaluate daily, as a scheduler would, and log every message that goes out.
    for day in range(len(codes) * 7):
        now = BASE + timedelta(days=day, hours=2)
        past = [outcome for outcome in history(codes) if outcome.start <= now]
        decision = evaluate(state, past, now, buddy_alert_consent=True)
        state = decision.state
        sent += [(day, name) for name, value in flags(decision).items() if value]

    assert sent == [(14, "send_fading_offer"), (21, "send_fading_applied"), (35, "restored")]
    assert state.level == "full"


outcomes = st.builds(
    Outcome,
    start=st.integers(min_value=0, max_value=400).map(lambda days: BASE + timedelta(days=days)),
    rsvp=st.sampled_from(["going", "maybe", "not_going", None]),
    attended=st.booleans(),
)
moments = st.none() | st.integers(min_value=-60, max_value=460).map(lambda days: BASE + timedelta(days=days))
states = st.builds(
    NudgeState,
    style=st.sampled_from(["steady", "fading", "off"]),
    level=st.sampled_from(["full", "fewer", "none"]),
    offer_sent_at=moments,
    offer_answered=st.booleans(),
    offer_streak_start=moments,
    last_welcome_back_at=moments,
    buddy_alert_for=moments,
)


@settings(max_examples=400, deadline=None)
@given(
    state=states,
    outcomes_=st.lists(outcomes, max_size=30),
    now_days=st.integers(min_value=0, max_value=460),
    consent=st.booleans(),
)
def test_evaluating_again_with_the_returned_state_decides_nothing_new(
    state: NudgeState, outcomes_: list[Outcome], now_days: int, consent: bool
) -> None:
    now = BASE + timedelta(days=now_days)

    first = evaluate(state, outcomes_, now, buddy_alert_consent=consent)
    second = evaluate(first.state, outcomes_, now, buddy_alert_consent=consent)

    assert flags(second) == NOTHING
    assert second.state == first.state
