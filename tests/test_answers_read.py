"""How answers read: one date style, source labels a person understands, and a footer that dates them.

Checked against the seeds' own outlets and dates (/work/shared/seeds/README.md): 002 is the Diplomacy
Journal of Sep 2024, 004 names no outlet and was written in Aug 2021.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.commands.format import clip, fitted, human_date, source_label
from bot.reply import Item
from facts.model import PartialDate
from tests.helpers import cited_outlets


@pytest.mark.parametrize(
    ("when", "shown"),
    [
        (date(2027, 1, 28), "28 Jan 2027"),
        (datetime(2027, 1, 28, 9, 30), "28 Jan 2027"),
        (PartialDate(2027, 1, 28), "28 Jan 2027"),
        (PartialDate(2027, 1), "Jan 2027"),
        (PartialDate(2027), "2027"),
    ],
)
def test_one_date_style_at_the_precision_known(when, shown):
    assert human_date(when) == shown


def test_source_labels_name_the_outlet_and_month_or_say_unattributed(catalogue):
    assert source_label(catalogue.sources["diplomacy-journal-2024-09"]) == "Diplomacy Journal, Sep 2024"
    assert source_label(catalogue.sources["seoul-summit-2021-08"]) == "unattributed article, Aug 2021"
    assert source_label(catalogue.sources["korea-post-2023-09"]) == "The Korea Post, Sep 2023"


def test_citations_carry_no_file_names(ask):
    reply = ask("/trade")
    assert reply.citations
    assert not any(".txt" in c.label for c in reply.citations)


def test_footer_dates_the_answer_by_its_cited_sources(ask):
    # the Fresh Wind programme rests on 004 alone (Aug 2021); the referendum on 000 and 002 (Sep 2024)
    old = ask("/source prj-fresh-wind")
    assert cited_outlets(old, old.sections[0].items[0]) == ["unattributed article, Aug 2021"]
    assert old.footer.endswith("Sources up to Aug 2021.")
    assert ask("/source evt-2024-10-06-referendum").footer.endswith("Sources up to Sep 2024.")
    # 2021 cites the veterans ministry's release of 15 Aug 2021 (an outside source dated to the day)
    assert ask("/timeline 2021").footer.endswith("Sources up to 15 Aug 2021.")


def test_clip_cuts_at_a_word_and_marks_the_cut():
    assert clip("short", 10) == "short"
    assert clip("Memorandum on comprehensive cooperation", 20) == "Memorandum on…"
    assert len(clip("x" * 300, 160)) == 160


def test_fitted_counts_marks_and_id_in_the_160_characters():
    item = fitted(Item("word " * 60, (1, 2), "evt-2024-06-12-yoon-state-visit-astana"))
    assert 150 <= len("• " + item.visible()) <= 160
    assert item.visible().endswith("… [1][2] · evt-2024-06-12-yoon-state-visit-astana")


def test_the_trade_example_in_the_docs_is_what_trade_answers(ask):
    from pathlib import Path

    from bot.render.plain import render_plain

    docs = (Path(__file__).resolve().parent.parent / "docs" / "commands.md").read_text()
    example = docs.split("Example (`kazkor ask /trade`, the whole answer):\n\n```\n")[1].split("```")[0]
    # the whole answer, line for line and in order: a changed, moved or new line shows up here
    assert example.splitlines() == render_plain(ask("/trade")).splitlines()


def test_the_lines_quoted_in_how_answers_read_are_lines_of_the_answers(ask):
    from pathlib import Path

    from bot.render.plain import render_plain

    docs = " ".join((Path(__file__).resolve().parent.parent / "docs" / "commands.md").read_text().split())
    dated = (
        "6 Oct 2024 — Nationwide referendum on building a nuclear power plant in Kazakhstan [1][3] · "
        "evt-2024-10-06-referendum"
    )
    plan = "2025 — Inaugural C5+K Summit, Seoul (planned as of Sep 2024; outcome not reported)"
    assert f"`{dated}`" in docs and f"`{plan}`" in docs
    assert f"• {dated}" in render_plain(ask("/timeline 2024")).splitlines()
    # once 2025 has passed, a plan says the sources do not report what happened
    after = render_plain(ask("/timeline 2025", when="2026-11-30T09:00:00+05:00"))
    assert any(line.startswith(f"• {plan} [") for line in after.splitlines()), after
