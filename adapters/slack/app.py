"""The Slack app on slack-bolt: Slack payloads in, core types to the core, Block Kit out through the outbox.

Every request is verified (signature and age) before anything else looks at it. Work is committed before
Slack is answered (process_before_response): the core records the event id, the change and the replies in
one transaction, so Slack's retries of the same event change nothing and a crash after the answer loses
nothing. Replies leave through the outbox like every other message.
"""
from __future__ import annotations

import asyncio
import logging
import re

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.background import Background
from adapters.slack import blocks
from adapters.slack.settings import SlackSettings
from adapters.slack.transport import SlackPeople, SlackTransport
from bot.answers import flow_command
from bot.cases import ACTION_PREFIX as CASE_PREFIX
from bot.cases import REASON_MAX
from bot.core import PolicyBot
from bot.delivery import DeliveryError
from bot.types import Incoming, Reply

PLATFORM = "slack"
PATH = "/slack/events"
log = logging.getLogger("policybot.slack")
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
BARE_LINK = re.compile(r"<((?:https?|mailto):[^<>|\s]+)>")
LOOKUP_TIMEOUT = 1.5  # seconds allowed for asking Slack who someone is, inside the 3 seconds Slack waits


def from_slack(text: str, bot_user_id: str = "") -> str:
    """What the person typed: the bot's own mention dropped, bare links unwrapped, Slack's escapes undone.

    Other markup (<!channel>, <@U123>, <http://x|label>) is kept as typed, so it is shown, escaped, as typed."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    text = BARE_LINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


class SlackAdapter:
    platform = PLATFORM

    def __init__(self, bot: PolicyBot, settings: SlackSettings, *, wake=lambda: None):
        self.bot, self.settings, self.wake = bot, settings, wake
        self.texts = bot.kb.texts
        # no retry handlers: a failed call is retried by the outbox, which first looks whether it arrived
        self.client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_url, retry_handlers=[], timeout=10)
        self.people = SlackPeople(self.client, bot.directory)
        self.transport = SlackTransport(self.client, self.people, self.texts)
        self.verifier = SignatureVerifier(settings.signing_secret) if settings.signing_secret else None
        self.app = AsyncApp(
            signing_secret=settings.signing_secret or None, client=self.client, authorize=self._bolt_authorize(),
            process_before_response=True, logger=logging.getLogger("policybot.slack.bolt"),
            request_verification_enabled=self.verifier is not None,
        )
        self.background = Background(log, "a Slack page update")
        self._identity: AuthorizeResult | None = None
        self._identity_lock: asyncio.Lock | None = None
        self._socket = None  # the Socket Mode connection, when the settings ask for one
        self._register()

    def _bolt_authorize(self):
        async def authorize(context) -> AuthorizeResult:  # Bolt reads the parameter names (so no bound method)
            return await self.authorize()
        return authorize

    async def authorize(self) -> AuthorizeResult:
        """Who the bot is in Slack (auth.test): asked once, however many requests arrive at the same moment."""
        if self._identity is None:
            self._identity_lock = self._identity_lock or asyncio.Lock()
            async with self._identity_lock:
                if self._identity is None:
                    answer = await self.client.auth_test()
                    self._identity = AuthorizeResult.from_auth_test_response(
                        bot_token=self.settings.bot_token, auth_test_response=answer)
        return self._identity

    async def start(self) -> None:
        """On start: one HTTP session for every Web API call (kept-alive connections), the bot's identity, and in
        Socket Mode the websocket Slack sends events over (acknowledged, as over HTTP, after they are committed)."""
        if self.client.session is None:
            self.client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            await self.authorize()
        except Exception as exc:  # Slack may be away: the first request asks again
            log.warning("could not ask Slack who the bot is yet (%s); will ask again", type(exc).__name__)
        if self.settings.socket_mode:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.settings.app_token)
            await self._socket.connect_async()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        await self.settle()
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None

    # -- HTTP ----------------------------------------------------------------------------------------------------
    def mount(self, web_app: web.Application) -> None:
        web_app.router.add_post(PATH, self.handle_http)

    async def handle_http(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not self.verified(body, request.headers):
            log.warning("rejected a request to %s: missing, wrong or stale signature", PATH)  # never the body
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "the body is not UTF-8"}, status=400)
        response = await self.app.async_dispatch(
            AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers)))
        return await to_aiohttp_response(response)

    def verified(self, body: bytes, headers) -> bool:
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if self.verifier is None or not TIMESTAMP.match(timestamp) or not signature.isascii():
            return False
        return self.verifier.is_valid(body=body, timestamp=timestamp, signature=signature)

    # -- listeners -----------------------------------------------------------------------------------------------
    def _register(self) -> None:
        app = self.app
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)
        app.event("app_home_opened")(self.on_home_opened)
        app.event(re.compile(".*"))(self.on_other_event)  # subscribed but not needed: answered, so Slack doesn't retry
        app.command(self.settings.command)(self.on_command)
        app.action(re.compile(".*"))(self.on_action)
        app.view(blocks.FORM_CALLBACK)(self.on_form)
        app.view_closed(re.compile(".*"))(self.on_other_view)

    async def on_message(self, body: dict, event: dict) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return  # edits, joins, other bots and channel chatter are not for the bot
        incoming = Incoming(PLATFORM, event["channel"], event["user"], from_slack(str(event.get("text") or "")))
        await self.receive(incoming, f"{PLATFORM}:{body.get('event_id') or event.get('client_msg_id') or event.get('ts')}")

    async def on_mention(self, body: dict, event: dict, context) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        thread = event.get("thread_ts") or event.get("ts")
        text = from_slack(str(event.get("text") or ""), context.bot_user_id or "")
        incoming = Incoming(PLATFORM, f"{event['channel']}/{thread}", event["user"], text)
        await self.receive(incoming, f"{PLATFORM}:{body.get('event_id') or event.get('ts')}")

    async def on_command(self, ack, command: dict) -> None:
        user, text = command.get("user_id", ""), from_slack(str(command.get("text") or ""))
        try:
            dm = await asyncio.wait_for(self.people.dm(user), LOOKUP_TIMEOUT)
        except (DeliveryError, asyncio.TimeoutError):
            await ack(text=self.texts("chat_unavailable"))
            return
        action = flow_command(text)  # "/policy report"
        incoming = Incoming(PLATFORM, dm, user, "" if action else text, action)
        await self.receive(incoming, f"{PLATFORM}:command:{command.get('trigger_id', '')}")
        await ack(text=self.texts("chat_moved_to_dm") if command.get("channel_id") != dm else None)

    async def on_action(self, ack, body: dict, context) -> None:
        await ack()
        action = (body.get("actions") or [{}])[0]
        value = action.get("value") or (action.get("selected_option") or {}).get("value")
        user = (body.get("user") or {}).get("id")
        if not value or not user or body.get("type") != "block_actions":
            return
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        posted = body.get("message") or {}
        on_case = value.startswith(CASE_PREFIX)
        if on_case or not channel:  # replies about a shared message go to the presser alone
            conversation = await self._dm(user)
            if conversation is None:
                return
        else:
            thread = posted.get("thread_ts")
            conversation = f"{channel}/{thread}" if thread else channel
        incoming = Incoming(PLATFORM, conversation, user, "", str(value))
        outcome = await self.receive(incoming, f"{PLATFORM}:action:{body.get('trigger_id') or action.get('action_ts')}",
                                     forms=bool(body.get("trigger_id")))
        if outcome is None:
            return
        for reply in (r for r in outcome.replies if r.expects):
            await self._open_form(body["trigger_id"], reply, incoming)
        if channel and channel.startswith("D") and posted.get("ts") and not on_case:
            label = (action.get("text") or (action.get("selected_option") or {}).get("text") or {}).get("text", "")
            self.background.later(self._mark_chosen(channel, posted, label))
        if (body.get("container") or {}).get("type") == "view":
            self.background.later(self.publish_home(user))

    async def on_form(self, ack, body: dict, view: dict) -> None:
        answer = blocks.form_answer(view)
        user = (body.get("user") or {}).get("id")
        if answer is None or not user:
            await ack(response_action="errors", errors={blocks.FORM_BLOCK: self.texts("chat_form_expired")})
            return
        value, conversation, text = answer
        if not text.strip():
            await ack(response_action="errors", errors={blocks.FORM_BLOCK: self.texts("dialog_empty")})
            return
        if len(text) > REASON_MAX:
            await ack(response_action="errors", errors={blocks.FORM_BLOCK: self.texts("chat_form_too_long", limit=REASON_MAX)})
            return
        dm = await self._dm(user)
        incoming = Incoming(PLATFORM, dm or conversation, user, text, value)
        await self.receive(incoming, f"{PLATFORM}:view:{view.get('id')}:{view.get('hash')}")
        await ack()

    async def on_home_opened(self, event: dict) -> None:
        if event.get("tab") == "home" and event.get("user"):
            self.background.later(self.publish_home(event["user"]))

    async def on_other_event(self) -> None:
        return None

    async def on_other_view(self, ack) -> None:
        await ack()

    # -- to the core and back ------------------------------------------------------------------------------------
    async def receive(self, incoming: Incoming, event_id: str, forms: bool = False):
        """Hand one thing a person did to the core, once; its replies are committed to the outbox before Slack hears back."""
        try:
            await asyncio.wait_for(self.people.identify(incoming.user), LOOKUP_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("Slack did not say who %s is in time", incoming.user)
        outcome = await asyncio.to_thread(self.bot.receive, incoming, event_id=event_id, forms=forms)
        self.wake()
        return outcome

    async def _open_form(self, trigger_id: str, reply: Reply, incoming: Incoming) -> None:
        try:
            view = blocks.form(reply, self.texts, incoming.conversation, REASON_MAX)
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except Exception as exc:  # no form: ask in the conversation instead, where a typed answer works too
            log.warning("could not open a form in Slack (%s); asking in the conversation", type(exc).__name__)
            await asyncio.to_thread(self.bot.queue_replies, incoming, [reply])
            self.wake()

    async def _dm(self, user: str) -> str | None:
        try:
            return await asyncio.wait_for(self.people.dm(user), LOOKUP_TIMEOUT)
        except (DeliveryError, asyncio.TimeoutError) as exc:
            log.warning("could not open a direct message with %s: %s", user, exc)
            return None

    async def _mark_chosen(self, channel: str, posted: dict, label: str) -> None:
        await self.client.chat_update(channel=channel, ts=posted["ts"], text=posted.get("text") or " ",
                                      blocks=blocks.chosen(posted.get("blocks") or [], label, self.texts))

    async def publish_home(self, user: str) -> None:
        await asyncio.wait_for(self.people.identify(user), LOOKUP_TIMEOUT)
        overview = await asyncio.to_thread(self.bot.overview, PLATFORM, user)
        view = blocks.home(overview, self.texts, self.bot.kb.primary.title)
        await self.client.views_publish(user_id=user, view=view)

    async def settle(self) -> None:
        """Wait for background work (tests, shutdown)."""
        await self.background.settle()
