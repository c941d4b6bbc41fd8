"""The Microsoft Teams app on the Bot Framework SDK for Python (botbuilder, CloudAdapter).

Every request is authenticated first (the Bot Framework's JWT: issuer, audience = app id, signature, expiry,
and the serviceurl claim equal to the activity's), and any failure, however malformed the token, is a 401.
Then the activity's serviceUrl must be on the allowlist. The activity's id is recorded with its change and
its replies in one transaction, so Teams resending it (after 15 seconds) changes nothing. Replies leave
through the outbox like every other message, as Adaptive Cards.

Everything that knows the SDK is in adapters/teams/; the rest of policybot sees core types only.
"""
from __future__ import annotations

import asyncio
import html
import json
import logging
import time

import aiohttp
from aiohttp import web
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticationConstants, ServiceClientCredentialsFactory
from botframework.connector.auth.government_constants import GovernmentConstants
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

from adapters.background import Background
from adapters.teams import cards
from adapters.teams.connector import CachedCredentials, Connector
from adapters.teams.settings import TeamsSettings
from adapters.teams.transport import PLATFORM, Contacts, TeamsPeople, TeamsTransport
from bot.answers import FLOW_COMMANDS, OVERVIEW_COMMANDS, asks_for_overview, flow_command
from bot.cases import ACTION_PREFIX as CASE_PREFIX
from bot.cases import REASON_MAX
from bot.core import PolicyBot
from bot.types import Incoming, Reply

PATH = "/api/messages"
log = logging.getLogger("policybot.teams")
LOOKUP_TIMEOUT = 1.5  # seconds allowed for asking Teams who someone is
COMMANDS, OVERVIEW_COMMANDS = FLOW_COMMANDS, OVERVIEW_COMMANDS  # the core's; deploy/teams/manifest.json lists them
# The OpenID metadata the SDK reads its signing keys from (public cloud and US government; channel and Emulator).
METADATA_URLS = (
    AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
    AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    GovernmentConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
    GovernmentConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
)
KEYS_MAX_AGE = 24 * 3600.0
KEYS_RETRY = 300.0  # an unknown key id refreshes the keys at most this often


class SigningKeys:
    """The Bot Framework's signing keys, fetched without blocking the event loop (the SDK's own fetch uses
    blocking `requests`) and put where the SDK's token validation looks for them. The validation itself is
    the SDK's, unchanged. `source` replaces the published metadata URL (tests point it at a local server)."""

    def __init__(self, url: str, session_factory, source: str | None = None, clock=time.monotonic):
        self.url, self.source, self.clock = url, source or url, clock
        self.session_factory = session_factory
        self.keys: list[dict] = []
        self.fetched_at = -KEYS_MAX_AGE
        self._lock = asyncio.Lock()

    async def get(self, key_id: str):
        if self.clock() - self.fetched_at > KEYS_MAX_AGE:
            await self._refresh()
        key = self._find(key_id)
        if key is None and self.clock() - self.fetched_at > KEYS_RETRY:
            await self._refresh()
            key = self._find(key_id)
        if key is None:
            raise PermissionError("the token is signed with a key the Bot Framework does not publish")
        return key

    async def _refresh(self) -> None:
        async with self._lock:
            session = self.session_factory()
            async with session.get(self.source) as response:
                response.raise_for_status()
                jwks_uri = (await response.json(content_type=None))["jwks_uri"]
            async with session.get(jwks_uri) as response:
                response.raise_for_status()
                self.keys = list((await response.json(content_type=None)).get("keys") or [])
            self.fetched_at = self.clock()

    def _find(self, key_id: str):
        for key in self.keys:
            if key.get("kid") == key_id:
                return _Key(RSAAlgorithm.from_jwk(json.dumps(key)), list(key.get("endorsements") or []))
        return None


class _Key:
    def __init__(self, public_key, endorsements):
        self.public_key, self.endorsements = public_key, endorsements


def from_teams(text: str, activity: dict) -> str:
    """What the person typed: mentions of the bot dropped, Teams' HTML escapes undone; other text kept as typed."""
    bot_id = (activity.get("recipient") or {}).get("id")
    for entity in activity.get("entities") or []:
        if entity.get("type") == "mention" and (entity.get("mentioned") or {}).get("id") == bot_id and entity.get("text"):
            text = text.replace(entity["text"], " ")
    return html.unescape(text).replace("\xa0", " ").strip()


class _Authentication(ConfigurationBotFrameworkAuthentication):
    """The SDK's authentication, with its user-token client made once rather than for every activity (the bot
    uses no OAuth connections; building the client costs milliseconds each time)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._user_token_clients: dict[str, object] = {}

    async def create_user_token_client(self, claims_identity):
        key = str(claims_identity.claims.get(AuthenticationConstants.AUDIENCE_CLAIM)
                  or claims_identity.claims.get(AuthenticationConstants.APP_ID_CLAIM) or "")
        if key not in self._user_token_clients:
            self._user_token_clients[key] = await super().create_user_token_client(claims_identity)
        return self._user_token_clients[key]


class TeamsAdapter:
    platform = PLATFORM

    def __init__(self, bot: PolicyBot, settings: TeamsSettings, *, wake=lambda: None,
                 credentials_factory: ServiceClientCredentialsFactory | None = None, openid_metadata_url: str | None = None):
        self.bot, self.settings, self.wake = bot, settings, wake
        self.texts = bot.kb.texts
        configuration = settings.sdk_configuration()
        factory = CachedCredentials(credentials_factory or ConfigurationServiceClientCredentialFactory(configuration))
        self.auth = _Authentication(configuration, credentials_factory=factory)
        self.adapter = CloudAdapter(self.auth)
        self.connector = Connector(self.auth, settings)
        self.contacts = Contacts(bot.store)
        self.people = TeamsPeople(bot.directory, self.contacts, self.connector)
        self.transport = TeamsTransport(self.connector, self.people, settings, self.texts, self.needs_reason)
        self.openid_metadata_url = openid_metadata_url
        self._session: aiohttp.ClientSession | None = None
        self.background = Background(log, "a Teams view")

    def needs_reason(self, action_id: str) -> bool:
        action = self.bot.kb.actions.get(action_id)
        return bool(action and action.reason)

    # -- lifecycle -------------------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.settings.local:
            log.warning("=" * 78)
            log.warning("Teams endpoint %s is in LOCAL MODE: no MicrosoftAppId, so requests are NOT authenticated.", PATH)
            log.warning("Use it only with the Bot Framework Emulator on this machine. Set MicrosoftAppId and")
            log.warning("MicrosoftAppPassword (and POLICYBOT_ENV=production) for a real deployment.")
            log.warning("=" * 78)
        for url in METADATA_URLS:
            JwtTokenExtractor.metadataCache[url] = SigningKeys(url, self._http, self.openid_metadata_url)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._session

    async def stop(self) -> None:
        await self.settle()
        await self.connector.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- HTTP ------------------------------------------------------------------------------------------------------
    def mount(self, web_app: web.Application) -> None:
        web_app.router.add_post(PATH, self.handle_http)

    async def handle_http(self, request: web.Request) -> web.Response:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected an activity as application/json"}, status=415)
        try:
            body = json.loads(await request.read())
            activity = Activity().deserialize(body) if isinstance(body, dict) else None
        except Exception:  # not JSON, or not an activity
            activity = None
        if activity is None or not activity.type:
            return web.json_response({"error": "the body is not a Bot Framework activity"}, status=400)
        try:
            identity = await self.auth.authenticate_request(activity, request.headers.get("Authorization", ""))
        except Exception as exc:  # every failure is a refusal: the SDK raises assorted errors for malformed tokens
            log.warning("rejected a request to %s: %s", PATH, type(exc).__name__)  # never the token or the body
            return web.json_response({"error": "unauthorized"}, status=401)
        if not self.connector.allowed(activity.service_url or ""):
            log.warning("refused an activity whose serviceUrl is not an allowed Bot Framework service URL")
            return web.json_response({"error": "serviceUrl is not allowed"}, status=403)
        identity.connector_factory = self.connector  # allowed URLs only, and clients reused
        # the turn reads the activity as it arrived, rather than having the SDK serialize its model back
        result = await self.adapter.process_activity(identity, activity, lambda turn: self.on_activity(body))
        if result is not None:
            return web.json_response(result.body, status=result.status)
        return web.Response(status=200)

    # -- activities ------------------------------------------------------------------------------------------------
    async def on_activity(self, activity: dict) -> None:
        await self.contacts.learn(activity)
        kind = activity.get("type")
        if kind == "message":
            await self.on_message(activity)
        elif kind == "conversationUpdate":
            await self.on_conversation_update(activity)
        # other activities (typing, reactions, installationUpdate, invokes) need nothing from the bot

    async def on_message(self, activity: dict) -> None:
        sender = activity.get("from") or {}
        conversation = activity.get("conversation") or {}
        if not sender.get("id") or not conversation.get("id"):
            return
        personal = conversation.get("conversationType", "personal") == "personal" and not conversation.get("isGroup")
        value = activity.get("value")
        event_id = f"{PLATFORM}:{conversation['id']}:{activity.get('id') or ''}" if activity.get("id") else ""
        if value is not None:  # a card's button or form
            action, text = self._submitted(value)
            if action is None:
                incoming = Incoming(PLATFORM, conversation["id"] if personal else "", sender["id"], "")
                await self.queue_text(incoming, self.texts("chat_form_expired"))
                return
            if len(text) > REASON_MAX:
                incoming = Incoming(PLATFORM, conversation["id"] if personal else "", sender["id"], "")
                await self.queue_text(incoming, self.texts("chat_form_too_long", limit=REASON_MAX))
                return
            on_case = action.startswith(CASE_PREFIX)
            where = conversation["id"] if personal or not on_case else ""  # case replies go to the presser alone
            await self.receive(Incoming(PLATFORM, where, sender["id"], text, action), event_id, activity)
            return
        text = from_teams(str(activity.get("text") or ""), activity)
        if asks_for_overview(text):
            await self.people_known(activity)
            self.background.later(self.send_overview(activity))
            return
        action = flow_command(text)
        await self.receive(Incoming(PLATFORM, conversation["id"], sender["id"], "" if action else text, action),
                           event_id, activity)

    @staticmethod
    def _submitted(value) -> tuple[str | None, str]:
        """(the core's choice value, the typed text) from a card submission; (None, "") if it is not ours."""
        if not isinstance(value, dict):
            return None, ""
        action = value.get(cards.VALUE_KEY)
        text = value.get(cards.TEXT_INPUT, "")
        if not isinstance(action, str) or not action or len(action) > 500 or not isinstance(text, str):
            return None, ""
        return action, text.strip()

    async def on_conversation_update(self, activity: dict) -> None:
        """The app was installed for someone, or added to a team: say what the bot does."""
        bot_id = (activity.get("recipient") or {}).get("id")
        added = [m.get("id") for m in activity.get("membersAdded") or []]
        conversation = activity.get("conversation") or {}
        if bot_id not in added or not conversation.get("id"):
            return
        sender = (activity.get("from") or {}).get("id", "")
        event_id = f"{PLATFORM}:{conversation['id']}:{activity.get('id') or 'installed'}"
        await self.receive(Incoming(PLATFORM, conversation["id"], sender, "help"), event_id, activity)

    # -- to the core and back ----------------------------------------------------------------------------------------
    async def people_known(self, activity: dict) -> None:
        try:
            await asyncio.wait_for(self.people.identify(activity), LOOKUP_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("Teams did not say who a user is in time")

    async def receive(self, incoming: Incoming, event_id: str, activity: dict):
        """Hand one thing a person did to the core, once; its replies are committed to the outbox before Teams hears back."""
        await self.people_known(activity)
        outcome = await asyncio.to_thread(self.bot.receive, incoming, event_id=event_id)
        self.wake()
        return outcome

    async def queue_text(self, incoming: Incoming, text: str) -> None:
        await asyncio.to_thread(self.bot.queue_replies, incoming, [Reply(text)])
        self.wake()

    async def send_overview(self, activity: dict) -> None:
        """A person's open cases and what waits for them (Slack has its App Home for this)."""
        user = (activity.get("from") or {}).get("id", "")
        overview = await asyncio.to_thread(self.bot.overview, PLATFORM, user)
        content = cards.overview_card(overview, self.texts, self.bot.kb.primary.title, self.needs_reason, REASON_MAX)
        await self.connector.post(activity["serviceUrl"], activity["conversation"]["id"],
                                  cards.activity(content, self.texts("home_mine")))

    async def settle(self) -> None:
        """Wait for background work (tests, shutdown)."""
        await self.background.settle()
