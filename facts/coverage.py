"""The sentence map: every sentence of every seed, cited by records or left out with a reason.

``facts/coverage/<seed file stem>.json`` lists each sentence of a seed (split by :func:`sentences`) with
either the ids of the records whose citations quote it (``cited_by``) or a one-line reason it is left
out (``left_out``: page furniture, a photo caption, boilerplate). :func:`check_map` says what is wrong
with a stored map; :func:`build_map` recomputes ``cited_by`` from the records, keeping the reasons, so a
curator adds records, runs ``kazkor facts coverage --write`` and only writes the reasons by hand.

The split is deterministic and deliberately simple: one paragraph per line, then a break after ``.``,
``!`` or ``?`` (and a closing quote) before a capital letter, except after the abbreviations the seeds use
("Amb. Kairat", "H.E. Nurgali").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

_BREAK_RE = re.compile(r"(?<=[.!?])([”\"’]?)\s+(?=[A-Z“\"\[(])")
_LIST_NUMBER_RE = re.compile(r"(?:^|[\s(])\d\.$")
_ABBREVIATIONS = ("Amb.", "H.E.", "Mr.", "Dr.", "St.", "Oct.", "Sept.", "No.")


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def sentences(text: str) -> list[str]:
    """The sentences of a seed in order: paragraphs are lines; empty lines are skipped."""
    out: list[str] = []
    for line in text.splitlines():
        line = collapse(line)
        if not line:
            continue
        pieces: list[str] = []
        start = 0
        for match in _BREAK_RE.finditer(line):
            if _LIST_NUMBER_RE.search(line, 0, match.start()):
                continue  # "1. Nuclear power", "(1.China, 2. Italy": a list number, not a full stop
            piece = line[start : match.start() + len(match.group(1))]
            if pieces and pieces[-1].endswith(_ABBREVIATIONS):
                pieces[-1] = f"{pieces[-1]} {piece}"
            else:
                pieces.append(piece)
            start = match.end()
        tail = line[start:]
        if pieces and pieces[-1].endswith(_ABBREVIATIONS):
            pieces[-1] = f"{pieces[-1]} {tail}"
        else:
            pieces.append(tail)
        out.extend(p for p in pieces if p)
    return out


def quotes_sentence(quote: str, sentence: str) -> bool:
    """A citation quotes a sentence when it holds the whole sentence (a quote may span several), or
    most of it (a dateline such as "ASTANA – " or a trailing clause left off)."""
    quote, sentence = collapse(quote), collapse(sentence)
    return sentence in quote or (quote in sentence and len(quote) >= 0.6 * len(sentence))


@dataclass(frozen=True)
class Share:
    seed: str
    sentences: int
    left_out: int
    cited: int

    @property
    def substantive(self) -> int:
        return self.sentences - self.left_out

    @property
    def percent(self) -> float:
        return 100.0 * self.cited / self.substantive if self.substantive else 100.0


def _citers(catalogue: Any, source_id: str) -> list[tuple[str, str]]:
    """(record id, quote) of every citation of ``source_id``, in the catalogue's id order."""
    return [
        (record.id, c.quote)
        for record in catalogue.by_id.values()
        for c in record.cite
        if c.source == source_id
    ]


def seed_sources(catalogue: Any) -> list[Any]:
    return sorted((s for s in catalogue.sources.values() if s.kind == "seed"), key=lambda s: s.file)


def build_map(catalogue: Any, source: Any, seed_text: str, old: dict | None) -> dict:
    """The map of one seed from the records, keeping the reasons of ``old`` for uncited sentences."""
    reasons = {e["text"]: e["left_out"] for e in (old or {}).get("sentences", []) if "left_out" in e}
    citers = _citers(catalogue, source.id)
    entries = []
    for n, sentence in enumerate(sentences(seed_text), 1):
        ids = sorted(dict.fromkeys(rid for rid, q in citers if quotes_sentence(q, sentence)))
        entry: dict[str, Any] = {"n": n, "text": sentence}
        if ids:
            entry["cited_by"] = ids
        else:
            entry["left_out"] = reasons.get(sentence, "TODO: cite this sentence or say why it is left out")
        entries.append(entry)
    return {"seed": source.file, "source": source.id, "sentences": entries}


def check_map(catalogue: Any, source: Any, seed_text: str, stored: dict) -> list[str]:
    """Every problem of a stored map, one line each (empty when the map is right)."""
    problems: list[str] = []
    name = f"coverage/{Path(source.file).stem}.json"
    split = sentences(seed_text)
    entries = stored.get("sentences", [])
    if stored.get("source") != source.id:
        problems.append(f"{name}: names source {stored.get('source')!r}, not {source.id!r}")
    listed = [e.get("text") for e in entries]
    if listed != split:
        missing = [s for s in split if s not in listed]
        extra = [s for s in listed if s not in split]
        for s in missing:
            problems.append(f"{name}: sentence neither cited nor listed: {s[:90]!r}")
        for s in extra:
            problems.append(f"{name}: lists a sentence the seed does not have: {str(s)[:90]!r}")
        if not missing and not extra:
            problems.append(f"{name}: sentences out of order; regenerate with kazkor facts coverage --write")
    citers = _citers(catalogue, source.id)
    for entry in entries:
        text = entry.get("text", "")
        where = f"{name} sentence {entry.get('n')}"
        ids = entry.get("cited_by", [])
        reason = entry.get("left_out")
        if ids and reason:
            problems.append(f"{where}: both cited and left out")
        if not ids and not (isinstance(reason, str) and reason.strip()) or (reason or "").startswith("TODO"):
            problems.append(f"{where}: neither cited nor listed with a reason: {text[:90]!r}")
        for rid in ids:
            record = catalogue.by_id.get(rid)
            if record is None:
                problems.append(f"{where}: record {rid!r} does not exist")
            elif not any(c.source == source.id and quotes_sentence(c.quote, text) for c in record.cite):
                problems.append(f"{where}: record {rid!r} does not quote it")
        actual = sorted({rid for rid, q in citers if quotes_sentence(q, text)})
        if reason and actual:
            problems.append(f"{where}: listed as left out but cited by {', '.join(actual)}")
        elif ids and sorted(ids) != actual:
            problems.append(
                f"{where}: cited_by should be {actual}; regenerate with kazkor facts coverage --write"
            )
    return problems


def share(source: Any, stored: dict) -> Share:
    entries = stored.get("sentences", [])
    left = sum(1 for e in entries if e.get("left_out"))
    cited = sum(1 for e in entries if e.get("cited_by"))
    return Share(source.file, len(entries), left, cited)


# -- files ---------------------------------------------------------------------------------------


def package_dir(name: str) -> Any:
    return resources.files("facts") / name


def seed_text(source: Any, seeds_dir: Any = None) -> str:
    base = seeds_dir if seeds_dir is not None else package_dir("seeds")
    return (base / source.file).read_text(encoding="utf-8")


def map_path(source: Any, coverage_dir: Any = None) -> Any:
    base = coverage_dir if coverage_dir is not None else package_dir("coverage")
    return base / f"{Path(source.file).stem}.json"


def read_map(source: Any, coverage_dir: Any = None) -> dict:
    path = map_path(source, coverage_dir)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def dump_map(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def table(shares: Iterable[Share]) -> str:
    rows = ["seed                         sentences  left out  substantive  cited  share"]
    for s in shares:
        counts = f"{s.sentences:>9}  {s.left_out:>8}  {s.substantive:>11}  {s.cited:>5}"
        rows.append(f"{s.seed:<28} {counts}  {s.percent:5.1f}%")
    return "\n".join(rows)
