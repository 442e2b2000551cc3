"""The reminder scheduler for ``kazkor run``: one APScheduler 3.x ``AsyncIOScheduler`` in the bot's loop.

* One cron job per distinct fire time (HH:MM in a zone), id ``reminders:{HH:MM}:{zone}``, not one per
  subscription: 10,000 channels at 09:00 Asia/Almaty are one job, and when it fires the subscriptions at
  that time are read with one indexed query (``StateStore.subscriptions_at``) and fanned out together
  under one cap on sends in flight per platform. A tick therefore costs the number of fire times, never
  subscriptions squared. :meth:`ReminderService.rebuild` reconciles the jobs with the database (the
  source of truth) at start, after a local change (``Context.on_subscriptions_changed``) and every
  ``resync`` seconds (a change made through another replica); a job whose fire time still has
  subscribers is left alone, so a rebuild never skips a post that is about to fire.
* A job only starts a fan-out task and returns: the fan-out (``bot.reminders.delivery``) is ours to
  track, so :meth:`stop` can let it finish the send in flight and its ledger record (bounded), instead of
  APScheduler cancelling it in the middle.
* Follow-ups: a fan-out with failed posts (platform outage, a state database that refused a write) is
  run again later the same local day (:data:`FOLLOW_UP_DELAYS`); only what the ledger lacks goes out.
* Catch-up at start (and on a takeover by another replica): APScheduler forgets what fired while the
  process was down, so for every subscription whose posting time has already passed today (in its zone)
  the service posts what is due today and not yet in the ledger. Only today: a reminder for an earlier
  day, or about an event that has passed, is never posted late.
* No database call runs on the event loop: every read and write goes through ``asyncio.to_thread``.

"Today" comes from the injectable clock; APScheduler itself fires on the real clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock, local_today, system_clock
from bot.frontend import Sender
from bot.reminders.delivery import DEFAULT_POLICY, UNPOSTED_PLATFORMS, Delivery, RetryPolicy, Summary
from bot.subscription import has_posted_today

log = logging.getLogger(__name__)

STOP_TIMEOUT = 5.0  # seconds stop() waits for the fan-out in flight
MISFIRE_GRACE = 300  # seconds: a job delayed by a busy loop still fires (the ledger prevents doubles)
# After a fan-out in which posts failed (a platform outage, timeouts past the retries, a full disk), the
# same subscriptions are tried again the same local day after these pauses: only what is still missing
# from the ledger goes out, so nothing is doubled; on the next day their own job takes over.
FOLLOW_UP_DELAYS = (300.0, 900.0, 1800.0, 3600.0)
RESYNC = 15.0  # seconds between re-reading the fire times (subscriptions changed through another replica)
PRUNE_EVERY = 6 * 3600.0  # seconds between ledger retention passes


def fire_job_id(at: tuple[str, str]) -> str:
    return f"reminders:{at[0]}:{at[1]}"


class ReminderService:
    """``await start()`` inside the running loop, ``await stop()`` before it closes; restartable (a
    replica that loses and regains leadership stops and starts it again)."""

    def __init__(
        self,
        state: Any,
        catalogue: Any,
        senders: Mapping[str, Sender],
        *,
        tz: ZoneInfo,
        clock: Clock = system_clock,
        policy: RetryPolicy = DEFAULT_POLICY,
        catch_up: bool = True,
        stop_timeout: float = STOP_TIMEOUT,
        follow_up_delays: tuple[float, ...] = FOLLOW_UP_DELAYS,
        resync: float = RESYNC,
        concurrency: int = 64,
        on_summary: Callable[[Summary], None] | None = None,
        on_tick: Callable[[datetime | None, bool], None] | None = None,
        on_outcome: Callable[[str, str], None] | None = None,
        default_lang: str = "en",
        calendar_url: str | None = None,
    ) -> None:
        self.state = state
        self.default_lang = default_lang  # KAZKOR_LANG: for channels without a /language setting
        self.catalogue = catalogue
        self.senders = dict(senders)
        self.calendar_url = calendar_url  # "Add to calendar" in each post
        self.tz = tz
        self.clock = clock
        self.policy = policy
        self.catch_up_enabled = catch_up
        self.stop_timeout = stop_timeout
        self.follow_up_delays = follow_up_delays
        self.resync = resync
        self.concurrency = concurrency
        self._follow_ups: dict[tuple[str, str], asyncio.Task] = {}  # one pending follow-up per fire time
        self.on_summary = on_summary
        self.on_tick = on_tick  # (next fire time or None, whether a job just fired): for /healthz
        self.on_outcome = on_outcome  # (platform, "sent" | "skipped" | "failed") per message: for /metrics
        self.scheduler: Any = None
        self.delivery: Delivery | None = None
        self.catch_up_task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._tasks: set[asyncio.Task] = set()
        self._jobs: set[tuple[str, str]] = set()  # fire times with a job
        self._rebuilding: asyncio.Lock | None = None
        self._warned: set[str] = set()
        self.fired = 0  # jobs fired since start (each starts one fan-out task)

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._rebuilding = asyncio.Lock()
        self.delivery = Delivery(
            self.state,
            self.catalogue,
            self.senders,
            policy=self.policy,
            clock=self.clock,
            concurrency=self.concurrency,
            stopping=self._stopping,
            on_subscriptions_changed=self.notify_changed,
            on_outcome=self.on_outcome,
            default_lang=self.default_lang,
            calendar_url=self.calendar_url,
        )
        self.scheduler = AsyncIOScheduler(
            timezone=self.tz,
            event_loop=self._loop,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
        )
        self.scheduler.start()
        await self.rebuild()
        self._spawn(self._housekeeping(), "kazkor-reminders-housekeeping")
        if self.catch_up_enabled:
            self.catch_up_task = self._spawn(self.catch_up(), "kazkor-reminders-catch-up")
        log.info("reminders: scheduler started with %d job(s)", len(self._jobs))

    async def stop(self) -> None:
        """Stop firing, let the fan-out in flight finish its current send and ledger record (bounded by
        ``stop_timeout``), then cancel whatever is left."""
        if self._stopping is not None:
            self._stopping.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        tasks = [t for t in self._tasks if not t.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.stop_timeout)
            for task in pending:
                if not task.get_name().startswith("kazkor-reminders-housekeeping"):
                    log.warning(
                        "reminders: a fan-out did not finish within %.1f s; cancelling it", self.stop_timeout
                    )
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        self._jobs.clear()
        self._follow_ups.clear()
        if self.on_tick is not None:
            self.on_tick(None, False)

    @property
    def busy(self) -> bool:
        """A fan-out, follow-up or rebuild is running (the housekeeping loop does not count)."""
        return any(not t.get_name().startswith("kazkor-reminders-housekeeping") for t in self._tasks)

    async def _housekeeping(self) -> None:
        """Re-read the fire times every ``resync`` s; prune the ledger every :data:`PRUNE_EVERY` s."""
        assert self._stopping is not None
        try:  # at start: each bad record logged with its id (the others are served as usual)
            await asyncio.to_thread(self.state.bad_records, log_them=True)
        except Exception as exc:  # noqa: BLE001
            log.warning("reminders: checking the stored records failed: %s", exc)
        since_prune = PRUNE_EVERY  # first pass soon after start
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.resync)
                return
            except TimeoutError:
                pass
            since_prune += self.resync
            try:
                await self.rebuild()
                if since_prune >= PRUNE_EVERY:
                    since_prune = 0.0
                    await asyncio.to_thread(self.state.prune_ledger)
            except Exception as exc:  # noqa: BLE001 - the database is away: the jobs stay as they are
                log.warning("reminders: re-reading the subscriptions failed: %s: %s", type(exc).__name__, exc)

    # -- jobs -------------------------------------------------------------------------------------------

    def notify_changed(self, changed: tuple[str, str] | None = None) -> None:
        """The subscriptions changed (``changed``: which one, when known): rebuild the jobs, and have
        a fan-out in progress read that subscription again before its next post, so /unsubscribe stops
        the posts not yet sent. Safe from any thread; a no-op when not running."""
        loop = self._loop
        if loop is None or loop.is_closed() or self.scheduler is None or not self.scheduler.running:
            return

        def apply() -> None:
            if changed is not None and self.delivery is not None:
                self.delivery.mark_changed(changed)
            if self.scheduler is not None and self.scheduler.running:
                self._spawn(self.rebuild(), "kazkor-reminders-rebuild")

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            apply()
        else:
            loop.call_soon_threadsafe(apply)

    def _postable(self, sub: dict[str, Any]) -> bool:
        platform = sub["platform"]
        if not sub.get("active", True) or platform in UNPOSTED_PLATFORMS:
            return False
        if platform not in self.senders:
            if platform not in self._warned:
                self._warned.add(platform)
                log.warning("reminders: %s subscriptions exist but %s is not configured", platform, platform)
            return False
        return True

    async def rebuild(self) -> None:
        """Make the jobs match the fire times of the active subscriptions in the database."""
        if self.scheduler is None or not self.scheduler.running or self._rebuilding is None:
            return
        async with self._rebuilding:
            wanted = await asyncio.to_thread(self.state.fire_times, sorted(self.senders))
            if not self.scheduler.running:
                return
            self._apply(wanted)

    def _apply(self, wanted: set[tuple[str, str]]) -> None:
        from apscheduler.triggers.cron import CronTrigger

        for at in self._jobs - wanted:
            self._jobs.discard(at)
            if self.scheduler.get_job(fire_job_id(at)) is not None:
                self.scheduler.remove_job(fire_job_id(at))
        for at in wanted - self._jobs:
            hour, minute = (int(part) for part in at[0].split(":"))
            trigger = CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(at[1]))
            self.scheduler.add_job(
                self._fire, trigger, args=[at], id=fire_job_id(at), name=f"reminders at {at[0]} {at[1]}",
                replace_existing=True,
            )  # fmt: skip
            self._jobs.add(at)
        self._report_tick()

    def next_run(self, at: tuple[str, str]) -> datetime | None:
        job = self.scheduler.get_job(fire_job_id(at)) if self.scheduler else None
        return job.next_run_time if job is not None else None

    def _report_tick(self, fired: bool = False) -> None:
        if self.on_tick is None or self.scheduler is None:
            return
        times = [job.next_run_time for job in self.scheduler.get_jobs() if job.next_run_time is not None]
        self.on_tick(min(times) if times else None, fired)

    async def _fire(self, at: tuple[str, str]) -> None:
        """The job: start the fan-out for this fire time and return at once."""
        self.fired += 1
        # report the tick when the job fires, not when its fan-out ends: a long fan-out is not a stall
        self._report_tick(fired=True)
        self._spawn(self.post_at(at), f"kazkor-reminders-{at[0]}-{at[1]}")

    # -- posting ----------------------------------------------------------------------------------------

    async def post_at(self, at: tuple[str, str], attempt: int = 0) -> Summary:
        """Post what is due today (local to ``at``'s zone) and not yet in the ledger to every active
        subscription firing at ``at``; if some posts failed, try again later the same day."""
        assert self.delivery is not None, "start() first"
        summary = Summary()
        try:
            subs = [s for s in await asyncio.to_thread(self.state.subscriptions_at, at) if self._postable(s)]
        except Exception as exc:  # noqa: BLE001 - the database is away: try again later today
            log.error("reminders: reading the subscriptions at %s %s failed: %s", *at, exc)
            summary = Summary(failed=1, problems=[f"the state database cannot be read: {exc}"])
            subs = None
        if subs:
            summary = await self.delivery.run(subs)
            self._summarise(f"{at[0]} {at[1]} ({len(subs)} subscription(s))", summary)
        if summary.failed:
            self._follow_up(at, attempt)
        self._report_tick(fired=True)
        return summary

    async def post_now(self, platform: str, channel: str) -> Summary:
        """Post what is due today to one subscription (tests, tools)."""
        assert self.delivery is not None, "start() first"
        sub = await asyncio.to_thread(self.state.subscription, platform, channel)
        if sub is None or not self._postable(sub):
            return Summary()
        return await self.delivery.run_one(sub)

    def _follow_up(self, at: tuple[str, str], attempt: int) -> None:
        pending = self._follow_ups.get(at)
        if attempt >= len(self.follow_up_delays) or (pending is not None and not pending.done()):
            return
        delay = self.follow_up_delays[attempt]
        day = local_today(self.clock, ZoneInfo(at[1]))
        log.warning("reminders: posts at %s %s failed; trying again in %.0f s", *at, delay)

        async def later() -> None:
            assert self._stopping is not None
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
                return  # stopping
            except TimeoutError:
                pass
            if local_today(self.clock, ZoneInfo(at[1])) != day:
                return  # a new day: the job posts that day's reminders
            del self._follow_ups[at]
            await self.post_at(at, attempt=attempt + 1)

        self._follow_ups[at] = self._spawn(later(), f"kazkor-reminders-follow-up-{at[0]}-{at[1]}")

    async def catch_up(self) -> Summary:
        """At start: subscriptions whose time already passed today get today's missing reminders. Read
        one fire time at a time (only those already past), so a start never loads every subscription."""
        assert self.delivery is not None, "start() first"
        now = self.clock()
        try:
            times = await asyncio.to_thread(self.state.fire_times, sorted(self.senders))
        except Exception as exc:  # noqa: BLE001 - the database is away: logged; the jobs still fire
            log.error("reminders: catch-up could not read the subscriptions: %s", exc)
            return Summary(failed=1, problems=[str(exc)])
        past = sorted(at for at in times if has_posted_today({"time": at[0], "tz": at[1]}, now))
        summary = Summary()
        count = 0
        for at in past:
            try:
                found = await asyncio.to_thread(self.state.subscriptions_at, at)
                late = [s for s in found if self._postable(s)]
            except Exception as exc:  # noqa: BLE001
                log.error("reminders: catch-up could not read the subscriptions at %s %s: %s", *at, exc)
                summary.add(Summary(failed=1, problems=[str(exc)]))
                self._follow_up(at, 0)
                continue
            if not late:
                continue
            count += len(late)
            part = await self.delivery.run(late)
            summary.add(part)
            if part.failed:  # a follow-up posts only what is missing
                self._follow_up(at, 0)
        if count:
            self._summarise(f"catch-up of {count} subscription(s)", summary)
        return summary

    def _summarise(self, what: str, summary: Summary) -> None:
        if summary.sent or summary.failed or summary.deactivated or summary.moved or summary.unconfirmed:
            log.info("reminders: %s: %s", what, summary.line())
        if self.on_summary is not None:
            try:
                self.on_summary(summary)
            except Exception:
                log.exception("reminders: the summary hook failed")

    def _spawn(self, coro: Any, name: str) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("reminders: %s failed", task.get_name(), exc_info=task.exception())
