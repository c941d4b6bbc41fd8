"""One transport for the delivery worker that hands each notification to the platform its recipient is on."""
from __future__ import annotations

from typing import Mapping

from bot.delivery import DeliveryError, Transport
from bot.directory import Directory
from bot.types import Notification


class Router:
    """A reply or a reporter's outcome goes back to the platform they wrote on; a person to the platform the
    directory has an id for (else the first configured, which can look them up by email); a team to the
    platform it has a channel on."""

    def __init__(self, directory: Directory, transports: Mapping[str, Transport]):
        self.directory, self.transports = directory, dict(transports)

    def transport(self, note: Notification) -> Transport:
        to = note.recipient
        if to.kind == "user":
            platforms = [to.platform]
        elif to.kind == "team":
            team = self.directory.team(to.id)
            platforms = [p for p in self.transports if team and team.channel(p)]
        else:
            person = self.directory.person(to.id)
            platforms = [p for p in self.transports if person and person.platform_id(p)] + list(self.transports)
        for platform in platforms:
            if platform in self.transports:
                return self.transports[platform]
        raise DeliveryError(f"no configured chat platform can reach {to.key}", permanent=True)

    async def send(self, notification: Notification) -> str:
        return await self.transport(notification).send(notification)

    async def find(self, notification: Notification) -> str | None:
        return await self.transport(notification).find(notification)
