"""Fakes and helpers for conversations, storage and delivery in tests: hand-written, no mocks."""
from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bot.storage import SqlStore
from bot.types import Incoming, Notification, Outcome

PG_URL = os.environ.get("POLICYBOT_TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
EXAMPLE_DIRECTORY = Path(__file__).resolve().parent.parent / "deploy" / "directory.example.yaml"
ALEX = "alex.morgan@council.example"  # staff; line manager Sam Patel
SAM = "sam.patel@council.example"  # Alex's line manager
JO = "jo.bloggs@council.example"  # Marketing Communications team
DANA = "dana.whitfield@council.example"  # Marketing Communications team; Sam's line manager
PRIYA = "priya.shah@council.example"  # HR team
CHRIS = "chris.doe@council.example"  # no line manager in the directory


class FakeClock:
    def __init__(self, start: float = 1_795_000_000.0):  # a fixed moment in November 2026
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


@dataclass
class Chat:
    """One person talking to the bot: say things, press the buttons it showed, read what it said."""

    bot: object
    user: str = ALEX
    platform: str = "console"
    conversation: str = ""
    last: Outcome | None = None

    def __post_init__(self):
        self.conversation = self.conversation or f"dm-{self.user}"

    def say(self, text: str) -> str:
        return self._send(Incoming(self.platform, self.conversation, self.user, text))

    def press(self, label: str) -> str:
        choices = {c.label: c.value for r in self.last.replies for c in r.choices}
        assert label in choices, f"no button {label!r} in {list(choices)}"
        return self._send(Incoming(self.platform, self.conversation, self.user, "", choices[label]))

    def act(self, value: str, text: str = "") -> str:
        return self._send(Incoming(self.platform, self.conversation, self.user, text, value))

    def _send(self, incoming: Incoming) -> str:
        self.last = self.bot.handle(incoming)
        return self.last.text


@dataclass
class RecordingTransport:
    """Delivers into a list. fail: {recipient key: [DeliveryError or None, ...]} consumed one per attempt."""

    sent: list[Notification] = field(default_factory=list)
    fail: dict[str, list] = field(default_factory=dict)
    updated: list[Notification] = field(default_factory=list)  # updates of messages sent earlier

    async def send(self, notification: Notification) -> str:
        plan = self.fail.get(notification.recipient.key)
        if plan:
            error = plan.pop(0)
            if error is not None:
                raise error
        if notification.kind == "update":
            self.updated.append(notification)
            return notification.replaces
        self.sent.append(notification)
        return f"msg-{len(self.sent)}"

    async def find(self, notification: Notification) -> str | None:
        return next((f"msg-{i}" for i, n in enumerate(self.sent, 1) if n.id == notification.id), None)

    def to(self, key: str) -> list[Notification]:
        return [n for n in self.sent if n.recipient.key == key]


class FileTransport:
    """Delivers by appending a line to a file, so deliveries by other processes can be counted.

    hang_after_send: after writing, stop for ever (to be killed): the message arrived, nobody recorded it."""

    def __init__(self, path: Path, worker: str = "", hang_after_send: bool = False, pause: float = 0.0):
        self.path, self.worker, self.hang, self.pause = Path(path), worker, hang_after_send, pause

    async def send(self, notification: Notification) -> str:
        line = json.dumps({"id": notification.id, "to": notification.recipient.key, "worker": self.worker}) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if self.hang:
            print("SENT", notification.id, flush=True)
            while True:
                time.sleep(60)
        if self.pause:
            time.sleep(self.pause)
        return f"file:{notification.id}"

    async def find(self, notification: Notification) -> str | None:
        return f"file:{notification.id}" if notification.id in {r["id"] for r in read_lines(self.path)} else None


def read_lines(path: Path) -> list[dict]:
    path = Path(path)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def new_pg_url() -> str:
    """A URL for a fresh schema in the test database (created; drop it with drop_pg_schema)."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def drop_pg_schema(url: str) -> None:
    import psycopg

    schema = url.rsplit("%3D", 1)[1]
    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def open_store(url: str) -> SqlStore:
    url = str(url)
    store = SqlStore.postgres(url) if url.startswith("postgresql") else SqlStore.sqlite(url)
    store.migrate()
    return store


def recorded(path: Path, **changes) -> dict:
    """A recorded platform payload (JSON) with some keys changed; a dotted key ("event.text") reaches inside."""
    data = json.loads(path.read_text())
    for dotted, value in changes.items():
        target = data
        *keys, last = dotted.split(".")
        for key in keys:
            target = target[key]
        target[last] = value
    return data
