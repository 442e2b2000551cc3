"""The ``kazkor`` command line: ask | console | reminders | facts | run | post-due | doctor.

With ``bot.app`` the only place that prints and exits: everything below raises. Platform libraries are
imported only by the sub-commands that need them (``run``, ``post-due``), so ``kazkor ask`` starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from dataclasses import asdict, fields, is_dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot import logs
from bot.bootstrap.context import BootstrapError, build_context, no_platform
from bot.clock import local_today, system_clock
from bot.commands import Context, handle_text
from bot.commands.args import FIRST_YEAR, LAST_YEAR
from bot.commands.due import due
from bot.commands.format import human_date
from bot.config import Config, ConfigError
from bot.exits import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from bot.feeds.calendar import FEEDS
from bot.i18n import LANGUAGES
from bot.render.plain import render_plain
from bot.reply import Reply
from bot.subscription import DEFAULT_LEADS
from facts import coverage
from facts.model import DataError
from facts.store import RECORD_KINDS, FactStore, load_catalogue

NO_PLATFORM_MESSAGE = """\
kazkor run: no platform is configured, so there is nothing to serve.
Set at least one of:
  Telegram:  TELEGRAM_BOT_TOKEN=<token from @BotFather>
  Slack:     SLACK_BOT_TOKEN=xoxb-... and SLACK_SIGNING_SECRET=... (HTTP mode, POST /slack/events on PORT)
             or SLACK_BOT_TOKEN=xoxb-... and SLACK_APP_TOKEN=xapp-... (Socket Mode)
See deploy/.env.example for every setting. To try the commands without a platform: kazkor console"""

REPLICAS_NEED_WEBHOOK = """\
kazkor run: KAZKOR_STATE_URL is PostgreSQL, where several replicas share one database, and Telegram
polling cannot be shared between replicas (a second poller gets Conflict). Set TELEGRAM_WEBHOOK_URL
(https://your.host/telegram) and TELEGRAM_WEBHOOK_SECRET; see docs/state.md."""


def _config() -> Config:
    try:
        return Config.from_env()
    except ConfigError as exc:
        print(f"kazkor: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None


def _context(
    config: Config,
    *,
    with_state: bool = True,
    writer: bool = False,
    command: str = "kazkor",
    state_optional: bool = False,
) -> Context:
    """The command context (catalogue + state), or one line on standard error and exit 1."""
    try:
        ctx = build_context(
            config, with_state=with_state, writer=writer, command=command, state_optional=state_optional,
            warn=lambda line: print(f"kazkor: warning: {line}", file=sys.stderr),
        )  # fmt: skip
    except BootstrapError as exc:
        print(f"kazkor: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_FAILURE) from None
    return ctx


def show_reply(reply: Reply) -> None:
    """Print the plain-text answer; write each attached file (a chart, a calendar) and print its path."""
    print(render_plain(reply))
    for attachment in reply.attachments:
        folder = Path(tempfile.gettempdir()) / "kazkor"
        folder.mkdir(exist_ok=True)
        path = folder / attachment.filename
        path.write_bytes(attachment.produce())
        print(f"File: {path}")


def cmd_ask(args: argparse.Namespace) -> int:
    ctx = _context(_config(), command="kazkor ask", state_optional=True)
    reply = handle_text(" ".join(args.text), ctx, lang=args.lang)
    show_reply(reply)
    return EXIT_OK if reply.kind == "answer" else EXIT_USAGE


def cmd_console(args: argparse.Namespace) -> int:
    ctx = _context(_config(), command="kazkor console", state_optional=True)
    lang = args.lang  # --lang: this session's language, over the one saved with /language
    interactive = sys.stdin.isatty()
    if interactive:
        print("kazkor console: type /help for the commands, /quit or Ctrl-D to leave.")
    while True:
        try:
            line = input("kazkor> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            print()
            return EXIT_OK
        line = line.strip()
        if not line:
            continue
        if line.split()[0].lower() in ("/quit", "/exit", "quit", "exit"):
            return EXIT_OK
        reply = handle_text(line, ctx, lang=lang)
        if (
            lang
            and reply.kind == "answer"
            and line.split()[0].lower() == "/language"
            and len(line.split()) > 1
        ):
            lang = None  # a language chosen with /language now applies (it is saved for the console)
        show_reply(reply)
        print()


# post-due posts for "today" in each subscription's zone, which is at most a day off KAZKOR_TZ's.
POST_DUE_SLACK_DAYS = 1


def _parse_date(text: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date of the form YYYY-MM-DD, e.g. 2024-10-06")
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day of the calendar, e.g. 2024-02-29") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise argparse.ArgumentTypeError(f"{text!r}: give a year from {FIRST_YEAR} to {LAST_YEAR}")
    return day


def _whole_number(name: str, low: int, high: int, example: int):
    """An argparse type: a whole number in [low, high], or one line saying so."""

    def parse(text: str) -> int:
        if (
            not text.strip().isascii()
            or not text.strip().lstrip("-").isdecimal()
            or not (low <= int(text) <= high)
        ):
            raise argparse.ArgumentTypeError(
                f"{text[:20]!r} is not a whole number from {low} to {high}, e.g. {name} {example}"
            )
        return int(text)

    return parse


def cmd_reminders(args: argparse.Namespace) -> int:
    config = _config()
    ctx = _context(config, with_state=False)
    start = args.date or ctx.today()
    leads = tuple(args.lead) if args.lead else DEFAULT_LEADS
    total = 0
    for offset in range(args.days):
        day = start + timedelta(days=offset)
        reminders = due(ctx.catalogue, day, leads)
        total += len(reminders)
        if reminders or args.days == 1:
            print(f"{human_date(day)} ({config.tz.key}): {len(reminders) or 'nothing'} due")
            for reminder in reminders:
                print(f"  • {reminder.text()}")
    print(f"{total} reminder{'s' * (total != 1)} over {args.days} day{'s' * (args.days != 1)} (dry run).")
    return EXIT_OK


def _record_json(record: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": record.kind}
    for f in fields(record):
        value = getattr(record, f.name)
        if value is None or value == ():
            continue
        if f.name == "i18n":  # written back as in the data files: "summary_i18n": {...}
            out.update({f"{name}_i18n": dict(texts) for name, texts in value.items()})
            continue
        if is_dataclass(value) and not isinstance(value, type):
            value = value.iso() if hasattr(value, "iso") else asdict(value)
        elif isinstance(value, tuple):
            value = [asdict(v) if is_dataclass(v) and not isinstance(v, type) else v for v in value]
        out[f.name] = value
    return out


def cmd_facts(args: argparse.Namespace) -> int:
    if args.action == "validate":
        data_dir = Path(args.data_dir) if args.data_dir else None
        if data_dir is not None and not data_dir.is_dir():
            print(f"kazkor: --data-dir {data_dir} is not a folder (give the folder holding the .json files)",
                  file=sys.stderr)  # fmt: skip
            return EXIT_USAGE
        try:
            catalogue = load_catalogue(data_dir)
        except DataError as exc:
            print(f"invalid: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        print(f"valid: {catalogue.describe()}")
        return EXIT_OK
    if args.action == "coverage":
        return _coverage(args)
    ctx = _context(_config(), with_state=False)
    catalogue = ctx.catalogue
    if args.action == "add":
        return _add_facts(args, ctx)
    payload = {
        "sources": [_record_json_source(s) for s in catalogue.sources.values()],
        "records": [_record_json(r) for r in sorted(catalogue.by_id.values(), key=lambda r: (r.kind, r.id))],
    }
    json.dump(payload, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return EXIT_OK


def _coverage(args: argparse.Namespace) -> int:
    """Print the share of each seed's sentences cited by records; with --write, recompute the maps'
    ``cited_by`` lists from the records (reasons for left-out sentences are kept) into facts/coverage."""
    catalogue = load_catalogue()
    shares, problems = [], []
    for source in coverage.seed_sources(catalogue):
        text = coverage.seed_text(source)
        stored = coverage.read_map(source)
        if args.write:
            stored = coverage.build_map(catalogue, source, text, stored)
            Path(str(coverage.map_path(source))).write_text(coverage.dump_map(stored), encoding="utf-8")
        problems += coverage.check_map(catalogue, source, text, stored)
        shares.append(coverage.share(source, stored))
    print(coverage.table(shares))
    for problem in problems:
        print(f"  problem: {problem}", file=sys.stderr)
    return EXIT_FAILURE if problems else EXIT_OK


def _add_facts(args: argparse.Namespace, ctx: Any) -> int:
    """Add facts from a JSON file (one record or a list) to the state file: all of them, or none if one
    is refused (so a fixed file can simply be added again)."""
    if not args.kind or not args.file:
        print("kazkor facts add needs --kind and --file, e.g. --kind event --file new.json", file=sys.stderr)
        return EXIT_USAGE
    try:
        raw = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"kazkor: cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    records = raw if isinstance(raw, list) else [raw]
    for i, record in enumerate(records):
        # a record copied from `kazkor facts export` carries its kind: fine when it is the one given
        if isinstance(record, dict) and "kind" in record:
            if record["kind"] != args.kind:
                print(f"kazkor: nothing added: {args.file} record {i} is of kind {record['kind']!r}, "
                      f"not {args.kind!r} (--kind {args.kind})", file=sys.stderr)  # fmt: skip
                return EXIT_FAILURE
            records[i] = {k: v for k, v in record.items() if k != "kind"}
    if not records:
        print(f"kazkor: {args.file} holds an empty list: nothing to add", file=sys.stderr)
        return EXIT_USAGE
    from filelock import Timeout

    store = FactStore(_config().facts_path)
    try:
        names = [f"{args.file} record {i}" for i in range(len(records))]
        added = store.add_facts(args.kind, records, ctx.catalogue, names)
    except DataError as exc:
        print(f"kazkor: nothing added: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except (Timeout, OSError) as exc:
        print(f"kazkor: nothing added: cannot write {store.path}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    for record in added:
        print(f"added {record.kind} {record.id}")
    print(f"{len(added)} fact{'s' * (len(added) != 1)} added to {store.path}")
    return EXIT_OK


def _record_json_source(source: Any) -> dict[str, Any]:
    out = {f.name: getattr(source, f.name) for f in fields(source) if getattr(source, f.name) is not None}
    if "published" in out:
        out["published"] = out["published"].iso()
    return out


def cmd_calendar(args: argparse.Namespace) -> int:
    """Write the public feed, or a channel's (``--channel telegram:-1001234``), as .ics to stdout."""
    config = _config()
    ctx = _context(config, with_state=args.channel is not None)
    now = ctx.clock()
    if args.channel is None:
        feed = FEEDS.public(ctx.catalogue, now.astimezone(ctx.tz).date(), now)
    else:
        platform, _, channel = args.channel.partition(":")
        sub = ctx.state.subscription(platform, channel) if channel else None
        if sub is None or not sub.get("active", True):
            print(
                f"kazkor: no active subscription for {args.channel[:60]!r}. Give a subscribed channel as "
                "PLATFORM:CHANNEL, e.g. --channel telegram:-1001234567890 or --channel slack:C0123ABCD",
                file=sys.stderr,
            )
            return EXIT_USAGE
        feed = FEEDS.channel(ctx.catalogue, sub, now)
    sys.stdout.buffer.write(feed.body)
    sys.stdout.flush()
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from bot import app  # the platform libraries: only when serving

    config = _config()
    if no_platform(config):
        print(NO_PLATFORM_MESSAGE, file=sys.stderr)
        return EXIT_USAGE
    if config.postgres and config.telegram_enabled and not config.telegram_webhook_url:
        print(REPLICAS_NEED_WEBHOOK, file=sys.stderr)
        return EXIT_USAGE
    logs.setup_logging(config)
    # Loads the catalogue and the state once. On SQLite this process takes the scheduler lock now (one
    # `kazkor run` per file); on PostgreSQL replicas are elected while they run (bot.state.leader).
    ctx = _context(config, writer=not config.postgres, command="kazkor run")
    return app.run(config, ctx)


def cmd_post_due(args: argparse.Namespace) -> int:
    config = _config()
    if args.date is not None and not args.force:
        today = local_today(system_clock, config.tz)
        if abs((args.date - today).days) > POST_DUE_SLACK_DAYS:
            # Another day's reminders, posted now, would tell channels about events long past, or mark
            # a future day's reminders as sent so they never go out on the day.
            print(
                f"kazkor: post-due --date {args.date} is not today ({today} in {config.tz.key}); nothing "
                f"was sent. See what that day would post with `kazkor reminders --date {args.date}`, "
                "or add --force to post it anyway.",
                file=sys.stderr,
            )
            return EXIT_USAGE
    logs.setup_logging(config)
    # the scheduler lock: a running `kazkor run` posts what is due, so stop here (naming it)
    ctx = _context(config, writer=True, command="kazkor post-due")
    from bot.bootstrap.runtime import post_due  # the platform libraries: only when posting

    summary, stopped_by = post_due(config, ctx, args.date)
    print(summary.line())
    for problem in summary.problems:
        print(f"  problem: {problem}")
    if stopped_by:
        print(f"stopped by {stopped_by}: run kazkor post-due again to post what is still due")
        return EXIT_FAILURE
    return EXIT_FAILURE if summary.failed else EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    # deferred for start-up cost: the doctor imports the state (SQLAlchemy, ~0.2 s), which `kazkor ask`
    # must not pay (issue 12)
    from bot.ops.doctor import run_doctor

    return run_doctor(_config())


def _lang_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        type=str.lower,
        help="answer in this language (default: the one chosen with /language, else KAZKOR_LANG)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kazkor", description="Kazakhstan–Korea relations bot.")
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer one command and print the plain-text reply")
    ask.add_argument("text", nargs="+", help='e.g. "/agreements 2024"')
    _lang_option(ask)
    ask.set_defaults(func=cmd_ask)

    console = sub.add_parser("console", help="an interactive prompt over the same commands")
    _lang_option(console)
    console.set_defaults(func=cmd_console)

    reminders = sub.add_parser("reminders", help="print what would be posted on each day (dry run)")
    reminders.add_argument(
        "--date", type=_parse_date, help="first day, YYYY-MM-DD (default: today in KAZKOR_TZ)"
    )
    reminders.add_argument(
        "--days", type=_whole_number("--days", 1, 3660, 30), default=1, metavar="N", help="days to show"
    )
    reminders.add_argument(
        "--lead",
        type=_whole_number("--lead", 0, 366, 7),
        action="append",
        help="lead time in days (repeatable; default 7 and 0)",
    )
    reminders.set_defaults(func=cmd_reminders)

    facts = sub.add_parser("facts", help="validate or export the fact data")
    facts.add_argument("action", choices=("validate", "export", "add", "coverage"))
    facts.add_argument("--data-dir", help="validate this folder instead of the packaged data")
    facts.add_argument("--kind", choices=RECORD_KINDS, help="with add")
    facts.add_argument("--write", action="store_true", help="with coverage: recompute the sentence maps")
    facts.add_argument("--file", help="with add: a JSON file holding one record or a list of records")
    facts.set_defaults(func=cmd_facts)

    calendar = sub.add_parser("calendar", help="write the calendar feed (.ics) to stdout")
    calendar.add_argument(
        "--channel",
        metavar="PLATFORM:CHANNEL",
        help="a subscribed channel's feed, e.g. telegram:-1001234567890",
    )
    calendar.set_defaults(func=cmd_calendar)

    run = sub.add_parser("run", help="serve every configured platform (Slack, Telegram) and post reminders")
    run.set_defaults(func=cmd_run)

    post_due = sub.add_parser(
        "post-due", help="send the reminders due now (or on --date) to every subscription"
    )
    post_due.add_argument("--date", type=_parse_date, help="the local day to post for, YYYY-MM-DD")
    post_due.add_argument(
        "--force", action="store_true", help="post for a --date that is not today (tests, stand-ins)"
    )
    post_due.set_defaults(func=cmd_post_due)

    doctor = sub.add_parser("doctor", help="check configuration, state file, data and platform reachability")
    doctor.set_defaults(func=cmd_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        # `kazkor ask /trade | head`: the reader left; say nothing more (and no traceback)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:  # Ctrl-C outside the places that stop gracefully (post-due, run, console)
        print("kazkor: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
