"""Small command-line faults (issue 10, item 8): undecodable arguments, and SIGTERM / Ctrl-C while
``kazkor post-due`` is sending, through the real ``kazkor`` process."""

from __future__ import annotations

import signal

import pytest

from tests.cli_kit import run_cli
from tests.conftest import open_store
from tests.reminders_kit import subscribe
from tests.running import TIMEOUT, clean_env, start_kazkor, wait_sync
from tests.standins.telegram_api import FakeTelegram

# Two reminders are due that day for a subscription with the usual leads (both known to the month only;
# dates known only to the year, such as 1 January's before, are never posted).
AUG_2024 = "2024-08-01"
IN_FLIGHT = 1.0  # seconds the stand-in holds the first sendMessage before answering


def test_ask_with_bytes_that_are_not_utf8_answers_without_a_traceback(tmp_path):
    # "/foo\xff" on the command line: Python hands the byte over as the lone surrogate U+DCFF
    proc = start_kazkor(
        "ask", "/foo\udcff", env=clean_env(KAZKOR_DB=str(tmp_path / "s.json"), PYTHONIOENCODING="utf-8")
    )
    out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err and "UnicodeEncodeError" not in err, err
    assert out.startswith("Unknown command /foo\ufffd. See /help for the list.")
    assert proc.returncode == 2


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_post_due_stopped_mid_send_finishes_records_and_summarises(tmp_path, sig):
    db = tmp_path / "state.json"
    state = open_store(db)
    subscribe(state, "telegram", "-100123")
    state.close()
    with FakeTelegram.run_in_thread() as tg:
        tg.delay_next("sendMessage", IN_FLIGHT, count=1)  # the rerun is not held
        env = clean_env(KAZKOR_DB=str(db), TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.base_url)
        proc = start_kazkor("post-due", "--date", AUG_2024, "--force", env=env)
        try:
            wait_sync(lambda: tg.calls["sendMessage"] >= 1, 30, "the first send", proc)
            proc.send_signal(sig)  # while the first post is in flight
            out, err = proc.communicate(timeout=IN_FLIGHT + 15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=TIMEOUT)
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        assert f"post-due: {sig.name}: finishing the sends in flight, then stopping" in err
        assert out.splitlines() == [
            "sent 1, already sent 0, failed 0, deactivated 0",
            f"stopped by {sig.name}: run kazkor post-due again to post what is still due",
        ]
        assert proc.returncode == 1
        assert len(tg.sent) == 1 and tg.calls["sendMessage"] == 1  # nothing new started after the signal
        # the post in flight was recorded: the next run (in-process: only the stop needs a process) sends
        # only the other one
        again = run_cli("post-due", "--date", AUG_2024, "--force", env=env)
    assert again.stdout.splitlines()[0] == "sent 1, already sent 1, failed 0, deactivated 0", again.stderr
    assert again.returncode == 0
    assert len(tg.sent) == 2
