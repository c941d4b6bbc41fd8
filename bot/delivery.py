"""Delivering the outbox: claim due notifications, hand them to a transport, record every attempt.

A notification is claimed for a lease, so two workers (or two bot processes sharing a database) never
send the same one. If a worker dies after sending but before recording it, the lease runs out and the
next worker first asks the transport whether the message already arrived (`find`), so it is not sent twice.
Transient failures are retried with exponential backoff and jitter, without limit: the outbox holds a
notification until it is delivered or the transport says it never can be.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import socket
import time
from dataclasses import replace
from typing import Callable, Protocol

from bot.cases import Cases
from bot.storage import Claim, SqlStore
from bot.types import Notification

log = logging.getLogger("policybot.delivery")
EVENT_MEMORY = 24 * 3600  # seconds an incoming event's id is kept, to recognise a platform sending it again


class DeliveryError(Exception):
    """A failed delivery. permanent: it can never succeed (no such user, app not installed)."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Transport(Protocol):
    async def send(self, notification: Notification) -> str:
        """Deliver it (for kind "update", edit the message `replaces`); return a receipt. Raise DeliveryError on failure."""

    async def find(self, notification: Notification) -> str | None:
        """The receipt if this notification already arrived (an earlier attempt's fate is unknown), else None."""


class Worker:
    def __init__(
        self,
        store: SqlStore,
        transport: Transport,
        cases: Cases,
        *,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        lease: float = 120.0,
        timeout: float = 30.0,
        batch: int = 20,
        backoff: float = 2.0,
        backoff_cap: float = 600.0,
    ):
        self.store, self.transport, self.cases, self.clock = store, transport, cases, clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.lease, self.timeout, self.batch = lease, timeout, batch
        self.backoff, self.backoff_cap = backoff, backoff_cap
        self._woken: asyncio.Event | None = None
        self._forgot_at = 0.0

    async def run_once(self) -> int:
        """Queue due reminders, then deliver what is due now; returns how many were delivered.

        Each recipient's notifications go in order; different recipients are served at the same time."""
        now = self.clock()
        await asyncio.to_thread(self.cases.send_reminders, now)
        if now - self._forgot_at > EVENT_MEMORY / 24:
            await asyncio.to_thread(self.store.forget_events, now - EVENT_MEMORY)
            self._forgot_at = now
        delivered = 0
        while True:
            claims = await asyncio.to_thread(
                self.store.claim, self.name, now=self.clock(), lease=self.lease, limit=self.batch
            )
            if not claims:
                return delivered
            queues: dict[str, list[Claim]] = {}
            for claim in claims:
                queues.setdefault(json.dumps(claim.recipient, sort_keys=True), []).append(claim)
            delivered += sum(await asyncio.gather(*(self._deliver_in_order(q) for q in queues.values())))

    async def run(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        """Deliver until `stop` is set: every `poll` seconds, and at once when woken (something was queued)."""
        self._woken = asyncio.Event()
        while not stop.is_set():
            self._woken.clear()
            try:
                await self.run_once()
            except Exception:  # the database may be away for a while: keep going, the outbox keeps the work
                log.exception("delivery round failed; retrying in %.0f s", poll)
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._woken.wait())]
            await asyncio.wait(waits, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()

    def wake(self) -> None:
        """Something was queued: deliver it now rather than at the next poll (call from the worker's event loop)."""
        if self._woken is not None:
            self._woken.set()

    async def _deliver_in_order(self, claims: list[Claim]) -> int:
        return sum([await self._deliver(claim) for claim in claims])

    async def _deliver(self, claim: Claim) -> int:
        note = Notification.from_payload(claim.id, claim.case_ref, claim.recipient, claim.payload)
        if note.kind == "update":
            note = await self._updated(claim, note)
            if note is None:
                return 0
        try:
            # an earlier attempt that died, timed out or failed may still have arrived: look before sending again
            unsure = claim.uncertain or claim.attempts > 1
            receipt = await asyncio.wait_for(self.transport.find(note), self.timeout) if unsure else None
            outcome = "found" if receipt else "delivered"
            if receipt is None:
                receipt = await asyncio.wait_for(self.transport.send(note), self.timeout)
        except DeliveryError as exc:
            if exc.permanent:
                await self._give_up(claim, str(exc))
            else:
                await self._retry(claim, str(exc), exc.retry_after)
            return 0
        except asyncio.TimeoutError:
            await self._retry(claim, f"no answer within {self.timeout:.0f} s", None)
            return 0
        except Exception as exc:  # a transport bug must not lose the notification: retry it, and say why
            log.exception("notification %s failed", claim.id)
            await self._retry(claim, f"{type(exc).__name__}: {exc}", None)
            return 0
        await asyncio.to_thread(self.store.delivered, claim, self.name, now=self.clock(), receipt=str(receipt), outcome=outcome)
        log.info("notification %s for %s %s", claim.id, claim.case_ref, outcome)
        return 1

    async def _updated(self, claim: Claim, note: Notification) -> Notification | None:
        """The message an update replaces, as it should read now; None when there is nothing (yet) to update."""
        original = await asyncio.to_thread(self.store.delivery, int(claim.payload.get("replaces_id", 0)))
        if original is not None and original.status == "pending":  # not delivered yet: update it after it is
            await self._retry(claim, "the message to update has not been delivered yet", self.backoff)
            return None
        if original is None or original.status != "delivered" or not original.receipt:
            await asyncio.to_thread(self.store.delivered, claim, self.name, now=self.clock(), receipt="", outcome="skipped")
            return None
        before = Notification.from_payload(claim.id, original.case_ref, original.recipient, original.payload)
        now = await asyncio.to_thread(self.cases.refreshed, before)
        return replace(now, kind="update", replaces=original.receipt)

    async def _retry(self, claim: Claim, error: str, retry_after: float | None) -> None:
        delay = retry_after if retry_after is not None else self.delay(claim.attempts)
        log.warning("notification %s attempt %s failed (%s); next try in %.0f s", claim.id, claim.attempts, error, delay)
        now = self.clock()
        await asyncio.to_thread(self.store.retry_later, claim, self.name, now=now, at=now + delay, error=error)

    async def _give_up(self, claim: Claim, error: str) -> None:
        log.warning("notification %s can't be delivered (%s); sending it to the team instead", claim.id, error)
        recipients, instead = await asyncio.to_thread(self.cases.instead_of, claim.case_ref, claim.recipient, claim.payload, error)
        await asyncio.to_thread(
            self.store.give_up, claim, self.name, now=self.clock(), error=error, recipients=recipients, instead=instead
        )

    def delay(self, attempts: int) -> float:
        return min(self.backoff_cap, self.backoff * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2)
