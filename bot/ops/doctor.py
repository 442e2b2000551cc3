"""``kazkor doctor``: check what ``kazkor run`` needs, one line per check, with a fix for each ✗.

Checks, in order: the configuration, the state database (engine, connectivity, schema version, bad
records, who runs the scheduler; an old TinyDB state file waiting to be migrated), the curated data and
added facts, and each configured platform (Telegram ``getMe``, Slack ``auth.test``; 5 s timeouts).
Read-only: nothing is created, migrated or moved. Exit status 0 when every check passes, 1 otherwise.
No token is ever printed: every line goes through the same scrubber as the logs.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.config import Config
from bot.exits import EXIT_FAILURE, EXIT_OK
from bot.logs import SecretScrubber
from bot.platforms.probe import PROBE_TIMEOUT, probe_slack, probe_telegram
from bot.state import StateStore
from bot.state.leader import leader_lock
from bot.state.migrate import LegacyUnreadable, read_legacy
from bot.state.schema import SCHEMA_VERSION
from facts.model import DataError, build_record
from facts.store import load_catalogue

OK_MARK, FAIL_MARK = "✓", "✗"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


# -- configuration --------------------------------------------------------------------------------


def check_config(config: Config) -> list[Check]:
    checks: list[Check] = []
    platforms = []
    if config.telegram_enabled:
        platforms.append("telegram (webhook)" if config.telegram_webhook_url else "telegram (polling)")
    if config.slack_enabled:
        platforms.append("slack (Socket Mode)" if config.slack_app_token else "slack (HTTP: /slack/events)")
    if platforms:
        checks.append(
            Check(
                "configuration",
                True,
                f"{', '.join(platforms)}; time zone {config.tz.key}; port {config.port}; "
                f"logs {config.log_format} at {config.log_level}",
            )
        )
    else:
        checks.append(
            Check(
                "configuration",
                False,
                "no platform configured: `kazkor run` would have nothing to serve",
                "set TELEGRAM_BOT_TOKEN and/or SLACK_BOT_TOKEN (with SLACK_SIGNING_SECRET or "
                "SLACK_APP_TOKEN) in the environment file",
            )
        )
    # A webhook URL without its secret, or a Slack bot token with neither a signing secret nor an app
    # token, never gets here: Config.from_env refuses both with one line before any check runs.
    if config.telegram_webhook_url and not config.telegram_enabled:
        checks.append(
            Check(
                "telegram webhook",
                False,
                "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_BOT_TOKEN is not",
                "set TELEGRAM_BOT_TOKEN, or remove TELEGRAM_WEBHOOK_URL",
            )
        )
    if config.slack_enabled:
        if not config.slack_bot_token.startswith("xoxb-"):  # type: ignore[union-attr]
            checks.append(
                Check(
                    "slack token",
                    False,
                    "SLACK_BOT_TOKEN does not start with xoxb-",
                    "use the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
                )
            )
    elif config.slack_signing_secret or config.slack_app_token:
        checks.append(
            Check(
                "slack token",
                False,
                "SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not",
                "set SLACK_BOT_TOKEN (xoxb-…), or remove the other Slack settings",
            )
        )
    return checks


# -- state database -------------------------------------------------------------------------------


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _db_failure(exc: Exception) -> tuple[str, str]:
    """(what went wrong, how to fix it) for a failed connection, PostgreSQL's causes told apart."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
    low = text.lower()
    if (
        "password authentication failed" in low
        or "authentication" in low
        or "role" in low
        and "not exist" in low
    ):
        return (
            f"reachable, but not authenticated ({text})",
            "correct the user and password in KAZKOR_STATE_URL",
        )
    if "does not exist" in low and "database" in low:
        return (
            f"reachable, but {text}",
            "create the database (createdb) or correct its name in KAZKOR_STATE_URL",
        )
    if any(word in low for word in ("refused", "timeout", "timed out", "could not translate", "no route")):
        return f"not reachable ({text})", "start PostgreSQL or correct the host and port in KAZKOR_STATE_URL"
    return text, "see the error above; `kazkor run` needs this database"


def check_state(config: Config) -> list[Check]:
    from sqlalchemy.exc import SQLAlchemyError


    checks = _check_legacy(config)
    name = "state database"
    if not config.state_url:
        path = config.sqlite_path
        existing = _nearest_existing(path.parent)
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            fix = f"make {path.parent} writable by the user running kazkor, or point KAZKOR_DB elsewhere"
            return checks + [Check(name, False, f"SQLite {path}: cannot write in {existing}", fix)]
        if not path.exists():
            return checks + [Check(name, True, f"SQLite {path}: not created yet (the first run creates it)")]
    try:
        store = StateStore(config.database_url, name="kazkor doctor", create=False)
    except Exception as exc:  # noqa: BLE001 - a bad URL or driver: one line
        return checks + [Check(name, False, f"cannot open: {exc}", "correct KAZKOR_STATE_URL")]
    where = store.describe()
    try:
        try:
            version = store.schema_version()
        except SQLAlchemyError as exc:
            if "no such table" in str(exc) or "does not exist" in str(exc) and "relation" in str(exc):
                return checks + [Check(name, False, f"{where}: reachable, but no kazkor schema yet",
                                       "start `kazkor run` once: it creates the tables")]  # fmt: skip
            detail, fix = _db_failure(exc)
            return checks + [Check(name, False, f"{where}: {detail}", fix)]
        if version != SCHEMA_VERSION:
            fix = (
                "start `kazkor run` once: it upgrades the schema"
                if (version or 0) < SCHEMA_VERSION
                else ("upgrade kazkor: a newer version wrote this database")
            )
            return checks + [Check(name, False, f"{where}: schema version {version}, this kazkor uses "
                                                f"{SCHEMA_VERSION}", fix)]  # fmt: skip
        counts = store.counts()
        holder = leader_lock(store, "kazkor doctor").holder()
        scheduler = f"scheduler run by {holder}" if holder else "no kazkor process runs the scheduler"
        checks.append(Check(name, True, (
            f"{where}: schema version {version} (current); {counts.subscriptions} subscriptions, "
            f"{counts.sent} deliveries recorded, {counts.pending} pending; {scheduler}"
        )))  # fmt: skip
        for bad in store.bad_records():
            checks.append(Check("bad record", False, bad, "subscribe again in that channel (/subscribe), "
                                "or /unsubscribe there; until then it is skipped"))  # fmt: skip
    except SQLAlchemyError as exc:
        detail, fix = _db_failure(exc)
        checks.append(Check(name, False, f"{where}: {detail}", fix))
    finally:
        store.close()
    return checks


def _check_legacy(config: Config) -> list[Check]:
    """An old TinyDB state file at KAZKOR_DB is migrated on the next start: say what it holds."""

    path = config.state_path
    if not path.is_file() or path.suffix != ".json":
        return []
    try:
        old = read_legacy(path)
    except LegacyUnreadable as exc:
        fix = f"restore {path} from a backup (it is migrated on the next start), or remove it"
        return [Check("old state file", False, f"{exc}: it cannot be migrated", fix)]
    detail = (
        f"{path}: moves into the state database on the next start ({len(old.subscriptions)} subscriptions, "
        f"{len(old.sent)} deliveries, {len(old.pending)} pending, {len(old.facts)} added facts)"
    )
    if old.skipped:
        detail += f"; {len(old.skipped)} bad records will be skipped: " + "; ".join(old.skipped[:5])
    return [Check("old state file", True, detail)]


# -- curated data ---------------------------------------------------------------------------------


def check_data(config: Config) -> list[Check]:
    try:
        catalogue = load_catalogue()
    except DataError as exc:
        return [
            Check(
                "curated data",
                False,
                f"invalid: {exc}",
                "reinstall kazkor (`pip install --force-reinstall kazkor`) or fix the file named above "
                "and run `kazkor facts validate`",
            )
        ]
    checks = [Check("curated data", True, f"valid: {catalogue.describe()}")]
    path = config.facts_path
    if path.is_file():
        try:
            data = json.loads(path.read_bytes() or b"{}")
            docs = data.get("facts", {}) if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return checks  # reported by check_state
        added = 0
        for doc_id, doc in (docs or {}).items():
            where = f"{path} facts document {doc_id}"
            try:
                kind = doc.get("kind", "?") if isinstance(doc, dict) else "?"
                raw = doc.get("record") if isinstance(doc, dict) else None
                catalogue.add(build_record(kind, raw, where), where)
                added += 1
            except DataError as exc:
                checks.append(
                    Check(
                        "added facts",
                        False,
                        str(exc),
                        f'remove or correct document {doc_id} in the "facts" table of {path}',
                    )
                )
                return checks
        if added:
            checks.append(Check("added facts", True, f"{added} added facts in {path} are valid"))
    return checks


# -- platforms ------------------------------------------------------------------------------------


async def _probe_platforms(config: Config, timeout: float) -> list[Check]:
    names: list[str] = []
    jobs = []
    if config.telegram_enabled:
        names.append("telegram")
        jobs.append(probe_telegram(config.telegram_token or "", config.telegram_api_url, timeout))
    if config.slack_enabled:
        names.append("slack")
        jobs.append(
            probe_slack(config.slack_bot_token or "", config.slack_api_url, config.slack_app_token, timeout)
        )
    results = await asyncio.gather(*jobs, return_exceptions=True)
    checks = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, BaseException):
            checks.append(Check(name, False, f"probe failed: {type(result).__name__}: {result}", None))
        else:
            checks.append(Check(name, result.ok, result.detail, result.fix))
    return checks


def check_platforms(config: Config, timeout: float = PROBE_TIMEOUT) -> list[Check]:
    if not (config.telegram_enabled or config.slack_enabled):
        return []
    return asyncio.run(_probe_platforms(config, timeout))


# -- running --------------------------------------------------------------------------------------

CHECKS: tuple[Callable[[Config], list[Check]], ...] = (check_config, check_state, check_data, check_platforms)


def run_doctor(config: Config, out: TextIO | None = None, *, probe_timeout: float = PROBE_TIMEOUT) -> int:
    """Run every check, print one line each (plus a fix line for each ✗); 0 when all pass, else 1.
    ``probe_timeout``: seconds each platform has to answer."""
    out = out if out is not None else sys.stdout
    scrubber = SecretScrubber(config.secrets())
    failed = 0

    def emit(text: str) -> None:
        try:
            print(scrubber.scrub(text), file=out, flush=True)
        except UnicodeEncodeError:  # a terminal that cannot show ✓/✗
            print(scrubber.scrub(text).encode("ascii", "replace").decode("ascii"), file=out, flush=True)

    for check_fn in CHECKS:
        try:
            checks = check_fn(config, probe_timeout) if check_fn is check_platforms else check_fn(config)
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            name = check_fn.__name__.removeprefix("check_")
            checks = [Check(name, False, f"the check itself failed: {type(exc).__name__}: {exc}")]
        for check in checks:
            emit(f"{OK_MARK if check.ok else FAIL_MARK} {check.name}: {check.detail}")
            if not check.ok:
                failed += 1
                if check.fix:
                    emit(f"    fix: {check.fix}")
    emit("all checks passed" if not failed else f"{failed} check{'s' if failed != 1 else ''} failed")
    return EXIT_OK if not failed else EXIT_FAILURE
