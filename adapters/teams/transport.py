"""Posting the outbox to Teams, and knowing who is who in Teams.

Where people and places are reached is kept durably (the store's chat contacts), from every activity that
arrives: each conversation's reference, each person's 1:1 chat, and the service URL of each tenant and
channel. A manager who never wrote to the bot is reached by opening a 1:1 chat with their Teams or AAD id
in the tenant; a team by a new post in its channel. A 403 (the app is not installed for that person) is
permanent, so the case goes to the team and the reporter is told; 429, 412 and 5xx are retried.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time

from adapters.teams import cards
from adapters.teams.connector import Connector
from adapters.teams.settings import TeamsSettings
from bot.cases import REASON_MAX
from bot.delivery import DeliveryError
from bot.directory import Directory, Person
from bot.storage import SqlStore
from bot.types import Notification
from knowledge.model import Texts

log = logging.getLogger("policybot.teams")
PLATFORM = "teams"
UNKNOWN_FOR = 600.0  # seconds a Teams user the directory could not match is not asked about again


class Contacts:
    """The durable address book: conversation references and where each person and tenant is reached."""

    def __init__(self, store: SqlStore, clock=time.time, memory: int = 10_000):
        self.store, self.clock, self.memory = store, clock, memory
        self._written: dict[str, dict] = {}  # what this process last wrote, to skip writing it again

    async def get(self, key: str) -> dict | None:
        return await asyncio.to_thread(self.store.contact, PLATFORM, key)

    async def put(self, entries: dict[str, dict]) -> None:
        changed = {k: v for k, v in entries.items() if self._written.get(k) != v}
        if changed:
            await asyncio.to_thread(self.store.remember_contact, PLATFORM, changed, self.clock())
            if len(self._written) > self.memory:
                self._written.clear()
            self._written.update(changed)

    async def learn(self, activity: dict) -> None:
        """Remember how to reach this conversation, this person (in a 1:1 chat), their tenant and channel."""
        conversation = activity.get("conversation") or {}
        channel_data = activity.get("channelData") or {}
        sender = activity.get("from") or {}
        tenant = (channel_data.get("tenant") or {}).get("id") or conversation.get("tenantId") or ""
        service_url = activity.get("serviceUrl") or ""
        if not conversation.get("id") or not service_url:
            return
        reference = {"service_url": service_url, "conversation_id": conversation["id"], "tenant_id": tenant,
                     "bot_id": (activity.get("recipient") or {}).get("id", ""),
                     "type": conversation.get("conversationType") or ("channel" if conversation.get("isGroup") else "personal")}
        entries = {f"conversation:{conversation['id']}": reference,
                   f"tenant:{tenant}": {"service_url": service_url, "tenant_id": tenant, "bot_id": reference["bot_id"]},
                   "tenant:": {"service_url": service_url, "tenant_id": tenant, "bot_id": reference["bot_id"]}}
        if reference["type"] == "personal":
            for user_id in {sender.get("id"), sender.get("aadObjectId")} - {None, ""}:
                entries[f"user:{user_id}"] = reference
        channel = (channel_data.get("channel") or {}).get("id") or (channel_data.get("team") or {}).get("id")
        if channel:
            entries[f"channel:{channel}"] = {"service_url": service_url, "tenant_id": tenant, "bot_id": reference["bot_id"]}
        await self.put(entries)


class TeamsPeople:
    """The directory's person behind a Teams user, and the Teams user behind a person."""

    def __init__(self, directory: Directory, contacts: Contacts, connector: Connector, clock=time.monotonic):
        self.directory, self.contacts, self.connector, self.clock = directory, contacts, connector, clock
        self._unknown: dict[str, float] = {}

    async def identify(self, activity: dict) -> Person | None:
        """By the Teams id or AAD object id the directory lists, or by the email Teams holds for the member."""
        sender = activity.get("from") or {}
        user_id, aad = sender.get("id", ""), sender.get("aadObjectId", "")
        person = self.directory.for_user(PLATFORM, user_id) or (self.directory.for_user(PLATFORM, aad) if aad else None)
        email = ""
        if person is None and self._unknown.get(user_id, -UNKNOWN_FOR) <= self.clock() - UNKNOWN_FOR:
            try:
                member = await self.connector.member(activity.get("serviceUrl", ""),
                                                     (activity.get("conversation") or {}).get("id", ""), user_id)
                email = member.get("email") or member.get("userPrincipalName") or ""
            except DeliveryError as exc:
                log.warning("could not look up a Teams member: %s", exc)
            if not email:
                self._unknown[user_id] = self.clock()
        if person is not None or email:
            person = self.directory.link(PLATFORM, user_id, person.email if person else email)
        if person is not None:
            await self.contacts.put({f"email:{person.email.lower()}": {"user_id": user_id, "aad_id": aad}})
        return person

    async def user_id(self, person: Person) -> str:
        """The id to reach a person by: the one Teams gave when they wrote, else the directory's (Teams or AAD id)."""
        known = await self.contacts.get(f"email:{person.email.lower()}")
        user_id = (known or {}).get("user_id") or person.teams_user_id
        if not user_id:
            raise DeliveryError(f"{person.name} has no Teams id in the staff directory and has not written to the bot",
                                permanent=True)
        return user_id


class TeamsTransport:
    def __init__(self, connector: Connector, people: TeamsPeople, settings: TeamsSettings, texts: Texts, needs_reason):
        self.connector, self.people, self.settings = connector, people, settings
        self.contacts = people.contacts
        self.texts, self.needs_reason = texts, needs_reason

    def render(self, note: Notification) -> dict:
        content = cards.notification_card(note, self.texts, self.needs_reason, REASON_MAX)
        return cards.activity(content, note.text)

    async def send(self, note: Notification) -> str:
        message = self.render(note)
        if note.kind == "update":
            where = json.loads(note.replaces)
            await self.connector.update(where["url"], where["conversation"], where["activity"], message)
            return note.replaces
        to = note.recipient
        if to.kind == "team":
            return await self._post_in_channel(to.id, message)
        if to.kind == "user" and to.conversation:
            reference = await self.contacts.get(f"conversation:{to.conversation}")
            if reference is None:
                raise DeliveryError(f"no Teams conversation {to.conversation!r} is known", permanent=True)
        else:
            reference = await self._personal(to.id if to.kind == "user" else await self._person_id(note))
        return await self._post(reference, message)

    async def find(self, note: Notification) -> str | None:
        """Teams gives a bot no way to read a conversation back, so an attempt whose fate is unknown is sent again."""
        return None

    async def _post(self, reference: dict, message: dict) -> str:
        activity_id = await self.connector.post(reference["service_url"], reference["conversation_id"], message)
        return _receipt(reference["service_url"], reference["conversation_id"], activity_id)

    async def _person_id(self, note: Notification) -> str:
        person = self.people.directory.person(note.recipient.id) or Person(note.recipient_name or note.recipient.id,
                                                                           note.recipient.id)
        return await self.people.user_id(person)

    async def _tenant(self, key: str = "") -> dict:
        """Where to open a conversation: what was learned for `key` (a channel), else for the tenant, else defaults."""
        known: dict = {}
        for candidate in dict.fromkeys(k for k in (key, f"tenant:{self.settings.tenant_id}", "tenant:") if k):
            known = await self.contacts.get(candidate) or {}
            if known:
                break
        return {"service_url": known.get("service_url") or self.settings.default_service_url,
                "tenant_id": self.settings.tenant_id or known.get("tenant_id", ""),
                "bot_id": known.get("bot_id") or (f"28:{self.settings.app_id}" if self.settings.app_id else "")}

    async def _personal(self, user_id: str) -> dict:
        """The 1:1 chat with a Teams user: the one they used, or a new one opened with their id and tenant."""
        reference = await self.contacts.get(f"user:{user_id}")
        if reference is not None:
            return reference
        where = await self._tenant()
        if not where["tenant_id"]:
            raise DeliveryError("cannot open a Teams chat: no tenant id is known (set MicrosoftAppTenantId)", permanent=True)
        conversation_id, _ = await self.connector.create_conversation(where["service_url"], {
            "bot": {"id": where["bot_id"]}, "isGroup": False, "members": [{"id": user_id}],
            "tenantId": where["tenant_id"], "channelData": {"tenant": {"id": where["tenant_id"]}},
        })
        reference = {"service_url": where["service_url"], "conversation_id": conversation_id,
                     "tenant_id": where["tenant_id"], "bot_id": where["bot_id"], "type": "personal"}
        await self.contacts.put({f"user:{user_id}": reference, f"conversation:{conversation_id}": reference})
        return reference

    async def _post_in_channel(self, team_id: str, message: dict) -> str:
        """A team's case starts a new post in its channel (so replies about it stay in one thread)."""
        team = self.people.directory.team(team_id)
        channel = team.channel(PLATFORM) if team else ""
        if not channel:
            raise DeliveryError(f"the team {team_id!r} has no Teams channel in the staff directory", permanent=True)
        where = await self._tenant(f"channel:{channel}")
        conversation_id, activity_id = await self.connector.create_conversation(where["service_url"], {
            "bot": {"id": where["bot_id"]}, "isGroup": True, "tenantId": where["tenant_id"] or None,
            "channelData": {"channel": {"id": channel}, **({"tenant": {"id": where["tenant_id"]}} if where["tenant_id"] else {})},
            "activity": message,
        })
        return _receipt(where["service_url"], channel, activity_id or conversation_id.partition(";messageid=")[2])


def _receipt(service_url: str, conversation_id: str, activity_id: str) -> str:
    return json.dumps({"url": service_url, "conversation": conversation_id, "activity": activity_id}, sort_keys=True)
