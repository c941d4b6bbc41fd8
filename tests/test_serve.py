"""`policybot serve`: its configuration checks, and the real command run as a process against a fake Slack."""
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from adapters.server import build_service
from adapters.slack.settings import slack_settings
from bot.bootstrap import ConfigError
from tests.fake_slack import APP_TOKEN, SECRET, TOKEN, FakeSlack, event_body, payload, sign
from tests.slack_rig import start_fake_slack
from tests.fake_teams import APP_ID, FakeConnector
from tests.fake_teams import payload as teams_payload
from tests.teams_rig import start_fake_connector

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("env, named", [
    ({}, ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]),
    ({"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_SIGNING_SECRET": SECRET}, ["SLACK_BOT_TOKEN"]),
    ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "has spaces in it!"}, ["SLACK_SIGNING_SECRET"]),
    ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": "slack.com"}, ["SLACK_API_URL"]),
])
def test_missing_or_malformed_slack_settings_are_named_and_never_shown(env, named):
    with pytest.raises(ConfigError) as error:
        slack_settings(env)
    for name in named:
        assert name in str(error.value)
    for value in env.values():
        assert value not in str(error.value) or value in ("slack.com",)


def test_socket_mode_needs_an_app_token_and_no_signing_secret():
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        slack_settings({"SLACK_BOT_TOKEN": TOKEN}, socket_mode=True)
    settings = slack_settings({"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}, socket_mode=True)
    assert settings.socket_mode and TOKEN not in repr(settings) and APP_TOKEN not in repr(settings)


def test_nothing_configured_says_how_to_configure(tmp_path):
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"):
        build_service({"POLICYBOT_DATA_DIR": str(tmp_path)})


def test_a_team_without_a_slack_channel_stops_the_start(tmp_path):
    directory = tmp_path / "directory.yaml"
    directory.write_text((ROOT / "deploy" / "directory.example.yaml").read_text().replace("slack_channel: C0HRCASES", ""))
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "POLICYBOT_DATA_DIR": str(tmp_path),
           "POLICYBOT_DIRECTORY": str(directory)}
    with pytest.raises(ConfigError, match="slack_channel for the team.*hr"):
        build_service(env)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _serve(tmp_path, fake: FakeSlack | None, *extra: str, socket_mode: bool = False, env_extra=None):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "POLICYBOT_DATA_DIR": str(tmp_path), "POLICYBOT_LOG_LEVEL": "DEBUG"}
    for name in ("POLICYBOT_DATABASE_URL", "MicrosoftAppId", "MicrosoftAppPassword", "POLICYBOT_ENV"):
        env.pop(name, None)
    if fake is not None:
        env.update(SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=fake.url)
        if socket_mode:
            env["SLACK_APP_TOKEN"] = APP_TOKEN
        else:
            env["SLACK_SIGNING_SECRET"] = SECRET
    env.update(env_extra or {})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.cli", "serve", "--host", "127.0.0.1", *extra, cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return process, base
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    process.kill()
    output = (await process.communicate())[0].decode()
    pytest.fail(f"policybot serve did not start:\n{output}")


async def _stop(process) -> str:
    process.terminate()
    output, _ = await asyncio.wait_for(process.communicate(), 20)
    return output.decode()


async def _until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_serve_answers_slack_over_http_and_delivers_at_once(tmp_path):
    fake = FakeSlack()
    server = await start_fake_slack(fake)
    process, base = await _serve(tmp_path, fake)
    try:
        async with aiohttp.ClientSession() as session:
            health = await (await session.get(f"{base}/healthz")).json()
            assert health["status"] == "ok" and health["platforms"] == ["slack"]
            data = payload("message_im", **{"event.text": "secret-looking text: can I accept a friend request?"})
            body, content_type = event_body(data)
            started = time.monotonic()
            async with session.post(f"{base}/slack/events", data=body,
                                    headers={"Content-Type": content_type, **sign(body)}) as response:
                assert response.status == 200
            await _until(lambda: fake.posted("D0ALEXMORG"))
            assert time.monotonic() - started < 5  # woken by the event, not left for a slow poll
            assert "7.5" in fake.posted("D0ALEXMORG")[0]["text"]
            async with session.post(f"{base}/slack/events", data=body,
                                    headers={"Content-Type": content_type, **sign(body, "f" * 32)}) as response:
                assert response.status == 401
    finally:
        output = await _stop(process)
        await server.close()
    assert TOKEN not in output and SECRET not in output  # secrets are never logged, even at DEBUG
    assert "secret-looking text" not in output


async def test_serve_in_socket_mode_takes_events_over_the_websocket(tmp_path):
    fake = FakeSlack()
    server = await start_fake_slack(fake)
    process, _ = await _serve(tmp_path, fake, "--socket-mode", socket_mode=True)
    try:
        await _until(lambda: fake.sockets)
        await fake.push({"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                         "retry_attempt": 0, "retry_reason": "", "payload": payload("message_im")})
        await _until(lambda: fake.posted("D0ALEXMORG"))
        assert {"envelope_id": "env-1"}.items() <= fake.acks[0].items()
        assert "7.5" in fake.posted("D0ALEXMORG")[0]["text"]
    finally:
        output = await _stop(process)
        await server.close()
    assert APP_TOKEN not in output and TOKEN not in output


def test_the_slack_manifest_asks_for_what_the_app_listens_to():
    import yaml

    from adapters.slack.settings import SlackSettings

    manifest = yaml.safe_load((ROOT / "deploy" / "slack" / "manifest.yaml").read_text())
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_home_opened", "app_mention", "message.im"}
    command = manifest["features"]["slash_commands"][0]
    assert command["command"] == SlackSettings("xoxb-x", "y").command
    urls = [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"], command["url"]]
    assert all(url.endswith("/slack/events") for url in urls)
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read", "chat:write", "commands", "im:history", "im:write", "channels:history", "groups:history",
        "users:read", "users:read.email"}


# -- Teams ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("env, named", [
    ({"MicrosoftAppId": "", "POLICYBOT_ENV": "production"}, ["MicrosoftAppId", "POLICYBOT_ENV=production"]),
    ({"MicrosoftAppId": "not-a-guid", "MicrosoftAppPassword": "s3cret-value"}, ["MicrosoftAppId"]),
    ({"MicrosoftAppId": APP_ID}, ["MicrosoftAppPassword"]),
    ({"MicrosoftAppPassword": "s3cret-value"}, ["MicrosoftAppId"]),
    ({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "s3cret-value", "MicrosoftAppType": "SingleTenant"},
     ["MicrosoftAppTenantId"]),
    ({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "s3cret-value", "MicrosoftAppType": "Sometimes"}, ["MicrosoftAppType"]),
    ({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "s3cret-value", "POLICYBOT_ALLOWED_SERVICE_URLS": "ftp://x"},
     ["POLICYBOT_ALLOWED_SERVICE_URLS"]),
    ({"POLICYBOT_ENV": "production"}, ["MicrosoftAppId"]),
])
def test_missing_or_malformed_teams_settings_are_named_and_never_shown(tmp_path, env, named):
    with pytest.raises(ConfigError) as error:
        build_service({**env, "POLICYBOT_DATA_DIR": str(tmp_path)})
    for name in named:
        assert name in str(error.value)
    assert "s3cret-value" not in str(error.value)


def test_teams_and_slack_can_be_served_together(tmp_path):
    service = build_service({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "MicrosoftAppId": APP_ID,
                             "MicrosoftAppPassword": "s3cret-value", "POLICYBOT_DATA_DIR": str(tmp_path)})
    assert [p.platform for p in service.platforms] == ["slack", "teams"]
    assert not service.platforms[1].settings.local and "s3cret-value" not in repr(service.platforms[1].settings)
    service.bot.store.close()


def test_the_allowlist_takes_only_bot_framework_hosts_and_listed_prefixes():
    from adapters.teams.settings import teams_settings

    settings = teams_settings({"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "x",
                               "POLICYBOT_ALLOWED_SERVICE_URLS": "https://bots.council.example/teams/"})
    allows = settings.service_urls.allows
    assert allows("https://smba.trafficmanager.net/emea/") and allows("https://smba.infra.gcc.teams.microsoft.com/gcc/")
    assert allows("https://bots.council.example/teams/v3") and not allows("https://bots.council.example/other/")
    for refused in ("http://smba.trafficmanager.net/emea/", "https://smba.trafficmanager.net.evil.example/",
                    "https://evil.example/smba.trafficmanager.net/", "https://user@smba.trafficmanager.net/",
                    "http://127.0.0.1:3978/", "https://smba.trafficmanager.net:8443/", "not a url", ""):
        assert not allows(refused), refused
    local = teams_settings({"MicrosoftAppId": ""})
    assert local.local and local.service_urls.allows("http://127.0.0.1:9000/") and local.service_urls.allows("http://localhost:1/")


async def test_serve_answers_teams_in_local_mode_and_says_so_loudly(tmp_path):
    fake = FakeConnector()
    server = await start_fake_connector(fake)
    process, base = await _serve(tmp_path, None, env_extra={"MicrosoftAppId": ""})
    try:
        async with aiohttp.ClientSession() as session:
            health = await (await session.get(f"{base}/healthz")).json()
            assert health["platforms"] == ["teams"]
            activity = teams_payload("message_personal", serviceUrl=fake.url,
                                     text="secret-looking text: can I accept a friend request?")
            async with session.post(f"{base}/api/messages", json=activity) as response:
                assert response.status == 200
            await _until(lambda: fake.sent("a:1alex-personal"))
            assert "7.5" in fake.sent("a:1alex-personal")[0].body["attachments"][0]["content"]["fallbackText"]
            activity["serviceUrl"] = "https://evil.example/"
            activity["id"] = "another"
            async with session.post(f"{base}/api/messages", json=activity) as response:
                assert response.status == 403
    finally:
        output = await _stop(process)
        await server.close()
    assert "LOCAL MODE" in output and "NOT authenticated" in output
    assert "secret-looking text" not in output


def test_the_teams_manifest_lists_the_commands_the_bot_understands_and_packages(tmp_path):
    import json
    import struct
    import zipfile

    from adapters.teams.app import COMMANDS, OVERVIEW_COMMANDS
    from adapters.teams.package import build_package

    out = build_package(APP_ID, tmp_path / "policybot-teams.zip")
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        sizes = {name: struct.unpack(">II", package.read(name)[16:24]) for name in ("color.png", "outline.png")}
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team"}
    commands = {c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]}
    assert commands == {"help", *COMMANDS, OVERVIEW_COMMANDS[0]}
    assert sizes == {"color.png": (192, 192), "outline.png": (32, 32)}
    assert len(manifest["description"]["short"]) <= 80 and len(manifest["name"]["short"]) <= 30
    result = subprocess.run([sys.executable, "-m", "adapters.cli", "teams-package", "--out", str(tmp_path / "x.zip")],
                            cwd=ROOT, capture_output=True, text=True, env={k: v for k, v in os.environ.items()
                                                                           if k != "MicrosoftAppId"})
    assert result.returncode == 1 and "--app-id" in result.stderr
