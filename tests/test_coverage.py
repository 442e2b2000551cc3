"""The sentence map: every seed sentence is cited by a record or left out with a reason (issue 8)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from facts import coverage
from facts.store import load_catalogue


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def _seeds(catalogue):
    return {s.id: s for s in coverage.seed_sources(catalogue)}


def test_every_seed_has_a_map_without_problems(catalogue):
    seeds = coverage.seed_sources(catalogue)
    # every seed file shipped has a source, and so must have a map (a new seed cannot be half-curated)
    shipped = {p.name for p in (Path(__file__).parent.parent / "facts" / "seeds").glob("*.txt")}
    assert {s.file for s in seeds} == shipped and len(shipped) == 5
    for source in seeds:
        stored = coverage.read_map(source)
        assert stored, f"no coverage map for {source.file}"
        assert coverage.check_map(catalogue, source, coverage.seed_text(source), stored) == []


def test_at_least_90_percent_of_substantive_sentences_are_cited(catalogue):
    for source in coverage.seed_sources(catalogue):
        share = coverage.share(source, coverage.read_map(source))
        assert share.substantive >= 10, source.file
        assert share.percent >= 90.0, f"{source.file}: {share.percent:.1f}% cited"


def test_a_sentence_neither_cited_nor_listed_fails(catalogue):
    source = _seeds(catalogue)["korea-post-2023-09"]
    stored = copy.deepcopy(coverage.read_map(source))
    dropped = stored["sentences"].pop(
        12
    )  # "During the meeting President Tokayev outlined promising areas ..."
    problems = coverage.check_map(catalogue, source, coverage.seed_text(source), stored)
    assert any("neither cited nor listed" in p and dropped["text"][:40] in p for p in problems)


def test_a_left_out_sentence_needs_a_reason(catalogue):
    source = _seeds(catalogue)["joongang-2024-09"]
    stored = copy.deepcopy(coverage.read_map(source))
    (lock,) = [e for e in stored["sentences"] if e["text"] == "lock icon"]
    lock["left_out"] = "  "
    problems = coverage.check_map(catalogue, source, coverage.seed_text(source), stored)
    assert problems == [f"coverage/000_b333400f6de1ba63.json sentence {lock['n']}: neither cited nor listed "
                        "with a reason: 'lock icon'"]  # fmt: skip


def test_a_listed_record_must_exist_and_quote_the_sentence(catalogue):
    source = _seeds(catalogue)["seoul-summit-2021-08"]
    stored = copy.deepcopy(coverage.read_map(source))
    entry = stored["sentences"][8]  # "The Astana Times reported that ... a deal worth USD 1.7 billion ..."
    assert "USD 1.7 billion" in entry["text"]
    entry["cited_by"] = [*entry["cited_by"], "no-such-record", "evt-2019-fresh-wind-launch"]
    problems = coverage.check_map(catalogue, source, coverage.seed_text(source), stored)
    assert any("'no-such-record' does not exist" in p for p in problems)
    assert any("'evt-2019-fresh-wind-launch' does not quote it" in p for p in problems)


def test_the_deal_sentence_is_cited_by_the_agreement_and_its_figure(catalogue):
    source = _seeds(catalogue)["seoul-summit-2021-08"]
    (entry,) = [e for e in coverage.read_map(source)["sentences"] if "USD 1.7 billion" in e["text"]]
    assert {"agr-2021-08-deal-usd-1-7bn", "deal-2021-08-seoul-summit"} <= set(entry["cited_by"])


def test_sentences_split_at_full_stops_only():
    text = (
        "Tokayev also announced the upcoming nationwide referendum on Oct. 6 regarding it. Next one.\n"
        "1. Nuclear power plant construction;\n"
        "The speech by H.E. Nurgali Arystanov was given. Amb. Kairat Sarybay visited Seoul.\n"
        "South Korea is 4th (1.China, 2. Italy, 3. Russia; $6 billion). "
        "It was scheduled for October 6, 2024. Then.\n"
    )
    assert coverage.sentences(text) == [
        "Tokayev also announced the upcoming nationwide referendum on Oct. 6 regarding it.",
        "Next one.",
        "1. Nuclear power plant construction;",
        "The speech by H.E. Nurgali Arystanov was given.",
        "Amb. Kairat Sarybay visited Seoul.",
        "South Korea is 4th (1.China, 2. Italy, 3. Russia; $6 billion).",
        "It was scheduled for October 6, 2024.",
        "Then.",
    ]


def test_cli_prints_the_share_per_seed(capsys):
    from bot.cli import main

    assert main(["facts", "coverage"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["seed", "sentences", "left", "out", "substantive", "cited", "share"]
    rows = {line.split()[0]: line.split()[1:] for line in table[1:]}
    # 002 (the roundtable and the ambassador's speech): 102 sentences, 9 courtesies and headings left out
    assert rows["002_0aa375d569579910.txt"] == ["102", "9", "93", "93", "100.0%"]
    assert len(rows) == 5
