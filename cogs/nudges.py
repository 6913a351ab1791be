"""Delivering reminders exactly once, and the gentle nudges (fading, welcome back, buddy alert)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import discord
from discord.ext import commands

from bot.client import PeerBot, reply
from bot.errors import UserError
from bot.logic import nudging
from bot.logic.replans import FreshPlans
from bot.logic.timeparse import format_lead_time
from bot.services import meetings as meetings_service
from bot.services import members as members_service
from bot.services import reminders as svc
from bot.services.reminders import NUDGE, Due
from cogs._dm import FANOUT_CONCURRENCY, send_dm
from cogs._reminder_ui import NudgeSettingButton, fading_view, reminder_embed, reminder_view
from cogs._ui import Components

log = logging.getLogger(__name__)

FADING_OFFER = (
    "You've made it to your last 3 meetings on your own. That's yours, well done. 💚\n"
    "Do you still want all your reminders, fewer, or none for now? If I don't hear from you within a week, "
    "I'll step back to one reminder and let you know. Any time you miss one, your reminders come back."
)
FADING_APPLIED = (
    "I haven't heard back, so as promised I've stepped back to one reminder ({lead} before). "
    "If you'd like them all again, press the button or use `/reminders style steady`."
)
WELCOME_BACK = (
    "Hi, just a gentle hello from your group's bot. The group is still here whenever you want it, no catching up "
    "needed. `/meetings` shows what's coming up. 💚"
)
BUDDY_ALERT = (
    "Your buddy {mention} asked me to let you know if they missed a couple of meetings. Maybe send them a "
    "friendly hello? No need to mention this note."
)


class Nudges(commands.Cog):
    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self._sends = asyncio.Semaphore(FANOUT_CONCURRENCY)
        self._startup: asyncio.Task | None = None
        self._fresh = FreshPlans()  # meetings planned on their own while `plan_meetings` applies an older read

    async def cog_load(self) -> None:
        self._startup = self.bot.at_start(self.startup())

    async def cog_unload(self) -> None:
        if self._startup is not None:
            self._startup.cancel()
        self.bot.scheduler.cancel_prefix("reminders:")
        self.bot.scheduler.cancel_prefix("nudge:")

    async def startup(self) -> None:
        """Resolve sends a crash interrupted and rebuild the fading-offer timers.

        Reminder timers are rebuilt by the Schedule cog, which plans every active meeting at start.
        """
        await self.bot.wait_until_ready()
        await self.recover_claims()
        for prefs in await svc.pending_offers(self.bot.db):
            self._offer_timer(prefs.user_id, prefs.offer_sent_at)

    # ------------------------------------------------------------------ reminders
    async def plan_meeting(self, meeting_id: int) -> None:
        """Send what is due for this meeting now, and set a timer for the next one."""
        meeting = await meetings_service.meeting_by_id(self.bot.db, meeting_id)
        key = f"reminders:{meeting_id}"
        if meeting is None:
            self.bot.scheduler.cancel(key)
            return
        due, next_fire = await svc.plan_meeting(self.bot.db, meeting, self.bot.clock.now())
        self._arm(meeting_id, next_fire)
        self._fresh.planned(meeting_id)
        if due:
            await self.deliver(due)

    async def plan_meetings(self, meetings: list[meetings_service.Meeting], skipped: dict[int, dict[int, str]]) -> None:
        """`plan_meeting` for every meeting at start, planned together in a few queries (bench/startup.py)."""
        with self._fresh.bulk() as replanned:
            try:
                plans = await svc.plan_meetings(self.bot.db, meetings, self.bot.clock.now(), skipped)
            except Exception:
                log.exception("Could not plan reminders together; planning them one meeting at a time")
                for meeting in meetings:
                    try:
                        await self.plan_meeting(meeting.id)
                    except Exception:
                        log.exception("Could not plan reminders of meeting %s", meeting.id)
                return
            for index, meeting in enumerate(meetings):
                await meetings_service.breathe(index)
                if meeting.id in replanned:
                    continue
                due, next_fire = plans[meeting.id]
                self._arm(meeting.id, next_fire)
                if due:
                    try:
                        await self.deliver(due)
                    except Exception:
                        log.exception("Could not deliver the reminders of meeting %s", meeting.id)

    async def replan_member(self, user_id: int) -> None:
        """A change may make a reminder fall due earlier: re-plan the member's meetings now."""
        for meeting in await svc.meetings_with_reminders(self.bot.db, user_id):
            await self.plan_meeting(meeting.id)

    def _arm(self, meeting_id: int, next_fire: datetime | None) -> None:
        key = f"reminders:{meeting_id}"
        if next_fire is not None:
            self.bot.scheduler.schedule(key, next_fire, lambda: self._fire(meeting_id))
        else:
            self.bot.scheduler.cancel(key)

    async def _fire(self, meeting_id: int) -> None:
        await self.bot.wait_until_ready()
        await self.plan_meeting(meeting_id)

    async def deliver(self, due: list[Due]) -> None:
        """Claim each reminder in the ledger, then send the ones this process owns; record how each ended."""
        async with self.bot.db.transaction() as tx:
            by_key = {d.key: d for d in await svc.still_wanted(tx, due)}
            owned = await svc.claim(tx, by_key, self.bot.clock.now())
        # Every DM channel id in one query, so each DM of the fan-out is one request and no query.
        await members_service.load_dm_channels(self.bot.db, (by_key[k].user_id for k in owned))
        await asyncio.gather(*(self._send_and_record(by_key[k]) for k in owned))

    async def _send_and_record(self, item: Due) -> None:
        status = await self._send_reminder(item)
        # Recorded as soon as it is known, so a crash mid-fan-out re-sends only what was truly unfinished;
        # the fan-out's records share transactions (Database.write's group commit).
        await svc.mark_one(self.bot.db, item.key, status)

    async def _send_reminder(self, item: Due) -> str:
        if item.occurrence.start <= self.bot.clock.now():
            return "dropped"  # no longer useful: the meeting has begun
        async with self._sends:
            try:
                sent = await send_dm(
                    self.bot,
                    item.user_id,
                    check_paused=False,  # the plan left out members whose DMs are paused, in the same query
                    embed=reminder_embed(item.occurrence, item.lead_minutes),
                    view=reminder_view(item.occurrence),
                    nonce=svc.nonce_for(item.key),
                )
            except discord.HTTPException:
                log.warning("A reminder DM failed", exc_info=True)
                return "failed"
        return "sent" if sent is not None else "dropped"

    async def recover_claims(self) -> None:
        """A crash between claim and send: resend once if still useful (same nonce), else drop."""
        now = self.bot.clock.now()
        claims = await svc.unfinished_claims(self.bot.db)
        resend, drop = [], []
        for user_id, meeting_id, occurrence, kind in claims:
            meeting = await meetings_service.meeting_by_id(self.bot.db, meeting_id)
            start = meetings_service.from_key(occurrence)
            if meeting is None or not kind.startswith("remind:") or start <= now or not meeting.active:
                drop.append((user_id, meeting_id, occurrence, kind))
                continue
            resend.append(Due(user_id, meetings_service.Occurrence(meeting, start), int(kind.split(":")[1]), now))
        if drop:
            async with self.bot.db.transaction() as tx:
                await svc.mark(tx, drop, "dropped")
        await asyncio.gather(*(self._send_and_record(d) for d in resend))

    # ------------------------------------------------------------------ nudges after each meeting
    @commands.Cog.listener()
    async def on_occurrence_ended(self, meeting_id: int) -> None:
        meeting = await meetings_service.meeting_by_id(self.bot.db, meeting_id)
        if meeting is None:
            return
        for user_id in await svc.involved_members(self.bot.db, meeting):
            try:
                await self.evaluate(meeting.guild_id, user_id)
            except Exception:
                log.exception("Nudge evaluation failed")

    async def evaluate(self, guild_id: int, user_id: int) -> None:
        """Run the nudge policy over the member's own history and send what it decides, once."""
        now = self.bot.clock.now()
        prefs = await svc.get_prefs(self.bot.db, user_id)
        history = await svc.history(self.bot.db, guild_id, user_id, now)
        decision = nudging.evaluate(prefs.nudge_state, history, now, buddy_alert_consent=bool(prefs.buddy_alert))
        async with self.bot.db.transaction() as tx:
            if not await svc.still_involved(tx, guild_id, user_id):
                return  # erased (or stopped everything) since the reads above: nothing to send or keep
            await svc.save_state(tx, user_id, decision.state)
            sends = []
            anchor = int(now.timestamp())
            if decision.send_fading_offer:
                sends.append("fading_offer")
            if decision.send_fading_applied:
                sends.append("fading_applied")
            if decision.send_welcome_back and prefs.welcome_back:
                sends.append("welcome_back")
            if decision.send_buddy_alert:
                sends.append("buddy_alert")
            owned = await svc.claim(tx, [(user_id, NUDGE, anchor, kind) for kind in sends], now)
        for key in owned:
            status = await self._send_nudge(guild_id, user_id, key[3], prefs)
            async with self.bot.db.transaction() as tx:
                await svc.mark(tx, [key], status)
        if decision.send_fading_offer:
            self._offer_timer(user_id, int(now.timestamp()))
        if decision.state.level != prefs.level:  # fewer reminders, or (after a miss) all of them back
            await self.replan_member(user_id)

    async def _send_nudge(self, guild_id: int, user_id: int, kind: str, prefs: svc.Prefs) -> str:
        if kind == "fading_offer":
            sent = await send_dm(self.bot, user_id, content=FADING_OFFER, view=fading_view())
        elif kind == "fading_applied":
            leads = await self.bot.db.fetchall("SELECT MIN(lead_minutes) FROM reminders WHERE user_id = ?", (user_id,))
            lead = format_lead_time(timedelta(minutes=leads[0][0] or 60))
            sent = await send_dm(
                self.bot,
                user_id,
                content=FADING_APPLIED.format(lead=lead),
                view=Components(items=[NudgeSettingButton("all-back")]),
            )
        elif kind == "welcome_back":
            sent = await send_dm(
                self.bot, user_id, content=WELCOME_BACK, view=Components(items=[NudgeSettingButton("welcome-off")])
            )
        else:
            delivered = 0
            for buddy_id in await self._buddies_of(guild_id, user_id):
                delivered += (
                    await send_dm(self.bot, buddy_id, content=BUDDY_ALERT.format(mention=f"<@{user_id}>")) is not None
                )
            return "sent" if delivered else "dropped"
        return "sent" if sent is not None else "dropped"

    async def _buddies_of(self, guild_id: int, user_id: int) -> list[int]:
        buddies = self.bot.get_cog("Buddies")
        finder = getattr(buddies, "current_buddies", None)
        return list(await finder(guild_id, user_id)) if finder else []

    def _offer_timer(self, user_id: int, sent_at: int | None) -> None:
        if sent_at is None:
            return
        at = meetings_service.from_key(sent_at) + nudging.OFFER_WAIT
        self.bot.scheduler.schedule(f"nudge:offer:{user_id}", at, lambda: self._offer_expired(user_id))

    async def _offer_expired(self, user_id: int) -> None:
        await self.bot.wait_until_ready()
        row = await self.bot.db.fetchone("SELECT guild_id FROM reminders WHERE user_id = ? LIMIT 1", (user_id,))
        if row is not None:
            await self.evaluate(row["guild_id"], user_id)

    async def answer_fading(self, interaction: discord.Interaction, answer: str) -> None:
        """Keep / fewer / none: the member decides how much the bot steps back."""
        prefs = await svc.get_prefs(self.bot.db, interaction.user.id)
        if prefs.style != "fading":
            raise UserError("Your reminder style isn't fading any more, so there's nothing to change here.")
        state = nudging.apply_offer_answer(prefs.nudge_state, answer, self.bot.clock.now())
        async with self.bot.db.transaction() as tx:
            await svc.save_state(tx, interaction.user.id, state)
        self.bot.scheduler.cancel(f"nudge:offer:{interaction.user.id}")
        words = {
            "keep": "Keeping all your reminders.",
            "fewer": "Stepping back to one reminder before each meeting.",
            "none": "No reminders for now. If you miss a meeting you said you'd go to, they come back on their own.",
        }
        await reply(interaction, words[answer])
        if state.level != prefs.level:
            try:
                await self.replan_member(interaction.user.id)
            except Exception:  # the answer was saved and given; each meeting's next timer plans again
                log.exception("Could not re-plan reminders after a fading answer")


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(Nudges(bot))
