"""Slack settings from the environment. Values are checked here and never shown: messages name the variable."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from bot.bootstrap import ConfigError

SLACK_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")
DEFAULT_API_URL = "https://slack.com/api/"
URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    command: str = "/policy"

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)


def configured(env: Mapping[str, str]) -> bool:
    return any(env.get(name, "").strip() for name in SLACK_VARIABLES)


def slack_settings(env: Mapping[str, str], *, socket_mode: bool = False) -> SlackSettings:
    """The Slack settings, or a ConfigError naming every variable that is missing or malformed."""
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    secret = env.get("SLACK_SIGNING_SECRET", "").strip()
    app_token = env.get("SLACK_APP_TOKEN", "").strip()
    api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
    problems = []
    if not token:
        problems.append("SLACK_BOT_TOKEN is not set (the app's Bot User OAuth Token, xoxb-...)")
    elif not re.fullmatch(r"xoxb-[A-Za-z0-9-]+", token):
        problems.append("SLACK_BOT_TOKEN is not a bot token: it should start with xoxb-")
    if not secret and not socket_mode:
        problems.append("SLACK_SIGNING_SECRET is not set (Basic Information > App Credentials > Signing Secret)")
    elif secret and not re.fullmatch(r"[A-Za-z0-9]{16,128}", secret):
        problems.append("SLACK_SIGNING_SECRET is malformed: it should be the app's signing secret, letters and digits only")
    if socket_mode and not app_token:
        problems.append("SLACK_APP_TOKEN is not set: --socket-mode needs an app-level token (xapp-...) with connections:write")
    elif app_token and not re.fullmatch(r"xapp-[A-Za-z0-9-]+", app_token):
        problems.append("SLACK_APP_TOKEN is not an app-level token: it should start with xapp-")
    if not URL.match(api_url):
        problems.append("SLACK_API_URL is not an http(s) URL")
    if problems:
        raise ConfigError("Slack is not configured correctly:\n  - " + "\n  - ".join(problems))
    return SlackSettings(token, secret, app_token if socket_mode else "", api_url.rstrip("/") + "/")
