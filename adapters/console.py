"""The terminal chat: lines in, the core's replies out as plain text. No configuration, no network.

Notifications for other people are delivered to this terminal too, as they leave the outbox, and
"/as <email>" lets you carry on as someone else from the staff directory (a line manager, say) to act on them.
"""
from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.core import PolicyBot
from bot.delivery import Worker
from bot.storage import StorageError
from bot.types import Choice, Incoming, Notification, Reply

QUIT = frozenset({"quit", "exit", "/quit", "/exit", "bye"})
PROMPT = "you> "
PLATFORM = "console"
HELP = """Terminal commands:
  /as <email>   carry on as someone from the staff directory (to act on a notification sent to them)
  /whoami       who you are now
  /people       the people and teams in the staff directory
  quit          leave"""


def render(reply: Reply) -> str:
    return "\n".join([reply.text, *_numbered(reply.choices, 1)])


def _numbered(choices, start: int) -> list[str]:
    return [f"  [{number}] {choice.label}" for number, choice in enumerate(choices, start)]


class ConsoleTransport:
    """Delivers notifications to this terminal: they are shown after the reply that caused them."""

    def __init__(self) -> None:
        self.arrived: list[Notification] = []

    async def send(self, notification: Notification) -> str:
        if notification.kind == "update":  # a terminal can't change what it printed; the buttons say "already done"
            return notification.replaces
        self.arrived.append(notification)
        return f"console:{notification.id}"

    async def find(self, notification: Notification) -> str | None:
        return None  # a terminal keeps no record of what it showed before a restart


class ConsoleChat:
    def __init__(self, bot: PolicyBot, user: str | None = None, worker: Worker | None = None,
                 transport: ConsoleTransport | None = None):
        self.bot = bot
        self.user = user or _default_user(bot)
        self.transport = transport
        self.worker = worker
        self.choices: tuple[Choice, ...] = ()

    def incoming(self, line: str) -> Incoming:
        """A typed number picks one of the choices last shown; anything else is a message."""
        text = line.strip()
        conversation = f"{PLATFORM}:{self.user}"
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            return Incoming(PLATFORM, conversation, self.user, "", self.choices[int(text) - 1].value)
        return Incoming(PLATFORM, conversation, self.user, line)

    def turn(self, line: str) -> str:
        command = line.strip().split(maxsplit=1)
        if command and command[0].startswith("/"):
            return self._command(command[0].lower(), command[1] if len(command) > 1 else "")
        try:
            outcome = self.bot.handle(self.incoming(line))
        except StorageError as exc:
            return f"Sorry, I can't reach my database just now ({exc}), so nothing was saved. Please try again shortly."
        choices = [c for reply in outcome.replies for c in reply.choices]
        parts = [render(reply) for reply in outcome.replies]
        for note in self.deliver():
            parts.append(self._show(note, len(choices) + 1))
            choices.extend(note.actions)
        self.choices = tuple(choices)
        return "\n\n".join(parts)

    def deliver(self) -> list[Notification]:
        """Run the outbox once (reminders included); what arrived, in order."""
        if self.worker is None or self.transport is None:
            return []
        asyncio.run(self.worker.run_once())
        arrived, self.transport.arrived = self.transport.arrived, []
        return arrived

    def _show(self, note: Notification, first_number: int) -> str:
        to = note.recipient
        if to.kind == "user":
            who = "you" if to.id == self.user else note.recipient_name or to.id
        elif to.kind == "team":
            team = self.bot.directory.team(to.id)
            members = ", ".join(team.members) if team else ""
            who = f"the {note.recipient_name} (members: {members})"
        else:
            who = f"{note.recipient_name} <{to.id}>"
        lines = [f"----- message for {who} -----", note.text, *_numbered(note.actions, first_number)]
        if note.actions and to.kind != "user":
            example = to.id if to.kind == "person" else (members.split(", ")[0] if members else "")
            if example and example != self.user:
                lines.append(f"  (to act on it, first type: /as {example})")
        return "\n".join(lines)

    def _command(self, name: str, argument: str) -> str:
        directory = self.bot.directory
        if name == "/as":
            person = directory.person(argument)
            if person is None:
                return f"There is nobody called {argument or '(nobody)'} in the staff directory. Type /people to see who is."
            self.user = person.email  # the choices last shown stay: the point is to press one as this person
            return f"You are now {person.name} <{person.email}>."
        if name == "/whoami":
            person = directory.person(self.user)
            return f"You are {person.name} <{person.email}>." if person else f"You are {self.user} (not in the staff directory)."
        if name == "/people":
            people = [f"  {p.name} <{p.email}>" + (f", line manager {p.line_manager}" if p.line_manager else "")
                      for p in directory.people]
            teams = [f"  {t.name}: {', '.join(t.members)}" for t in directory.teams]
            return "\n".join(["People:", *people, "Teams:", *teams])
        return HELP

    def run(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
        stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
        interactive = stdin.isatty()
        title = self.bot.kb.primary.title
        print(f"policybot: ask me about the {title}. Type \"help\" for ideas, \"/help\" for terminal commands, "
              f"\"quit\" to leave.", file=stdout)
        print(self._command("/whoami", ""), file=stdout)
        pending = self.deliver()  # anything left from an earlier run (a restart resumes delivery)
        if pending:
            print("\n\n".join(self._show(n, 1) for n in pending), file=stdout)
        while True:
            if interactive:
                print(PROMPT, end="", file=stdout, flush=True)
            line = stdin.readline()
            if not line or line.strip().lower() in QUIT:
                break
            if not interactive:
                print(PROMPT + line.rstrip("\n"), file=stdout)
            print(self.turn(line.rstrip("\n")), file=stdout)
            print(file=stdout, flush=True)
        print("Goodbye.", file=stdout)
        return 0


def _default_user(bot: PolicyBot) -> str:
    """The first person in the staff directory who has a line manager: a member of staff, for the demo."""
    people = bot.directory.people
    person = next((p for p in people if p.line_manager), people[0] if people else None)
    return person.email if person else "you@localhost"
