"""The knowledge base as plain, immutable data: documents, sections, clauses, flows, texts."""
from __future__ import annotations

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


@dataclass(frozen=True)
class Flow:
    id: str
    title: str
    clause: str
    offer: str
    recognise: FlowTrigger
    definition: Mapping[str, object] = field(default_factory=dict)


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
    def __init__(self, documents, lexicon: Lexicon, flows: Mapping[str, Flow], texts: Texts):
        self.documents: tuple[Document, ...] = tuple(documents)
        self.lexicon = lexicon
        self.flows = MappingProxyType(dict(flows))
        self.texts = texts
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
