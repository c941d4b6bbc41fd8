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
    expects: str = ""  # a choice value: the text the person types next is sent with it (an adapter may show a form)

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

    def to_dict(self) -> dict:
        return {
            "lead": self.lead, "next_step": self.next_step, "notes": list(self.notes), "also_label": self.also_label,
            "expects": self.expects, "choices": [[c.label, c.value] for c in self.choices],
            "quotes": [[q.citation, q.document, q.section, q.text] for q in self.quotes],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Reply":
        return cls(
            str(data.get("lead", "")), tuple(Quote(*map(str, q)) for q in data.get("quotes", [])),
            str(data.get("next_step", "")), tuple(Choice(str(a), str(b)) for a, b in data.get("choices", [])),
            tuple(map(str, data.get("notes", []))), str(data.get("also_label", "")), str(data.get("expects", "")),
        )


@dataclass(frozen=True)
class Understanding:
    intent: Intent
    clauses: tuple[str, ...] = ()  # citation ids, best first (for a "menu": the flow ids offered)
    confidence: float = 0.0
    ranked: tuple[str, ...] = ()  # the search's ranking (citation ids), for evaluation
    truncated: bool = False
    corrections: tuple[tuple[str, str], ...] = ()
    small_talk: str = ""  # "greeting", "thanks", "help", "empty" or "menu" (of flows) for those intents


@dataclass(frozen=True)
class Outcome:
    understanding: Understanding
    replies: tuple[Reply, ...] = ()
    notifications: tuple = field(default=())

    @property
    def text(self) -> str:
        return "\n\n".join(reply.text for reply in self.replies)


@dataclass(frozen=True)
class Address:
    """Who a notification goes to: a person (by email), a team (by id), or a chat user where they talked to us."""

    kind: str  # "person", "team" or "user"
    id: str
    platform: str = ""  # for "user"
    conversation: str = ""  # for "user": where they talked to the bot

    @property
    def key(self) -> str:
        return f"user:{self.platform}:{self.id}" if self.kind == "user" else f"{self.kind}:{self.id.lower()}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "id": self.id, "platform": self.platform, "conversation": self.conversation}

    @classmethod
    def from_dict(cls, data: dict) -> "Address":
        return cls(str(data["kind"]), str(data["id"]), str(data.get("platform", "")), str(data.get("conversation", "")))


@dataclass(frozen=True)
class Notification:
    """A message leaving the outbox: rendered by the adapter that delivers it.

    kind: "case", "reminder", "raised", "outcome" or "undeliverable" for other people; "reply" for the replies
    to what someone said (in `replies`, where they said it); "update" for a new version of an earlier
    notification (its receipt in `replaces`: the adapter edits that message, for example to remove its buttons).
    Every text here may contain what a user typed: adapters escape all of it for their markup."""

    id: int
    case_ref: str
    recipient: Address
    recipient_name: str
    kind: str
    title: str = ""
    lead: str = ""
    alert: str = ""  # shown prominently (a possible personal data breach)
    fields: tuple[tuple[str, str], ...] = ()
    actions: tuple[Choice, ...] = ()
    status: str = ""  # what has happened to the case since (who acted, when)
    replies: tuple[Reply, ...] = ()
    replaces: str = ""  # for an update: the receipt of the message it replaces

    @property
    def text(self) -> str:
        if self.replies:
            return "\n\n".join(reply.text for reply in self.replies)
        parts = [self.title]
        if self.alert:
            parts.append(f"!! {self.alert}")
        parts.append(self.lead)
        if self.fields:
            parts.append("\n".join(f"{label}: {value}" for label, value in self.fields))
        parts.append(self.status)
        return "\n\n".join(p for p in parts if p)

    def payload(self) -> dict:
        data = {
            "recipient_name": self.recipient_name, "kind": self.kind, "title": self.title, "lead": self.lead,
            "alert": self.alert, "fields": [list(f) for f in self.fields],
            "actions": [[c.label, c.value] for c in self.actions],
        }
        if self.status:
            data["status"] = self.status
        if self.replies:
            data["replies"] = [r.to_dict() for r in self.replies]
        return data

    @classmethod
    def from_payload(cls, nid: int, case_ref: str, recipient: dict, payload: dict, replaces: str = "") -> "Notification":
        return cls(
            nid, case_ref, Address.from_dict(recipient), str(payload.get("recipient_name", "")),
            str(payload.get("kind", "")), str(payload.get("title", "")), str(payload.get("lead", "")),
            str(payload.get("alert", "")), tuple((str(a), str(b)) for a, b in payload.get("fields", [])),
            tuple(Choice(str(a), str(b)) for a, b in payload.get("actions", [])), str(payload.get("status", "")),
            tuple(Reply.from_dict(r) for r in payload.get("replies", [])), replaces,
        )
