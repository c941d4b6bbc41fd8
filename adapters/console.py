"""The terminal chat: lines in, the core's replies out as plain text. No configuration, no network."""
from __future__ import annotations

import getpass
import sys
from typing import TextIO

from bot.core import PolicyBot
from bot.types import Choice, Incoming, Reply

QUIT = frozenset({"quit", "exit", "/quit", "/exit", "bye"})
PROMPT = "you> "


def render(reply: Reply) -> str:
    lines = [reply.text]
    for number, choice in enumerate(reply.choices, 1):
        lines.append(f"  [{number}] {choice.label}")
    return "\n".join(lines)


class ConsoleChat:
    def __init__(self, bot: PolicyBot, user: str | None = None):
        self.bot = bot
        self.user = user or _login_name()
        self.choices: tuple[Choice, ...] = ()

    def incoming(self, line: str) -> Incoming:
        """A typed number picks one of the choices last shown; anything else is a message."""
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            return Incoming("console", "console", self.user, text, self.choices[int(text) - 1].value)
        return Incoming("console", "console", self.user, line)

    def turn(self, line: str) -> str:
        outcome = self.bot.handle(self.incoming(line))
        self.choices = tuple(c for reply in outcome.replies for c in reply.choices)
        return "\n\n".join(render(reply) for reply in outcome.replies)

    def run(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
        stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
        interactive = stdin.isatty()
        title = self.bot.kb.primary.title
        print(f"policybot: ask me about the {title}. Type \"help\" for ideas, \"quit\" to leave.", file=stdout)
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


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "you"
