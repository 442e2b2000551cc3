"""Checks on the curated fact data in facts/data/*.json against the schema and the seed articles."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from facts.model import build_record

ROOT = Path(__file__).parent.parent / "facts"
DATA = ROOT / "data"
SEEDS = ROOT / "seeds"
FILES = {
    "sources.json": "source",
    "figures.json": "figure",
    "agreements.json": "agreement",
    "events.json": "event",
    "anniversaries.json": "anniversary",
}


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@cache
def _raw(name: str) -> list[dict]:
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    assert isinstance(data, list), f"{name} must be a JSON list"
    return data


@cache
def _records(name: str) -> tuple:
    return tuple(build_record(FILES[name], raw, f"{name} record {i}") for i, raw in enumerate(_raw(name)))


def _by_id(name: str) -> dict:
    return {r.id: r for r in _records(name)}


def _seed_text(source) -> str:
    return _collapse((SEEDS / source.file).read_text(encoding="utf-8"))


# --- 1. schema, ids and references ----------------------------------------------------------------


def test_every_record_builds():
    for name in FILES:
        assert _records(name), f"{name} is empty"


def test_ids_unique_across_files():
    seen: dict[str, str] = {}
    for name in FILES:
        for rec in _records(name):
            assert rec.id not in seen, f"id {rec.id!r} in {name} already used in {seen[rec.id]}"
            seen[rec.id] = name


def test_citations_name_known_sources():
    sources = _by_id("sources.json")
    for name in FILES:
        if name == "sources.json":
            continue
        for rec in _records(name):
            for c in rec.cite:
                assert c.source in sources, f"{name} {rec.id}: unknown source {c.source!r}"


def test_occasion_and_event_name_events():
    events = _by_id("events.json")
    for rec in _records("agreements.json"):
        assert rec.occasion is None or rec.occasion in events, f"{rec.id}: unknown occasion {rec.occasion!r}"
    for rec in _records("anniversaries.json"):
        assert rec.event is None or rec.event in events, f"{rec.id}: unknown event {rec.event!r}"


def test_sources_shape():
    sources = _records("sources.json")
    seeds = [s for s in sources if s.kind == "seed"]
    assert sorted(s.file for s in seeds) == sorted(p.name for p in SEEDS.glob("*.txt"))
    for s in seeds:
        assert s.published is not None, s.id
    assert {s.id for s in seeds} == {
        "joongang-2024-09",
        "astana-times-2024-06",
        "diplomacy-journal-2024-09",
        "korea-post-2023-09",
        "seoul-summit-2021-08",
    }
    outside = [s for s in sources if s.kind == "outside"]
    assert "mofa-rok" in {s.id for s in outside}
    for s in outside:
        assert s.file is None and s.note, s.id


def test_records_ordered_by_date():
    for name in FILES:
        if name == "sources.json":
            keys = [(s.published is None, s.published and s.published.first_day()) for s in _records(name)]
            assert [k[0] for k in keys] == sorted(k[0] for k in keys), "undated sources go last"
            dated = [k[1] for k in keys if not k[0]]
        else:
            dated = [r.sort_date() for r in _records(name)]
        assert dated == sorted(dated), f"{name} is not ordered by date"


def test_files_pretty_printed():
    for name in FILES:
        text = (DATA / name).read_text(encoding="utf-8")
        expected = json.dumps(_raw(name), indent=2, ensure_ascii=False) + "\n"
        assert text == expected, f"{name} is not 2-space pretty-printed"


# --- 2. quotes are verbatim -----------------------------------------------------------------------


def test_seed_quotes_are_verbatim():
    sources = _by_id("sources.json")
    for name in FILES:
        if name == "sources.json":
            continue
        for rec in _records(name):
            for c in rec.cite:
                src = sources[c.source]
                if src.kind != "seed":
                    continue
                assert _collapse(c.quote) in _seed_text(src), (
                    f"{name} {rec.id}: quote not in {src.file}: {c.quote!r}"
                )


# --- 3. content spot-checks -----------------------------------------------------------------------


def _figures(metric: str) -> list:
    return [f for f in _records("figures.json") if f.metric == metric]


def test_trade_turnover_figures():
    trade = _figures("trade_turnover")

    def find(year: str, source: str):
        hits = [f for f in trade if f.as_of.iso() == year and source in f.sources]
        assert hits, f"no trade figure for {year} from {source}"
        return hits

    # 004: "During a press conference, ... Toqayev shared the number USD 4 Billion": stated in Aug 2021,
    # for no stated period (not a full-year 2021 turnover)
    (t21,) = find("2021-08", "seoul-summit-2021-08")
    assert t21.value == 4e9 and t21.unit == "USD" and not t21.inferred
    assert "period not given" in t21.summary and "press conference" in t21.summary
    (t22,) = find("2022", "korea-post-2023-09")
    assert t22.value == 6e9 and t22.qualifier == "more_than"
    assert "last year" in t22.phrase
    for source in ("astana-times-2024-06", "diplomacy-journal-2024-09"):
        for f in find("2023", source):
            # 001 and 002 say "$6 billion" with no year: 2023 is inferred, and the answer says so
            assert f.value == 6e9 and f.unit == "USD" and f.inferred
            assert "no year given (2023 inferred)" in f.summary


def _stated(metric: str) -> set[tuple]:
    """(value, unit, qualifier, as-of, sources) of every figure of ``metric``."""
    return {(f.value, f.unit, f.qualifier, f.as_of.iso(), f.sources) for f in _figures(metric)}


def test_rank_figures():
    # 001 (Jun 2024) "ranks fourth in foreign trade turnover ... among the country's top ten foreign
    # investors"; 002 (Sep 2024) "4th largest trade partner (1.China, 2. Italy, 3. Russia ...) and 5th
    # largest investor (1.Netherlands, 2. Russia, 3. Switzerland, 4. China ...)"; 003 (Sep 2023) "among the
    # top 10 major investors"
    assert _stated("trade_rank") == {
        (4, "rank", "exact", "2023", ("astana-times-2024-06",)),
        (4, "rank", "exact", "2023", ("diplomacy-journal-2024-09",)),
    }
    # neither 001 nor 002 gives the trade rank a year: 2023 is inferred from the turnover beside it
    for f in _figures("trade_rank"):
        assert f.inferred and "no year given (2023 inferred)" in f.summary, f.id
        assert "2023" not in f.summary.replace("(2023 inferred)", ""), f.id
    assert {f.sources: f.ranked_above for f in _figures("trade_rank")} == {
        ("astana-times-2024-06",): (),
        ("diplomacy-journal-2024-09",): ("China", "Italy", "Russia"),
    }
    assert _stated("investor_rank") == {
        (10, "rank", "at_least", "2023", ("korea-post-2023-09",)),
        (10, "rank", "at_least", "2024", ("astana-times-2024-06",)),
        (5, "rank", "exact", "2024", ("diplomacy-journal-2024-09",)),
    }
    (fifth,) = [f for f in _figures("investor_rank") if f.value == 5]
    assert fifth.ranked_above == ("Netherlands", "Russia", "Switzerland", "China")


def test_investment_figures_keep_both_totals():
    cumulative = {(f.value, f.as_of.iso(), f.qualifier) for f in _figures("investment_cumulative")}
    assert (8e9, "2023", "more_than") in cumulative
    assert (9.9e9, "2024", "exact") in cumulative
    annual = _figures("investment_annual")
    assert any(f.value == 1.2e9 and f.as_of.iso() == "2023" for f in annual)


def test_company_counts_keep_550_and_700():
    # 004 (Aug 2021) "more than 550 Korean enterprises"; 003 (Sep 2023) "more than 700 Korean companies";
    # 001 (Jun 2024) "over 700 joint ventures"
    assert _stated("companies_present") == {
        (550, "count", "more_than", "2021", ("seoul-summit-2021-08",)),
        (700, "count", "more_than", "2023", ("korea-post-2023-09",)),
    }
    assert _stated("joint_ventures") == {(700, "count", "more_than", "2024", ("astana-times-2024-06",))}


def test_people_to_people_figures():
    # 001: "the 120,000 ethnic Koreans in Kazakhstan", "over 1,000 Kazakh students studying in South Korea";
    # 002: "Currently, 15 flights a week ...", "Last year, Koreans visiting Kazakhstan more than doubled,
    # while Kazakhs visiting Korea for medical purposes increased by 62%."
    assert _stated("ethnic_koreans") == {(120000, "count", "exact", "2024", ("astana-times-2024-06",))}
    assert _stated("students") == {(1000, "count", "more_than", "2024", ("astana-times-2024-06",))}
    assert _stated("weekly_flights") == {(15, "count", "exact", "2024-09", ("diplomacy-journal-2024-09",))}
    assert _stated("visitors") == {
        (2, "ratio", "more_than", "2023", ("diplomacy-journal-2024-09",)),
        (62, "percent", "exact", "2023", ("diplomacy-journal-2024-09",)),
    }


def test_deal_and_project_figures():
    # 004: "a deal worth USD 1.7 billion during the two day visit", "24 more projects";
    # 002: "Doosan Enerbility's on 1,000 MW combined cycle power plant ... for $1 bln."
    assert _stated("deal_value") == {
        (1.7e9, "USD", "exact", "2021-08", ("seoul-summit-2021-08",)),
        (1e9, "USD", "exact", "2024", ("diplomacy-journal-2024-09",)),
    }
    assert _stated("projects") == {(24, "count", "exact", "2021", ("seoul-summit-2021-08",))}


def test_june_2024_agreement_package():
    package = [a for a in _records("agreements.json") if a.date.iso() == "2024-06-12"]
    assert len(package) == 12  # the twelve documents 001 lists for 12 June (000's lithium one is Jun 2024)
    assert all(a.occasion == "evt-2024-06-12-yoon-state-visit-astana" for a in package)
    assert sum(a.type == "joint_statement" for a in package) == 1
    sectors = {a.sector for a in package}
    assert {"energy", "critical minerals", "forestry"} <= sectors


def test_referendum_event():
    events = _by_id("events.json")
    ref = events["evt-2024-10-06-referendum"]
    assert ref.type == "referendum" and ref.date.iso() == "2024-10-06" and ref.announced is False
    assert not any("referendum" in a.title.lower() for a in _records("anniversaries.json"))


def test_state_of_the_nation_address_date():
    addresses = [e for e in _records("events.json") if e.type == "address"]
    assert [e.date.iso() for e in addresses] == ["2024-09-02"]
    assert addresses[0].note and "Monday" in addresses[0].note


def test_hong_beom_do_correction():
    corrected = [
        r
        for name in ("agreements.json", "events.json")
        for r in _records(name)
        if r.correction and "Hong Beom-do" in r.correction
    ]
    assert corrected, "the 'Hong Kong' garble must be corrected"
    for rec in corrected:
        assert any("Hong Kong" in c.quote for c in rec.cite), "the garbled quote stays verbatim"
    repatriation = _by_id("events.json")["evt-2021-08-15-hong-beom-do-repatriation"]
    assert repatriation.date.iso() == "2021-08-15"


def test_anniversaries():
    anns = _by_id("anniversaries.json")
    dip = anns["ann-1992-01-28-diplomatic-relations"]
    assert dip.date.iso() == "1992-01-28"
    assert dip.title == "diplomatic relations between Kazakhstan and the Republic of Korea"
    assert {"mofa-rok", "seoul-summit-2021-08"} <= set(dip.sources)
    assert anns["ann-2009-strategic-partnership"].date.iso() == "2009"
    assert anns["ann-2024-06-12-yoon-state-visit-astana"].event == "evt-2024-06-12-yoon-state-visit-astana"


def test_announced_milestones_keep_year_precision():
    events = _by_id("events.json")
    for eid in (
        "evt-2025-c5k-summit-seoul",
        "evt-2025-national-ai-centre-astana",
        "evt-2025-caspian-fiber-optic-line",
    ):
        assert events[eid].announced is True
        assert events[eid].date.precision == "year" and events[eid].date.year == 2025
