"""Decide the self-managed attendance nudges: fading offers, welcome-back notes and buddy alerts.

Pure policy over a member's past occurrences. The caller stores the returned state, sends what the
decision asks for (each send keyed in the delivery ledger), and evaluates again after the next
occurrence. Reminders themselves exist only because the member set them; this module only decides how
many of the member's own lead times apply and which of the few permitted notes are due.

Vocabulary, for one past occurrence:
- attended: the member checked themselves in (whatever they had RSVP'd);
- miss: the member had RSVP'd "going" or "maybe" and did not check in;
- anything else (RSVP "not_going" or none, not attended) is neither, and does not break a run, since
  not coming to a meeting you never said you would come to is not a lapse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.logic.errors import UserError

__all__ = [
    "ANSWERS",
    "FADING_RUN",
    "LEVELS",
    "MISSES_IN_A_ROW",
    "OFFER_WAIT",
    "RSVP_INTENDS",
    "STYLES",
    "WELCOME_BACK_COOLDOWN",
    "WELCOME_BACK_MIN_ATTENDED",
    "Decision",
    "NudgeState",
    "Outcome",
    "apply_offer_answer",
    "attended_run",
    "effective_lead_times",
    "evaluate",
    "missed_rsvped_run",
    "offer_is_current",
    "with_style",
]

STYLES = ("steady", "fading", "off")
LEVELS = ("full", "fewer", "none")
ANSWERS = {"keep": "full", "fewer": "fewer", "none": "none"}
RSVP_INTENDS = frozenset({"going", "maybe"})

FADING_RUN = 3
OFFER_WAIT = timedelta(days=7)
MISSES_IN_A_ROW = 2
WELCOME_BACK_MIN_ATTENDED = 3
WELCOME_BACK_COOLDOWN = timedelta(days=30)


@dataclass(frozen=True)
class Outcome:
    """One past occurrence of a meeting the member is involved in."""

    start: datetime
    rsvp: str | None  # "going" | "maybe" | "not_going" | None
    attended: bool


@dataclass(frozen=True)
class NudgeState:
    """What the policy remembers about one member between evaluations."""

    style: str = "steady"  # steady | fading | off
    level: str = "full"  # full | fewer | none: what fading currently applies
    offer_sent_at: datetime | None = None
    offer_answered: bool = False
    # Start of the attended run the last offer was about, so each run is offered at most once.
    offer_streak_start: datetime | None = None
    last_welcome_back_at: datetime | None = None
    # Start of the missed occurrence that triggered the last buddy alert.
    buddy_alert_for: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """The new state and the messages that are due now."""

    state: NudgeState
    send_fading_offer: bool = False
    send_fading_applied: bool = False  # "I've stepped back to one reminder; say if you want more"
    send_welcome_back: bool = False
    send_buddy_alert: bool = False
    restored: bool = False  # a miss brought back the member's own setting


def _is_miss(outcome: Outcome) -> bool:
    """Tell whether the member said they would come and did not."""
    return not outcome.attended and outcome.rsvp in RSVP_INTENDS


def _chronological(history: Sequence[Outcome]) -> list[Outcome]:
    """Order the history by start time; callers should already pass it in order."""
    return sorted(history, key=lambda outcome: outcome.start)


def _trailing(history: Sequence[Outcome], *, misses: bool) -> list[Outcome]:
    """Return the latest unbroken run of attendances (or of misses), skipping neutral occurrences."""
    run: list[Outcome] = []
    for outcome in reversed(_chronological(history)):
        if outcome.attended:
            if misses:
                break
            run.append(outcome)
        elif _is_miss(outcome):
            if not misses:
                break
            run.append(outcome)
    run.reverse()
    return run


def attended_run(history: Sequence[Outcome]) -> int:
    """Count the attended occurrences since the last miss."""
    return len(_trailing(history, misses=False))


def missed_rsvped_run(history: Sequence[Outcome]) -> int:
    """Count the RSVP'd occurrences missed since the last attendance."""
    return len(_trailing(history, misses=True))


def _check_style(style: str) -> None:
    """Raise for a style this policy does not know, since guessing could send unwanted messages."""
    if style not in STYLES:
        raise ValueError(f"Unknown reminder style {style!r}; expected one of {', '.join(STYLES)}.")


def offer_is_current(state: NudgeState, history: Sequence[Outcome]) -> bool:
    """Tell whether the last fading offer still concerns an unbroken run, so its buttons may be answered."""
    run = _trailing(history, misses=False)
    return (
        state.style == "fading"
        and state.offer_streak_start is not None
        and bool(run)
        and run[0].start == state.offer_streak_start
    )


def evaluate(state: NudgeState, history: Sequence[Outcome], now: datetime, *, buddy_alert_consent: bool) -> Decision:
    """Decide which nudges are due after the given past occurrences; evaluating twice decides nothing new."""
    _check_style(state.style)
    # An occurrence that has not started cannot have been attended or missed yet.
    past = [outcome for outcome in _chronological(history) if outcome.start <= now]
    attended = _trailing(past, misses=False)
    missed = _trailing(past, misses=True)
    fading = state.style == "fading"
    restored = offer = applied = welcome = buddy = False

    # A miss after the run that stepped reminders back means the member needs their own setting again.
    if fading and state.level != "full":
        since = state.offer_streak_start
        if any(_is_miss(outcome) and (since is None or outcome.start > since) for outcome in past):
            state = replace(state, level="full")
            restored = True

    run_start = attended[0].start if attended else None
    if fading and state.level == "full" and len(attended) >= FADING_RUN and run_start != state.offer_streak_start:
        state = replace(state, offer_sent_at=now, offer_answered=False, offer_streak_start=run_start)
        offer = True
    elif (
        fading
        and state.level == "full"
        and state.offer_sent_at is not None
        and not state.offer_answered
        and run_start is not None
        and run_start == state.offer_streak_start
        and now - state.offer_sent_at >= OFFER_WAIT
    ):
        # Silence is not a "keep": the run is unbroken, so step back to the one reminder closest to the
        # meeting and say so; any miss restores the member's setting.
        state = replace(state, level="fewer")
        applied = True

    if len(missed) >= MISSES_IN_A_ROW:
        streak_start = missed[0].start
        used_to_come = sum(outcome.attended for outcome in past) >= WELCOME_BACK_MIN_ATTENDED
        last = state.last_welcome_back_at
        already_this_streak = last is not None and last >= streak_start
        cooled_down = last is None or now - last >= WELCOME_BACK_COOLDOWN
        if state.style != "off" and used_to_come and cooled_down and not already_this_streak:
            state = replace(state, last_welcome_back_at=now)
            welcome = True
        # The member chose this alert; it is independent of their reminder style. One per streak.
        alerted = state.buddy_alert_for
        if buddy_alert_consent and (alerted is None or alerted < streak_start):
            state = replace(state, buddy_alert_for=missed[-1].start)
            buddy = True

    return Decision(
        state=state,
        send_fading_offer=offer,
        send_fading_applied=applied,
        send_welcome_back=welcome,
        send_buddy_alert=buddy,
        restored=restored,
    )


def apply_offer_answer(state: NudgeState, answer: str, now: datetime) -> NudgeState:
    """Record the member's answer to the fading offer: keep, fewer or none.

    `now` is accepted for the caller's audit trail; the state needs no time for an answer.
    """
    if answer not in ANSWERS:
        raise UserError("Choose keep, fewer or none.")
    if state.style != "fading":
        raise UserError("Your reminder style is no longer fading; use /reminders style to change it.")
    return replace(state, level=ANSWERS[answer], offer_answered=True)


def with_style(state: NudgeState, style: str) -> NudgeState:
    """Switch the member's reminder style, starting fading afresh at their full setting."""
    if style not in STYLES:
        raise UserError("Reminder style is steady, fading or off.")
    if style == state.style:
        return state
    # Keep offer_streak_start so a run already offered is not offered again after toggling styles.
    return replace(state, style=style, level="full", offer_sent_at=None, offer_answered=False)


def effective_lead_times(chosen: Sequence[timedelta], state: NudgeState) -> list[timedelta]:
    """Return which of the member's own lead times apply under their style and fading level."""
    _check_style(state.style)
    if state.style == "off" or not chosen:
        return []
    if state.style == "steady" or state.level == "full":
        return list(chosen)
    if state.level == "fewer":
        # The reminder closest to the meeting is the one most likely to be useful on its own.
        return [min(chosen)]
    return []
