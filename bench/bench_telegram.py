"""Telegram long polling under load: ``kazkor run`` vs a bare python-telegram-bot echo bot.

Run: python bench/bench_telegram.py [--updates N]
Target (issue 3): kazkor's updates answered/s >= 0.85 x the echo bot's, same run, same stand-in.

The stand-in Bot API runs in this process (its own thread and loop); each bot runs in its own process
and long-polls it with the same getUpdates timeout and allowed_updates, the same warm-up and the same
N. The bare bots process updates one at a time (the library's default); kazkor answers up to 4 chats
side by side, each chat in order (``bot/platforms/chat_order.py``). N ``/trade`` updates
over 20 private chats are queued at once; measured: N / time until the stand-in accepted the N-th
``sendMessage``. Bots:

- ``echo``: the bare python-telegram-bot bot the target is set against; sends the text back (6
  characters, plain);
- ``same``: the same bare bot, but it sends kazkor's /trade answer (rendered once before the run: the
  same ~1600 characters of HTML, ``parse_mode=HTML``, link previews off). Bigger messages cost time in
  the library (form-encoding, the returned Message) and in the stand-in (it parses the HTML), so this
  row shows what the library needs for the same output, and kazkor / same is kazkor's own overhead;
- ``kazkor``: the real ``kazkor run`` (Telegram only): parse, shared core, render, send.

Bounded: every wait has a timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.standins.telegram_api import FakeTelegram  # noqa: E402

START_TIMEOUT = 20.0
RUN_TIMEOUT = 40.0
CHATS = 20


def child_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if "proxy" not in k.lower() and not k.startswith(("TELEGRAM_", "SLACK_", "KAZKOR_"))
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def serve_echo(token: str, base_url: str, answer: str | None = None) -> None:
    """The bare bot: one CommandHandler that sends the message text back, or ``answer`` (HTML) if given."""
    import asyncio

    from telegram import LinkPreviewOptions, Update
    from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

    no_preview = LinkPreviewOptions(is_disabled=True)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if answer is None:
            await context.bot.send_message(message.chat_id, message.text)
        else:
            await context.bot.send_message(
                message.chat_id, answer, parse_mode="HTML", link_preview_options=no_preview
            )

    async def main() -> None:
        app = ApplicationBuilder().token(token).base_url(base_url).build()
        app.add_handler(CommandHandler("trade", echo))
        async with app:
            await app.start()
            await app.updater.start_polling(timeout=10, allowed_updates=["message"])
            await asyncio.sleep(RUN_TIMEOUT * 3)

    asyncio.run(main())


def trade_answer() -> str:
    """kazkor's /trade answer in Telegram HTML (one message), from the packaged catalogue."""
    from zoneinfo import ZoneInfo

    from bot.commands import Context, handle_text
    from bot.render.telegram import render_telegram
    from facts.store import load_catalogue

    ctx = Context(catalogue=load_catalogue(), tz=ZoneInfo("Asia/Almaty"))
    (part,) = render_telegram(handle_text("/trade", ctx))
    return part


def start_bot(kind: str, fake: FakeTelegram, tmp: str) -> subprocess.Popen:
    if kind == "echo":
        args = [sys.executable, __file__, "--serve-echo", fake.token, fake.base_url]
        env = child_env()
    elif kind == "same":
        args = [sys.executable, __file__, "--serve-echo", fake.token, fake.base_url, trade_answer()]
        env = child_env()
    else:
        args = [sys.executable, "-m", "bot.cli", "run"]
        env = child_env(
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_URL=fake.base_url,
            KAZKOR_DB=f"{tmp}/state.json",
            KAZKOR_HOST="127.0.0.1",
            PORT=str(free_port()),
            KAZKOR_LOG_LEVEL="WARNING",
        )
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def push_and_wait(fake: FakeTelegram, n: int) -> float:
    """Queue n /trade updates at once; seconds until the n-th answer was sent."""
    before = len(fake.sent)
    started = time.perf_counter()
    for i in range(n):
        fake.push_command(10_000 + i % CHATS, "/trade", user_id=20_000 + i % CHATS)
    fake.wait_for_sent_sync(before + n, RUN_TIMEOUT)
    return time.perf_counter() - started


def measure(kinds: tuple[str, ...], updates: int, warmup: int, rounds: int, tmp: str) -> dict:
    """All bots up at once, each on its own stand-in; rounds alternate between them so a slow spell
    of the machine (2 CPUs, shared) falls on every bot alike. Median round per bot."""
    with contextlib.ExitStack() as stack:
        fakes = {kind: stack.enter_context(FakeTelegram.run_in_thread()) for kind in kinds}
        bots = {kind: start_bot(kind, fakes[kind], tmp) for kind in kinds}
        for bot in bots.values():
            stack.callback(stop_bot, bot)
        for kind, fake in fakes.items():
            fake.wait_until_sync(lambda f=fake: f.calls["getUpdates"] >= 1, START_TIMEOUT, f"{kind} polling")
            push_and_wait(fake, warmup)
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for _ in range(rounds):
            for kind in kinds:
                times[kind].append(push_and_wait(fakes[kind], updates))
        results = {}
        for kind in kinds:
            seconds = sorted(times[kind])[rounds // 2]
            sizes = [len(m.text) for m in fakes[kind].sent[-updates:]]
            results[kind] = {"per_s": updates / seconds, "seconds": seconds, "chars": sum(sizes) / len(sizes)}
        return results


def stop_bot(bot: subprocess.Popen) -> None:
    bot.terminate()
    try:
        bot.wait(15)
    except subprocess.TimeoutExpired:
        bot.kill()
        bot.wait(5)


def main() -> None:
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--serve-echo":
        return serve_echo(*sys.argv[2:])
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        results = measure(("echo", "same", "kazkor"), args.updates, args.warmup, args.rounds, tmp)

    print(
        f"Telegram long polling: {args.updates} queued /trade updates over {CHATS} chats "
        f"x {args.rounds} alternating rounds (median shown), after {args.warmup} warm-up; "
        f"CPUs: {os.cpu_count()}"
    )
    print()
    print(f"{'bot':<8} {'answered/s':>11} {'ms/update':>10} {'seconds':>8} {'reply chars':>12}")
    for kind, r in results.items():
        print(
            f"{kind:<8} {r['per_s']:>11.0f} {1000 / r['per_s']:>10.2f} "
            f"{r['seconds']:>8.2f} {r['chars']:>12.0f}"
        )
    ratio = results["kazkor"]["per_s"] / results["echo"]["per_s"]
    print()
    print(
        f"kazkor / echo answered/s: {ratio:.2f} (target >= 0.85) {'OK' if ratio >= 0.85 else 'BELOW TARGET'}"
    )
    same = results["kazkor"]["per_s"] / results["same"]["per_s"]
    print(f"kazkor / same (bare bot, same answer) answered/s: {same:.2f}")


if __name__ == "__main__":
    main()
