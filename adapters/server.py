"""`policybot serve`: one aiohttp server for the deployed bot, and the delivery worker beside it.

Routes: /slack/events (Slack's Events API, interactivity and the slash command), /api/messages (the Bot
Framework's activities from Teams) and /healthz.
Each chat platform configured in the environment mounts its own routes; nothing else knows about them.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Mapping

from aiohttp import web

from adapters.routing import Router
from bot.bootstrap import ConfigError, build_bot, build_worker, environment
from bot.core import PolicyBot
from bot.delivery import Worker
from bot.storage import StorageError

log = logging.getLogger("policybot.server")
DEFAULT_PORT = 3978
MAX_BODY = 1024 * 1024  # Slack and the Bot Framework send far less; anything bigger is refused before reading


@dataclass
class Service:
    """The bot, the platforms it serves, and the worker that delivers for all of them."""

    bot: PolicyBot
    platforms: list = field(default_factory=list)
    worker: Worker | None = None

    def web_app(self, *, run_worker: bool = True, poll: float = 1.0) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/healthz", self.health)
        for platform in self.platforms:
            platform.mount(app)
        app.cleanup_ctx.append(self._platforms_running)
        if run_worker and self.worker is not None:
            app.cleanup_ctx.append(self._worker_running(poll))
        return app

    async def _platforms_running(self, app: web.Application):
        for platform in self.platforms:
            await platform.start()
        yield
        for platform in self.platforms:
            await platform.stop()

    def _worker_running(self, poll: float):
        async def context(app: web.Application):
            stop = asyncio.Event()
            task = asyncio.create_task(self.worker.run(stop, poll))
            yield
            stop.set()
            await task
        return context

    async def health(self, request: web.Request) -> web.Response:
        try:
            due = await asyncio.to_thread(self.bot.store.next_due)
        except StorageError:
            return web.json_response({"status": "unavailable", "storage": self.bot.store.kind}, status=503)
        return web.json_response({
            "status": "ok", "storage": self.bot.store.kind,
            "platforms": [p.platform for p in self.platforms], "outbox": "pending" if due is not None else "empty",
        })


def build_service(environ: Mapping[str, str] | None = None, *, socket_mode: bool = False) -> Service:
    """Everything `serve` runs, from the environment; a ConfigError names what is missing or malformed.

    Slack is served when its variables are set; Teams when any Microsoft* variable is (an empty
    MicrosoftAppId, as in the Bot Framework samples, means local mode for the Emulator)."""
    from adapters.slack import settings as slack
    from adapters.teams import settings as teams

    env = environment(environ)
    slack_wanted = slack.slack_settings(env, socket_mode=socket_mode) if socket_mode or slack.configured(env) else None
    teams_wanted = teams.teams_settings(env) if teams.configured(env) else None
    if slack_wanted is None and teams_wanted is None:
        if teams.production(env):
            teams.teams_settings(env)  # names the missing credentials
        raise ConfigError(
            "no chat platform is configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for Slack, or MicrosoftAppId "
            "and MicrosoftAppPassword for Teams (see deploy/policybot.env.example; an empty MicrosoftAppId= runs Teams "
            "in local mode for the Bot Framework Emulator), or use `policybot chat` to try the bot in the terminal")
    bot = build_bot(environ)
    service = Service(bot)
    if slack_wanted is not None:
        check_channels(bot, "slack")
        service.platforms.append(_platform("slack", "adapters.slack.app", "SlackAdapter")(bot, slack_wanted))
    if teams_wanted is not None:
        check_channels(bot, "teams")
        service.platforms.append(_platform("teams", "adapters.teams.app", "TeamsAdapter")(bot, teams_wanted))
    service.worker = build_worker(bot, Router(bot.directory, {p.platform: p.transport for p in service.platforms}))
    for platform in service.platforms:
        platform.wake = service.worker.wake
    return service


def _platform(name: str, module: str, attribute: str):
    """A platform's adapter class; its SDK is an extra, so say which to install if it is missing."""
    import importlib

    try:
        return getattr(importlib.import_module(module), attribute)
    except ImportError as exc:
        raise ConfigError(f"{name} is configured but its packages are not installed ({exc.name} is missing): "
                          f"pip install 'policybot[{name}]'") from None


def check_channels(bot: PolicyBot, platform: str) -> None:
    """Every team that receives cases needs a channel on the platform, or its cases would have nowhere to go."""
    missing = [t.id for t in bot.directory.teams if not t.channel(platform)]
    if missing:
        raise ConfigError(f"the staff directory gives no {platform}_channel for the team(s) {', '.join(missing)}")


def serve(port: int, host: str = "0.0.0.0", *, socket_mode: bool = False, environ=None) -> None:
    service = build_service(environ, socket_mode=socket_mode)
    routes = {"slack": "Socket Mode" if socket_mode else f"http://{host}:{port}/slack/events",
              "teams": f"http://{host}:{port}/api/messages"}
    where = ", ".join(f"{p.platform}: {routes[p.platform]}" for p in service.platforms)
    log.info("policybot serving %s (storage: %s); health at http://%s:%s/healthz",
             where, service.bot.store.kind, host, port)
    web.run_app(service.web_app(), host=host, port=port, print=None)
