"""The README's promises: its two commands lead the file and CI runs the test command; it stays short; every
link in it and in docs/ leads somewhere that exists; every command example in the tables answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.bootstrap.context import COMMANDS
from bot.commands import ALIASES, Context, handle_text

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_readme_opens_with_the_install_and_run_command_then_the_test_command():
    run, test = _commands()[:2]
    assert run.endswith("pip install . && kazkor console")
    assert test.endswith('pip install ".[test]" && python -m pytest -q')


def test_ci_runs_the_readme_test_command_and_fails_on_failure():
    ci = (ROOT / ".ci" / "run").read_text()
    assert _commands()[1] in ci
    assert "set -euo pipefail" in ci


def test_readme_is_under_200_lines_and_links_every_topic_in_docs():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    for topic in ("commands", "reminders", "operations", "data", "design"):
        assert f"(docs/{topic}.md)" in readme
    assert "(bench/README.md)" in readme


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    heads = re.findall(r"^#+ (.+)$", path.read_text(), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}


def _local_links() -> list[tuple[Path, str]]:
    links = []
    for doc in DOCS:
        for target in LINK.findall(doc.read_text()):
            if not re.match(r"[a-z]+:", target):
                links.append((doc, target))
    return links


@pytest.mark.parametrize("doc,target", _local_links(), ids=lambda v: v if isinstance(v, str) else v.name)
def test_every_local_link_leads_to_a_file_and_heading_that_exist(doc, target):
    file, _, anchor = target.partition("#")
    path = (doc.parent / file).resolve() if file else doc
    assert path.exists(), f"{doc.relative_to(ROOT)} links to missing {target}"
    if anchor:
        assert anchor in _anchors(path), f"{doc.relative_to(ROOT)} links to missing heading {target}"


def _table_examples() -> list[str]:
    """The last column of every command table row in README.md and docs/: `/name args`."""
    found = []
    for doc in DOCS:
        for row in re.findall(r"^\|.*\| `(/[a-z]+[^`]*)` \|$", doc.read_text(), flags=re.M):
            found.append(row)
    return found


def test_the_command_tables_show_every_command():
    shown = {example.split()[0].lstrip("/") for example in _table_examples()}
    assert set(COMMANDS) <= shown
    assert not shown - set(COMMANDS) - set(ALIASES)


def test_every_example_in_a_command_table_answers(make_ctx, state):
    """In table order (so /subscribe comes before /unsubscribe), as the console user (an admin) with a state
    file, as `kazkor console` would run them."""
    ctx: Context = make_ctx()
    ctx.state = state
    failed = []
    for example in dict.fromkeys(_table_examples()):
        reply = handle_text(example, ctx)
        if reply.kind != "answer" or not reply.sections and not reply.title:
            failed.append((example, reply.kind, reply.title))
    assert not failed
