"""Microsoft Teams (Bot Framework) settings from the environment, with the Bot Framework's usual names.

Values are checked here and never shown: messages name the variable. No SDK import, so `serve` can check
the configuration before loading botbuilder.

Local mode: with no MicrosoftAppId the endpoint does not authenticate requests, like the Bot Framework
Emulator expects. It is for trying the bot on one machine; POLICYBOT_ENV=production refuses it.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from bot.bootstrap import ConfigError

TEAMS_VARIABLES = ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppTenantId", "MicrosoftAppType")
APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Microsoft's Bot Framework service hosts for Teams (public cloud, GCC, GCC High, DoD, 21Vianet): the only
# places the bot's token may be sent unless POLICYBOT_ALLOWED_SERVICE_URLS adds others.
BOT_FRAMEWORK_SERVICE_URLS = (
    "https://smba.trafficmanager.net/",
    "https://smba.onyx.prod.teams.trafficmanager.net/",
    "https://smba.infra.gcc.teams.microsoft.com/",
    "https://smba.infra.gov.teams.microsoft.us/",
    "https://smba.infra.dod.teams.microsoft.us/",
    "https://frontend.botapi.msg.infra.teams.microsoftonline.cn/",
)
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"  # for reaching a tenant the bot has not heard from
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class ServiceUrls:
    """Where the connector may be called: URL prefixes compared part by part (scheme, host, port, path)."""

    prefixes: tuple[str, ...]
    loopback: bool = False

    def allows(self, url: str) -> bool:
        try:
            parts = urlsplit(url or "")
            port = parts.port
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            return False
        if self.loopback and _is_loopback(parts.hostname):
            return True
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        for prefix in self.prefixes:
            allowed = urlsplit(prefix)
            allowed_path = allowed.path if allowed.path.endswith("/") else allowed.path + "/"
            if (parts.scheme, parts.hostname, port) == (allowed.scheme, allowed.hostname, allowed.port) \
                    and path.startswith(allowed_path):
                return True
        return False


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class TeamsSettings:
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    tenant_id: str = ""
    app_type: str = "MultiTenant"
    extra_service_urls: tuple[str, ...] = ()
    default_service_url: str = DEFAULT_SERVICE_URL

    @property
    def local(self) -> bool:
        """No app id: requests are not authenticated (the Emulator's local mode)."""
        return not self.app_id

    @property
    def service_urls(self) -> ServiceUrls:
        return ServiceUrls(BOT_FRAMEWORK_SERVICE_URLS + self.extra_service_urls, loopback=self.local)

    def sdk_configuration(self) -> object:
        """The configuration object botbuilder's ConfigurationBotFrameworkAuthentication reads."""
        return type("BotFrameworkConfiguration", (), {
            "APP_ID": self.app_id, "APP_PASSWORD": self.app_password, "APP_TYPE": self.app_type,
            "APP_TENANTID": self.tenant_id,
        })()


def configured(env: Mapping[str, str]) -> bool:
    """Teams is wanted: a Microsoft* variable is set, even to nothing (`MicrosoftAppId=`: local mode)."""
    return any(name in env for name in TEAMS_VARIABLES)


def production(env: Mapping[str, str]) -> bool:
    return env.get("POLICYBOT_ENV", "").strip().lower() in ("production", "prod")


def teams_settings(env: Mapping[str, str]) -> TeamsSettings:
    """The Teams settings, or a ConfigError naming every variable that is missing or malformed."""
    app_id = env.get("MicrosoftAppId", "").strip()
    password = env.get("MicrosoftAppPassword", "").strip()
    tenant = env.get("MicrosoftAppTenantId", "").strip()
    raw_type = env.get("MicrosoftAppType", "").strip()
    app_type = APP_TYPES.get(raw_type.lower().replace(" ", ""), "") if raw_type else "MultiTenant"
    problems = []
    if not app_id:
        if production(env):
            problems.append("MicrosoftAppId is not set, and POLICYBOT_ENV=production refuses the unauthenticated "
                            "local mode: set MicrosoftAppId and MicrosoftAppPassword from the Azure Bot registration")
        if password:
            problems.append("MicrosoftAppPassword is set but MicrosoftAppId is not")
    elif not GUID.match(app_id):
        problems.append("MicrosoftAppId is malformed: it should be the Azure Bot's Microsoft App ID (a GUID)")
    if not app_type:
        problems.append(f"MicrosoftAppType is not one of {', '.join(APP_TYPES.values())}")
    if app_id and app_type in ("MultiTenant", "SingleTenant") and not password:
        problems.append(f"MicrosoftAppPassword is not set (a client secret of the app registration; {app_type} needs one)")
    if app_id and app_type in ("SingleTenant", "UserAssignedMSI") and not tenant:
        problems.append(f"MicrosoftAppTenantId is not set ({app_type} needs the tenant's id)")
    if tenant and not GUID.match(tenant):
        problems.append("MicrosoftAppTenantId is malformed: it should be a directory (tenant) id, a GUID")
    extra = tuple(u.strip() for u in env.get("POLICYBOT_ALLOWED_SERVICE_URLS", "").split(",") if u.strip())
    bad = [i for i, u in enumerate(extra, 1) if not _is_url(u)]
    if bad:
        problems.append("POLICYBOT_ALLOWED_SERVICE_URLS: entry " + ", ".join(map(str, bad))
                        + " is not an http(s) URL prefix such as https://smba.example.net/")
    default_url = env.get("POLICYBOT_TEAMS_SERVICE_URL", "").strip() or DEFAULT_SERVICE_URL
    if not _is_url(default_url):
        problems.append("POLICYBOT_TEAMS_SERVICE_URL is not an http(s) URL")
    if problems:
        raise ConfigError("Microsoft Teams is not configured correctly:\n  - " + "\n  - ".join(problems))
    settings = TeamsSettings(app_id, password, tenant, app_type, extra, default_url)
    if not settings.service_urls.allows(default_url):
        raise ConfigError("POLICYBOT_TEAMS_SERVICE_URL is not a Bot Framework service URL: add it to "
                          "POLICYBOT_ALLOWED_SERVICE_URLS if it is one")
    return settings


def _is_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.username and " " not in text
