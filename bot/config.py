"""Every setting, read from the environment in one place and validated with one clear line per problem.

Nothing else in the code reads ``os.environ``: tests build a :class:`Config` from a plain dict.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import parse_zone
from bot.i18n import LANGUAGES, SOURCE_LANGUAGE

DEFAULT_TZ = "Asia/Almaty"
DEFAULT_PORT = 3000
DEFAULT_RETENTION_DAYS = 400
DEFAULT_HOST = "0.0.0.0"  # the HTTP server listens on every interface (behind a proxy: 127.0.0.1)
TELEGRAM_DEFAULT_API_URL = "https://api.telegram.org/bot"
SLACK_DEFAULT_API_URL = "https://slack.com/api/"
# HTTP server limits (see bot/http_limits.py and docs/operations.md)
DEFAULT_HTTP_IDLE_TIMEOUT = 15.0  # seconds to send a whole request head, and idle between requests
DEFAULT_HTTP_BODY_TIMEOUT = 10.0  # seconds from the request head to the whole body
DEFAULT_HTTP_MAX_CONNECTIONS = 500  # open connections at once; keep well under the file limit
LOG_FORMATS = ("plain", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class StateUrlError(ValueError):
    """KAZKOR_STATE_URL is not a URL kazkor can use; the message says which forms are."""


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy's default driver would be psycopg2)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    from sqlalchemy.engine import make_url  # the library only here: `kazkor ask` needs no database

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - sqlalchemy raises ArgumentError; one clear line instead
        raise StateUrlError(f"{url[:60]!r} is not a database URL") from None
    if parsed.drivername not in ("postgresql+psycopg", "sqlite", "sqlite+pysqlite"):
        raise StateUrlError(
            f"{parsed.drivername!r} is not supported: use postgresql://user:password@host/db "
            "or sqlite:////path/to/state.sqlite3"
        )
    return url


class ConfigError(ValueError):
    """One malformed setting; the message names the variable and the expected form."""


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("kazkor", appauthor=False)) / "state.json"


# A Telegram user id is a positive number; a Slack member id is U or W then capitals and digits, with at
# least one digit (so a name such as "Walter" or "UMAR" is not taken for one). Prefixes in any case.
_ADMIN_RE = re.compile(
    r"^(?:([Tt][Ee][Ll][Ee][Gg][Rr][Aa][Mm]):)?(\d{1,15})$"
    r"|^(?:([Ss][Ll][Aa][Cc][Kk]):)?([UW](?=[A-Z0-9]*\d)[A-Z0-9]{2,20})$"
)


def parse_admin(entry: str) -> str:
    """One KAZKOR_ADMINS entry in its canonical form (``telegram:123``, ``slack:U0123ABCD`` or a bare
    id), or ConfigError: an entry that can never match anyone must not pass silently."""
    match = _ADMIN_RE.match(entry)
    if not match:
        raise ConfigError(
            f"KAZKOR_ADMINS: {entry[:40]!r} is not a user id; write telegram:123456789 (a numeric "
            "Telegram user id) or slack:U0123ABCD (a Slack member id), comma separated"
        )
    if match.group(2):
        return f"telegram:{match.group(2)}" if match.group(1) else match.group(2)
    member = match.group(4)
    return f"slack:{member}" if match.group(3) else member


@dataclass(frozen=True)
class Config:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TZ))
    db_path: Path | None = None  # None: the user's data directory (resolved lazily: see state_path)
    port: int = DEFAULT_PORT
    host: str = DEFAULT_HOST
    admins: frozenset[str] = frozenset()
    telegram_token: str | None = None
    telegram_api_url: str = TELEGRAM_DEFAULT_API_URL
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = SLACK_DEFAULT_API_URL
    log_format: str = "plain"
    log_level: str = "INFO"
    http_idle_timeout: float = DEFAULT_HTTP_IDLE_TIMEOUT
    http_body_timeout: float = DEFAULT_HTTP_BODY_TIMEOUT
    http_max_connections: int = DEFAULT_HTTP_MAX_CONNECTIONS
    # https://bot.example.org: where people reach /calendar.ics (links in /calendar and reminder posts)
    public_url: str | None = None
    feed_secret: str | None = None  # signs per-channel calendar feed tokens (see calendar_secret)
    lang: str = SOURCE_LANGUAGE  # KAZKOR_LANG: answers where no /language was chosen
    state_url: str | None = None  # KAZKOR_STATE_URL: PostgreSQL (or another SQLite file); None: sqlite_path
    retention_days: int = DEFAULT_RETENTION_DAYS  # delivery ledger entries older than this are pruned

    @property
    def state_path(self) -> Path:
        """``KAZKOR_DB``: where the state lives by default. A TinyDB (JSON) state file found there from an
        older kazkor is migrated into the database once and kept beside it, renamed."""
        return self.db_path if self.db_path is not None else default_db_path()

    @property
    def sqlite_path(self) -> Path:
        """The default SQLite database: ``KAZKOR_DB`` itself, or beside it when that names a .json file."""
        path = self.state_path
        return path.with_suffix(".sqlite3") if path.suffix == ".json" else path

    @property
    def facts_path(self) -> Path:
        """The TinyDB fact store of facts added with ``kazkor facts add`` (beside the state)."""
        path = self.state_path
        return path.with_name(f"{path.stem}.facts.json")

    @property
    def database_url(self) -> str:
        return self.state_url or f"sqlite:///{self.sqlite_path}"

    @property
    def postgres(self) -> bool:
        return self.database_url.startswith(("postgresql", "postgres:"))

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def calendar_secret(self) -> bytes | None:
        """The key that signs per-channel calendar feed tokens: KAZKOR_FEED_SECRET, else derived from a
        platform secret that is already set (so feeds work with no extra setting; changing that secret
        changes every channel's feed address). None: no per-channel feeds."""
        base = self.feed_secret or self.slack_signing_secret or self.telegram_token or self.slack_bot_token
        if not base:
            return None
        return hashlib.sha256(b"kazkor calendar feed tokens\0" + base.encode()).digest()

    def secrets(self) -> list[str]:
        """Every secret value set, so logging can scrub them."""
        values = (
            self.feed_secret,
            self.telegram_token,
            self.telegram_webhook_secret,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self._state_password(),
        )
        return [v for v in values if v]

    def _state_password(self) -> str | None:
        if not self.state_url:
            return None
        from sqlalchemy.engine import make_url

        return make_url(self.state_url).password

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Every setting from ``env`` (default: os.environ); empty is unset; ConfigError names a bad one."""
        source = os.environ if env is None else env

        def get(name: str) -> str | None:
            return source.get(name, "").strip() or None

        log_format, log_level = _logging(get)
        telegram_api_url, slack_api_url = _api_urls(get)
        webhook_url, webhook_secret = _telegram_webhook(get)
        slack_signing_secret, slack_app_token = _slack_mode(get)
        public_url, feed_secret = _feeds(get)
        db, state_url, retention_days = _state(get)
        http_idle_timeout, http_body_timeout, http_max_connections = _http_limits(get)
        return cls(
            tz=_zone(get("KAZKOR_TZ")),
            db_path=Path(db).expanduser() if db else None,
            port=_port(get("PORT")),
            host=get("KAZKOR_HOST") or DEFAULT_HOST,
            admins=frozenset(parse_admin(a) for a in (get("KAZKOR_ADMINS") or "").replace(",", " ").split()),
            telegram_token=get("TELEGRAM_BOT_TOKEN"),
            telegram_api_url=telegram_api_url,
            telegram_webhook_url=webhook_url,
            telegram_webhook_secret=webhook_secret,
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=slack_signing_secret,
            slack_app_token=slack_app_token,
            slack_api_url=slack_api_url,
            log_format=log_format,
            log_level=log_level,
            public_url=public_url,
            feed_secret=feed_secret,
            lang=_lang(get("KAZKOR_LANG")),
            http_idle_timeout=http_idle_timeout,
            http_body_timeout=http_body_timeout,
            http_max_connections=http_max_connections,
            state_url=state_url,
            retention_days=retention_days,
        )


# -- reading and checking the settings, one group at a time (each raises ConfigError naming the variable)

Get = Callable[[str], "str | None"]


def _zone(name: str | None) -> ZoneInfo:
    if name is None:
        return ZoneInfo(DEFAULT_TZ)
    zone = parse_zone(name)  # any letter case; "localtime" and "Factory" are not places
    if zone is None:
        raise ConfigError(f"KAZKOR_TZ: unknown time zone {name!r}; use an IANA name such as Asia/Almaty")
    return ZoneInfo(zone)


def _port(text: str | None) -> int:
    text = text or str(DEFAULT_PORT)
    if not text.isdecimal() or not 1 <= int(text) <= 65535:
        raise ConfigError(f"PORT: {text!r} is not a port number (1-65535), e.g. PORT=3000")
    return int(text)


def _logging(get: Get) -> tuple[str, str]:
    log_format = (get("KAZKOR_LOG_FORMAT") or "plain").lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"KAZKOR_LOG_FORMAT: {log_format!r} is not one of plain, json")
    log_level = (get("KAZKOR_LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"KAZKOR_LOG_LEVEL: {log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    return log_format, log_level


def _lang(text: str | None) -> str:
    lang = (text or SOURCE_LANGUAGE).lower()
    if lang not in LANGUAGES:
        raise ConfigError(
            f"KAZKOR_LANG: {lang[:20]!r} is not one of {', '.join(LANGUAGES)}, e.g. KAZKOR_LANG=ru"
        )
    return lang


def _api_urls(get: Get) -> tuple[str, str]:
    telegram_api_url = get("TELEGRAM_API_URL") or TELEGRAM_DEFAULT_API_URL
    slack_api_url = get("SLACK_API_URL") or SLACK_DEFAULT_API_URL
    for name, url in (("TELEGRAM_API_URL", telegram_api_url), ("SLACK_API_URL", slack_api_url)):
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{name}: {url!r} is not an http(s) URL")
    if not slack_api_url.endswith("/"):
        slack_api_url += "/"  # slack-sdk joins method names onto the base URL
    return telegram_api_url, slack_api_url


def _telegram_webhook(get: Get) -> tuple[str | None, str | None]:
    url, secret = get("TELEGRAM_WEBHOOK_URL"), get("TELEGRAM_WEBHOOK_SECRET")
    if url and not url.startswith("https://") and not url.startswith("http://127."):
        raise ConfigError(f"TELEGRAM_WEBHOOK_URL: {url!r} must be an https:// URL")
    if url and not secret:
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL "
            "(1-256 characters of A-Z, a-z, 0-9, _ and -)"
        )
    if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and - (what Telegram accepts)"
        )
    return url, secret


def _slack_mode(get: Get) -> tuple[str | None, str | None]:
    """(signing secret, app token): HTTP mode needs the first, Socket Mode the second."""
    signing_secret, app_token = get("SLACK_SIGNING_SECRET"), get("SLACK_APP_TOKEN")
    if get("SLACK_BOT_TOKEN") and not app_token and not signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET: required for Slack HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)"
        )
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN: an app-level token starts with 'xapp-'")
    return signing_secret, app_token


def _feeds(get: Get) -> tuple[str | None, str | None]:
    public_url = get("KAZKOR_PUBLIC_URL")
    if public_url is not None:
        public_url = public_url.rstrip("/")
        if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", public_url):
            raise ConfigError(
                f"KAZKOR_PUBLIC_URL: {public_url[:60]!r} is not an http(s) base URL; "
                "e.g. KAZKOR_PUBLIC_URL=https://kazkor.example.org"
            )
    feed_secret = get("KAZKOR_FEED_SECRET")
    if feed_secret is not None and len(feed_secret) < 16:
        raise ConfigError(
            "KAZKOR_FEED_SECRET: use at least 16 random characters, e.g. `openssl rand -hex 32`"
        )
    return public_url, feed_secret


def _number(get: Get, name: str, default: float, low: float, high: float, example: str) -> float:
    text = get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also refuses nan
        raise ConfigError(
            f"{name}: {text[:20]!r} is not a number from {low:g} to {high:g}, e.g. {name}={example}"
        )
    return value


def _http_limits(get: Get) -> tuple[float, float, int]:
    """The HTTP server's limits: idle timeout, body timeout (seconds), most connections at once."""
    max_connections = _number(get, "KAZKOR_HTTP_MAX_CONNECTIONS", DEFAULT_HTTP_MAX_CONNECTIONS, 1, 1e6, "500")
    if max_connections != int(max_connections):
        raise ConfigError(
            f"KAZKOR_HTTP_MAX_CONNECTIONS: {max_connections:g} is not a whole number, "
            "e.g. KAZKOR_HTTP_MAX_CONNECTIONS=500"
        )
    idle = _number(get, "KAZKOR_HTTP_IDLE_TIMEOUT", DEFAULT_HTTP_IDLE_TIMEOUT, 0.1, 3600, "15")
    body = _number(get, "KAZKOR_HTTP_BODY_TIMEOUT", DEFAULT_HTTP_BODY_TIMEOUT, 0.1, 3600, "10")
    return idle, body, int(max_connections)


def _state(get: Get) -> tuple[str | None, str | None, int]:
    """(KAZKOR_DB, the normalised KAZKOR_STATE_URL, the ledger's retention in days)."""
    db = get("KAZKOR_DB")
    if db and Path(db).expanduser().is_dir():
        raise ConfigError(
            f"KAZKOR_DB: {db!r} is a folder; give the state file's path, e.g. {db.rstrip('/')}/state.json"
        )
    state_url = get("KAZKOR_STATE_URL")
    if state_url:
        try:
            state_url = normalise_url(state_url)
        except StateUrlError as exc:
            raise ConfigError(f"KAZKOR_STATE_URL: {exc}") from None
    retention = get("KAZKOR_LEDGER_RETENTION_DAYS") or str(DEFAULT_RETENTION_DAYS)
    if not retention.isdecimal() or not 30 <= int(retention) <= 36500:
        raise ConfigError(
            f"KAZKOR_LEDGER_RETENTION_DAYS: {retention[:20]!r} is not a number of days from 30 to 36500, "
            "e.g. KAZKOR_LEDGER_RETENTION_DAYS=400"
        )
    return db, state_url, int(retention)
