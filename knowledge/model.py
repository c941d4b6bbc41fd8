"""The knowledge base as plain, immutable data: documents, sections, clauses, flows, texts."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

AUDIENCES = ("employees", "elected_members", "third_parties")


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    clause: str = ""


@dataclass(frozen=True)
class Section:
    document_id: str
    number: str
    title: str


@dataclass(frozen=True)
class NextStep:
    text: str = ""
    flow: str = ""


@dataclass(frozen=True)
class Clause:
    document_id: str
    id: str
    section: Section
    text: str
    summary: str
    topics: tuple[str, ...] = ()
    applies_to: tuple[str, ...] = ()
    asks: tuple[str, ...] = ()
    see_also: tuple[str, ...] = ()
    next_step: NextStep | None = None

    @property
    def key(self) -> str:
        return f"{self.document_id}:{self.id}"


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    organisation: str
    owner: str
    effective: str
    review: str
    contact: Contact
    feedback_email: str
    related_documents: tuple[str, ...]
    facts: Mapping[str, object]
    sections: tuple[Section, ...]
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class FlowTrigger:
    actions: tuple[str, ...]
    about: tuple[tuple[str, ...], ...]


Condition = Mapping[str, tuple[str, ...]]  # {step id or fact: accepted values}; all must hold


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    also: tuple[str, ...] = ()
    flag: str = ""
    reply: str = ""


@dataclass(frozen=True)
class Step:
    id: str
    label: str
    ask: str
    kind: str  # choice, text, link, email, people
    choices: tuple[Option, ...] = ()
    other: bool = False
    multiple: bool = False
    max: int = 500
    min: int = 0
    or_text: bool = False
    optional: bool = False
    when: Condition = field(default_factory=dict)

    def option(self, value: str) -> Option | None:
        return next((o for o in self.choices if o.value == value), None)


@dataclass(frozen=True)
class Notify:
    to: str  # "line_manager" or "team:<id>"
    when: Condition = field(default_factory=dict)


@dataclass(frozen=True)
class DoneLine:
    text: str
    when: Condition = field(default_factory=dict)


@dataclass(frozen=True)
class CaseSpec:
    prefix: str
    notify: tuple[Notify, ...]
    actions: tuple[str, ...]
    raise_to: str
    done: tuple[DoneLine, ...]
    confidential: bool = False


@dataclass(frozen=True)
class CaseAction:
    id: str
    label: str
    verb: str
    from_statuses: tuple[str, ...]
    to: str
    reason: bool = False


@dataclass(frozen=True)
class Flow:
    id: str
    title: str
    clause: str
    offer: str
    recognise: FlowTrigger
    intro: str = ""
    steps: tuple[Step, ...] = ()
    case: CaseSpec | None = None
    noun: str = ""  # "report of a mistaken post": how the bot refers to one

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def fingerprint(self) -> str:
        """Changes when the questions change in a way that makes a half-finished dialog meaningless."""
        shape = [(s.id, s.kind, s.multiple, tuple(o.value for o in s.choices)) for s in self.steps]
        return hashlib.sha256(repr(shape).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Concept:
    id: str
    forms: tuple[str, ...]
    broader: tuple[str, ...] = ()
    anchor: bool = False


@dataclass(frozen=True)
class Lexicon:
    concepts: Mapping[str, Concept]
    stopwords: frozenset[str]
    noise: tuple[str, ...]
    smalltalk: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    smalltalk_fillers: frozenset[str] = frozenset()
    framing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class Texts:
    """The text catalog: every sentence the bot says apart from clause text."""

    def __init__(self, entries: Mapping[str, object]):
        self._entries = MappingProxyType(dict(entries))

    def __call__(self, key: str, **values: object) -> str:
        return str(self._entries[key]).format(**values)

    def table(self, key: str) -> Mapping[str, str]:
        return MappingProxyType(dict(self._entries[key]))  # type: ignore[arg-type]


class KnowledgeBase:
    def __init__(
        self,
        documents,
        lexicon: Lexicon,
        flows: Mapping[str, Flow],
        texts: Texts,
        actions: Mapping[str, CaseAction] | None = None,
        commands: Mapping[str, tuple[str, ...]] | None = None,
    ):
        self.documents: tuple[Document, ...] = tuple(documents)
        self.lexicon = lexicon
        self.flows = MappingProxyType(dict(flows))
        self.texts = texts
        self.actions = MappingProxyType(dict(actions or {}))
        self.commands = MappingProxyType(dict(commands or {}))
        self._clauses = {c.key: c for d in self.documents for c in d.clauses}

    @property
    def primary(self) -> Document:
        return self.documents[0]

    @property
    def clauses(self) -> tuple[Clause, ...]:
        return tuple(self._clauses.values())

    def clause(self, ref: str, document_id: str | None = None) -> Clause | None:
        """A clause by "7.5" (in document_id, default the primary document) or "doc-id:7.5"."""
        if ":" not in ref:
            ref = f"{document_id or self.primary.id}:{ref}"
        return self._clauses.get(ref)

    def document(self, document_id: str) -> Document:
        return next(d for d in self.documents if d.id == document_id)

    def citation_id(self, clause: Clause) -> str:
        return clause.id if clause.document_id == self.primary.id else clause.key
