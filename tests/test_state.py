"""The state file: crash safety under SIGKILL, a corrupt file moved aside, facts added at run time."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facts.model import DataError
from facts.store import StateBusy, StateStore, load_catalogue

WRITER = r"""
import sys
from facts.store import StateStore
store = StateStore(sys.argv[1])
start = int(sys.argv[2])
for i in range(start, start + 100000):
    store.record_delivery(f"key-{i}", channel="c", padding="x" * 200)
    print(i, flush=True)  # only after record_delivery returned
"""

KILLS = 12  # bounded: each round lasts at most ~2 s


def test_writer_killed_mid_write_never_loses_an_acknowledged_write(tmp_path):
    path = tmp_path / "state.json"
    acknowledged: set[str] = set()
    next_start = 0
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for _ in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(next_start)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        # wait (at most 20 s) until it is writing
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        if not ready:
            proc.kill()
            proc.communicate(timeout=10)
            raise AssertionError("the writer printed nothing within 20 s")
        first = proc.stdout.readline()
        assert first.strip(), "writer did not start"
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
        done = [first] + out.splitlines()
        numbers = [int(line) for line in done if line.strip()]
        acknowledged.update(f"key-{n}" for n in numbers)
        next_start = max(numbers) + 1000  # fresh keys each round
        # after every kill, the file parses and holds every write that returned
        json.loads(path.read_text())
        store = StateStore(path, exclusive=True)  # the next writer: the kernel freed the killed one's lock
        assert store.info.moved_aside is None
        assert acknowledged <= {doc["key"] for doc in store.ledger()}
        store.close()
    assert len(acknowledged) > KILLS
    assert not list(tmp_path.glob(".state.json.*.tmp"))  # the next writer clears a killed one's temp file


def test_a_state_file_that_does_not_parse_is_moved_aside_with_a_message(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"subscriptions": {"1": {"platform": "slack"')  # cut short
    reader = StateStore(path)  # e.g. `kazkor ask`: reports it, changes nothing
    assert reader.info.moved_aside is None and "It was left in place" in reader.info.message
    assert reader.subscriptions() == [] and path.read_text().endswith('"slack"')
    reader.close()
    store = StateStore(path, exclusive=True)  # the writer moves it aside
    assert store.info.moved_aside is not None
    assert store.info.moved_aside.read_text().startswith('{"subscriptions"')
    assert "does not parse" in store.info.message and str(store.info.moved_aside) in store.info.message
    assert store.subscriptions() == []
    store.record_delivery("k1", channel="c")
    assert json.loads(path.read_text())["ledger"]


def test_subscriptions_and_ledger_survive_a_reopen(tmp_path):
    path = tmp_path / "state.json"
    store = StateStore(path)
    store.save_subscription({"platform": "telegram", "channel": "-100", "time": "09:00"})
    store.save_subscription({"platform": "telegram", "channel": "-100", "time": "08:30"})
    store.record_delivery("k", channel="-100")
    store.close()
    again = StateStore(path)
    assert again.subscriptions() == [{"platform": "telegram", "channel": "-100", "time": "08:30"}]
    assert again.delivered("k") and not again.delivered("other")


def _fact(rid: str, **over):
    raw = {
        "id": rid,
        "summary": "Korea opened a consulate in Almaty.",
        "cite": [{"source": "mofa-rok", "quote": "A consulate opened."}],
        "title": "Consulate opens",
        "type": "other",
        "date": "2030-05-01",
        "place": "Almaty",
    }
    raw.update(over)
    return raw


def test_an_added_fact_is_served_and_persists(tmp_path):
    path = tmp_path / "state.json"
    catalogue = load_catalogue()
    store = StateStore(path)
    store.add_fact("event", _fact("evt-2030-consulate"), catalogue)
    assert catalogue.in_year("event", 2030)[0].id == "evt-2030-consulate"
    store.close()
    fresh = load_catalogue()
    StateStore(path).load_facts_into(fresh)
    assert "evt-2030-consulate" in fresh.by_id


def test_a_bad_added_fact_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "state.json"
    catalogue = load_catalogue()
    store = StateStore(path)
    with pytest.raises(DataError, match=r"added fact \(id 'evt-bad'\): field 'date'"):
        store.add_fact("event", _fact("evt-bad", date="2030-02-30"), catalogue)
    with pytest.raises(DataError, match="cites unknown source 'nobody'"):
        store.add_fact("event", _fact("evt-bad2", cite=[{"source": "nobody", "quote": "q"}]), catalogue)
    assert "evt-bad" not in catalogue.by_id and not path.exists()


def test_a_bad_curated_record_is_refused_at_load_naming_file_and_record(tmp_path):
    from importlib import resources

    data = resources.files("facts") / "data"
    for name in ("sources.json", "figures.json", "agreements.json", "events.json", "anniversaries.json"):
        (tmp_path / name).write_text((data / name).read_text())
    events = json.loads((tmp_path / "events.json").read_text())
    events[3]["date"] = "2021-13-01"
    (tmp_path / "events.json").write_text(json.dumps(events))
    with pytest.raises(DataError) as err:
        load_catalogue(tmp_path)
    assert str(err.value).startswith(f"events.json record 3 (id '{events[3]['id']}'): field 'date'")


def _sub(channel: str) -> dict:
    return {"platform": "telegram", "channel": channel, "time": "09:00", "tz": "Asia/Almaty"}


def _channels(path: Path) -> list[str]:
    store = StateStore(path)
    try:
        return [sub["channel"] for sub in store.subscriptions()]
    finally:
        store.close()


def test_one_writer_at_a_time_and_a_late_writer_starts_from_the_file(tmp_path):
    """`kazkor run` holds the state; a console opened meanwhile can read but not write, and once run
    has stopped, the console's write starts from what run wrote last, not from its own stale copy."""
    path = tmp_path / "state.json"
    run = StateStore(path, exclusive=True)
    run.save_subscription(_sub("-100A"))
    console = StateStore(path)  # reads -100A
    with pytest.raises(StateBusy, match=f"{path} is in use by another kazkor process"):
        console.save_subscription(_sub("-100B"))
    with pytest.raises(StateBusy):
        StateStore(path, exclusive=True)  # a second `kazkor run` or `post-due`
    assert console.subscriptions() == [_sub("-100A")]  # reading needs no lock
    run.save_subscription(_sub("-100C"))  # run goes on; the console's copy is now stale
    run.record_delivery("telegram:-100A:k")
    run.close()

    console.save_subscription(_sub("-100B"))
    assert console.is_writer
    console.close()
    assert _channels(path) == ["-100A", "-100C", "-100B"]
    again = StateStore(path, exclusive=True)
    assert again.delivered("telegram:-100A:k")  # run's ledger survived the console's write
    again.close()


def test_only_the_writer_removes_a_killed_writers_temp_file(tmp_path):
    path = tmp_path / "state.json"
    writer = StateStore(path, exclusive=True)
    writer.save_subscription(_sub("-100A"))
    in_flight = tmp_path / ".state.json.x1y2.tmp"  # as a write in progress (or a killed one) leaves it
    in_flight.write_text("{}")
    reader = StateStore(path)  # e.g. `kazkor ask` while `kazkor run` writes
    assert in_flight.exists()
    reader.close()
    writer.close()
    StateStore(path, exclusive=True).close()  # the next writer: no other writer can own it now
    assert not in_flight.exists()
    assert _channels(path) == ["-100A"]
