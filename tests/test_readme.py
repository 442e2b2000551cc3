"""The README's promises: its two commands lead the file and CI runs the test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
