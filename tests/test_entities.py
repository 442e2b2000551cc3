"""People, organisations, projects and statements (issue 8): validated at load, answered by /who,
/projects, /search and /source, each checked against the seed sentences they cite."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from facts.model import DataError
from facts.store import load_catalogue
from tests.helpers import cited_outlets, lines, section

DATA = Path(__file__).parent.parent / "facts" / "data"
ASTANA_TIMES = "The Astana Times, Jun 2024"
DIPLOMACY_JOURNAL = "Diplomacy Journal, Sep 2024"
JOONGANG = "Korea JoongAng Daily, Sep 2024"
SEOUL_SUMMIT_2021 = "unattributed article, Aug 2021"


# -- validation at load ----------------------------------------------------------------------------


def _data_with(tmp_path, name: str, edit) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    records = json.loads((data / name).read_text(encoding="utf-8"))
    edit(records)
    (data / name).write_text(json.dumps(records), encoding="utf-8")
    return data


BAD_RECORDS = [
    ("people.json", lambda r: r[0].pop("role"),
     "people.json record 0 (id 'per-abai-kunanbaiuly'): missing field 'role'"),
    ("organisations.json", lambda r: r[0].update(type="club"),
     "organisations.json record 0 (id 'org-baiterek'): field 'type' must be one of"),
    ("projects.json", lambda r: r[0].update(value="1 bln"),
     "projects.json record 0 (id 'prj-fresh-wind'): field 'value' must be a number"),
    ("statements.json", lambda r: r[0].update(topic="gossip"),
     "statements.json record 0 (id 'st-2021-08-expand-partnership'): field 'topic'"),
    ("statements.json", lambda r: r[0].update(person="per-nobody"),
     "(id 'st-2021-08-expand-partnership'): names unknown person 'per-nobody'"),
    ("projects.json", lambda r: r[0].update(same_as="evt-none"),
     "(id 'prj-fresh-wind'): same_as names unknown record 'evt-none'"),
]  # fmt: skip


@pytest.mark.parametrize("name, edit, message", BAD_RECORDS)
def test_a_bad_record_of_a_new_kind_is_refused_naming_file_record_and_id(tmp_path, name, edit, message):
    with pytest.raises(DataError) as refused:
        load_catalogue(_data_with(tmp_path, name, edit))
    assert message in str(refused.value)


def test_records_per_kind():
    catalogue = load_catalogue()
    counts = {
        kind: len(catalogue.of_kind(kind)) for kind in ("person", "organisation", "project", "statement")
    }
    assert counts == {"person": 12, "organisation": 38, "project": 10, "statement": 56}


# -- /who -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Tokayev", "Toqayev", "Toqayey", "Kassym-Jomart Tokayev", "tokayev"])
def test_who_finds_tokayev_under_every_spelling(ask, name):
    reply = ask(f"/who {name}")
    assert reply.title == "Kassym-Jomart Tokayev: President of Kazakhstan, as of Sep 2024"
    who = section(reply, "Who").items
    assert (
        who[-1].text == "Also written: Tokayev, Toqayev, Qasym-Jomart Toqayev, Kassym-Jomart Tokayev, Tokaev"
    )
    appears = section(reply, "Appears in")
    assert int(appears.heading.split()[2]) > 40  # he is named in most records
    assert reply.footer == (
        "Newest 15 shown. Narrow them: /search Kassym-Jomart Tokayev WORD. Sources up to Sep 2024."
    )


def test_who_tells_the_former_ambassador_and_what_he_said(ask):
    reply = ask("/who Baik Joohyeon")
    assert (
        reply.title
        == "Baik Joohyeon: Former Ambassador of the Republic of Korea to Kazakhstan, as of Sep 2024"
    )
    (said,) = section(reply, "Appears in 1 record").items
    assert said.record_id == "st-2024-09-11-baik-praise"
    assert cited_outlets(reply, said) == [DIPLOMACY_JOURNAL]


def test_who_tells_an_organisation_and_what_it_does(ask):
    reply = ask("/who KITA")
    assert (
        reply.title
        == "Korea International Trade Association: business association, Republic of Korea, as of Sep 2024"
    )
    about = [i.text for i in section(reply, "Who").items]
    assert "In the sources: Co-chairs the Kazakhstan-Korea Business Council with Samruk-Kazyna" in about[1]
    ids = [i.record_id for i in section(reply, "Appears in").items]
    assert "org-samruk-kazyna" in ids and "org-business-council" in ids


def test_who_with_several_matches_asks_for_one_and_unknown_points_to_search(ask):
    several = ask("/who Korea")
    assert several.title.endswith("people and organisations match “Korea”")
    assert all(line.startswith("/who ") for line in lines(several))
    unknown = ask("/who Nazarbayev")
    assert unknown.title == "No person or organisation named “Nazarbayev” in the sources."
    assert ask("/who").kind == "usage"


# -- /projects ----------------------------------------------------------------------------------------


def test_projects_lists_partners_value_capacity_place_and_status(ask):
    reply = ask("/projects")
    by_id = {i.record_id: i for i in section(reply, "Partners").items}
    assert len(by_id) == 10
    doosan = by_id["prj-doosan-turkistan-power-plant"]
    assert doosan.text == (
        "Turkistan combined cycle power plant: Doosan Enerbility; US$1 billion; 1,000 MW; "
        "stage not stated, Sep 2024"
    )
    assert DIPLOMACY_JOURNAL in cited_outlets(reply, doosan)
    bakad = by_id["prj-bakad"]
    assert "SK Ecoplant" in bakad.text and "Almaty" in bakad.text
    assert set(cited_outlets(reply, bakad)) == {ASTANA_TIMES, DIPLOMACY_JOURNAL}
    seoultech = by_id["prj-seoultech-ai-school"].text
    assert seoultech.startswith(
        "SeoulTech AI School at Korkyt Ata University: SeoulTech, Korkyt Ata University"
    )
    assert all(len(i.visible()) <= 160 for i in by_id.values())


@pytest.mark.parametrize(
    "word, expected, outlet",
    [
        ("lithium", "prj-lithium-joint-mining", JOONGANG),
        ("Samsung", "prj-samsung-household-appliances", DIPLOMACY_JOURNAL),
        ("Busan", "prj-cargo-flights-busan-seoul", DIPLOMACY_JOURNAL),
        ("Caspian", "prj-caspian-fibre-optic-line", DIPLOMACY_JOURNAL),
        ("Alatau", "prj-alatau-city", DIPLOMACY_JOURNAL),
    ],
)
def test_projects_with_a_word(ask, word, expected, outlet):
    reply = ask(f"/projects {word}")
    (item,) = section(reply, "Partners").items
    assert item.record_id == expected
    assert cited_outlets(reply, item)[0] == outlet


def test_fresh_wind_is_a_programme_launched_not_an_agreement_signed(ask):
    (item,) = section(ask("/projects Fresh Wind"), "Partners").items
    assert item.text == "Fresh Wind programme: Kazakhstan, Republic of Korea; launched, Aug 2021"
    assert ask("/agreements 2019").title == "No agreements recorded for 2019."
    source = ask("/source prj-fresh-wind")
    assert "not named" in source.title
    assert any("names no sectors and no signed document" in line for line in lines(source))


# -- /search -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words, record_id",
    [
        ("Samsung", "org-samsung"),
        ("BAKAD", "prj-bakad"),
        ("Doosan", "org-doosan-enerbility"),
        ("uranium", "st-2024-09-resources-uranium"),
        ("cargo Busan", "prj-cargo-flights-busan-seoul"),
        ("SeoulTech", "org-seoultech"),
        ("Alatau City", "prj-alatau-city"),
        ("KITA", "org-kita"),
        ("Business Council", "org-business-council"),
        ("Baik Joohyeon", "per-baik-joohyeon"),
        ("Moon proposed", "st-2021-08-moon-joint-research"),
        ("120,000", "ethnic-koreans-2024-astana-times"),
        ("Turkistan", "prj-doosan-turkistan-power-plant"),
    ],
)
def test_search_finds_what_the_sources_name(ask, words, record_id):
    reply = ask(f"/search {words}")
    first = reply.sections[0].items[0]
    assert first.record_id == record_id
    assert reply.sections[0].heading != "Also in quoted sentences and notes"


def test_matches_in_shown_text_rank_above_matches_in_notes_and_show_what_matched(ask):
    reply = ask("/search Samsung")
    headings = [s.heading for s in reply.sections]
    assert headings[-1] == "Also in quoted sentences and notes"
    for item in section(reply, "Also in quoted sentences and notes").items:
        assert "Samsung" in item.text  # the matched sentence, not a summary without the word


def test_the_same_fact_is_not_listed_twice_under_two_kinds(ask):
    reply = ask("/search 1.7 billion deal")
    ids = [i.record_id for s in reply.sections for i in s.items]
    assert "agr-2021-08-deal-usd-1-7bn" in ids
    assert "deal-2021-08-seoul-summit" not in ids  # the figure restates the agreement
    doosan = [i.record_id for s in ask("/search Doosan 1,000 MW").sections for i in s.items]
    assert "prj-doosan-turkistan-power-plant" in doosan and "doosan-plant-capacity-2024" not in doosan


# -- /source SOURCE-ID ----------------------------------------------------------------------------------


def test_source_id_lists_what_the_source_backs(ask):
    reply = ask("/source seoul-summit-2021-08")
    assert reply.title.startswith("unattributed article, Aug 2021: Kazakhstan and South Korea hold summit")
    agreements = section(reply, "Agreements (2)").items
    assert {i.record_id for i in agreements} == {"agr-2021-08-deal-usd-1-7bn", "agr-2021-08-joint-statement"}
    assert "Seed file 004_0daa704616f65bc5.txt" in lines(reply)
    total = int(reply.footer.split()[0])
    assert total == len([i for s in reply.sections[1:] for i in s.items])


def test_outside_sources_say_where_to_look_them_up(ask):
    mpva = ask("/source mpva-rok-hong-beom-do")
    assert mpva.title.startswith(
        "Ministry of Patriots and Veterans Affairs of the Republic of Korea, 15 Aug 2021"
    )
    assert any("https://www.koreaherald.com/view.php?ud=20210815000274" in line for line in lines(mpva))
    mofa = ask("/source mofa-rok")
    look_up = "Look it up: data of the Korean Embassy in Kazakhstan (MOFA) on KOTRA's Kazakhstan country page"
    assert look_up in lines(mofa)
    assert any(line.startswith("https://news.kotra.or.kr/") for line in lines(mofa))
    assert {i.record_id for i in section(mofa, "Events").items} >= {"evt-1992-01-28-diplomatic-relations"}


# -- /timeline founding events and derived milestones -------------------------------------------------


def test_timeline_1992_names_the_establishment_of_diplomatic_relations(ask):
    reply = ask("/timeline 1992")
    (item,) = section(reply, "Events").items
    assert item.text.startswith(
        "28 Jan 1992 — Kazakhstan and the Republic of Korea establish diplomatic relations"
    )
    assert cited_outlets(reply, item)[0] == "Ministry of Foreign Affairs of the Republic of Korea"


def test_timeline_2009_names_the_strategic_partnership_at_year_precision(ask):
    reply = ask("/timeline 2009")
    (item,) = section(reply, "Events").items
    assert item.text.startswith(
        "2009 — Kazakhstan and the Republic of Korea become strategic partners (derived)"
    )
    assert cited_outlets(reply, item) == [ASTANA_TIMES]


def test_timeline_2022_has_the_30th_anniversary_marked_derived_and_why(ask):
    reply = ask("/timeline 2022")
    (item,) = section(reply, "Events").items
    assert item.text.startswith(
        "28 Jan 2022 — 30th anniversary of Kazakhstan–Korea diplomatic relations (derived: 1992 + 30)"
    )
    assert "derived: 1992 + 30" in item.text
    assert SEOUL_SUMMIT_2021 in cited_outlets(reply, item)


# -- corrections -------------------------------------------------------------------------------------


def test_plans_for_2024_and_2025_are_told_as_planned_with_no_outcome(ask):
    reply = ask("/timeline 2025", when="2026-11-30T09:00:00+05:00")  # read after the plans' dates
    items = section(reply, "Events").items
    assert {i.record_id for i in items} == {
        "evt-2025-c5k-summit-seoul",
        "evt-2025-caspian-fiber-optic-line",
        "evt-2025-national-ai-centre-astana",
    }
    for item in items:
        assert item.text.endswith("(planned as of Sep 2024; outcome not reported)")
    ministerial = ask("/source evt-2024-c5k-ministerial-seoul")
    assert ministerial.title.endswith("planned for 2024 as of Sep 2024; outcome not reported.")


def test_the_1_7_billion_deal_was_signed_by_the_two_countries(ask):
    reply = ask("/source agr-2021-08-deal-usd-1-7bn")
    assert "the two countries signed a deal worth US$1.7 billion" in reply.title
    assert (
        "“The Astana Times reported that Kazakhstan and South Korea signed a deal worth USD 1.7 billion"
        in (section(reply, "What the source says").items[0].text)
    )
    event = ask("/source evt-2021-08-tokayev-state-visit-seoul").title
    assert "the countries a US$1.7 billion deal" in event


def test_toqayev_is_the_official_spelling_and_only_toqayey_a_typo(ask):
    note = " ".join(lines(ask("/source per-kassym-jomart-tokayev")))
    assert "'Toqayev' (004) is the official Kazakh Latin spelling" in note
    assert "'Toqayey' is a typo" in note
    source_note = load_catalogue().sources["seoul-summit-2021-08"].note
    assert "misspell" not in source_note and "'Toqayey' (a typo)" in source_note


def test_the_four_billion_of_2021_is_a_figure_shared_at_a_press_conference(ask):
    reply = ask("/source trade-2021-seoul-summit")
    assert reply.title == (
        "Tokayev shared a trade figure of US$4 billion at a press conference during his Aug 2021 "
        "Seoul visit; period not given."
    )


def test_help_lists_who_and_projects(ask):
    text = lines(ask("/help"))
    assert any(
        line.startswith("/who — a person or organisation") and "/who Arystanov" in line for line in text
    )
    assert any(line.startswith("/projects — joint projects") for line in text)


def test_projects_lists_the_newest_20_and_says_how_many_more(make_ctx, catalogue):
    import dataclasses

    from bot.commands import handle_text
    from facts.model import Citation, PartialDate, Project

    grown = load_catalogue()
    cite = (Citation("mofa-rok", "synthetic"),)
    grown.add_many(
        (Project(f"prj-syn-{n}", f"Synthetic plant {n}", cite, name=f"Plant {n}", partners=("A",),
                 sector="energy", status="planned", as_of=PartialDate(1990 + n % 30)), "test")
        for n in range(30)
    )  # fmt: skip
    ctx = dataclasses.replace(make_ctx(), catalogue=grown)
    reply = handle_text("/projects energy", ctx)
    items = section(reply, "Partners").items
    assert len(items) == 20
    assert reply.footer.startswith("Status is as of the source's date")
    assert " 11 more, older: add a word" in reply.footer  # 30 synthetic + the Turkistan plant = 31


def test_an_anniversary_is_not_listed_beside_the_event_it_restates(ask):
    ids = [i.record_id for s in ask("/search diplomatic relations 1992").sections for i in s.items]
    assert "evt-1992-01-28-diplomatic-relations" in ids
    assert "ann-1992-01-28-diplomatic-relations" not in ids  # the same founding fact, as an anniversary
