"""The narrated tour: the whole mission in a few minutes of simulated time. It runs in CI as a test."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    say: str  # the narration
    line: str  # what is typed at the prompt
    expect: str = ""  # text that must appear in what the bot shows (the tour fails otherwise)


STEPS: tuple[Step, ...] = (
    Step("Maya moderates the server. She creates a group for the Tuesday meeting.", "as maya"),
    Step(
        "",
        '/setup group-create name:"Tuesday Circle" channel:#tuesday-circle role:"@Tuesday Circle" '
        'checkin_channel:#check-ins buddy_channel:#buddies description:"Peers in recovery, every Tuesday"',
        "Created **Tuesday Circle**",
    ),
    Step("Moderator alerts go to a private channel.", "/setup modlog channel:#mod-log", "now go to"),
    Step(
        "Olivia organises. She schedules a weekly meeting in London time; it is announced with RSVP buttons "
        "and mirrored as a Discord event.",
        "as olivia",
    ),
    Step(
        "",
        '/meeting create group:"Tuesday Circle" title:"Evening circle" start:"tuesday 19:00" '
        'timezone:Europe/London repeat:weekly voice_channel:"Meeting Room"',
        "Scheduled **Evening circle**",
    ),
    Step("Alice joins the group. The bot suggests, once, that she set her own reminders.", "as alice"),
    Step("", '/group join group:"Tuesday Circle"', "Welcome to **Tuesday Circle**"),
    Step(
        "She chooses one hour before. Nobody else can set this for her.",
        'click "Remind me 1 hour before"',
        "1 hour before",
    ),
    Step("Bob says he's going, and sets his own reminders a day and an hour before.", "as bob"),
    Step("", "click Going", "You're going to **Evening circle**"),
    Step("", '/reminders set meeting:"Evening circle" before:"1d, 1h"', "1 day and 1 hour before"),
    Step(
        "Time passes. A day before, Bob's first reminder arrives by DM, with buttons to answer.",
        "wait until monday 19:00",
        "Reminder: Evening circle",
    ),
    Step(
        "An hour before, Alice and Bob each get the reminder they asked for.", "wait until tuesday 18:00", "DM to alice"
    ),
    Step(
        "At 19:00 the bot posts 'starting now'. Alice checks herself in: only she sees it.",
        "wait until tuesday 19:00",
        "starting now",
    ),
    Step("", "as alice", ""),
    Step("", 'click "I\'m here"', "Checked in"),
    Step("Olivia sees numbers, never names.", "as olivia"),
    Step("", '/meeting stats meeting:"Evening circle"', "1 checked in"),
    Step(
        "Carol is having a hard week. She checks in anonymously: only she sees the answer, and the post goes "
        "out a few minutes later under a weekly alias, so nobody can tell who wrote it.",
        "as carol",
    ),
    Step("", '/group join group:"Tuesday Circle"', "Welcome"),
    Step("", '/checkin mood:2 share:anonymous note:"Rough day. Glad this group exists."', "this week"),
    Step("", "wait 3m", "Rough day"),
    Step("Dan replies in the post's thread, under his own alias.", "as dan"),
    Step("", '/group join group:"Tuesday Circle"', "Welcome"),
    Step("", '/checkin-reply post:"" message:"Sending you strength. Same here last month."', "Sending you strength"),
    Step("Buddy pairing is opt-in. Alice and Carol join as peers, Bob as a mentor, Dan as a mentee.", "as alice"),
    Step("", '/buddy join group:"Tuesday Circle" role:peer about:"Two years in. Love a walk."', "peer"),
    Step("", "as carol"),
    Step("", '/buddy join group:"Tuesday Circle" role:peer about:"New here, nervous."', "peer"),
    Step("", "as bob"),
    Step("", '/group join group:"Tuesday Circle"', "Welcome"),
    Step("", '/buddy join group:"Tuesday Circle" role:mentor about:"Happy to listen."', "mentor"),
    Step("", "as dan"),
    Step("", '/buddy join group:"Tuesday Circle" role:mentee', "mentee"),
    Step(
        "Maya runs a round now (normally it runs every 7, 14 or 28 days). Each pair gets a private thread with "
        "an opener; the mentee is paired with the mentor.",
        "as maya",
    ),
    Step("", '/buddy pair-now group:"Tuesday Circle"', "Buddy chat"),
    Step(
        "Bob leaves the server. Nobody is silently dropped: Dan is told kindly and re-paired at once.",
        "leave bob",
        "dan",
    ),
)


def narrate(step: Step) -> str:
    """The line printed before a step."""
    return f"\n💬 {step.say}" if step.say else ""
