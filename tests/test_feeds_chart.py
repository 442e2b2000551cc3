"""/trade chart: the numbers fed to the chart against the facts, the picture decoded, the cache, and
matplotlib kept out of commands that draw nothing."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile

import pytest
from PIL import Image

from bot.commands import handle_text
from bot.feeds.chart import HEIGHT_PX, WIDTH_PX, ChartCache, alt_text, chart_data, render_png
from facts.model import build_record
from facts.store import load_catalogue
from tests.cli_kit import run_cli
from tests.helpers import lines, section


def bars_of(data, metric):
    return [(b.year, b.value, b.qualifier, b.record_ids) for b in data.bars if b.metric == metric]


def test_the_chart_draws_the_turnover_and_investment_figures_of_the_facts(catalogue):
    data = chart_data(catalogue)
    # the seeds: US$4 billion in 2021 (004), more than US$6 billion in 2022 (003), US$6 billion in 2023
    # (001 and 002 agree: one bar citing both)
    assert bars_of(data, "trade_turnover") == [
        (2021, 4e9, "exact", ("trade-2021-seoul-summit",)),
        (2022, 6e9, "more_than", ("trade-2022-korea-post",)),
        (2023, 6e9, "exact", ("trade-2023-astana-times", "trade-2023-diplomacy-journal")),
    ]
    assert bars_of(data, "investment_cumulative") == [
        (2023, 8e9, "more_than", ("investment-cumulative-2023-korea-post",)),
        (2024, 9.9e9, "exact", ("investment-cumulative-2024-diplomacy-journal",)),
    ]
    assert bars_of(data, "investment_annual") == [
        (2023, 1.2e9, "exact", ("investment-annual-2023-diplomacy-journal",))
    ]
    # every figure of those metrics is drawn, none twice
    drawn = sorted(rid for b in data.bars for rid in b.record_ids)
    wanted = sorted(
        f.id
        for m in ("trade_turnover", "investment_cumulative", "investment_annual")
        for f in catalogue.figures(m)
    )
    assert drawn == wanted
    # each bar's label: bound, value, year and the sources, numbered as listed under the chart
    labels = {b.year: b.label() for b in data.bars if b.metric == "trade_turnover"}
    numbers = {sid: n for n, sid, _ in data.sources}
    assert labels[2022] == f">$6bn\n2022 [{numbers['korea-post-2023-09']}]"
    assert labels[2023] == (
        f"$6bn\n2023 [{numbers['astana-times-2024-06']}][{numbers['diplomacy-journal-2024-09']}]"
        "\n(year inferred)"  # 001 and 002 give "$6 billion" with no year
    )
    # 004: Tokayev "shared the number USD 4 Billion" at the Aug 2021 press conference, for no stated period
    assert labels[2021] == f"$4bn\nAug 2021 [{numbers['seoul-summit-2021-08']}]\n(period not given)"
    assert dict((sid, label) for _, sid, label in data.sources)["diplomacy-journal-2024-09"] == (
        "Diplomacy Journal, Sep 2024"
    )
    assert data.data_to() == "Figures up to 2024; sources up to Sep 2024"
    assert "Aug 2021 trade turnover US$4bn (period not given), 2022 trade turnover >US$6bn" in alt_text(data)


def test_figures_that_disagree_for_a_year_stand_side_by_side():
    grown = load_catalogue()
    grown.add(
        build_record(
            "figure",
            {
                "id": "trade-2023-test-other",
                "metric": "trade_turnover",
                "value": 6.5e9,
                "unit": "USD",
                "qualifier": "exact",
                "as_of": "2023",
                "phrase": "6.5 billion",
                "summary": "A test figure.",
                "cite": [{"source": "korea-post-2023-09", "quote": "test"}],
            },
            "test",
        )
    )
    data = chart_data(grown)
    in_2023 = [(b.value, b.record_ids) for b in data.bars if b.metric == "trade_turnover" and b.year == 2023]
    assert in_2023 == [
        (6e9, ("trade-2023-astana-times", "trade-2023-diplomacy-journal")),
        (6.5e9, ("trade-2023-test-other",)),
    ]
    assert data.conflicts == ("trade turnover 2023",)
    reply = handle_text("/trade chart", _ctx(grown))
    assert section(reply, "Trade turnover by year").note == (
        "Sources differ for the same year: both are drawn side by side."
    )


def _ctx(catalogue):
    from bot.bootstrap.context import COMMANDS
    from bot.commands import Context
    from tests.conftest import ALMATY

    return Context(catalogue=catalogue, tz=ALMATY, commands=COMMANDS)


def test_the_png_is_the_right_size_and_shows_the_bars(catalogue):
    png = render_png(chart_data(catalogue))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    colours = image.getcolors(maxcolors=1 << 20)
    counts = {rgb: n for n, rgb in colours}
    assert counts[(255, 255, 255)] < WIDTH_PX * HEIGHT_PX * 0.9  # not blank
    # the three bar colours fill real areas: turnover blue, total green, annual orange
    assert counts.get((0x1F, 0x77, 0xB4), 0) > 20_000
    assert counts.get((0x2C, 0xA0, 0x2C), 0) > 10_000
    assert counts.get((0xFF, 0x7F, 0x0E), 0) > 2_000


def test_trade_chart_answers_with_the_figures_as_text_and_the_png_attached(ask):
    reply = ask("/trade chart")
    assert reply.kind == "answer"
    assert lines(reply)[:3] == [
        "Aug 2021 trade turnover: US$4 billion (period not given)",
        "2022 trade turnover: more than US$6 billion",
        "2023 trade turnover: US$6 billion (year inferred)",
    ]
    (picture,) = reply.attachments
    assert picture.filename == "kazkor-trade-chart.png" and picture.is_image
    assert picture.caption == (
        "Kazakhstan–Korea trade and Korean investment (US$ billion). "
        "Figures up to 2024; sources up to Sep 2024."
    )
    assert "2024 invested in total (to that year) US$9.9bn" in picture.alt
    assert Image.open(io.BytesIO(picture.produce())).size == (WIDTH_PX, HEIGHT_PX)
    # plain /trade is unchanged: no picture
    assert ask("/trade").attachments == ()
    assert ask("/TRADE Chart").attachments[0].filename == "kazkor-trade-chart.png"


def test_the_png_is_drawn_once_per_data_version(monkeypatch, catalogue):
    import bot.feeds.chart as chart

    drawn = []
    real = chart.render_png
    monkeypatch.setattr(chart, "render_png", lambda data: drawn.append(1) or real(data))
    cache = ChartCache()
    first = cache.png(catalogue)
    assert cache.png(catalogue) is first and len(drawn) == 1
    grown = load_catalogue()
    cache.png(grown)
    assert len(drawn) == 2  # another catalogue: drawn again


def test_commands_that_draw_nothing_do_not_import_matplotlib_or_icalendar(tmp_path):
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        "main(['ask', '/trade'])\n"
        "print('LOADED', 'matplotlib' in sys.modules, 'icalendar' in sys.modules)\n"
    )
    env = {**os.environ, "KAZKOR_DB": str(tmp_path / "state.json")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True
    ).stdout
    assert "Kazakhstan–Korea trade and investment" in out
    assert out.strip().endswith("LOADED False False")


def test_the_console_writes_the_chart_and_prints_its_path(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # what TMPDIR sets in a fresh process
    ran = run_cli("ask", "/trade chart", env={**os.environ, "KAZKOR_DB": str(tmp_path / "state.json")})
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout
    assert out.startswith("Kazakhstan–Korea trade and Korean investment: chart")
    path = tmp_path / "kazkor" / "kazkor-trade-chart.png"
    assert out.rstrip().endswith(f"File: {path}")
    assert Image.open(path).size == (WIDTH_PX, HEIGHT_PX)


# --- in the channel's language -------------------------------------------------------------------------


def test_the_chart_and_its_text_follow_the_answers_language(make_ctx):
    reply = handle_text("/trade chart", make_ctx(), lang="ru")
    assert reply.title == "Торговля Казахстана и Кореи и корейские инвестиции: график"
    assert lines(reply)[:2] == [
        "август 2021\u202fг. товарооборот: US$4 млрд (период не указан)",
        "2022 товарооборот: более US$6 млрд",
    ]
    (picture,) = reply.attachments
    assert picture.caption == (
        "Торговля Казахстана и Кореи и корейские инвестиции (млрд долларов США). "
        "Данные по состоянию на 2024; источники по состоянию на сентябрь 2024\u202fг."
    )
    assert "2024 вложено всего (к этому году) US$9,9 млрд" in picture.alt
    korean = handle_text("/trade chart", make_ctx(), lang="ko").attachments[0]
    assert "2024 누적 투자액(해당 연도까지) 99억 달러" in korean.alt


def test_the_picture_is_cached_per_language(monkeypatch, catalogue):
    import bot.feeds.chart as chart

    drawn = []
    real = chart.render_png
    monkeypatch.setattr(chart, "render_png", lambda data: drawn.append(data.lang) or real(data))
    monkeypatch.setattr(chart, "hangul_font", lambda: "Noto Sans CJK KR")
    cache = ChartCache()
    english, russian = cache.png(catalogue, "en"), cache.png(catalogue, "ru")
    assert english != russian and cache.png(catalogue, "ru") is russian
    cache.png(catalogue, "ko")
    assert drawn == ["en", "ru", "ko"]


def test_without_a_hangul_font_the_korean_picture_is_drawn_in_english(monkeypatch, catalogue):
    import bot.feeds.chart as chart

    drawn = []
    real = chart.render_png
    monkeypatch.setattr(chart, "render_png", lambda data: drawn.append(data.lang) or real(data))
    monkeypatch.setattr(chart, "hangul_font", lambda: None)
    cache = ChartCache()
    assert cache.png(catalogue, "ko") is cache.png(catalogue, "en")  # one English picture, no boxes
    assert drawn == ["en"]


@pytest.mark.parametrize("lang", ["ru", "kk", "ko"])
def test_every_letter_of_the_chart_has_a_glyph(lang, catalogue):
    """matplotlib warns "Glyph ... missing from font(s)" for a letter it draws as an empty box."""
    import warnings

    from bot.feeds.chart import hangul_font
    from bot.i18n import translator

    if lang == "ko" and hangul_font() is None:
        if os.environ.get("CI"):  # .ci/run installs one: there the Korean picture must be drawn
            pytest.fail("no Hangul font in CI: .ci/run installs fonts-nanum")
        pytest.skip("no Hangul font here: Korean pictures are drawn in English (tested above)")
    data = chart_data(catalogue, translator(lang))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_png(data)
    assert Image.open(io.BytesIO(png)).size == (WIDTH_PX, HEIGHT_PX)
    assert [str(w.message) for w in caught if "missing from font" in str(w.message)] == []
    assert data.panels[0][0] == translator(lang).gettext("Trade turnover by year") != "Trade turnover by year"
