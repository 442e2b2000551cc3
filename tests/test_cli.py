"""The command line as a user runs it: ``bot.cli.main(argv)`` in this process with the user's environment,
and a few smoke tests through the installed `kazkor` script as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli_kit import Ran, clean_env, run_cli, run_installed
from tests.conftest import open_store


def kazkor(
    *args: str, env_extra: dict | None = None, stdin: str | None = None, tmp_path=None, installed=False
) -> Ran:
    """``kazkor ARGS`` in this process; ``installed``: as its own process through the installed script."""
    env = clean_env({"KAZKOR_DB": str(tmp_path / "state.json")} if tmp_path is not None else None)
    env.update(env_extra or {})
    return (run_installed if installed else run_cli)(*args, env=env, stdin=stdin)


def test_ask_prints_the_plain_reply(tmp_path):
    result = kazkor("ask", "/agreements 2024", tmp_path=tmp_path, installed=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Agreements signed in 2024 (14)")
    assert "\n12 Jun 2024 — President Yoon Suk Yeol's state visit to Astana and negotiations" in result.stdout
    assert "• MoU on forestry cooperation [1][3] · agr-2024-06-12-forestry\n" in result.stdout
    assert "The Astana Times, Jun 2024" in result.stdout


def test_ask_with_a_bad_year_prints_a_hint_and_exits_2(tmp_path):
    result = kazkor("ask", "/agreements", "20x4", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stdout.startswith("'20x4' is not a year.")
    assert "Traceback" not in result.stdout + result.stderr


def test_console_answers_each_line_and_leaves_on_quit(tmp_path):
    result = kazkor("console", stdin="/timeline 2023\n\n/quit\n/trade\n", tmp_path=tmp_path, installed=True)
    assert result.returncode == 0
    assert "20 Sep 2023 — Kassym-Jomart Tokayev meets Yoon Suk Yeol in New York" in result.stdout
    assert "trade and investment" not in result.stdout  # nothing after /quit
    shouted = kazkor("console", stdin="/QUIT now\n/trade\n", tmp_path=tmp_path)
    assert shouted.returncode == 0 and shouted.stdout.strip() == ""


def test_reminders_dry_run_prints_each_day(tmp_path):
    result = kazkor("reminders", "--date", "2024-09-29", "--days", "8", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "29 Sep 2024 (Asia/Almaty): 1 due" in out
    assert "In 7 days (6 Oct 2024): Nationwide referendum" in out
    assert "6 Oct 2024 (Asia/Almaty): 1 due" in out and "Today: Nationwide referendum" in out
    assert out.strip().endswith("2 reminders over 8 days (dry run).")


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("--date", "2024-02-30"),
            "argument --date: '2024-02-30' is not a day of the calendar, e.g. 2024-02-29",
        ),
        (("--date", "2023-02-29"), "argument --date: '2023-02-29' is not a day of the calendar"),
        (("--date", "20240229"), "argument --date: '20240229' is not a date of the form YYYY-MM-DD"),
        (
            ("--date", "9999-12-31", "--days", "2"),
            "argument --date: '9999-12-31': give a year from 1900 to 2100",
        ),
        (("--days", "0"), "argument --days: '0' is not a whole number from 1 to 3660, e.g. --days 30"),
        (("--days", "999999999999"), "argument --days: '999999999999' is not a whole number from 1 to 3660"),
        (("--lead", "99999999999"), "argument --lead: '99999999999' is not a whole number from 0 to 366"),
    ],
)
def test_reminders_rejects_bad_arguments_in_one_line(tmp_path, args, message):
    result = kazkor("reminders", *args, tmp_path=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr) < 600


def test_post_due_for_a_day_other_than_today_needs_force(tmp_path):
    """Posting another day's reminders now would announce events long past or use up a future day's."""
    result = kazkor("post-due", "--date", "1900-01-01", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("kazkor: post-due --date 1900-01-01 is not today (")
    assert "nothing was sent" in result.stderr and "kazkor reminders --date 1900-01-01" in result.stderr
    assert not (tmp_path / "state.json").exists()  # refused before the state was touched


def test_facts_validate_needs_a_folder(tmp_path):
    (tmp_path / "events.json").write_text("[]")
    result = kazkor("facts", "validate", "--data-dir", str(tmp_path / "events.json"), tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"kazkor: --data-dir {tmp_path / 'events.json'} is not a folder "
        "(give the folder holding the .json files)"
    )


def test_facts_validate_and_export(tmp_path):
    valid = kazkor("facts", "validate", tmp_path=tmp_path)
    assert valid.returncode == 0
    assert valid.stdout.strip() == (
        "valid: 7 sources, 33 figures, 16 agreements, 23 events, 4 anniversaries, "
        "12 people, 38 organisations, 10 projects, 56 statements"
    )
    export = kazkor("facts", "export", tmp_path=tmp_path)
    import json

    payload = json.loads(export.stdout)
    ids = {r["id"] for r in payload["records"]}
    assert "evt-2024-10-06-referendum" in ids and len(ids) == 33 + 16 + 23 + 4 + 12 + 38 + 10 + 56


def test_facts_validate_names_the_bad_record(tmp_path):
    (tmp_path / "data").mkdir()
    for name in ("sources", "figures", "agreements", "events", "anniversaries"):
        (tmp_path / "data" / f"{name}.json").write_text("[]")
    (tmp_path / "data" / "figures.json").write_text('[{"id": "Bad Id"}]')
    result = kazkor("facts", "validate", "--data-dir", str(tmp_path / "data"), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "figures.json record 0 (id 'Bad Id'): field 'id' must be lower-case" in result.stderr


@pytest.mark.parametrize(
    "var, value, message",
    [
        ("KAZKOR_TZ", "Mars/Olympus", "KAZKOR_TZ: unknown time zone 'Mars/Olympus'"),
        ("PORT", "70000", "PORT: '70000' is not a port number"),
        ("KAZKOR_TZ", "localtime", "KAZKOR_TZ: unknown time zone 'localtime'"),  # the host's, not a place
        ("KAZKOR_ADMINS", "telegram:123 @alice", "KAZKOR_ADMINS: '@alice' is not a user id"),
        ("KAZKOR_ADMINS", "Telegram:123;456", "KAZKOR_ADMINS: 'Telegram:123;456' is not a user id"),
        ("KAZKOR_ADMINS", "Walter", "KAZKOR_ADMINS: 'Walter' is not a user id"),  # a name, not U0123ABCD
        ("KAZKOR_ADMINS", "UMAR", "KAZKOR_ADMINS: 'UMAR' is not a user id"),
        ("TELEGRAM_WEBHOOK_SECRET", "s" * 257, "TELEGRAM_WEBHOOK_SECRET: 1-256 characters"),
        ("TELEGRAM_WEBHOOK_SECRET", "sécret", "TELEGRAM_WEBHOOK_SECRET: 1-256 characters"),
        ("KAZKOR_HTTP_IDLE_TIMEOUT", "soon", "KAZKOR_HTTP_IDLE_TIMEOUT: 'soon' is not a number from 0.1"),
        ("KAZKOR_HTTP_IDLE_TIMEOUT", "nan", "KAZKOR_HTTP_IDLE_TIMEOUT: 'nan' is not a number from 0.1"),
        ("KAZKOR_HTTP_MAX_CONNECTIONS", "0", "KAZKOR_HTTP_MAX_CONNECTIONS: '0' is not a number from 1"),
        ("KAZKOR_HTTP_MAX_CONNECTIONS", "2.5", "KAZKOR_HTTP_MAX_CONNECTIONS: 2.5 is not a whole number"),
    ],
)
def test_a_malformed_setting_stops_with_one_line_naming_it(tmp_path, var, value, message):
    result = kazkor("ask", "/help", env_extra={var: value}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_settings_are_read_in_their_canonical_form():
    from bot.config import Config

    config = Config.from_env(
        {"KAZKOR_TZ": "asia/seoul", "KAZKOR_ADMINS": "TELEGRAM:123, Slack:U0123ABCD 456 W0ABC"}
    )
    assert config.tz.key == "Asia/Seoul"
    assert config.admins == frozenset({"telegram:123", "slack:U0123ABCD", "456", "W0ABC"})


def test_an_old_state_file_that_does_not_parse_is_reported_left_in_place_and_the_answer_still_comes(tmp_path):
    state = tmp_path / "state.json"
    state.write_text("{not json")
    result = kazkor("ask", "/timeline 2023", tmp_path=tmp_path)
    assert result.returncode == 0
    assert "20 Sep 2023 — Kassym-Jomart Tokayev meets Yoon Suk Yeol in New York" in result.stdout
    assert result.stderr.strip() == (
        f"kazkor: warning: the old state file was not migrated: {state} does not parse (JSONDecodeError); "
        "it was left in place"
    )
    assert state.read_text() == "{not json"
    saved = kazkor("console", stdin="/subscribe 08:00\n", tmp_path=tmp_path)
    assert "This channel will get reminders at 08:00" in saved.stdout
    assert state.read_text() == "{not json"  # still there for the operator to repair and migrate
    store = open_store(state)
    assert [s["time"] for s in store.subscriptions()] == ["08:00"]
    store.close()


def test_a_state_path_that_cannot_be_created_gets_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    where = tmp_path / "notes.txt" / "state.json"  # its folder is a file
    # /trade needs no state: it is not opened, so nothing to warn about
    trade = kazkor("ask", "/trade", env_extra={"KAZKOR_DB": str(where)})
    assert trade.returncode == 0 and "Trade turnover, newest first" in trade.stdout
    assert trade.stderr == ""
    result = kazkor("ask", "/subscriptions", env_extra={"KAZKOR_DB": str(where)})
    assert "Reminders need the state file (KAZKOR_DB); this session has none." in result.stdout
    assert result.stderr.startswith(
        f"kazkor: warning: cannot open the state database {where.with_suffix('.sqlite3')}: "
    )
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    post_due = kazkor("post-due", env_extra={"KAZKOR_DB": str(where)})
    assert post_due.returncode == 1 and "Traceback" not in post_due.stderr
    assert post_due.stderr.startswith(
        f"kazkor: cannot open the state database {where.with_suffix('.sqlite3')}: "
    )
    assert len(post_due.stderr.strip().splitlines()) == 1


def test_a_state_path_that_is_not_a_state_file_is_refused_untouched(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting at 10\n" * 100)
    result = kazkor("ask", "/trade", env_extra={"KAZKOR_DB": str(notes)})
    assert result.returncode == 0
    assert result.stderr.strip() == (
        f"kazkor: warning: cannot open the state database {notes}: file is not a database; "
        "answering without it"
    )
    assert notes.read_text() == "meeting at 10\n" * 100 and sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt"
    ]
    folder = kazkor("ask", "/trade", env_extra={"KAZKOR_DB": str(tmp_path)})
    assert folder.returncode == 2
    assert folder.stderr.strip() == (
        f"kazkor: configuration error: KAZKOR_DB: {str(tmp_path)!r} is a folder; give the state file's "
        f"path, e.g. {tmp_path}/state.json"
    )


def test_facts_add_stores_a_fact_that_later_answers_and_refuses_a_bad_one(tmp_path):
    import json

    good = {
        "id": "evt-2030-05-01-consulate",
        "summary": "Korea opens a consulate in Shymkent.",
        "cite": [{"source": "mofa-rok", "quote": "A consulate opens in Shymkent."}],
        "title": "Consulate opens in Shymkent",
        "type": "other",
        "date": "2030-05-01",
        "place": "Shymkent",
    }
    (tmp_path / "good.json").write_text(json.dumps(good))
    add = ("facts", "add", "--kind", "event", "--file")
    added = kazkor(*add, str(tmp_path / "good.json"), tmp_path=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "added event evt-2030-05-01-consulate" in added.stdout
    answer = kazkor("ask", "/timeline 2030", tmp_path=tmp_path)
    assert "1 May 2030 — Consulate opens in Shymkent [1] · evt-2030-05-01-consulate" in answer.stdout
    assert "[1] Ministry of Foreign Affairs" in answer.stdout

    (tmp_path / "bad.json").write_text(json.dumps({**good, "id": "evt-x", "date": "2030-02-30"}))
    refused = kazkor(*add, str(tmp_path / "bad.json"), tmp_path=tmp_path)
    assert refused.returncode == 1
    assert "nothing added: " in refused.stderr
    assert "bad.json record 0 (id 'evt-x'): field 'date' day is out of range for month" in refused.stderr
    again = kazkor("ask", "/timeline 2030", tmp_path=tmp_path)
    assert again.stdout.count("Consulate opens") == 1


def test_a_record_copied_from_facts_export_can_be_added_back(tmp_path):
    exported = json.loads(kazkor("facts", "export", tmp_path=tmp_path).stdout)["records"]
    (original,) = [r for r in exported if r["id"] == "evt-2023-09-20-tokayev-yoon-new-york"]
    edited = {**original, "id": "evt-2023-09-21-follow-up", "date": "2023-09-21", "title": "Follow-up talks"}
    (tmp_path / "one.json").write_text(json.dumps(edited))
    added = kazkor("facts", "add", "--kind", "event", "--file", str(tmp_path / "one.json"), tmp_path=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "21 Sep 2023 — Follow-up talks" in kazkor("ask", "/timeline 2023", tmp_path=tmp_path).stdout
    wrong = kazkor(
        "facts", "add", "--kind", "figure", "--file", str(tmp_path / "one.json"), tmp_path=tmp_path
    )
    assert wrong.returncode == 1 and "record 0 is of kind 'event', not 'figure'" in wrong.stderr


def test_facts_add_takes_a_whole_file_or_nothing(tmp_path):
    def event(n: int, day: str) -> dict:
        return {
            "id": f"evt-2030-06-0{n}-visit",
            "summary": f"Visit number {n}.",
            "cite": [{"source": "mofa-rok", "quote": f"Visit {n} took place."}],
            "title": f"Visit {n}",
            "type": "other",
            "date": day,
            "place": "Astana",
        }

    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([event(1, "2030-06-01"), event(2, "2030-06-31")]))
    add = ("facts", "add", "--kind", "event", "--file", str(batch))
    refused = kazkor(*add, tmp_path=tmp_path)
    assert refused.returncode == 1 and "batch.json record 1 (id 'evt-2030-06-02-visit')" in refused.stderr
    assert "added" not in refused.stdout and not (tmp_path / "state.json").exists()
    batch.write_text(json.dumps([event(1, "2030-06-01"), event(2, "2030-06-30")]))  # fixed: add again
    added = kazkor(*add, tmp_path=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[-1].startswith("2 facts added to ")
    batch.write_text(json.dumps([event(3, "2030-06-03"), event(3, "2030-06-03")]))
    twice = kazkor(*add, tmp_path=tmp_path)
    assert twice.returncode == 1 and "id used twice in this file" in twice.stderr
    batch.write_text("[]")
    empty = kazkor(*add, tmp_path=tmp_path)
    assert empty.returncode == 2 and "holds an empty list: nothing to add" in empty.stderr
    timeline = kazkor("ask", "/timeline 2030", tmp_path=tmp_path).stdout
    assert [line[2:].split(" — ")[0] for line in timeline.splitlines() if line.startswith("• ")] == [
        "1 Jun 2030",
        "30 Jun 2030",
    ]


def test_post_due_beside_a_running_kazkor_is_refused_naming_it_and_the_console_still_saves(tmp_path):
    """While `kazkor run` holds the scheduler lock, `post-due` stops with one line naming that process; a
    console /subscribe (which holds no lock, idle or not) is saved, and `run` is not disturbed by it."""
    from bot.state.leader import SqliteLeaderLock, take_or_refuse

    path = tmp_path / "state.json"
    store = open_store(path)
    store.save_subscription(
        {"platform": "telegram", "channel": "-100A", "time": "09:00", "tz": "Asia/Almaty"}
    )
    running = SqliteLeaderLock(path.with_suffix(".sqlite3"), "kazkor run")
    take_or_refuse(running, "kazkor run")
    try:
        post_due = kazkor("post-due", "--date", "2024-09-29", "--force", tmp_path=tmp_path)
        assert post_due.returncode == 1
        assert post_due.stderr.strip().startswith(
            f"kazkor: kazkor post-due: the scheduler lock is held by kazkor run pid {os.getpid()} on "
        )
        assert post_due.stderr.strip().endswith(
            "That process posts the reminders; stop it first, or let it post."
        )
        console = kazkor("console", stdin="/subscribe 08:00\n/trade\n", tmp_path=tmp_path)
        assert console.returncode == 0
        assert "This channel will get reminders at 08:00" in console.stdout
        assert "Trade turnover, newest first" in console.stdout  # and the console goes on
        assert "Traceback" not in console.stdout + console.stderr
        assert running.alive()  # the console took nothing from it
    finally:
        running.release()
    assert len(store.subscriptions()) == 2
    store.close()


IMPORTED = (
    "import sys\nfrom bot.cli import main\nmain(ARGS)\nprint('SQLALCHEMY', 'sqlalchemy' in sys.modules)\n"
)


def _ask_in_process(tmp_path, *args: str) -> str:
    """`kazkor ask ARGS` in a fresh interpreter (what it imports is the point), reporting SQLAlchemy."""
    code = IMPORTED.replace("ARGS", repr(["ask", *args]))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
        env=clean_env({"KAZKOR_DB": str(tmp_path / "state.json")}),
    )  # fmt: skip
    assert done.stderr == ""
    return done.stdout


def test_ask_trade_opens_no_state_and_does_not_import_sqlalchemy(tmp_path):
    """Issue 12: cold `kazkor ask /trade` < 200 ms; SQLAlchemy's import alone is ~0.2 s."""
    out = _ask_in_process(tmp_path, "/trade")
    assert "Trade turnover, newest first" in out
    assert out.strip().endswith("SQLALCHEMY False")
    assert list(tmp_path.iterdir()) == []  # no state database created for it
    # a command that needs the state opens it (and so imports SQLAlchemy)
    saved = _ask_in_process(tmp_path, "/language", "ru")
    assert "Русский" in saved and saved.strip().endswith("SQLALCHEMY True")
    # the saved language is read without opening the store: still no SQLAlchemy, answer in Russian
    help_ru = _ask_in_process(tmp_path, "/help")
    assert help_ru.startswith("Kazkor отвечает на вопросы о казахстанско-корейских отношениях")
    assert help_ru.strip().endswith("SQLALCHEMY False")
    subscribed = kazkor("ask", "/subscribe", "08:00", tmp_path=tmp_path)
    assert subscribed.returncode == 0, subscribed.stderr
    listed = kazkor("ask", "/subscriptions", tmp_path=tmp_path)
    assert "08:00 (Asia/Almaty)" in listed.stdout and listed.stderr == ""
