"""Posting reminders to subscribed channels: ledger, fan-out and fault handling.

For one local day and one subscription, :func:`bot.commands.due.due` says what to post; each reminder is
one message keyed in the ledger as ``{platform}:{channel}:{reminder.key}`` (channel, reminder, occurrence
date). The same path serves the scheduler, the catch-up at start and ``kazkor post-due``.

Exactly once, and the one window where it is at most once
    Before a message is sent, its key is *claimed* in the state database (``bot.state``): an insert that
    does nothing if the key is there, so of all processes and fan-outs exactly one wins and sends. After
    the platform accepted it, the row is marked sent. A sent key is never sent again. A key still pending
    is a send in flight elsewhere or one interrupted by a crash (or a kill) between those two writes: it
    is **not** sent again (it may or may not have reached the channel), it is counted as "unconfirmed"
    and logged with its key. A timeout after the request left (:class:`OutcomeUnknown`) is handled the
    same way: its claim stays, it is counted and reported, never retried blindly. So a crash loses at
    most the messages in flight; it never duplicates one. A send that fails in a way we can see (rate
    limit, error answer, channel gone, connection refused) drops the claim, so it is tried again.

    A reply that needs several messages (not the case for reminders, which are one short message) is
    resent whole after a failure on a later part.

Claims and records are written by one writer task that groups whatever is queued into one transaction
(group commit) on a worker thread, so a fan-out is not bound by fsync and never blocks the event loop.
Before a fan-out, the ledger is asked once (per 500 keys) which of its keys are already sent, so a run
after the posts went out sends and writes nothing.

One cap on sends in flight per platform (``concurrency``) holds across every fan-out of a
:class:`Delivery`, however many scheduler jobs fire at once.

Faults (``bot.frontend``): RetryLater waits as told (bounded) and retries; Transient retries with
exponential backoff (bounded); ChannelGone deactivates the subscription; ChannelMoved moves the
subscription and its ledger keys to the new id and resends there; AuthFailed stops that platform's
fan-out (the other platform goes on: platforms run concurrently).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

from bot.clock import Clock, system_clock
from bot.commands.controls import VIEW_NEW_MESSAGE
from bot.commands.due import Reminder, due
from bot.commands.format import record_item
from bot.commands.language import channel_language
from bot.frontend import (
    AuthFailed,
    ChannelGone,
    ChannelMoved,
    DeliveryFault,
    OutcomeUnknown,
    RetryLater,
    Sender,
    Transient,
)
from bot.i18n import ENGLISH, SOURCE_LANGUAGE, Translator, translator
from bot.reply import Action, ActionRow, Reply, ReplyBuilder
from bot.subscription import key_of, leads_of, local_now, target_of

log = logging.getLogger(__name__)

UNPOSTED_PLATFORMS = frozenset({"console"})  # subscriptions there are kept but nothing is posted


def ledger_key(platform: str, channel: str, reminder: Reminder) -> str:
    return f"{platform}:{channel}:{reminder.key}"


def reminder_reply(
    catalogue: Any, reminder: Reminder, tr: Translator = ENGLISH, calendar_url: str | None = None
) -> Reply:
    """The message a channel gets for one reminder, in ``tr``'s language: what and when, the record's
    summary and its sources; with ``calendar_url`` (the public calendar feed, when KAZKOR_PUBLIC_URL is
    set) an "Add to calendar" link."""
    _ = tr.gettext
    builder = ReplyBuilder(reminder.text(tr), tr=tr)
    record = reminder.occurrence.record
    builder.section(_("Background"), [record_item(builder, catalogue, record)])
    builder.footer = _("This channel's reminders: /subscriptions")
    if calendar_url:
        builder.footer = _("Add to calendar: {url}").format(url=calendar_url) + " · " + builder.footer
    controls = ActionRow(
        (
            Action(_("Source"), "source", (record.id,), view=VIEW_NEW_MESSAGE),
            Action(_("Pause reminders"), "unsubscribe", admin=True),
        )
    )
    return dataclasses.replace(builder.build(), actions=(controls,))


def channel_translator(state: Any, sub: dict[str, Any], default_lang: str) -> Translator:
    """The language a subscribed channel reads: its /language setting, else the default."""
    return translator(channel_language(state, sub["platform"], str(sub["channel"])) or default_lang)


@dataclass
class Summary:
    sent: int = 0
    already_sent: int = 0
    failed: int = 0
    deactivated: int = 0  # subscriptions
    moved: int = 0  # subscriptions
    unconfirmed: int = 0  # interrupted by a crash earlier: not resent
    problems: list[str] = field(default_factory=list)

    def add(self, other: Summary) -> None:
        for name in ("sent", "already_sent", "failed", "deactivated", "moved", "unconfirmed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)

    def line(self) -> str:
        parts = [
            f"sent {self.sent}",
            f"already sent {self.already_sent}",
            f"failed {self.failed}",
            f"deactivated {self.deactivated}",
        ]
        if self.moved:
            parts.append(f"moved {self.moved}")
        if self.unconfirmed:
            parts.append(f"unconfirmed {self.unconfirmed} (in flight at a crash or timed out; not resent)")
        return ", ".join(parts)


@dataclass(frozen=True)
class RetryPolicy:
    rate_limit_retries: int = 5  # RetryLater answers honoured per message
    max_wait: float = 120.0  # a RetryLater asking for longer than this fails the message instead
    transient_retries: int = 4  # retries after a Transient fault (so 5 attempts)
    backoff_base: float = 0.5  # seconds; doubled each time, with jitter
    backoff_max: float = 10.0
    max_moves: int = 2  # ChannelMoved answers followed per message


DEFAULT_POLICY = RetryPolicy()


class StateWriteFailed(Exception):
    """The state database refused a write (disk full, read-only folder, server gone)."""


class LedgerWriter:
    """One writer task for claims and records: every queued operation goes into the next batch, and a
    batch is one transaction (``StateStore.apply_ledger_batch``) on a worker thread."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._ops: list[tuple[str, str, dict[str, Any], asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    async def claim(self, key: str, **details: Any) -> str:
        return await self._submit("claim", key, details)

    async def record(self, key: str, **details: Any) -> None:
        await self._submit("record", key, details)

    async def release(self, key: str) -> None:
        await self._submit("release", key, {})

    async def _submit(self, op: str, key: str, details: dict[str, Any]) -> Any:
        future = asyncio.get_running_loop().create_future()
        self._ops.append((op, key, details, future))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        # shield: a cancelled caller must not cancel a write that other callers share
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._ops:
            batch, self._ops = self._ops, []
            releases = [key for op, key, _, _ in batch if op == "release"]
            claims = [(key, details) for op, key, details, _ in batch if op == "claim"]
            records = [(key, details) for op, key, details, _ in batch if op == "record"]
            try:
                statuses = await asyncio.to_thread(self.state.apply_ledger_batch, releases, claims, records)
            except Exception as exc:  # the database could not be written: every waiter learns it
                log.error("writing the delivery ledger failed: %s: %s", type(exc).__name__, exc)
                failure = StateWriteFailed(f"the state database refused a write: {type(exc).__name__}: {exc}")
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(failure)
                continue
            answers = iter(statuses)
            for op, _, _, future in batch:
                result = next(answers) if op == "claim" else None
                if not future.done():
                    future.set_result(result)


@dataclass
class _Tries:
    """How often one reminder's send was rate limited, failed transiently or followed a move."""

    rate_limited: int = 0
    transient: int = 0
    moves: int = 0


class _PlatformStop(Exception):
    """AuthFailed: stop every remaining send on this platform."""


class Delivery:
    """Fans reminders out to subscriptions. One instance per process (it holds the per-channel locks)."""

    def __init__(
        self,
        state: Any,
        catalogue: Any,
        senders: Mapping[str, Sender],
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Clock = system_clock,
        concurrency: int = 64,
        stopping: asyncio.Event | None = None,
        on_subscriptions_changed: Callable[[tuple[str, str] | None], None] | None = None,
        on_outcome: Callable[[str, str], None] | None = None,
        default_lang: str = SOURCE_LANGUAGE,
        calendar_url: str | None = None,
    ) -> None:
        self.state = state
        self.default_lang = default_lang  # KAZKOR_LANG: channels without a /language setting
        self.catalogue = catalogue
        self.senders = dict(senders)
        self.calendar_url = calendar_url  # "Add to calendar" in each post (see reminder_reply)
        self.policy = policy
        self.clock = clock
        self.concurrency = concurrency
        self.stopping = stopping or asyncio.Event()
        self.on_subscriptions_changed = on_subscriptions_changed
        self.on_outcome = on_outcome  # (platform, "sent" | "skipped" | "failed"), e.g. for metrics
        self.writer = LedgerWriter(state)
        self._gates: dict[str, asyncio.Semaphore] = {}  # platform -> the one cap on its sends in flight
        self._known: dict[str, str] = {}  # key -> "sent"/"pending" as the ledger said before this fan-out
        self._due_memo: dict[tuple, list[Reminder]] = {}  # (local day, leads) -> due reminders
        self._locks: dict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        # subscriptions moved or paused by this instance, or changed by a command while it ran: their
        # stored record is read again before each post (see mark_changed)
        self._touched: set[tuple[str, str]] = set()

    # -- entry points -----------------------------------------------------------------------------

    async def run(self, subs: Iterable[dict[str, Any]], day: date | None = None) -> Summary:
        """Post what is due to each active subscription on ``day`` (default: its own local today).
        Platforms run concurrently; one failing never stops the other."""
        by_platform: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for sub in subs:
            if sub.get("active", True) and sub["platform"] not in UNPOSTED_PLATFORMS:
                by_platform[sub["platform"]].append(sub)
        keys: list[str] = []
        for count, sub in enumerate(sub for group in by_platform.values() for sub in group):
            keys.extend(ledger_key(sub["platform"], str(sub["channel"]), r) for r in self._due(sub, day))
            if count % 256 == 255:
                await asyncio.sleep(0)  # 10,000 subscriptions: let the loop serve others meanwhile
        if keys:
            try:
                self._known.update(await asyncio.to_thread(self.state.statuses, keys))
            except Exception as exc:  # noqa: BLE001 - the database is unreachable: nothing can be claimed
                message = f"the state database cannot be read: {type(exc).__name__}: {exc}"
                log.error("delivery: %s; %d posts not sent (tried again later today)", message, len(keys))
                return Summary(failed=len(keys), problems=[message])
        try:
            results = await asyncio.gather(
                *(self._run_platform(platform, group, day) for platform, group in sorted(by_platform.items()))
            )
        finally:
            for key in keys:  # what the ledger said is for this fan-out only (memory stays flat)
                self._known.pop(key, None)
        total = Summary()
        for result in results:
            total.add(result)
        return total

    async def run_one(self, sub: dict[str, Any], day: date | None = None) -> Summary:
        return await self.run([sub], day)

    # -- one platform ------------------------------------------------------------------------------

    async def _run_platform(self, platform: str, subs: list[dict[str, Any]], day: date | None) -> Summary:
        summary = Summary()
        sender = self.senders.get(platform)
        if sender is None:
            count = sum(len(self._due(sub, day)) for sub in subs)
            if count:
                message = (
                    f"{platform}: {count} reminder{'s' * (count != 1)} due but {platform} is not "
                    "configured (no token)"
                )
                log.error(message)
                summary.failed += count
                summary.problems.append(message)
            return summary
        auth_failed = asyncio.Event()
        gate = self._gates.get(platform)
        if gate is None:
            gate = self._gates[platform] = asyncio.Semaphore(self.concurrency)

        waiting = iter(subs)

        async def worker() -> None:
            # A few workers taking subscriptions in turn, not one task per subscription: 10,000 channels
            # firing at once must not mean 10,000 tasks. The gate caps sends in flight per platform across
            # every fan-out of this Delivery.
            for sub in waiting:
                async with gate:
                    summary.add(await self._run_subscription(sender, sub, day, auth_failed))

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(subs)))))
        if auth_failed.is_set():
            summary.problems.append(f"{platform}: credentials refused; fix the token and run post-due again")
        return summary

    def _due(self, sub: dict[str, Any], day: date | None) -> list[Reminder]:
        local_day = day or local_now(sub, self.clock()).date()
        leads = leads_of(sub)
        memo = (local_day, leads, len(self.catalogue))  # the catalogue only grows: its size dates it
        found = self._due_memo.get(memo)
        if found is None:  # channels share days and leads: computed once per (day, leads)
            if len(self._due_memo) > 64:
                self._due_memo.clear()
            found = self._due_memo[memo] = due(self.catalogue, local_day, leads)
        return found

    # -- one subscription ----------------------------------------------------------------------------

    async def _run_subscription(
        self, sender: Sender, sub: dict[str, Any], day: date | None, auth_failed: asyncio.Event
    ) -> Summary:
        summary = Summary()
        async with self._locks[key_of(sub)]:
            # A fan-out that overlapped this one may have moved or paused it: then the stored one is the
            # truth. (Reading every subscription back from TinyDB would scan the table each time.)
            current = await self._reread(sub) if key_of(sub) in self._touched else sub
            if current is None or not current.get("active", True):
                return summary
            reminders = self._due(current, day)
            for index, reminder in enumerate(reminders):
                if self.stopping.is_set():
                    break
                if index and key_of(sub) in self._touched:  # changed meanwhile (e.g. /unsubscribe)
                    current = await self._reread(current)
                    if current is None or not current.get("active", True):
                        break
                if auth_failed.is_set():
                    summary.failed += len(reminders) - index
                    self._outcome(sub["platform"], "failed", len(reminders) - index)
                    break
                try:
                    current = await self._deliver(sender, current, reminder, summary)
                except _PlatformStop:
                    auth_failed.set()
                    summary.failed += len(reminders) - index - 1
                    self._outcome(sub["platform"], "failed", len(reminders) - index - 1)
                    break
                if current is None:  # deactivated
                    break
        return summary

    async def _deliver(
        self, sender: Sender, sub: dict[str, Any], reminder: Reminder, summary: Summary
    ) -> dict[str, Any] | None:
        """Send one reminder to one subscription. Returns the subscription as it now is (moved to a new
        channel, or None once deactivated)."""
        reply = reminder_reply(
            self.catalogue,
            reminder,
            channel_translator(self.state, sub, self.default_lang),
            calendar_url=self.calendar_url,
        )
        tries = _Tries()
        pace = getattr(sender, "pace", None)  # optional: wait for a rate-limit slot before the mark
        while True:
            key = ledger_key(sub["platform"], str(sub["channel"]), reminder)
            if not await self._claim(key, sub, reminder, summary, pace):
                return sub
            try:
                await self._send(sender, sub, reply, pace)
            except Exception as fault:  # _after_fault sorts every fault, a bug included
                retry, after = await self._after_fault(fault, key, sub, summary, tries)
                if not retry or after is None:
                    return after
                sub = after  # the same subscription, or where it moved
                continue
            await self._record(key, sub, reminder, summary)
            return sub

    async def _claim(
        self, key: str, sub: dict[str, Any], reminder: Reminder, summary: Summary, pace: Any
    ) -> bool:
        """Claim the ledger entry; False (counted) when it was sent, is in flight, or cannot be claimed."""
        platform = sub["platform"]
        known = self._known.get(key)
        if known == "sent":  # the ledger said so before this fan-out: no claim, no write
            summary.already_sent += 1
            self._outcome(platform, "skipped")
            return False
        if pace is not None and known is None:
            await pace(target_of(sub))
        try:
            status = await self.writer.claim(key, day=reminder.day.isoformat(), at=self._now())
        except StateWriteFailed as exc:
            self._failed(key, summary, f"{key}: not sent: {exc}")
            return False
        if status == "delivered":
            summary.already_sent += 1
            self._outcome(platform, "skipped")
            return False
        if status == "pending":
            summary.unconfirmed += 1
            self._outcome(platform, "skipped")
            log.warning("%s: a send of %s was interrupted earlier (crash?); not resending it", platform, key)
            return False
        return True

    @staticmethod
    async def _send(sender: Sender, sub: dict[str, Any], reply: Any, pace: Any) -> None:
        if pace is not None:
            await sender.send(target_of(sub), reply, paced=True)  # type: ignore[call-arg]
        else:
            await sender.send(target_of(sub), reply)

    async def _record(self, key: str, sub: dict[str, Any], reminder: Reminder, summary: Summary) -> None:
        try:
            await self.writer.record(
                key,
                platform=sub["platform"],
                channel=str(sub["channel"]),
                reminder=reminder.key,
                day=reminder.day.isoformat(),
                sent_at=self._now(),
            )
        except StateWriteFailed as exc:  # sent, but only its claim is stored: it is never resent
            summary.problems.append(f"{key}: sent, but recording it failed: {exc}")
        summary.sent += 1
        self._outcome(sub["platform"], "sent")

    async def _after_fault(
        self, fault: Exception, key: str, sub: dict[str, Any], summary: Summary, tries: _Tries
    ) -> tuple[bool, dict[str, Any] | None]:
        """Handle a failed send: (True, sub) to claim and send again (to sub), (False, sub) when done with
        this reminder; sub is None once the subscription is deactivated. Checked in this order because
        the faults are subclasses of DeliveryFault."""
        platform = sub["platform"]
        if isinstance(fault, (RetryLater, Transient)):
            return await self._wait_to_retry(fault, key, summary, tries), sub
        if isinstance(fault, OutcomeUnknown):
            # The request left and no answer came: the post may be in the channel. Keep the claim
            # (so nothing resends it) and report it like a post in flight at a kill.
            summary.unconfirmed += 1
            summary.problems.append(f"{key}: {fault}; not resent (check the channel)")
            log.error("delivery outcome unknown: %s: %s; the claim stays, not resending", key, fault)
            self._outcome(platform, "failed")
            return False, sub
        if isinstance(fault, ChannelGone):
            await self.writer.release(key)
            await self._deactivate(sub, str(fault))
            summary.deactivated += 1
            return False, None
        if isinstance(fault, ChannelMoved):
            await self.writer.release(key)
            tries.moves += 1
            if tries.moves > self.policy.max_moves:
                await self._give_up(key, summary, f"{key}: moved too many times")
                return False, sub
            moved = await self._move(sub, fault.new_channel)
            summary.moved += 1
            return True, moved
        if isinstance(fault, AuthFailed):
            await self.writer.release(key)
            log.error("%s: AUTHENTICATION FAILED, stopping all %s posts: %s", platform, platform, fault)
            summary.failed += 1
            self._outcome(platform, "failed")
            summary.problems.append(f"{platform}: {fault}")
            raise _PlatformStop from fault
        if isinstance(fault, DeliveryFault):
            await self._give_up(key, summary, f"{key}: {fault}")
            return False, sub
        # a bug (rendering, a sender): nothing was accepted as far as we know
        log.error("%s: unexpected error while sending", key, exc_info=fault)
        await self._give_up(key, summary, f"{key}: {type(fault).__name__}: {fault}")
        return False, sub

    async def _wait_to_retry(
        self, fault: RetryLater | Transient, key: str, summary: Summary, tries: _Tries
    ) -> bool:
        """Release the claim and wait out a rate limit or a transient fault; False when giving up."""
        if isinstance(fault, RetryLater):
            tries.rate_limited += 1
            wait = max(0.0, fault.seconds)
            if tries.rate_limited > self.policy.rate_limit_retries or wait > self.policy.max_wait:
                await self._give_up(key, summary, f"{key}: still rate limited ({fault})")
                return False
            await self.writer.release(key)
            log.info("%s: rate limited, waiting %.1f s", key, wait)
        else:
            tries.transient += 1
            if tries.transient > self.policy.transient_retries:
                await self._give_up(key, summary, f"{key}: {fault} (gave up after {tries.transient} tries)")
                return False
            wait = min(self.policy.backoff_max, self.policy.backoff_base * 2 ** (tries.transient - 1))
            wait *= random.uniform(0.8, 1.2)
            await self.writer.release(key)
            log.info("%s: %s; retry %d in %.2f s", key, fault, tries.transient, wait)
        return await self._pause(wait)

    # -- helpers ----------------------------------------------------------------------------------

    def _now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")

    async def _give_up(self, key: str, summary: Summary, problem: str) -> None:
        try:
            await self.writer.release(key)
        except StateWriteFailed as exc:  # the claim stays: the post counts as unconfirmed later
            problem += f" (and releasing its claim failed: {exc})"
        self._failed(key, summary, problem)

    def _failed(self, key: str, summary: Summary, problem: str) -> None:
        log.error("delivery failed: %s", problem)
        summary.failed += 1
        summary.problems.append(problem)
        self._outcome(key.split(":", 1)[0], "failed")

    async def _reread(self, sub: dict[str, Any]) -> dict[str, Any] | None:
        return await asyncio.to_thread(self.state.subscription, *key_of(sub))

    async def _pause(self, seconds: float) -> bool:
        """Sleep, but wake at once when stopping; False if we are stopping."""
        if self.stopping.is_set():
            return False
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        except TimeoutError:
            return True
        return False

    async def _deactivate(self, sub: dict[str, Any], reason: str) -> None:
        def write() -> None:
            current = self.state.subscription(*key_of(sub))
            if current is not None:
                current.update(active=False, inactive_reason=reason, deactivated_at=self._now())
                self.state.save_subscription(current)

        log.warning("%s:%s: deactivating the subscription: %s", sub["platform"], sub["channel"], reason)
        self._touched.add(key_of(sub))
        await asyncio.to_thread(write)
        self._changed()

    async def _move(self, sub: dict[str, Any], new_channel: str) -> dict[str, Any]:
        platform, old = key_of(sub)
        log.warning("%s:%s moved to %s: moving the subscription and resending", platform, old, new_channel)
        self._touched.update({(platform, old), (platform, new_channel)})
        moved = await asyncio.to_thread(self.state.move_subscription, platform, old, new_channel)
        self._changed()
        return moved or {**sub, "channel": new_channel}

    def _outcome(self, platform: str, outcome: str, count: int = 1) -> None:
        if self.on_outcome is not None:
            for _ in range(count):
                try:
                    self.on_outcome(platform, outcome)
                except Exception:
                    log.exception("the outcome hook failed")
                    return

    def mark_changed(self, key: tuple[str, str]) -> None:
        """A command changed this subscription while a fan-out may be running: its next post reads the
        stored subscription first (an /unsubscribe stops the posts not yet sent)."""
        self._touched.add(key)

    def _changed(self) -> None:
        if self.on_subscriptions_changed is not None:
            try:
                self.on_subscriptions_changed(None)
            except Exception:
                log.exception("the subscriptions-changed hook failed")


# -- kazkor post-due ----------------------------------------------------------------------------------


async def post_due(
    state: Any,
    catalogue: Any,
    senders: Mapping[str, Sender],
    day: date | None = None,
    *,
    clock: Clock = system_clock,
    policy: RetryPolicy = DEFAULT_POLICY,
    default_lang: str = SOURCE_LANGUAGE,
    calendar_url: str | None = None,
    stopping: asyncio.Event | None = None,
) -> Summary:
    """Post what is due on ``day`` (default: each subscription's own local today) to every active
    subscription, each in its channel's language; safe to run again (the ledger skips what was sent).
    Once ``stopping`` is set, sends in flight finish and are recorded, and nothing new starts."""
    delivery = Delivery(
        state,
        catalogue,
        senders,
        policy=policy,
        clock=clock,
        default_lang=default_lang,
        calendar_url=calendar_url,
        stopping=stopping,
    )
    try:
        subs = await asyncio.to_thread(state.subscriptions)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        return Summary(failed=1, problems=[f"the state database cannot be read: {type(exc).__name__}: {exc}"])
    summary = await delivery.run(subs, day)
    try:
        await asyncio.to_thread(state.prune_ledger)  # retention, in small batches
    except Exception as exc:  # noqa: BLE001 - pruning is housekeeping: the posts are what counts
        log.warning("pruning the delivery ledger failed: %s", exc)
    return summary


__all__ = [
    "Delivery",
    "LedgerWriter",
    "RetryPolicy",
    "Summary",
    "ledger_key",
    "post_due",
    "reminder_reply",
]
