"""Translated facts: every curated record in all four languages, each translation stating exactly the
numbers, years, months and days of its English; names in each language's spelling, found in every
language by /search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.commands import handle_text
from bot.i18n.numbers import facts_in
from bot.render.plain import render_plain
from facts.model import TRANSLATABLE, TRANSLATIONS

DATA = Path(__file__).resolve().parents[1] / "facts" / "data"


def _records():
    for path in sorted(DATA.glob("*.json")):
        if path.name != "sources.json":
            for raw in json.loads(path.read_text()):
                yield path.name, raw


RECORDS = list(_records())


def test_every_record_has_all_four_languages(catalogue):
    missing = []
    for record in catalogue.by_id.values():
        for name in TRANSLATABLE.get(record.kind, ()):
            if not isinstance(getattr(record, name, None), str):
                continue
            have = set(record.i18n.get(name, {}))
            if have != set(TRANSLATIONS):
                missing.append(f"{record.id}.{name}: has {sorted(have)}")
    assert not missing, "\n".join(missing)
    assert {record.kind for record in catalogue.by_id.values()} == set(TRANSLATABLE)  # every kind checked


@pytest.mark.parametrize(("file", "raw"), RECORDS, ids=[raw["id"] for _, raw in RECORDS])
def test_each_translation_states_the_numbers_and_dates_of_the_english(file, raw):
    assert raw.get("written_in") == "en", f"{file} {raw['id']}: say which language the English text is"
    for key, texts in raw.items():
        if not key.endswith("_i18n"):
            continue
        english = raw[key.removesuffix("_i18n")]
        for lang, text in texts.items():
            assert facts_in(text) == facts_in(english), (raw["id"], key, lang, text)


def test_the_number_check_sees_a_changed_figure():
    english = "Bilateral trade turnover was US$6 billion in 2023."
    assert facts_in("В 2023 году товарооборот составил US$6 млрд.") == facts_in(english)
    assert facts_in("В 2023 году товарооборот составил US$6,5 млрд.") != facts_in(english)
    assert facts_in("2023년 교역액은 60억 달러였다.") == facts_in(english)
    assert facts_in("2023년 교역액은 6억 달러였다.") != facts_in(english)
    assert facts_in("2022 жылы тауар айналымы 6 млрд доллар болды.") != facts_in(english)
    assert facts_in("28 January 1992") == facts_in("1992년 1월 28일") == facts_in("1992 жылғы 28 қаңтар")
    assert facts_in("28 January 1992") != facts_in("28 февраля 1992 г.")


@pytest.mark.parametrize("query", ["lithium", "литий", "лития", "리튬", "литийді"])
def test_lithium_is_found_in_every_language(ask, query):
    reply = ask(f"/search {query}")
    ids = {item.record_id for section in reply.sections for item in section.items}
    assert "agr-2024-06-lithium-rare-metals" in ids, render_plain(reply)


@pytest.mark.parametrize("query", ["Tokayev", "Toqayev", "Токаев", "Тоқаев", "토카예프", "Тоқаевпен"])
def test_tokayev_is_found_under_every_spelling(ask, query):
    reply = ask(f"/search {query} Moon")
    ids = {item.record_id for section in reply.sections for item in section.items}
    assert "evt-2021-08-tokayev-state-visit-seoul" in ids, render_plain(reply)


@pytest.mark.parametrize("query", ["Yoon Suk Yeol", "Юн Сок Ёль", "윤석열"])
def test_yoon_is_found_under_every_spelling(ask, query):
    reply = ask(f"/search {query} Astana")
    ids = {item.record_id for section in reply.sections for item in section.items}
    assert "evt-2024-06-12-yoon-state-visit-astana" in ids, render_plain(reply)


@pytest.mark.parametrize("query", ["한국", "Корея", "Кореямен"])
def test_a_country_in_korean_russian_or_kazakh_finds_what_korea_finds(ask, query):
    def found(text):
        reply = ask(f"/search {text}")
        return reply.kind, reply.title.split(" ")[0]

    assert found(query) == found("Korea")


def test_a_translation_in_an_unknown_language_is_refused_naming_the_record():
    from facts.model import DataError, build_record

    raw = json.loads((DATA / "figures.json").read_text())[0]
    raw["summary_i18n"] = {**raw["summary_i18n"], "de": "Der Handel ..."}
    refused = r"figures.json record 0 \(id '.+'\): field 'summary_i18n' has unknown"
    with pytest.raises(DataError, match=refused):
        build_record("figure", raw, "figures.json record 0")
@pytest.mark.parametrize(
    ("lang", "tokayev", "yoon"),
    [("ru", "Токаев", "Юн Сок Ёл"), ("ko", "토카예프", "윤석열"), ("kk", "Тоқаев", "Юн Сок Ёль")],
)
def test_names_follow_each_languages_spelling(make_ctx, lang, tokayev, yoon):
    text = render_plain(handle_text("/timeline 2024", make_ctx().speaking(lang)))
    assert tokayev in text and yoon in text
    assert "Tokayev" not in text and "Yoon" not in text
