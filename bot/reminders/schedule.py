"""The reminder scheduler for ``kazkor run``: one APScheduler 3.x ``AsyncIOScheduler`` in the bot's loop.

* One cron job per active subscription, at its HH:MM in its own time zone, id ``reminders:{platform}:
  {channel}``. :meth:`ReminderService.rebuild` reconciles the jobs with the state file (the source of
  truth) at start and whenever a subscription changes (``Context.on_subscriptions_changed``); a job whose
  time and zone did not change is left alone, so a rebuild never skips a post that is about to fire.
* A job only starts a fan-out task and returns: the fan-out (``bot.reminders.delivery``) is ours to
  track, so :meth:`stop` can let it finish the send in flight and its ledger record (bounded), instead of
  APScheduler cancelling it in the middle.
* Follow-ups: a fan-out with failed posts is run again later the same day (:data:`FOLLOW_UP_DELAYS`).
* Catch-up at start: APScheduler forgets what fired while the process was down, so for every
  subscription whose posting time has already passed today (in its zone) the service posts what is due
  today and not yet in the ledger. Only today: a reminder for an earlier day, or about an event that has
  passed, is never posted late.

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
from bot.platforms.base import Sender
from bot.reminders.delivery import DEFAULT_POLICY, UNPOSTED_PLATFORMS, Delivery, RetryPolicy, Summary
from bot.reminders.subscription import clock_time, has_posted_today, job_id, key_of, tz_of

log = logging.getLogger(__name__)

STOP_TIMEOUT = 5.0  # seconds stop() waits for the fan-out in flight
MISFIRE_GRACE = 300  # seconds: a job delayed by a busy loop still fires (the ledger prevents doubles)
# After a fan-out in which posts failed (a platform outage, timeouts past the retries), the subscription
# is tried again the same local day after these pauses: only what is still missing from the ledger goes
# out, so nothing is doubled; on the next day its own job takes over.
FOLLOW_UP_DELAYS = (300.0, 900.0, 1800.0, 3600.0)


class ReminderService:
    """``await start()`` inside the running loop, ``await stop()`` before it closes."""

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
        self._follow_ups: dict[tuple[str, str], asyncio.Task] = {}  # one pending follow-up per channel
        self.on_summary = on_summary
        self.on_tick = on_tick  # (next fire time or None, whether a job just fired): for /healthz
        self.on_outcome = on_outcome  # (platform, "sent" | "skipped" | "failed") per message: for /metrics
        self.scheduler: Any = None
        self.delivery: Delivery | None = None
        self.catch_up_task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._tasks: set[asyncio.Task] = set()
        self._specs: dict[str, tuple] = {}  # job id -> (time, tz) it was built from
        self._warned: set[str] = set()
        self.fired = 0  # jobs fired since start (each starts one fan-out task)

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self.delivery = Delivery(
            self.state,
            self.catalogue,
            self.senders,
            policy=self.policy,
            clock=self.clock,
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
        await asyncio.to_thread(self.state.prune_claims)
        self.rebuild()
        if self.catch_up_enabled:
            self.catch_up_task = self._spawn(self.catch_up(), "kazkor-reminders-catch-up")
        log.info("reminders: scheduler started with %d job(s)", len(self._specs))

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
                log.warning(
                    "reminders: a fan-out did not finish within %.1f s; cancelling it", self.stop_timeout
                )
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        self._specs.clear()
        if self.on_tick is not None:
            self.on_tick(None, False)

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
            self.rebuild()

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

    def rebuild(self) -> None:
        """Make the jobs match the active subscriptions in the state file."""
        if self.scheduler is None or not self.scheduler.running:
            return
        from apscheduler.triggers.cron import CronTrigger

        wanted = {job_id(sub): sub for sub in self.state.subscriptions() if self._postable(sub)}
        for jid in list(self._specs):
            if jid not in wanted:
                self._remove(jid)
        for jid, sub in wanted.items():
            spec = (sub.get("time"), sub.get("tz"))
            if self._specs.get(jid) == spec and self.scheduler.get_job(jid) is not None:
                continue
            at = clock_time(sub)
            trigger = CronTrigger(hour=at.hour, minute=at.minute, timezone=ZoneInfo(sub["tz"]))
            platform, channel = key_of(sub)
            self.scheduler.add_job(
                self._fire, trigger, args=[platform, channel], id=jid, name=f"reminders {platform}:{channel}",
                replace_existing=True,
            )  # fmt: skip
            self._specs[jid] = spec
        self._report_tick()

    def _remove(self, jid: str) -> None:
        self._specs.pop(jid, None)
        if self.scheduler.get_job(jid) is not None:
            self.scheduler.remove_job(jid)

    def next_run(self, platform: str, channel: str) -> datetime | None:
        job = self.scheduler.get_job(f"reminders:{platform}:{channel}") if self.scheduler else None
        return job.next_run_time if job is not None else None

    def _report_tick(self, fired: bool = False) -> None:
        if self.on_tick is None or self.scheduler is None:
            return
        times = [job.next_run_time for job in self.scheduler.get_jobs() if job.next_run_time is not None]
        self.on_tick(min(times) if times else None, fired)

    async def _fire(self, platform: str, channel: str) -> None:
        """The job: start the fan-out for this subscription and return at once."""
        self.fired += 1
        # report the tick when the job fires, not when its fan-out ends: a long fan-out is not a stall
        self._report_tick(fired=True)
        self._spawn(self.post_now(platform, channel), f"kazkor-reminders-{platform}-{channel}")

    # -- posting ----------------------------------------------------------------------------------------

    async def post_now(self, platform: str, channel: str, attempt: int = 0) -> Summary:
        """Post what is due today (the subscription's local today) and not yet in the ledger; if some
        posts failed, try again later the same day (``attempt``: follow-ups so far)."""
        assert self.delivery is not None, "start() first"
        sub = self.state.subscription(platform, channel)
        summary = Summary()
        if sub is not None and self._postable(sub):
            summary = await self.delivery.run_one(sub)
            self._summarise(f"{platform}:{channel}", summary)
            if summary.failed:
                self._follow_up(sub, attempt)
        self._report_tick(fired=True)
        return summary

    def _follow_up(self, sub: dict[str, Any], attempt: int) -> None:
        key = key_of(sub)
        pending = self._follow_ups.get(key)
        if attempt >= len(self.follow_up_delays) or (pending is not None and not pending.done()):
            return
        delay = self.follow_up_delays[attempt]
        day = local_today(self.clock, tz_of(sub))
        log.warning("reminders: %s:%s: posts failed; trying again in %.0f s", *key, delay)

        async def later() -> None:
            assert self._stopping is not None
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
                return  # stopping
            except TimeoutError:
                pass
            current = self.state.subscription(*key)
            if current is None or local_today(self.clock, tz_of(current)) != day:
                return  # unsubscribed, or a new day: its own job posts that day's reminders
            del self._follow_ups[key]
            await self.post_now(*key, attempt=attempt + 1)

        self._follow_ups[key] = self._spawn(later(), f"kazkor-reminders-follow-up-{key[0]}-{key[1]}")

    async def catch_up(self) -> Summary:
        """At start: subscriptions whose time already passed today get today's missing reminders."""
        assert self.delivery is not None, "start() first"
        now = self.clock()
        late = [s for s in self.state.subscriptions() if self._postable(s) and has_posted_today(s, now)]
        summary = Summary()
        if late:
            summary = await self.delivery.run(late)
            self._summarise(f"catch-up of {len(late)} subscription(s)", summary)
            if summary.failed:  # which ones is not known here; a follow-up posts only what is missing
                for sub in late:
                    self._follow_up(sub, 0)
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


def install_reminders(runtime: Any) -> ReminderService | None:
    """Plug the reminder service into ``kazkor run`` (``bot.app.Runtime``): senders from the running
    front ends' clients, the context hook, health and metrics reporting; started after the front ends."""
    from bot.app import Service
    from bot.platforms.senders import SlackSender, TelegramSender

    if runtime.ctx.state is None:  # no state file: nothing to schedule (subscriptions live there)
        log.info("reminders: no state store, so no scheduled reminders")
        return None
    senders: dict[str, Sender] = {}
    if getattr(runtime, "telegram_app", None) is not None:
        senders["telegram"] = TelegramSender(runtime.telegram_app.bot)
    if getattr(runtime, "slack_app", None) is not None:
        senders["slack"] = SlackSender(runtime.slack_app.client)
    ctx = runtime.ctx
    monitor, metrics = getattr(runtime, "monitor", None), getattr(runtime, "metrics", None)

    def on_tick(next_tick: datetime | None, fired: bool) -> None:
        if monitor is None:
            return
        if next_tick is None:
            monitor.scheduler_stopped()
        elif fired:
            monitor.scheduler_ticked(next_tick)
        else:
            monitor.scheduler_started(next_tick)

    def on_summary(summary: Summary) -> None:
        if metrics is not None:
            metrics.scheduler_ran(ctx.clock())

    def on_outcome(platform: str, outcome: str) -> None:
        if metrics is not None:
            metrics.reminder(platform, outcome)

    service = ReminderService(
        ctx.state, ctx.catalogue, senders, tz=ctx.tz, clock=ctx.clock,
        on_tick=on_tick, on_summary=on_summary, on_outcome=on_outcome, default_lang=ctx.tr.lang,
        calendar_url=getattr(runtime, "calendar_url", None),
    )  # fmt: skip
    ctx.on_subscriptions_changed = service.notify_changed
    runtime.services.append(Service("reminders", service.start, service.stop))
    return service
