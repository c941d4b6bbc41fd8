"""The bot's real HTTP server with its Teams adapter, talking to a fake connector: for the Teams tests and benchmark."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import MicrosoftAppCredentials, PasswordServiceClientCredentialFactory

from adapters.routing import Router
from adapters.server import Service
from adapters.teams.app import PATH, TeamsAdapter
from adapters.teams.settings import TeamsSettings
from bot.core import PolicyBot
from bot.delivery import Worker
from tests.fake_teams import APP_ID, OUTBOUND_TOKEN, TENANT, Call, FakeConnector, buttons, payload


class _FixedToken(MicrosoftAppCredentials):
    def get_access_token(self, force_refresh: bool = False) -> str:
        return OUTBOUND_TOKEN


class FixedTokenFactory(PasswordServiceClientCredentialFactory):
    """The bot's own outgoing token, without asking Microsoft's login service (tests never call Microsoft)."""

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        return _FixedToken(app_id, self.password, self.tenant_id, oauth_scope)


async def start_fake_connector(fake: FakeConnector) -> TestServer:
    server = TestServer(fake.app())
    await server.start_server()
    fake.url = str(server.make_url("/"))
    return server


def auth_settings(fake: FakeConnector, **changes) -> TeamsSettings:
    values = dict(app_id=APP_ID, app_password="fake-client-secret", tenant_id=TENANT, extra_service_urls=(fake.url,))
    return TeamsSettings(**{**values, **changes})


@dataclass
class TeamsRig:
    bot: PolicyBot
    fake: FakeConnector
    adapter: TeamsAdapter
    worker: Worker
    client: TestClient
    authenticated: bool
    ids: itertools.count = field(default_factory=lambda: itertools.count(1795000500000))

    @classmethod
    async def start(cls, bot: PolicyBot, fake: FakeConnector, *, settings: TeamsSettings | None = None,
                    name: str = "replica-1") -> "TeamsRig":
        settings = settings or TeamsSettings(tenant_id=TENANT)
        adapter = TeamsAdapter(bot, settings, credentials_factory=FixedTokenFactory(settings.app_id, settings.app_password,
                                                                                     settings.tenant_id),
                               openid_metadata_url=f"{fake.url}openid")
        worker = Worker(bot.store, Router(bot.directory, {"teams": adapter.transport}), bot.cases, clock=bot.clock, name=name)
        client = TestClient(TestServer(Service(bot, [adapter], worker).web_app(run_worker=False)))
        await client.start_server()
        return cls(bot, fake, adapter, worker, client, not settings.local)

    async def close(self) -> None:
        await self.client.close()

    # -- activities in ----------------------------------------------------------------------------------------------
    async def post(self, activity: dict, *, token: str | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if token is None and self.authenticated:
            token = self.fake.key.token(activity["serviceUrl"])
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.client.post(PATH, json=activity, headers=headers)
        return response.status, await response.text()

    def activity(self, name: str, user: str, **changes) -> dict:
        changes.setdefault("id", str(next(self.ids)))
        return payload(name, **{"serviceUrl": self.fake.url, "from.id": user, "from.aadObjectId": "", **changes})

    async def say(self, user: str, text: str, *, conversation: str | None = None, **changes):
        """A message from a Teams user to the bot in their 1:1 chat (or the given conversation)."""
        activity = self.activity("message_personal", user, text=text, **changes)
        activity["conversation"]["id"] = conversation or personal(user)
        return await self.post(activity)

    async def mention(self, user: str, text: str, *, thread: str = "19:marcomms@thread.tacv2;messageid=1795000000200"):
        activity = self.activity("message_channel_mention", user, text=f"<at>policybot</at> {text}")
        activity["conversation"]["id"] = thread
        return await self.post(activity)

    async def submit(self, user: str, value: dict, *, conversation: str | None = None, channel: bool = False):
        """A card's Action.Submit: a message whose value holds the button's data and the inputs."""
        if channel:
            activity = self.activity("message_channel_mention", user, text="", entities=[], value=value)
            activity["conversation"]["id"] = conversation
        else:
            activity = self.activity("card_submit", user, value=value)
            activity["conversation"]["id"] = conversation or personal(user)
        return await self.post(activity)

    async def press(self, user: str, call: Call, title: str, text: str | None = None):
        """Press a button on a card that was sent (typing `text` into the form it opens, if it opens one)."""
        found = buttons(call)
        assert title in found, f"no button {title!r} in {list(found)}"
        action = found[title]
        if action["type"] == "Action.ShowCard":
            action = action["card"]["actions"][0]
        value = dict(action.get("data") or {})
        if text is not None:
            value["text"] = text
        if call.kind == "create":  # a post in a team's channel
            return await self.submit(user, value, conversation=f"{call.body['channelData']['channel']['id']};messageid=1",
                                     channel=True)
        return await self.submit(user, value, conversation=call.conversation)

    async def deliver(self) -> int:
        delivered = await self.worker.run_once()
        await self.adapter.settle()
        return delivered

    def last(self, conversation: str) -> Call:
        sent = self.fake.sent(conversation)
        assert sent, f"nothing was sent to {conversation}"
        return sent[-1]


def personal(user: str) -> str:
    return f"a:{user.removeprefix('29:')}-personal"
