"""Calls to the Bot Framework connector (the Teams service at an activity's serviceUrl), through botbuilder.

Only URLs on the allowlist are ever called: the bot's token goes to nobody else. One client per service URL,
with the SDK's own retries turned off (the outbox retries, with backoff and jitter, and keeps the message
meanwhile). One credentials object per app id and audience, so the token is fetched once and cached by MSAL,
and fetched in a thread (MSAL is blocking) before each call rather than inside the event loop.
"""
from __future__ import annotations

import asyncio
import logging

from botbuilder.schema import Activity, ConversationParameters, ErrorResponseException
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
)
from msrest.exceptions import ClientRequestError

from adapters.teams.settings import TeamsSettings
from bot.delivery import DeliveryError

log = logging.getLogger("policybot.teams")
TRANSIENT = frozenset({408, 412, 429, 500, 502, 503, 504})  # Teams: back off and try again
MAX_RETRY_AFTER = 300.0


class CachedCredentials(ServiceClientCredentialsFactory):
    """The SDK makes new credentials (and so fetches a new token) for every connector client: make them once."""

    def __init__(self, inner: ServiceClientCredentialsFactory):
        self.inner = inner
        self._made: dict[tuple, object] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self.inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self.inner.is_authentication_disabled()

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        key = (app_id, oauth_scope, login_endpoint, validate_authority)
        if key not in self._made:
            self._made[key] = await self.inner.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)
        return self._made[key]


def connector_error(exc: Exception, what: str) -> DeliveryError:
    """What a failed connector call means for the outbox."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, ErrorResponseException):
        status = exc.response.status_code
        if status in TRANSIENT:
            retry_after = _seconds(exc.response.headers.get("Retry-After"))
            return DeliveryError(f"Teams answered HTTP {status} to {what}", retry_after=retry_after)
        if status == 401:  # our token was refused: credentials being rotated, or wrong; keep the message
            return DeliveryError(f"Teams refused the bot's token (HTTP 401) for {what}")
        if status == 403:
            return DeliveryError(f"Teams refused {what} (HTTP 403): the app is not installed for them, or is blocked",
                                 permanent=True)
        return DeliveryError(f"Teams answered HTTP {status} to {what}", permanent=True)
    if isinstance(exc, (ClientRequestError, asyncio.TimeoutError, OSError)):
        return DeliveryError(f"cannot reach Teams for {what}: {type(exc).__name__}")
    return DeliveryError(f"{what} failed: {type(exc).__name__}: {exc}")


def _seconds(value) -> float | None:
    try:
        return min(MAX_RETRY_AFTER, max(1.0, float(value))) if value else None
    except (TypeError, ValueError):
        return None


class Connector(ConnectorFactory):
    """The connector clients, one per allowed service URL; also the SDK's ConnectorFactory for turns, so a turn
    reuses them (the SDK would build two clients per activity, ~10 ms each) and can only reach allowed URLs."""

    def __init__(self, auth: BotFrameworkAuthentication, settings: TeamsSettings):
        self.auth, self.settings = auth, settings
        self._clients: dict[str, ConnectorClient] = {}
        identity = ClaimsIdentity({AuthenticationConstants.AUDIENCE_CLAIM: settings.app_id,
                                   AuthenticationConstants.APP_ID_CLAIM: settings.app_id}, True)
        self._factory = auth.create_connector_factory(identity)

    def allowed(self, service_url: str) -> bool:
        return self.settings.service_urls.allows(service_url)

    async def create(self, service_url: str, audience: str = None) -> ConnectorClient:
        return await self.client(service_url, token=False)

    async def client(self, service_url: str, *, token: bool = True) -> ConnectorClient:
        if not self.allowed(service_url):
            raise DeliveryError(f"{service_url!r} is not an allowed Bot Framework service URL; nothing was sent",
                                permanent=True)
        client = self._clients.get(service_url)
        if client is None:
            client = await self._factory.create(service_url, None)
            policy = client.config.retry_policy
            policy.retries = 0
            policy.policy.status_forcelist = set()
            client.config.connection.timeout = 20
            self._clients[service_url] = client
        if token and not self.settings.local:
            await asyncio.to_thread(client.config.credentials.get_access_token)
        return client

    async def post(self, service_url: str, conversation_id: str, activity: dict) -> str:
        client = await self.client(service_url)
        try:
            sent = await client.conversations.send_to_conversation(conversation_id, Activity().deserialize(activity))
        except Exception as exc:
            raise connector_error(exc, "a message") from None
        return (sent.id if sent else "") or ""

    async def update(self, service_url: str, conversation_id: str, activity_id: str, activity: dict) -> None:
        client = await self.client(service_url)
        message = Activity().deserialize({**activity, "id": activity_id})
        try:
            await client.conversations.update_activity(conversation_id, activity_id, message)
        except Exception as exc:
            raise connector_error(exc, "updating a message") from None

    async def create_conversation(self, service_url: str, parameters: dict) -> tuple[str, str]:
        """Open a conversation (a 1:1 chat, or a new post in a channel): (conversation id, first activity id)."""
        client = await self.client(service_url)
        try:
            made = await client.conversations.create_conversation(ConversationParameters().deserialize(parameters))
        except Exception as exc:
            raise connector_error(exc, "opening a conversation") from None
        return made.id or "", made.activity_id or ""

    async def member(self, service_url: str, conversation_id: str, user_id: str) -> dict:
        """What Teams says about a member of a conversation (their email, name, AAD object id)."""
        client = await self.client(service_url)
        try:
            found = await client.conversations.get_conversation_member(conversation_id, user_id, raw=True)
        except Exception as exc:
            raise connector_error(exc, "looking up a member") from None
        try:  # the raw answer: the SDK's ChannelAccount model would drop the email Teams adds
            answer = found.response.json()
        except ValueError:
            return {}
        return answer if isinstance(answer, dict) else {}

    async def close(self) -> None:
        for client in self._clients.values():
            try:
                await client.close()
            except Exception:  # closing is best effort
                pass
        self._clients.clear()
