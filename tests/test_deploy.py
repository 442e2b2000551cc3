"""The deploy files keep their promises: read the way Docker, Compose and systemd read them.

No Docker engine here, so the Dockerfile is parsed (and its HEALTHCHECK command run for real against a
live /healthz); the systemd unit goes through ``systemd-analyze verify`` when that tool exists.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import STOP_BUDGET
from bot.config import Config
from bot.ops.health import Monitor
from bot.ops.metrics import Metrics
from bot.ops.routes import add_ops_routes

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"


# -- Dockerfile -----------------------------------------------------------------------------------


def dockerfile_instructions(path: Path = DEPLOY / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    return instructions[last_from:]


def values(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [args for kw, args in stage if kw == keyword]


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in values(stage, "ENV"):
        for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", args):
            env[name] = value
    return env


def healthcheck_command() -> list[str]:
    (args,) = values(final_stage(), "HEALTHCHECK")
    _, _, exec_form = args.partition("CMD ")
    return json.loads(exec_form)


def test_image_is_python_311_slim():
    froms = [args.split()[0] for kw, args in dockerfile_instructions() if kw == "FROM"]
    assert froms and all(image == "python:3.11-slim" for image in froms)


def test_runs_as_a_non_root_user_after_the_last_root_step():
    stage = final_stage()
    users = [i for i, (kw, _) in enumerate(stage) if kw == "USER"]
    assert users, "no USER in the final stage: the bot would run as root"
    user = stage[users[-1]][1].split(":")[0]
    assert user not in ("root", "0")
    last_run = max((i for i, (kw, _) in enumerate(stage) if kw == "RUN"), default=-1)
    assert users[-1] > last_run, "USER must come after the steps that need root"
    assert any("useradd" in args and user in args for args in values(stage, "RUN"))


def test_the_image_listens_on_the_port_it_exposes_and_keeps_state_on_its_volume():
    stage = final_stage()
    env = env_of(stage)
    config = Config.from_env(env)  # what kazkor reads from the image's environment
    assert values(stage, "EXPOSE") == [str(config.port)]
    volumes = {args.strip('[]" ') for args in values(stage, "VOLUME")}
    assert str(Path(env["KAZKOR_DB"]).parent) in volumes  # the state file lives on the volume
    assert json.loads(values(stage, "CMD")[-1]) == ["kazkor", "run"]
    # the non-root user owns /data (the volume is initialised from it)
    assert any("chown" in args and "/data" in args for args in values(stage, "RUN"))


def test_project_is_pip_installed_from_the_copied_sources():
    instructions = dockerfile_instructions()
    runs = " ".join(args for kw, args in instructions if kw == "RUN")
    assert re.search(r"pip install \.(\s|$)", runs)
    copied = [args.split()[:-1] for kw, args in instructions if kw == "COPY" and "--from" not in args]
    sources = [source for group in copied for source in group]
    for needed in ("pyproject.toml", "bot", "facts"):
        assert needed in sources, f"{needed} is not copied into the build stage"
        assert (REPO / needed).exists()


def test_healthcheck_uses_python_urllib_on_port_and_healthz():
    (args,) = values(final_stage(), "HEALTHCHECK")
    assert re.search(r"--interval=\d+s", args) and re.search(r"--timeout=\d+s", args)
    command = healthcheck_command()
    assert command[:2] == ["python", "-c"]
    assert "urllib.request" in command[2] and "curl" not in args and "wget" not in args
    assert "127.0.0.1" in command[2] and "/healthz" in command[2] and "PORT" in command[2]


@contextmanager
def ops_server(monitor: Monitor) -> Iterator[int]:
    """The ops routes on 127.0.0.1:<ephemeral> in a background loop; yields the port."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> web.AppRunner:
        app = web.Application()
        add_ops_routes(app, monitor, Metrics(process_metrics=False))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return runner

    runner = asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    try:
        yield runner.addresses[0][1]
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_healthcheck_command_passes_when_healthy_and_fails_when_not():
    """Run the Dockerfile's HEALTHCHECK command itself against a live /healthz."""
    now = datetime(2024, 9, 20, 3, 0, tzinfo=UTC)
    clock = {"now": now}
    monitor = Monitor(["telegram"], clock=lambda: clock["now"])
    monitor.platform_connected("telegram")
    command = [sys.executable if part == "python" else part for part in healthcheck_command()]
    with ops_server(monitor) as port:
        env = {"PORT": str(port), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", "PATH": "/usr/bin:/bin"}
        healthy = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        assert healthy.returncode == 0, healthy.stderr
        monitor.platform_disconnected("telegram")
        clock["now"] = now + timedelta(minutes=4)
        unhealthy = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        assert unhealthy.returncode != 0
        assert "503" in unhealthy.stderr


def test_build_context_keeps_secrets_out():
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert rules[0] == "**", "start from nothing, then allow what the image needs"
    assert not any(".env" in rule for rule in rules if rule.startswith("!"))


# -- compose ----------------------------------------------------------------------------------------


def compose_text() -> str:
    return (DEPLOY / "compose.yaml").read_text()


def test_compose_builds_the_image_and_keeps_state_on_a_named_volume():
    text = compose_text()
    assert re.search(r"^\s+context: \.\.$", text, re.M)
    assert re.search(r"^\s+dockerfile: deploy/Dockerfile$", text, re.M)
    assert re.search(r"^\s+env_file: \.env$", text, re.M)
    assert re.search(r"^\s+restart: unless-stopped$", text, re.M)
    mount = re.search(r"^\s+- ([A-Za-z0-9_-]+):/data$", text, re.M)
    assert mount, "state must live on a named volume mounted at /data"
    top_level = text[text.index("\nvolumes:") :]
    assert re.search(rf"^\s+{mount.group(1)}:", top_level, re.M), "the volume is declared at the top level"
    # published on the host's loopback only (a proxy forwards; /metrics stays private), and the
    # server inside listens on every interface of the container, whatever deploy/.env says
    published = re.search(r"""^\s+- "127\.0\.0\.1:(\d+):(\d+)"$""", text, re.M)
    assert published, "published on the host's loopback only"
    inside = re.search(r"^\s+PORT: \"(\d+)\"$", text, re.M)
    assert inside and published.group(2) == inside.group(1) == values(final_stage(), "EXPOSE")[0]
    assert re.search(r"KAZKOR_DB: /data/state.json", text)
    assert re.search(r"^\s+KAZKOR_HOST: 0\.0\.0\.0$", text, re.M)


def test_stop_timeouts_leave_room_for_a_clean_stop():
    grace = re.search(r"stop_grace_period: (\d+)s", compose_text())
    assert grace and int(grace.group(1)) > STOP_BUDGET
    assert int(unit()["Service"]["TimeoutStopSec"][-1]) > STOP_BUDGET


# -- systemd ----------------------------------------------------------------------------------------


def unit(path: Path = DEPLOY / "kazkor.service") -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value (systemd allows repeated keys, e.g. SystemCallFilter)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"setting outside a section: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"not a key=value line: {line}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_unit_runs_kazkor_with_state_and_secrets_in_their_places():
    service = unit()["Service"]
    assert service.get("DynamicUser") == ["yes"] or service.get("User")
    assert service["StateDirectory"] == ["kazkor"]
    assert "KAZKOR_DB=%S/kazkor/state.json" in service["Environment"]
    assert service["EnvironmentFile"] == ["/etc/kazkor/kazkor.env"]
    assert service["ExecStart"] == ["/opt/kazkor/venv/bin/kazkor run"]
    assert service["Restart"] == ["on-failure"]
    assert service["RestartPreventExitStatus"] == ["2"]  # a configuration error is not retried
    assert service["TimeoutStopSec"] == ["15"]
    assert unit()["Install"]["WantedBy"] == ["multi-user.target"]


def test_unit_is_hardened():
    service = unit()["Service"]
    for key in (
        "NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
        "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "LockPersonality",
        "MemoryDenyWriteExecute", "RestrictNamespaces", "RestrictSUIDSGID", "RestrictRealtime",
    ):  # fmt: skip
        assert service.get(key) == ["yes"], key
    assert service["ProtectSystem"] == ["strict"]
    assert set(service["RestrictAddressFamilies"][-1].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert "@system-service" in service["SystemCallFilter"]
    assert service["CapabilityBoundingSet"] == [""]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_unit_passes_systemd_analyze_verify(tmp_path):
    # verify insists that ExecStart exists: check a copy that points at an executable present here.
    text = (DEPLOY / "kazkor.service").read_text()
    copy = tmp_path / "kazkor.service"
    copy.write_text(text.replace("/opt/kazkor/venv/bin/kazkor", shutil.which("true") or "/bin/true"))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kazkor.service" not in result.stderr, result.stderr


# -- .env.example -----------------------------------------------------------------------------------


def config_variables() -> set[str]:
    """Every variable Config.from_env reads (config.py is the only reader of the environment), found by
    reading a configuration and recording what it asks for."""

    class Recording(dict):
        def get(self, name, default=None):
            asked.add(name)
            return super().get(name, default)

    asked: set[str] = set()
    Config.from_env(Recording())
    return asked


def test_env_example_lists_every_setting():
    example = DEPLOY / ".env.example"
    if not example.exists():
        pytest.skip("deploy/.env.example is not written yet")
    listed = set(re.findall(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", example.read_text(), re.M))
    wanted = config_variables()
    assert {"TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "KAZKOR_DB", "PORT"} <= wanted  # the scan works
    missing = sorted(wanted - listed)
    assert not missing, f"deploy/.env.example does not mention {', '.join(missing)}"
    unknown = sorted(listed - wanted - {"NO_PROXY", "HTTPS_PROXY", "HTTP_PROXY"})
    assert not unknown, f"deploy/.env.example lists settings config.py does not read: {', '.join(unknown)}"


def test_env_example_does_not_override_the_state_path_of_the_image_or_unit():
    """systemd's EnvironmentFile= beats Environment=: an active KAZKOR_DB line (even empty) would
    replace %S/kazkor/state.json; compose overrides it, but keep the example safe for both."""
    example = DEPLOY / ".env.example"
    if not example.exists():
        pytest.skip("deploy/.env.example is not written yet")
    assert not re.search(r"^\s*KAZKOR_DB=", example.read_text(), re.M)


def test_the_file_limit_leaves_room_for_the_connection_cap():
    """Every HTTP connection is one open file: at the default soft limit (1,024) a flood of idle
    connections once stopped /healthz, Slack and Telegram (issue 10, item 1)."""
    from bot.config import DEFAULT_HTTP_MAX_CONNECTIONS

    (limit,) = unit()["Service"]["LimitNOFILE"]
    assert int(limit) >= 4 * DEFAULT_HTTP_MAX_CONNECTIONS
    nofile = re.search(r"ulimits:\n\s+nofile:\n\s+soft: (\d+)\n\s+hard: (\d+)", compose_text())
    assert nofile and int(nofile.group(1)) >= 4 * DEFAULT_HTTP_MAX_CONNECTIONS
    assert "--ulimit nofile=" in (DEPLOY / "Dockerfile").read_text()
