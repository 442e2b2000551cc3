"""/calendar and /trade chart through the real libraries against the stand-ins: Telegram sendDocument and
sendPhoto (multipart), Slack files_upload_v2 (getUploadURLExternal, upload, completeUploadExternal); and
the feeds on `kazkor run`'s one HTTP server."""

from __future__ import annotations

import io
import re
from contextlib import asynccontextmanager

import aiohttp
from icalendar import Calendar
from PIL import Image

from bot.feeds.chart import HEIGHT_PX, WIDTH_PX
from tests.running import TIMEOUT, base_url, loopback_config, run, running
from tests.standins.slack_api import FakeSlack
from tests.standins.telegram_api import FakeTelegram
from tests.test_slack_e2e import http_config, post_command
from tests.test_telegram_e2e import telegram_config

GROUP = -500
DIPLOMATIC_2025 = "ann-1992-01-28-diplomatic-relations-2025@kazkor"  # make_ctx's clock: Sep 2024


@asynccontextmanager
async def slack_running(tmp_path, ctx):
    """The Slack stand-in, `kazkor run` in HTTP mode against it, and a client session."""
    async with (
        FakeSlack() as fake,
        running(http_config(tmp_path, fake), ctx) as runtime,
        aiohttp.ClientSession() as http,
    ):
        yield fake, runtime, http


def uids(body: bytes) -> set[str]:
    return {str(e["UID"]) for e in Calendar.from_ical(body).walk("VEVENT")}


def test_telegram_sends_the_chart_as_a_photo_and_the_calendar_as_a_document(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            fake.push_command(GROUP, "/trade chart", chat_type="group", user_id=1002)
            (photo,) = await fake.wait_for_files(1, TIMEOUT)
            assert photo.method == "sendPhoto" and photo.chat_id == GROUP
            assert photo.filename == "kazkor-trade-chart.png"
            assert Image.open(io.BytesIO(photo.data)).size == (WIDTH_PX, HEIGHT_PX)
            assert photo.caption == (
                "Kazakhstan–Korea trade and Korean investment (US$ billion). "
                "Figures up to 2024; sources up to Sep 2024."
            )
            # the text (what the chart shows, with sources) went first
            text = [m for m in fake.sent if m.chat_id == GROUP]
            assert text and "2023 trade turnover: US$6 billion (year inferred)" in text[0].visible_text
            assert text[-1].message_id < photo.message_id

            fake.push_command(GROUP, "/calendar", chat_type="group", user_id=1002)
            _, document = await fake.wait_for_files(2, TIMEOUT)
            assert document.method == "sendDocument" and document.filename == "kazkor.ics"
            assert DIPLOMATIC_2025 in uids(document.data)
            assert "KAZKOR_PUBLIC_URL" in fake.sent[-1].visible_text  # no public URL: how to set it

    run(scenario())


def test_slack_shares_the_chart_with_alt_text_and_the_calendar_file(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with slack_running(tmp_path, ctx) as (fake, runtime, http):
            status, _, body = await post_command(http, runtime, fake, "/trade", "chart", "chart")
            assert status == 200 and body["response_type"] == "in_channel"
            assert "Aug 2021 trade turnover: US$4 billion (period not given)" in body["text"]
            (chart,) = await fake.wait_for_files(1, TIMEOUT)
            assert chart.filename == "kazkor-trade-chart.png" and chart.channel_id == "C0KAZKOR"
            assert Image.open(io.BytesIO(chart.data)).size == (WIDTH_PX, HEIGHT_PX)
            assert chart.alt_txt.startswith(
                "Trade turnover by year: Aug 2021 trade turnover US$4bn (period not given)"
            )
            assert chart.initial_comment.endswith("Figures up to 2024; sources up to Sep 2024.")
            called = [method for method, _ in fake.requests]
            assert called.count("files.getUploadURLExternal") == 1
            assert called.count("files.completeUploadExternal") == 1

            await post_command(http, runtime, fake, "/calendar", "", "calendar")
            _, calendar = await fake.wait_for_files(2, TIMEOUT)
            assert calendar.filename == "kazkor.ics" and calendar.alt_txt is None
            assert DIPLOMATIC_2025 in {
                str(e["UID"]) for e in Calendar.from_ical(calendar.data).walk("VEVENT")
            }
            (said,) = await fake.wait_for_responses(1, TIMEOUT)
            assert "KAZKOR_PUBLIC_URL" in said.text

            # a channel the bot is not in: the asker is told, privately, what to do
            fake.set_channel("C0KAZKOR", is_member=False)
            await post_command(http, runtime, fake, "/trade", "chart", "chart2")
            responses = await fake.wait_for_responses(2, TIMEOUT)
            refusal = responses[-1]
            assert refusal.response_type == "ephemeral"
            assert refusal.text.startswith(
                "Could not share kazkor-trade-chart.png here (Slack said: not_in_channel). Invite the bot"
            )

    run(scenario())


def test_kazkor_run_serves_the_calendar_feed(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake:
            config = loopback_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.base_url)
            async with running(config, ctx) as runtime, aiohttp.ClientSession() as http:
                async with http.get(base_url(runtime) + "/calendar.ics") as response:
                    assert response.status == 200
                    body = await response.read()
                    etag = response.headers["ETag"]
                assert DIPLOMATIC_2025 in uids(body)
                async with http.get(
                    base_url(runtime) + "/calendar.ics", headers={"If-None-Match": etag}
                ) as again:
                    assert again.status == 304

    run(scenario())


def test_reminder_posts_carry_an_add_to_calendar_link_when_a_public_url_is_set(tmp_path, catalogue, state):
    from datetime import date

    from bot.reminders.delivery import post_due
    from tests.reminders_kit import senders_for, subscribe

    subscribe(state, "telegram", str(GROUP))
    db = tmp_path / "state.json"

    async def scenario():
        async with FakeTelegram() as fake, senders_for(db, fake) as senders:
            day = date(2027, 1, 28)  # the 35th anniversary of diplomatic relations
            await post_due(
                state, catalogue, senders, day, calendar_url="https://kazkor.example.org/calendar.ics"
            )
            (post,) = await fake.wait_for_sent(1, TIMEOUT)
            assert post.visible_text.startswith("Today: 35th anniversary of diplomatic relations")
            assert "Add to calendar: https://kazkor.example.org/calendar.ics" in post.visible_text
            await post_due(state, catalogue, senders, date(2027, 1, 21))  # no public URL: no link
            _, week_ahead = await fake.wait_for_sent(2, TIMEOUT)
            assert week_ahead.visible_text.startswith("In 7 days (28 Jan 2027)")
            assert "Add to calendar" not in week_ahead.visible_text

    run(scenario())


def test_the_chart_control_under_trade_posts_the_picture_on_telegram(tmp_path, make_ctx):
    from tests.test_telegram_buttons import ask, press

    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            message = await ask(fake, GROUP, "/trade", chat_type="group")
            assert "Chart" in [label for label, _ in fake.buttons(message)]
            await press(fake, message, "Chart", user_id=2002)
            (photo,) = await fake.wait_for_files(1, TIMEOUT)
            assert photo.method == "sendPhoto" and photo.filename == "kazkor-trade-chart.png"
            assert Image.open(io.BytesIO(photo.data)).size == (WIDTH_PX, HEIGHT_PX)
            # the chart's text came as a new message, the /trade answer stays where it was
            assert fake.sent[-1].visible_text.startswith(
                "Kazakhstan–Korea trade and Korean investment: chart"
            )
            assert fake.shown(message).startswith("Kazakhstan–Korea trade and investment")
            chart_message = fake.sent[-1]
            assert "Chart" not in [label for label, _ in fake.buttons(chart_message)]

    run(scenario())


def test_the_chart_control_under_trade_shares_the_picture_on_slack(tmp_path, make_ctx):
    from tests.test_slack_buttons import labels, press

    ctx = make_ctx()

    async def scenario():
        async with slack_running(tmp_path, ctx) as (fake, runtime, http):
            _, _, body = await post_command(http, runtime, fake, "/trade", "", "t")
            assert "Chart" in labels(body["blocks"])
            chart = await press(http, runtime, fake, body["blocks"], "Chart", "c")
            assert chart.body["replace_original"] is False and chart.response_type == "in_channel"
            assert chart.text.startswith("Kazakhstan–Korea trade and Korean investment: chart")
            (shared,) = await fake.wait_for_files(1, TIMEOUT)
            assert shared.filename == "kazkor-trade-chart.png" and shared.channel_id == "C0KAZKOR"
            assert shared.alt_txt.startswith("Trade turnover by year:")

    run(scenario())


def test_a_telegram_group_gets_its_own_feed_address_and_only_admins_rotate_it(tmp_path, make_ctx, state):
    from tests.reminders_kit import subscribe
    from tests.running import free_port
    from tests.test_telegram_buttons import ask

    port = free_port()
    public = f"http://127.0.0.1:{port}"
    subscribe(state, "telegram", str(GROUP), time="08:30", tz="Asia/Seoul")
    ctx = make_ctx()
    ctx.state = state

    async def fetch(http, url: str) -> tuple[int, bytes]:
        async with http.get(url) as response:
            return response.status, await response.read()

    async def scenario():
        async with FakeTelegram() as fake:
            config = telegram_config(tmp_path, fake, port=port, public_url=public)
            async with running(config, ctx), aiohttp.ClientSession() as http:
                answer = await ask(fake, GROUP, "/calendar", chat_type="group", user_id=2002)
                assert f"Everyone: {public}/calendar.ics" in answer.visible_text
                (address,) = re.findall(rf"{public}/calendar/[a-z2-7]{{32}}\.ics", answer.visible_text)
                assert "alerts at 08:30 (Asia/Seoul), 7 days ahead and on the day" in answer.visible_text
                (document,) = await fake.wait_for_files(1, TIMEOUT)
                assert document.filename == "kazkor-channel.ics"
                status, body = await fetch(http, address)
                assert status == 200 and body == document.data  # the file is the feed
                assert str(Calendar.from_ical(body)["X-WR-TIMEZONE"]) == "Asia/Seoul"

                # a member may not rotate; the address keeps working
                refused = await ask(fake, GROUP, "/calendar rotate", chat_type="group", user_id=2002)
                assert refused.visible_text.startswith("Only channel admins can change")
                assert (await fetch(http, address))[0] == 200
                # an admin may: the old address is gone, the new one works
                fake.set_member_status(GROUP, 2003, "administrator")
                rotated = await ask(fake, GROUP, "/calendar rotate", chat_type="group", user_id=2003)
                (new,) = re.findall(rf"{public}/calendar/[a-z2-7]{{32}}\.ics", rotated.visible_text)
                assert new != address
                assert (await fetch(http, address))[0] == 404
                assert (await fetch(http, new))[0] == 200

    run(scenario())
