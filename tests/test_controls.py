"""The platform-neutral controls: pages, the year row, the sources view and the signed payloads."""

from __future__ import annotations

import dataclasses

import pytest

from bot.commands import dispatch, parse
from bot.commands.controls import PAGE_ITEMS, PRESSABLE, YEARS_SHOWN, interactive, split_pages
from bot.commands.payload import MAX_BYTES, Expired, Press, decode, derive_key, encode
from bot.render.plain import render_plain
from bot.reply import Action
from tests.helpers import cited_outlets, lines

KEY = derive_key("123456:TEST-kazkor-token")


DEAL_SENTENCE = (
    "“The Astana Times reported that Kazakhstan and South Korea signed a deal worth USD 1.7 billion "
    "during the two day visit.”"
)


def labels(reply, row: int = -1) -> list[str]:
    return [action.label for action in reply.actions[row].actions]


def test_pages_hold_every_line_once_in_order_with_their_own_sources(make_ctx):
    ctx = make_ctx()
    full = dispatch(parse("/timeline"), ctx)
    pages = split_pages(full)
    assert len(pages) >= 2
    assert [line for page in pages for line in lines(page)] == lines(full)
    assert all(len(lines(page)) <= PAGE_ITEMS for page in pages)
    for number, page in enumerate(pages, 1):
        assert page.footer.startswith(f"Page {number} of {len(pages)}.")
        # each page numbers only the sources its lines cite, from [1], and each line keeps its outlets
        assert [c.number for c in page.citations] == list(range(1, len(page.citations) + 1))
        for section in page.sections:
            for item in section.items:
                (original,) = [i for s in full.sections for i in s.items if i.text == item.text]
                # the same outlets (a page numbers them in its own order of first use)
                assert sorted(cited_outlets(page, item)) == sorted(cited_outlets(full, original))


def test_timeline_first_page_next_and_previous(make_ctx):
    ctx = make_ctx()
    first = interactive(parse("/timeline"), ctx)
    assert labels(first) == ["Next", "Sources"]
    second = interactive(parse("/timeline"), ctx, page=1)
    assert labels(second)[0] == "Previous"
    assert second.actions[-1].actions[0] == Action("Previous", "timeline", (), 0)
    assert lines(first)[0].startswith("28 Jan 1992 — Kazakhstan and the Republic of Korea establish")
    assert lines(second)[0] not in lines(first)
    # a page past the end (the data shrank since the button was made) shows the last page
    assert (
        interactive(parse("/timeline"), ctx, page=999).footer
        == interactive(
            parse("/timeline"), ctx, page=len(split_pages(dispatch(parse("/timeline"), ctx))) - 1
        ).footer
    )


def test_year_row_lists_other_years_latest_first_then_more(make_ctx, catalogue):
    ctx = make_ctx()
    reply = interactive(parse("/agreements"), ctx)
    assert reply.title.startswith("Agreements signed in 2024")
    assert labels(reply, 0) == ["2021"]  # 2019 had a programme launched, not an agreement signed
    assert reply.actions[0].kind == "years"
    assert reply.actions[0].actions[0] == Action("2021", "agreements", ("2021",))
    # with many years: at most 8, then "More years", which shows the next ones
    many = dataclasses.replace(ctx, catalogue=_with_years(catalogue, range(2000, 2012)))
    row = interactive(parse("/agreements 2011"), many).actions[0]
    assert [a.label for a in row.actions] == [str(y) for y in range(2010, 2002, -1)] + ["More years"]
    assert len(row.actions) == YEARS_SHOWN + 1
    more = row.actions[-1]
    later = interactive(parse(f"/agreements {more.args[0]}"), many, more.page, more.view).actions[0]
    assert [a.label for a in later.actions] == ["2002", "2001", "2000", "Latest years"]


class _Years:
    """A catalogue stand-in whose agreements span ``years`` (only ``years`` is asked by the row)."""

    def __init__(self, real, years):
        self._real, self._years = real, list(years)

    def years(self, kind):
        return self._years if kind == "agreement" else self._real.years(kind)

    def __getattr__(self, name):
        return getattr(self._real, name)


def _with_years(catalogue, years):
    return _Years(catalogue, years)


def test_sources_view_quotes_the_seed_sentences_for_the_lines_on_screen(make_ctx):
    ctx = make_ctx()
    view = interactive(parse("/agreements 2021"), ctx, view="s")
    text = render_plain(view)
    assert view.title.startswith("Sources for: Agreements signed in 2021")
    # the seed's own sentence, verbatim (it is in facts/seeds/004_0daa704616f65bc5.txt), and its source
    assert DEAL_SENTENCE in text
    assert "[1] unattributed article, Aug 2021" in text
    assert labels(view) == ["Back"]
    assert view.actions[0].actions[0] == Action("Back", "agreements", ("2021",), 0)


def test_usage_and_state_answers_get_no_controls(make_ctx):
    ctx = make_ctx()
    assert interactive(parse("/agreements 20x4"), ctx).actions == ()
    assert interactive(parse("/subscriptions"), ctx).actions == ()
    assert interactive(parse("/help"), ctx).actions == ()


def test_every_control_of_every_answer_fits_64_bytes_and_round_trips(make_ctx):
    ctx = make_ctx()
    for text in ("/timeline", "/timeline 2024", "/agreements", "/upcoming 366", "/search korea", "/trade"):
        for page in range(3):
            for view in ("", "s"):
                for row in interactive(parse(text), ctx, page, view).actions:
                    for action in row.actions:
                        payload = encode(KEY, action)
                        assert payload is not None and len(payload.encode()) <= MAX_BYTES
                        press = decode(KEY, payload, PRESSABLE)
                        assert press == Press(action.command, action.args, action.page, action.view)


def test_a_control_too_long_for_64_bytes_is_left_out():
    assert encode(KEY, Action("Next", "search", ("word " * 12,), 1)) is None


@pytest.mark.parametrize(
    "payload",
    ["", "short", "x" * 65, "A" * 11 + "1|timeline|1||"],  # malformed, unsigned, too long, bad tag
)
def test_forged_payloads_are_expired(payload):
    with pytest.raises(Expired):
        decode(KEY, payload, PRESSABLE)


def test_a_payload_for_a_command_that_cannot_be_pressed_is_expired():
    payload = encode(KEY, Action("x", "subscribe", ("09:00",)))
    assert payload is not None
    with pytest.raises(Expired):
        decode(KEY, payload, PRESSABLE)
    # another key (another bot, a rotated token) does not accept it either
    ok = encode(KEY, Action("Next", "timeline", (), 1))
    with pytest.raises(Expired):
        decode(derive_key("other"), ok, PRESSABLE)


def test_docs_interactions_tell_the_truth(make_ctx):
    from pathlib import Path

    doc = " ".join((Path(__file__).resolve().parents[1] / "docs" / "interactions.md").read_text().split())
    assert f"({PAGE_ITEMS} lines a page)" in doc
    assert f"latest first, at most {YEARS_SHOWN}, then **More years**" in doc
    assert " ".join(DEAL_SENTENCE.split()) in doc  # the example's sentence, as the Sources view shows it
    ctx = make_ctx()
    row = interactive(parse("/agreements"), ctx)
    assert [a.label for r in row.actions for a in r.actions] == ["2021", "Sources"]
    assert interactive(parse("/agreements 2021"), ctx).title.startswith("Agreements signed in 2021 (2)")


def test_paged_answers_list_everything_instead_of_asking_to_narrow(make_ctx):
    """/search korea matches 138 records: one message shows 20 and asks for another word; with pages
    every one of the 138 is reachable with Next, and no page asks to narrow."""
    ctx = make_ctx()
    whole = dispatch(parse("/search korea"), ctx)
    assert whole.title.startswith("138 results") and len(lines(whole)) == 20
    assert whole.footer.startswith("118 more: add a word to narrow the search.")
    pages = []
    for page in range(50):  # bounded: a Next that never ends must fail, not hang the suite
        reply = interactive(parse("/search korea"), ctx, page)
        pages.append(reply)
        if "Next" not in [a.label for row in reply.actions for a in row.actions]:
            break
    else:
        pytest.fail("/search korea still offers Next after 50 pages")
    shown = [line for reply in pages for line in lines(reply)]
    assert len(shown) == len(set(shown)) == 138
    assert len(pages) == 18  # as docs/interactions.md says
    assert not any("narrow" in (reply.footer or "") for reply in pages)
    assert pages[-1].footer.startswith(f"Page {len(pages)} of {len(pages)}. ")
    assert pages[-1].footer.endswith("Sources up to Sep 2024.")
