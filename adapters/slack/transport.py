"""Posting the outbox to Slack, and knowing who is who in Slack.

A notification goes to a person's direct messages (found by the directory's Slack id, or by email with
users.lookupByEmail), to a team's channel, or, for replies, to the conversation the person wrote in. Each
message carries metadata naming its notification, so `find` can tell whether an attempt whose fate is unknown
arrived after all. Slack's answers become DeliveryErrors: 429 and 5xx are retried (after Retry-After), and
an unknown user or channel is permanent, so the case goes to the team instead.
"""
from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks
from bot.delivery import DeliveryError
from bot.directory import Directory, Person
from bot.types import Notification
from knowledge.model import Texts

log = logging.getLogger("policybot.slack")

# Slack errors that no retry can mend: the person or channel is not there, or the bot may not post to them.
PERMANENT = frozenset({
    "users_not_found", "user_not_found", "user_disabled", "account_inactive", "channel_not_found", "not_in_channel",
    "is_archived", "cannot_dm_bot", "messages_tab_disabled", "restricted_action", "user_is_bot", "team_access_not_granted",
})
UNREADABLE_BLOCKS = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "too_many_blocks"})
HISTORY_LIMIT = 100  # messages looked through by find(): a notification whose fate is unknown is recent
UNKNOWN_FOR = 600.0  # seconds a user id that Slack could not match to the directory is not asked about again


def slack_error(exc: Exception) -> DeliveryError:
    """What a failed Web API call means for the outbox."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        error = exc.response.get("error", "") if isinstance(exc.response.data, dict) else ""
        if status == 429:
            retry_after = exc.response.headers.get("retry-after") or exc.response.headers.get("Retry-After") or "1"
            try:
                seconds = max(1.0, float(retry_after))
            except ValueError:
                seconds = 1.0
            return DeliveryError(f"Slack is rate limiting (retry after {seconds:.0f} s)", retry_after=seconds)
        if status >= 500:
            return DeliveryError(f"Slack answered HTTP {status}")
        return DeliveryError(f"Slack: {error or f'HTTP {status}'}", permanent=error in PERMANENT)
    return DeliveryError(f"cannot reach Slack: {type(exc).__name__}: {exc}")


async def call(method, **arguments):
    try:
        return await method(**arguments)
    except (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise slack_error(exc) from None


class SlackPeople:
    """Slack user ids for people in the directory, their direct-message channels, and the reverse."""

    def __init__(self, client: AsyncWebClient, directory: Directory, clock=time.monotonic):
        self.client, self.directory, self.clock = client, directory, clock
        self._ids: dict[str, str] = {}
        self._dms: dict[str, str] = {}
        self._unknown: dict[str, float] = {}

    async def user_id(self, person: Person) -> str:
        if person.slack_user_id:
            return person.slack_user_id
        key = person.email.lower()
        if key not in self._ids:
            found = await call(self.client.users_lookupByEmail, email=person.email)
            self._ids[key] = found["user"]["id"]
        return self._ids[key]

    async def dm(self, user_id: str) -> str:
        """The bot's direct-message channel with this user."""
        if user_id not in self._dms:
            opened = await call(self.client.conversations_open, users=user_id)
            self._dms[user_id] = opened["channel"]["id"]
        return self._dms[user_id]

    async def identify(self, user_id: str) -> Person | None:
        """The directory's person for a Slack user: by the Slack id it lists, or by the email Slack holds for them."""
        person = self.directory.for_user("slack", user_id)
        if person is not None or self._unknown.get(user_id, -UNKNOWN_FOR) > self.clock() - UNKNOWN_FOR:
            return person
        try:
            info = await call(self.client.users_info, user=user_id)
        except DeliveryError as exc:
            log.warning("could not look up Slack user %s: %s", user_id, exc)
            return None
        email = ((info.get("user") or {}).get("profile") or {}).get("email") or ""
        person = self.directory.link("slack", user_id, email) if email else None
        if person is None:
            self._unknown[user_id] = self.clock()
        return person


class SlackTransport:
    def __init__(self, client: AsyncWebClient, people: SlackPeople, texts: Texts):
        self.client, self.people, self.texts = client, people, texts

    async def send(self, note: Notification) -> str:
        body = blocks.notification_message(note, self.texts)
        if note.kind == "update":
            channel, _, ts = note.replaces.partition(":")
            await self._post(self.client.chat_update, channel=channel, ts=ts, **body)
            return note.replaces
        channel, thread = await self._where(note)
        posted = await self._post(
            self.client.chat_postMessage, channel=channel, thread_ts=thread or None, metadata=blocks.metadata(note),
            unfurl_links=False, unfurl_media=False, **body,
        )
        return f"{posted['channel']}:{posted['ts']}"

    async def find(self, note: Notification) -> str | None:
        if note.kind == "update":
            return None  # updating a message again is harmless
        channel, thread = await self._where(note)
        if thread:
            page = await call(self.client.conversations_replies, channel=channel, ts=thread, limit=HISTORY_LIMIT,
                              include_all_metadata=True)
        else:
            page = await call(self.client.conversations_history, channel=channel, limit=HISTORY_LIMIT,
                              include_all_metadata=True)
        for posted in page.get("messages") or []:
            meta = posted.get("metadata") or {}
            if meta.get("event_type") == blocks.METADATA_TYPE and (meta.get("event_payload") or {}).get("notification") == note.id:
                return f"{channel}:{posted['ts']}"
        return None

    async def _post(self, method, **arguments):
        try:
            return await call(method, **arguments)
        except DeliveryError as exc:
            if str(exc).removeprefix("Slack: ") not in UNREADABLE_BLOCKS:
                raise
        log.error("Slack refused the blocks of a message; sending its plain text instead")
        arguments.pop("blocks", None)
        return await call(method, **arguments)

    async def _where(self, note: Notification) -> tuple[str, str]:
        """(channel, thread) a notification goes to."""
        to = note.recipient
        if to.kind == "user" and note.kind == "reply":
            channel, _, thread = to.conversation.partition("/")
            return channel, thread
        if to.kind == "user":
            return await self.people.dm(to.id), ""
        if to.kind == "team":
            team = self.people.directory.team(to.id)
            if team is None or not team.channel("slack"):
                raise DeliveryError(f"the team {to.id!r} has no Slack channel in the staff directory", permanent=True)
            return team.channel("slack"), ""
        person = self.people.directory.person(to.id) or Person(note.recipient_name or to.id, to.id)
        return await self.people.dm(await self.people.user_id(person)), ""
