"""Each command's answer checked against the seeds: the right figure, year, citation and order."""

from __future__ import annotations

import re

import pytest

from bot.bootstrap.context import COMMANDS
from bot.commands import parse
from bot.commands.parse import MAX_INPUT
from bot.render.plain import render_plain
from tests.helpers import cited_outlets, lines, section

ASTANA_TIMES = "The Astana Times, Jun 2024"
DIPLOMACY_JOURNAL = "Diplomacy Journal, Sep 2024"
KOREA_POST = "The Korea Post, Sep 2023"
SEOUL_SUMMIT_2021 = "unattributed article, Aug 2021"


# -- /trade ---------------------------------------------------------------------------------------


def test_trade_leads_with_latest_turnover_its_year_rank_and_both_sources(ask):
    reply = ask("/trade")
    assert reply.kind == "answer"
    turnover = section(reply, "Trade turnover, newest first").items[0]
    # 001 and 002 give "$6 billion" with no year: the line says the year shown is inferred
    assert turnover.text == (
        "2023 (year inferred) — US$6 billion: “has reached $6 billion” / “a trade turnover of $6 billion”"
    )
    assert set(cited_outlets(reply, turnover)) == {ASTANA_TIMES, DIPLOMACY_JOURNAL}
    rank = next(i for i in section(reply, "Korea's rank").items if "trade partner" in i.text)
    assert set(cited_outlets(reply, rank)) == {ASTANA_TIMES, DIPLOMACY_JOURNAL}
    # both say "fourth"; only the Diplomacy Journal names the partners above Korea, and the line says so.
    # Neither gives the rank a year: it is the (inferred) year of the turnover stated with it, and says so
    journal = next(c.number for c in reply.citations if c.label == DIPLOMACY_JOURNAL)
    assert rank.text.startswith(
        f"2023 (year inferred) — Korea 4th trade partner, after China, Italy, Russia (named by [{journal}])"
    )


def test_trade_with_extra_words_answers_and_says_what_it_ignored(ask):
    reply = ask("/trade 2023")
    assert reply.sections == ask("/trade").sections
    assert reply.footer.startswith("/trade takes no words and shows every year; ignored: “2023”.")


def test_trade_shows_each_turnover_once_newest_first_with_its_own_source_and_phrasing(ask):
    reply = ask("/trade")
    history = section(reply, "Trade turnover, newest first").items
    assert [item.text.split(":")[0] for item in history] == [
        "2023 (year inferred) — US$6 billion",  # 001 and 002 give no year
        "2022 — more than US$6 billion",
        "Aug 2021 — US$4 billion (stated then; period not given)",
    ]
    assert cited_outlets(reply, history[1]) == [KOREA_POST]
    assert history[1].text.endswith("“exceeding US$6 billion last year”")
    assert cited_outlets(reply, history[2]) == [SEOUL_SUMMIT_2021]
    # the latest turnover is not repeated anywhere else in the answer, nor is any other figure
    shown = [i.record_id for s in reply.sections for i in s.items]
    assert len(shown) == len(set(shown))
    assert sum("— US$6 billion:" in i.text for s in reply.sections for i in s.items) == 1


def test_trade_shows_conflicting_investment_totals_side_by_side(ask):
    reply = ask("/trade")
    investment = section(reply, "Korean investment in Kazakhstan")
    assert investment.note and "differ" in investment.note
    by_text = {item.text: item for item in investment.items}
    # the two totals disagree: each stays, with its own year, phrasing and (only its own) source
    assert list(by_text) == [
        "2024 — US$9.9 billion in total: “$9.9 billion overall”",
        "2023 — more than US$8 billion in total: “exceeded US$8 billion”",
        "2023 — US$1.2 billion in the year: “having infused $1.2 billion in the Kazakh economy in 2023”",
    ]
    nine, eight, annual = investment.items
    assert cited_outlets(reply, eight) == [KOREA_POST]
    assert cited_outlets(reply, nine) == [DIPLOMACY_JOURNAL]
    assert cited_outlets(reply, annual) == [DIPLOMACY_JOURNAL]
    fifth = next(i for i in section(reply, "Korea's rank").items if "5th" in i.text)
    assert fifth.text == (
        "2024 — Korea 5th investor, after Netherlands, Russia, Switzerland, China: “5th largest investor”"
    )
    assert cited_outlets(reply, fifth) == [DIPLOMACY_JOURNAL]


def test_trade_lists_the_korean_companies_present_each_year_with_its_source(ask):
    reply = ask("/trade")
    companies = section(reply, "Korean companies in Kazakhstan")
    assert [i.text for i in companies.items] == [
        "2024 — More than 700 joint ventures with Korean capital operated in Kazakhstan in 2024",
        "2023 — More than 700 Korean companies and joint ventures were operating in Kazakhstan in 2023",
        "2021 — More than 550 Korean enterprises were present in Kazakhstan in 2021",
    ]
    assert [cited_outlets(reply, i) for i in companies.items] == [
        [ASTANA_TIMES],
        [KOREA_POST],
        [SEOUL_SUMMIT_2021],
    ]
    assert companies.note == "Figures differ by year and source: each is shown with its own."


def test_trade_lists_the_large_deals_with_year_and_source(ask):
    reply = ask("/trade")
    doosan, seoul = section(reply, "Large deals").items
    assert doosan.text == (
        "2024 — Doosan Enerbility's 1,000 MW combined-cycle power plant project in the Turkistan region "
        "is worth US$1 billion"
    )
    assert cited_outlets(reply, doosan) == [DIPLOMACY_JOURNAL]
    # signed by "the two countries" (004), not by the two presidents
    assert seoul.text.startswith("Aug 2021 — The two countries signed a deal worth US$1.7 billion")
    assert cited_outlets(reply, seoul) == [SEOUL_SUMMIT_2021]


def test_every_trade_line_cites_a_numbered_source_in_the_footer(ask):
    reply = ask("/trade")
    text = render_plain(reply)
    numbers = {c.number for c in reply.citations}
    for item in (i for s in reply.sections for i in s.items):
        assert item.refs and set(item.refs) <= numbers
    assert "Sources:" in text and "[1] " in text


# -- /agreements ----------------------------------------------------------------------------------


def test_agreements_2024_groups_the_state_visit_package(ask):
    reply = ask("/agreements 2024")
    assert reply.title == "Agreements signed in 2024 (14)"
    visit = section(reply, "12 Jun 2024 — President Yoon Suk Yeol's state visit to Astana")
    # the twelve documents of 12 June 2024 that 001 lists, plus the lithium document 000 names (June):
    # the occasion's date is in the heading, so only the one dated otherwise repeats a date
    assert sorted(i.text for i in visit.items) == sorted(
        [
            "Jun 2024 — Memorandum: Joint mining for lithium deposits and technology cooperation for rare "
            "metals — critical minerals",
            "MoU on cooperation in banking supervision",
            "Memorandum on comprehensive cooperation in critical minerals and metals",
            "MoU on comprehensive cooperation in the electric power industry",
            "MoU on cooperation in employment and labor",
            "Agreement on cooperation in the energy industry",
            "MoU on forestry cooperation",
            "Joint statement of Presidents Tokayev and Yoon — bilateral relations",
            "MoU on cooperation in knowledge exchange and development",
            "Agreement on cooperation in the oil, gas and petrochemical sectors",
            "MoU on cooperation in accordance with Article 6 of the Paris Agreement — climate",
            "MoU on cooperation in personnel management in the public service — public administration",
            "MoU on cooperation in science and technology",
        ]
    )
    forestry = next(i for i in visit.items if i.text == "MoU on forestry cooperation")
    assert set(cited_outlets(reply, forestry)) == {ASTANA_TIMES, DIPLOMACY_JOURNAL}
    paris = next(i for i in visit.items if "Article 6 of the Paris Agreement" in i.text)
    assert cited_outlets(reply, paris) == [ASTANA_TIMES]


def test_agreements_without_year_answers_for_the_latest_year(ask):
    assert ask("/agreements").title == ask("/agreements 2024").title


def test_agreements_2021_has_the_seoul_summit_documents_and_the_corrected_joint_statement(ask):
    reply = ask("/agreements 2021")
    assert lines(reply) == [
        "Deal worth USD 1.7 billion signed during Tokayev's visit to Seoul — trade and investment",
        "Joint statement of the August 2021 Kazakhstan–Korea summit — bilateral relations",
    ]
    assert all(
        cited_outlets(reply, i)[0].endswith(SEOUL_SUMMIT_2021) for s in reply.sections for i in s.items
    )
    # the seed's garble stays quoted as it is, and the user is told what is right
    source = ask("/source agr-2021-08-joint-statement")
    (quote,) = section(source, "What the source says").items
    assert "the return of Hong Kong’s remains" in quote.text
    assert cited_outlets(source, quote)[0].endswith(SEOUL_SUMMIT_2021)
    (correction, _) = section(source, "Curator's notes").items
    assert correction.text.startswith(
        "Correction: The seed says 'the return of Hong Kong’s remains'; this is a garble for the "
        "repatriation of the remains of Korean independence fighter Hong Beom-do from Kazakhstan (15 Aug 2021"
    )


def test_agreements_for_a_year_with_none_lists_the_years_that_have_some(ask):
    reply = ask("/agreements 1995")
    assert reply.title == "No agreements recorded for 1995."
    assert lines(reply) == ["2021, 2024"]  # 2019 held a programme launched, not an agreement signed


@pytest.mark.parametrize(
    "text, problem",
    [
        ("/agreements abc", "'abc' is not a year."),
        ("/agreements 20245", "'20245' is not a year."),
        ("/agreements 0000", "0 is outside 1900–2100."),
        ("/agreements 2024 please", "Too many words"),
        ("/agreements ²⁰²⁴", "'²⁰²⁴' is not a year."),  # superscripts pass str.isdigit() but not int()
    ],
)
def test_agreements_bad_input_gets_a_one_line_hint_with_an_example(ask, text, problem):
    reply = ask(text)
    assert reply.kind == "usage" and not reply.public
    assert reply.title.startswith(problem)
    assert lines(reply) == ["/agreements 2024"]


# -- /timeline and /upcoming ------------------------------------------------------------------------


def test_timeline_is_in_date_order_and_includes_the_referendum(ask, catalogue):
    reply = ask("/timeline")
    items = reply.sections[0].items
    dates = [catalogue.by_id[i.record_id].date.first_day() for i in items]
    assert dates == sorted(dates)
    assert any(
        i.text.startswith("6 Oct 2024 — Nationwide referendum on building a nuclear power plant")
        for i in items
    )


def test_timeline_for_one_year_holds_only_that_year(ask, catalogue):
    reply = ask("/timeline 2023")
    ids = [i.record_id for i in reply.sections[0].items]
    assert ids == ["evt-2023-09-20-tokayev-yoon-new-york"]
    assert reply.sections[0].items[0].text.startswith("20 Sep 2023")


def test_upcoming_sees_the_referendum_a_week_ahead_in_almaty(ask):
    reply = ask("/upcoming 10", when="2024-09-29T10:00:00+05:00")
    assert lines(reply) == [
        "6 Oct 2024 — Nationwide referendum on building a nuclear power plant in Kazakhstan"
    ]
    assert reply.title == "Coming up, 29 Sep 2024 to 9 Oct 2024 (Asia/Almaty)"


def test_upcoming_marks_the_35th_anniversary_of_diplomatic_relations_as_a_milestone(ask):
    reply = ask("/upcoming", when="2027-01-10T09:00:00+05:00")
    assert lines(reply) == [
        "28 Jan 2027 — 35th anniversary of diplomatic relations (28 Jan 1992), a milestone"
    ]
    assert [c.label for c in reply.citations] == [
        "Ministry of Foreign Affairs of the Republic of Korea",
        "unattributed article, Aug 2021",
    ]


def test_upcoming_with_nothing_due_says_so_in_good_english(ask):
    reply = ask("/upcoming 1", when="2024-11-01T09:00:00+05:00")
    assert [i.text for i in section(reply, "Nothing due").items] == [
        "No anniversaries or events in the next 1 day."
    ]
    # and the first one after the window, so "nothing" is not the whole answer
    (after,) = section(reply, "Next after that").items
    assert after.text == "28 Jan 2025 — 33rd anniversary of diplomatic relations (28 Jan 1992)"
    assert reply.footer == "Look further ahead: /upcoming 366. Sources up to Aug 2021."


def test_upcoming_shows_month_and_year_dates_without_a_made_up_day(ask):
    reply = ask("/upcoming 366", when="2026-11-25T09:00:00+05:00")
    assert lines(reply) == [
        "28 Jan 2027 — 35th anniversary of diplomatic relations (28 Jan 1992), a milestone",
        "12 Jun 2027 — 3rd anniversary of President Yoon Suk Yeol's state visit to Astana (12 Jun 2024)",
        # too long with its id even without the origin date: clipped at a word, the id leads to the rest
        "Aug 2027 — 6th anniversary of President Kassym-Jomart Tokayev's visit to Seoul and summit with "
        "President Moon…",
        "2027 — 18th anniversary of the strategic partnership (2009); day not known",
    ]
    year_only = section(reply, "Known only to the year")
    assert (
        year_only.note
        == "The sources give the year, not the day: listed for windows covering most of that year."
    )


@pytest.mark.parametrize(
    ("when", "days", "listed"),
    [
        ("2027-01-01T09:00:00+05:00", 30, False),  # a short window: "sometime in 2027" is not "soon"
        ("2027-01-01T09:00:00+05:00", 181, False),  # 1 Jan to 1 Jul: 182 of 365 days, not more than half
        ("2027-01-01T09:00:00+05:00", 182, True),  # 1 Jan to 2 Jul: 183 days, more than half of 2027
        ("2026-12-01T09:00:00+05:00", 366, True),  # most of 2027 (not of 2026): the 18th, once
        ("2027-07-15T09:00:00+05:00", 366, True),  # most of 2028 (not of 2027): the 19th, once
    ],
)
def test_the_year_only_partnership_is_kept_out_of_short_windows(ask, when, days, listed):
    reply = ask(f"/upcoming {days}", when=when)
    found = [t for t in lines(reply) if "strategic partnership" in t]
    assert bool(found) is listed
    assert len(found) <= 1
    if listed:
        ordinal = "19th" if when.startswith("2027-07") else "18th"
        assert found[0].endswith(f"{ordinal} anniversary of the strategic partnership (2009); day not known")
        item = next(i for s in reply.sections for i in s.items if "strategic partnership" in i.text)
        assert cited_outlets(reply, item) == [ASTANA_TIMES]


@pytest.mark.parametrize("text", ["/upcoming 400", "/upcoming 99999999999999999999"])
def test_upcoming_beyond_the_maximum_answers_for_366_days_and_says_so(ask, text):
    reply = ask(text, when="2026-11-25T09:00:00+05:00")
    assert reply.kind == "answer"
    assert reply.title == "Coming up, 25 Nov 2026 to 26 Nov 2027 (Asia/Almaty): the longest window, 366 days"
    assert reply.footer.startswith("/upcoming looks at most 366 days ahead; asked for ")
    assert lines(reply) == lines(ask("/upcoming 366", when="2026-11-25T09:00:00+05:00"))


@pytest.mark.parametrize("text", ["/upcoming 0", "/upcoming soon", "/upcoming 5 6", "/upcoming ²"])
def test_upcoming_bad_days(ask, text):
    reply = ask(text)
    assert reply.kind == "usage" and lines(reply) == ["/upcoming 60"]


# -- /search and /source ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [
        ("/search Tokayev New York", "/search Toqayev New York"),
        ("/search Yoon Suk Yeol Astana", "/search Yoon Suk-yeol Astana"),
        ("/search Astana 2021", "/search Nur-Sultan 2021"),
    ],
)
def test_search_is_tolerant_of_name_variants(ask, a, b):
    first, second = ask(a), ask(b)
    assert first.kind == "answer"
    ids = [i.record_id for i in (i for s in first.sections for i in s.items)]
    assert ids and ids == [i.record_id for i in (i for s in second.sections for i in s.items)]


def test_search_finds_the_new_york_meeting(ask):
    reply = ask("/search Toqayev New York")
    ids = [i.record_id for s in reply.sections for i in s.items]
    assert "evt-2023-09-20-tokayev-yoon-new-york" in ids


def test_search_corrects_a_misspelling(ask):
    reply = ask("/search lithuim")
    hit = section(reply, "Agreements").items[0]
    assert hit.record_id == "agr-2024-06-lithium-rare-metals"
    assert cited_outlets(reply, hit) == ["Korea JoongAng Daily, Sep 2024"]
    (project,) = section(reply, "Projects").items
    assert project.record_id == "prj-lithium-joint-mining"
    assert reply.footer == (
        "Searched for: lithium. The full sentence behind a line: /source ID (the id after ·). "
        "Sources up to Sep 2024."
    )


@pytest.mark.parametrize("words", ["the", "🇰🇿"])  # Korean, Russian and Kazakh words are searched
def test_search_with_no_searchable_word_says_why(ask, words):
    reply = ask(f"/search {words}")
    assert reply.kind == "usage"
    assert reply.title.startswith(
        f"Nothing to search for in “{words}”: try a name or a topic."
    )


def test_invisible_and_control_characters_are_dropped_before_parsing(ask):
    assert ask("\u200b/trade").title == ask("/trade").title == "Kazakhstan–Korea trade and investment"
    assert ask("\ufeff/agreements 20\u200b24").title == ask("/agreements 2024").title
    # an escape sequence is not echoed back to drive the reader's terminal
    assert ask("/foo\x1b]0;pwned\x07").title == "Unknown command /foo]0;pwned. See /help for the list."


BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.mark.parametrize("control", list(BIDI_CONTROLS))
def test_bidi_controls_are_not_echoed_into_answers(ask, control):
    """ "/search" echoes its words into a public answer: a right-to-left override would show the channel
    reversed, spoofable text (issue 10, item 6)."""
    from bot.render.plain import render_plain
    from bot.render.slack import render_slack
    from bot.render.telegram import render_telegram

    reply = ask(f"/search {control}zebra{control} lithium")
    assert reply.title == "Nothing matches “zebra lithium”."
    hit = ask(f"/search lith{control}ium")
    assert hit.title == "3 results for “lithium”"  # the agreement, the project and a statement
    rendered = [render_plain(reply), repr(render_slack(reply)), *render_telegram(reply)]
    assert not [text for text in rendered if any(c in text for c in BIDI_CONTROLS)]


def test_search_with_no_hit_says_so(ask):
    reply = ask("/search zebra giraffe")
    assert reply.title == "Nothing matches “zebra giraffe”."


def test_search_for_an_amount_matches_the_amount_not_a_lists_numbering(ask):
    # 004: "Toqayev shared the number USD 4 Billion"; 002's "(1.China, 2. Italy, 3. Russia; $6 billion)"
    # and "4. China; $9.9 billion" hold a "4" and a "billion" but no US$4 billion
    reply = ask("/search 4 billion")
    ids = [item.record_id for s in reply.sections for item in s.items]
    assert ids == ["trade-2021-seoul-summit", "per-kassym-jomart-tokayev"], render_plain(reply)
    assert reply.title == "2 results for “4 billion”"
    # a figure's value counts: Korea's rank 4 ("4th", "fourth") is found by /search 4, 002's "4. China" is not
    ranks = {i.record_id for s in ask("/search 4").sections for i in s.items}
    assert {"trade-rank-2023-astana-times", "trade-2021-seoul-summit"} <= ranks
    assert "investment-cumulative-2024-diplomacy-journal" not in ranks
    # a decimal is one number, and the matched words shown are the amount's, not a list's "1."
    reply = ask("/search 1.2 billion")
    assert "trade-rank-2023-diplomacy-journal" in {i.record_id for s in reply.sections for i in s.items}
    quoted = [i.text for i in section(reply, "Also in quoted sentences and notes").items]
    assert quoted and all("$1.2" in text for text in quoted), quoted
    assert ask("/search 2 billion").title == "Nothing matches “2 billion”."  # not "$1.2 billion"


def test_telegram_inline_offers_read_an_amount_as_search_does(make_ctx):
    from bot.commands.inline import inline_offers

    offered = [offer.id for offer in inline_offers("4 billion", make_ctx())]
    # 004's US$4 billion (the figure, Tokayev's statement of it, Tokayev), none of 002's "4. China" records
    assert sorted(offered) == [
        "per-kassym-jomart-tokayev",
        "st-2021-08-tokayev-trade-4bn",
        "trade-2021-seoul-summit",
    ]


def test_source_shows_the_verbatim_sentence_and_its_outlet(ask):
    reply = ask("/source evt-2024-10-06-referendum")
    joongang, journal = section(reply, "What the source says").items
    assert joongang.text == (
        "“Tokayev also announced the upcoming nationwide referendum on Oct. 6 regarding constructing a "
        "nuclear power plant.”"
    )
    assert cited_outlets(reply, joongang) == ["Korea JoongAng Daily, Sep 2024"]
    assert journal.text == (
        "“First, the President announced a nationwide referendum on the construction of a nuclear power "
        "plant, scheduled for October 6, 2024.”"
    )
    assert cited_outlets(reply, journal) == [DIPLOMACY_JOURNAL]
    assert reply.footer == (
        "Record evt-2024-10-06-referendum (event); source file 000_b333400f6de1ba63.txt, "
        "002_0aa375d569579910.txt. Sources up to Sep 2024."
    )


def test_source_marks_an_outside_sources_statement_as_not_a_quotation(ask):
    reply = ask("/source ann-1992-01-28-diplomatic-relations")
    outside, seed = section(reply, "What the source says").items
    assert outside.text == (
        "Diplomatic relations between the Republic of Korea and Kazakhstan were established on "
        "28 January 1992. (what the source states; not a quotation)"
    )
    assert cited_outlets(reply, outside) == ["Ministry of Foreign Affairs of the Republic of Korea"]
    assert seed.text.startswith("“This was done to commemorate the upcoming 30 years")
    assert cited_outlets(reply, seed)[0].endswith(SEOUL_SUMMIT_2021)


def test_search_finds_the_k_silk_road_initiative_at_the_2024_state_visit(ask):
    reply = ask("/search K-Silk Road")
    event = section(reply, "Events").items[0]
    assert event.record_id == "evt-2024-06-12-yoon-state-visit-astana"
    assert set(cited_outlets(reply, event)) >= {ASTANA_TIMES, DIPLOMACY_JOURNAL}
    visit = ask("/source evt-2024-06-12-yoon-state-visit-astana").title
    assert "Yoon mentioned Korea's K-Silk Road initiative" in visit
    ambassador, yoon = section(reply, "Statements").items  # newest first
    assert yoon.record_id == "st-2024-06-12-yoon-k-silk-road"
    assert yoon.text.startswith("Yoon mentioned Korea's K-Silk Road initiative")
    assert cited_outlets(reply, yoon) == [ASTANA_TIMES]
    assert ambassador.record_id == "st-2024-09-11-k-silk-road-welcome"
    # 001 says Yoon "mentioned" it: no line may say he presented it
    assert not any("presented" in line for line in lines(reply))


@pytest.mark.parametrize(
    "words, record_id, sentence",
    [
        ("cargo flights", "prj-cargo-flights-busan-seoul", "additional cargo flights between Almaty"),
        ("SeoulTech", "org-seoultech", "SeoulTech establishing an AI School"),
        ("Intergovernmental Commission", "org-intergovernmental-commission", "The Business Council"),
        ("joint research", "st-2021-08-moon-joint-research", "Moon Jae-in proposed a potential joint"),
    ],
)
def test_undated_statements_in_the_seeds_are_found_and_sourced(ask, words, record_id, sentence):
    """Plans, bodies and proposals the seeds mention without a date have records of their own."""
    hits = [i.record_id for s in ask(f"/search {words}").sections for i in s.items]
    assert hits[0] == record_id
    assert any(sentence in line for line in lines(ask(f"/source {record_id}")))


def test_the_referendum_is_told_as_scheduled_not_as_held(ask):
    """The seeds (September 2024) only announce it; nothing here reports that it took place."""
    reply = ask("/source evt-2024-10-06-referendum")
    assert reply.title == (
        "A nationwide referendum on building a nuclear power plant was set for 6 Oct 2024 "
        "(announced 2 Sep 2024); the sources predate the vote."
    )


def test_the_2021_seoul_visit_is_called_what_its_source_calls_it(ask):
    reply = ask("/timeline 2021")
    seoul = next(t for t in lines(reply) if "Seoul" in t and "Moon Jae-in" in t)
    assert "visit to Seoul and summit with President Moon Jae-in" in seoul
    assert "state visit" not in seoul  # the seed says "visit" and "summit", never "state visit"


def test_source_for_an_unknown_id_suggests_the_closest(ask):
    reply = ask("/source evt-2024-10-06-referendun")
    assert reply.kind == "usage"
    assert "Did you mean evt-2024-10-06-referendum?" in reply.title


# -- parsing, help and unknown commands -------------------------------------------------------------


def test_parse_accepts_bot_suffix_umbrella_and_bare_words():
    assert parse("/agreements@KazkorBot 2024").name == "agreements"
    assert parse("/agreements@KazkorBot 2024").args == ("2024",)
    assert parse("/kazkor agreements 2024").args == ("2024",)
    assert parse("agreements 2024").name == "agreements"


def test_help_lists_every_command_with_an_example(ask):
    reply = ask("/help")
    texts = lines(reply)
    for name, spec in COMMANDS.items():
        assert any(t.startswith(f"/{name} — ") and spec.example in t for t in texts)


def test_unknown_command_points_to_help(ask):
    reply = ask("/tarde")
    assert reply.kind == "usage"
    assert reply.title == "Unknown command /tarde. See /help for the list."


def test_huge_input_is_refused_politely(ask):
    reply = ask("/search " + "x" * (MAX_INPUT + 10))
    assert reply.kind == "usage" and re.match(r"That message is \d+ characters long", reply.title)
    # the hint is an example of the command that was typed, not of another one
    assert lines(reply) == ["/search BAKAD"]
    assert lines(ask("/kazkor who " + "x" * MAX_INPUT)) == ["/who Arystanov"]
    assert lines(ask("x" * (MAX_INPUT + 1))) == ["/agreements 2024"]  # no command named: a general one


def test_huge_input_is_refused_in_the_channels_language(make_ctx, state):
    import dataclasses

    from bot.commands import handle_text

    ctx = dataclasses.replace(make_ctx(), state=state)
    assert handle_text("/language ru", ctx).kind == "answer"
    reply = handle_text("/upcoming " + "9" * MAX_INPUT, ctx)
    assert reply.kind == "usage" and reply.lang == "ru"
    assert section(reply, "Попробуйте").items[0].text == "/upcoming 60"


def test_platforms_hint_with_the_typed_commands_example():
    from bot.platforms.inbound import parse_text

    reply = parse_text("/timeline " + "x" * MAX_INPUT, platform="telegram", channel="-1", user="1")
    assert reply.kind == "usage" and lines(reply) == ["/timeline 2024"]


def test_a_failing_handler_gives_a_short_apology_not_a_traceback(ask, monkeypatch):
    from bot import commands

    def boom(command, ctx):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(COMMANDS, "trade", commands.Spec("trade", boom, "x", "/trade"))
    reply = ask("/trade")
    assert reply.kind == "error"
    assert reply.title == "Sorry, /trade failed on our side. It has been logged; please try again later."
    assert "disk on fire" not in render_plain(reply)
