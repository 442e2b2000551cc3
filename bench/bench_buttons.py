"""Button presses: how fast each is answered, on both platforms (issue 11: within Slack's 3 s ack and
Telegram's callback answer, every time).

Run: python bench/bench_buttons.py [--presses N] [--concurrency C]

One process, one event loop (the stand-ins and `kazkor run`'s runtime share it, so the numbers include
the stand-ins' own work and are an upper bound):
- Telegram (long polling): C chats each ask /timeline, then press Next / Previous alternately, each press
  waiting for the previous one's edit; measured per press: push of the callback_query -> the query's
  answer (answerCallbackQuery) and -> the edited message (editMessageText).
- Slack (HTTP mode): C clients POST signed block_actions (Next / Previous on /timeline's blocks);
  measured: request -> HTTP 200 (the ack) and request -> the answer at the response_url sink.
Every press must be answered; the table says how many were, and the p50 / p99 / max latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.bootstrap.context import build_context  # noqa: E402
from tests.running import running  # noqa: E402
from tests.standins.slack_api import (  # noqa: E402
    FakeSlack,
    block_actions_payload,
    signed_interactive_request,
    signed_slash_request,
)
from tests.standins.telegram_api import FakeTelegram  # noqa: E402

SECRET = "bench-signing-secret"
TIMEOUT = 30.0


def quantiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000, ordered[-1] * 1000


async def bench_telegram(config_for, ctx, presses: int, concurrency: int) -> list[tuple]:
    async with FakeTelegram() as fake:
        async with running(config_for(telegram_token=fake.token, telegram_api_url=fake.base_url), ctx):
            chats = [10_000 + i for i in range(concurrency)]
            for chat in chats:
                fake.push_command(chat, "/timeline")
            await fake.wait_for_sent(len(chats), TIMEOUT)
            messages = {m.chat_id: m for m in fake.sent}
            answer_times: list[float] = []
            edit_times: list[float] = []

            async def one_chat(chat: int) -> None:
                message = messages[chat]
                for n in range(presses // concurrency):
                    label = "Next" if n % 2 == 0 else "Previous"
                    edits_before = sum(1 for e in fake.edits if e["chat_id"] == chat)
                    started = time.perf_counter()
                    query = fake.press(message, label, user_id=chat)
                    await fake.wait_for_callback_answer(query, TIMEOUT)
                    answer_times.append(time.perf_counter() - started)
                    await fake.wait_until(
                        lambda before=edits_before: (
                            sum(1 for e in fake.edits if e["chat_id"] == chat) > before
                        ),
                        TIMEOUT,
                        "the edit",
                    )
                    edit_times.append(time.perf_counter() - started)

            await asyncio.gather(*(one_chat(chat) for chat in chats))
    return [
        ("Telegram press -> answerCallbackQuery", len(answer_times), *quantiles(answer_times)),
        ("Telegram press -> editMessageText", len(edit_times), *quantiles(edit_times)),
    ]


async def bench_slack(config_for, ctx, presses: int, concurrency: int) -> list[tuple]:
    import aiohttp

    async with FakeSlack() as fake:
        config = config_for(
            slack_bot_token=fake.bot_token, slack_signing_secret=SECRET, slack_api_url=fake.base_url
        )
        async with running(config, ctx) as runtime, aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{runtime.http.bound_port}/slack/events"
            body, headers = signed_slash_request(
                SECRET, command="/timeline", text="", response_url=fake.response_url("t")
            )
            async with http.post(url, data=body, headers=headers) as response:
                first = await response.json()
            second = block_actions_payload(first["blocks"], "Next", response_url=fake.response_url("x"))
            ack_times: list[float] = []
            answer_times: list[float] = []

            async def client(worker: int) -> None:
                for n in range(presses // concurrency):
                    name = f"w{worker}n{n}"
                    label = "Next" if n % 2 == 0 else "Previous"
                    blocks = first["blocks"] if label == "Next" else second_blocks[0]
                    payload = block_actions_payload(blocks, label, response_url=fake.response_url(name))
                    body, headers = signed_interactive_request(SECRET, payload)
                    started = time.perf_counter()
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        assert response.status == 200
                    ack_times.append(time.perf_counter() - started)
                    await fake.wait_until(
                        lambda name=name: any(r.name == name for r in fake.responses), TIMEOUT, name
                    )
                    answer_times.append(time.perf_counter() - started)

            body, headers = signed_interactive_request(SECRET, second)
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
            (page2,) = await fake.wait_for_responses(1, TIMEOUT)
            second_blocks = [page2.blocks]
            await asyncio.gather(*(client(w) for w in range(concurrency)))
    return [
        ("Slack press -> HTTP 200 ack", len(ack_times), *quantiles(ack_times)),
        ("Slack press -> answer at response_url", len(answer_times), *quantiles(answer_times)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with TemporaryDirectory() as tmp:
        from bot.config import Config

        def config_for(**settings):
            return Config(db_path=Path(tmp) / "state.json", host="127.0.0.1", port=0, **settings)

        ctx = build_context(config_for(), with_state=False)
        rows = asyncio.run(bench_telegram(config_for, ctx, args.presses, args.concurrency))
        rows += asyncio.run(bench_slack(config_for, ctx, args.presses, args.concurrency))
    print(f"{args.presses} presses per platform, {args.concurrency} at a time (one process, one loop)\n")
    print(f"{'measure':<40} {'answered':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, count, p50, p99, worst in rows:
        print(f"{name:<40} {count:>8} {p50:>8.1f} {p99:>8.1f} {worst:>8.1f}")
    expected = args.presses // args.concurrency * args.concurrency
    if any(count != expected for _, count, *_ in rows):
        sys.exit("some presses were not answered")


if __name__ == "__main__":
    main()
