"""The import layering of docs/design.md holds: import-linter's contracts (pyproject.toml) are kept, no
module reaches itself through its imports, and no import hides inside a function to dodge a cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent

# Imports inside a function that are there for start-up time, not to dodge a cycle: `kazkor ask` must
# not load the platform libraries that only `run` and `post-due` need.
LAZY_ON_PURPOSE = {
    ("bot/cli.py", "bot"),
    ("bot/cli.py", "bot.bootstrap.runtime"),
    # icalendar and matplotlib load when /calendar or /trade chart runs, not with every command
    ("bot/feeds/commands.py", "bot.feeds.calendar"),
    ("bot/feeds/commands.py", "bot.feeds.chart"),
    # TinyDB's storage class loads when the fact store is first written
    ("facts/store.py", "facts.storage"),
    # SQLAlchemy (the state's modules) loads when the state is first opened: `kazkor ask /trade` never
    # opens it (issue 12, < 200 ms cold)
    ("bot/bootstrap/context.py", "bot.state.opening"),
    ("bot/bootstrap/context.py", "bot.state.leader"),
    ("bot/cli.py", "bot.ops.doctor"),
    ("bot/state/__init__.py", "bot.state"),
    # each chat platform's library loads only when that platform is configured (issue 9: a Telegram-only
    # `kazkor run` under 100 MB RSS never loads slack_bolt/slack_sdk)
    ("bot/bootstrap/runtime.py", "bot.platforms.slack"),
    ("bot/bootstrap/runtime.py", "bot.platforms.telegram"),
}


def test_the_import_contracts_are_kept():
    # A separate process: import-linter configures logging with dictConfig, which would disable the
    # loggers of every test that runs after it in this one.
    script = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(script), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan), over every import grimp sees:
    module level, function level and TYPE_CHECKING."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in graph.modules:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(component)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_reaches_itself_through_its_imports():
    graph = grimp.build_graph("bot", "facts")
    assert len(graph.modules) > 50  # the whole project was read
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("bot", "bot.a", "bot.b", "bot.c"):
        graph.add_module(module)
    graph.add_import(importer="bot.a", imported="bot.b")
    graph.add_import(importer="bot.b", imported="bot.a")
    graph.add_import(importer="bot.c", imported="bot.a")
    assert _cycles(graph) == [{"bot.a", "bot.b"}]


def test_no_project_import_inside_a_function_except_for_start_up_time():
    found = set()
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("facts").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.module
                    and node.module.split(".")[0] in ("bot", "facts")
                ):
                    found.add((path.relative_to(ROOT).as_posix(), node.module))
    assert found <= LAZY_ON_PURPOSE, found - LAZY_ON_PURPOSE
