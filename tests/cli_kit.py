"""Running the `kazkor` command line in tests: in this process through ``bot.cli.main(argv)`` (fast: no
interpreter start-up, no re-import), or as a real process through the installed ``kazkor`` script for
the few smoke tests that prove the entry point itself.

Both take the environment a user would set and give back exit status, standard output and standard
error, like ``subprocess.run``.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from bot import cli

KAZKOR_SCRIPT = Path(sys.executable).with_name("kazkor")  # installed by `pip install` with the package


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any kazkor, Telegram or Slack setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "KAZKOR_"))}
    env.update(extra or {})
    return env


def _stream() -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    return stream.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None) -> Ran:
    """``kazkor ARGS`` in this process, with exactly ``env`` as its environment. What the command line
    changes process-wide (the logging set-up of ``run`` and ``post-due``, the exception hooks) is put back."""
    saved_env = dict(os.environ)
    root = logging.getLogger()
    saved_logging = (root.handlers[:], root.level, sys.excepthook, threading.excepthook)
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    out, err = _stream(), _stream()
    os.environ.clear()
    os.environ.update(env)
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin or ""), out, err
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse's usage errors, and the CLI's own exits
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_env)
        root.handlers[:], level, sys.excepthook, threading.excepthook = saved_logging
        root.setLevel(level)
        logging.captureWarnings(False)
    return Ran(code, _text(out), _text(err))


def run_installed(*args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60) -> Ran:
    """``kazkor ARGS`` as a separate process through the installed entry point script."""
    done = subprocess.run(
        [str(KAZKOR_SCRIPT), *args], capture_output=True, text=True, env=env, input=stdin, timeout=timeout
    )
    return Ran(done.returncode, done.stdout, done.stderr)
