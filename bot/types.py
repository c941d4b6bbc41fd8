"""The core's vocabulary: what adapters hand in, and what the core hands back for them to render."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Intent(str, Enum):
    ANSWER = "answer"
    FALLBACK = "fallback"
    REPORT_MISTAKE = "report_mistake"
    REQUEST_ACCOUNT = "request_account"
    REPORT_BULLYING = "report_bullying"
    HELP = "help"
    GREETING = "greeting"


FLOW_INTENTS = frozenset({Intent.REPORT_MISTAKE, Intent.REQUEST_ACCOUNT, Intent.REPORT_BULLYING})


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: typed a message, or pressed a choice (action: an opaque choice value)."""

    platform: str
    conversation: str
    user: str
    text: str = ""
    action: str | None = None


@dataclass(frozen=True)
class Choice:
    label: str
    value: str  # opaque: never user text


@dataclass(frozen=True)
class Quote:
    citation: str  # "7.5", or "doc-id:7.5" outside the primary document
    document: str
    section: str  # "Section 7: Personal use of social media"
    text: str


@dataclass(frozen=True)
class Reply:
    lead: str
    quotes: tuple[Quote, ...] = ()
    next_step: str = ""
    choices: tuple[Choice, ...] = ()
    notes: tuple[str, ...] = ()
    also_label: str = ""  # heads the second quote; from the text catalog

    @property
    def text(self) -> str:
        """The whole reply as plain text: for terminals, notifications and screen readers."""
        parts = [*self.notes, self.lead] if self.notes else [self.lead]
        for i, quote in enumerate(self.quotes):
            header = f"{quote.citation} ({quote.document}, {quote.section})"
            if i == 1:
                header = f"{self.also_label} {header}"
            body = "\n".join(f"> {line}" if line else ">" for line in quote.text.splitlines())
            parts.append(f"{header}\n{body}")
        if self.next_step:
            parts.append(self.next_step)
        return "\n\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Understanding:
    intent: Intent
    clauses: tuple[str, ...] = ()  # citation ids, best first
    confidence: float = 0.0
    ranked: tuple[str, ...] = ()  # the search's ranking (citation ids), for evaluation
    truncated: bool = False
    corrections: tuple[tuple[str, str], ...] = ()
    small_talk: str = ""  # "greeting", "thanks", "help" or "empty" for those intents


@dataclass(frozen=True)
class Outcome:
    understanding: Understanding
    replies: tuple[Reply, ...] = ()
    notifications: tuple = field(default=())

    @property
    def text(self) -> str:
        return "\n\n".join(reply.text for reply in self.replies)
