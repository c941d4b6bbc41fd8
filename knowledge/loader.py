"""Read the knowledge base from its YAML files, checking everything on the way.

Every problem is reported with its file and line; `load` refuses a knowledge base with errors,
`check` returns the problems (errors and warnings) for `policybot kb check`.
"""
from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

from knowledge import flowspec
from knowledge.model import (
    AUDIENCES,
    Clause,
    Concept,
    Contact,
    Document,
    Flow,
    FlowTrigger,
    KnowledgeBase,
    Lexicon,
    NextStep,
    Section,
    Texts,
)
from knowledge.yamlsrc import LDict, LList, Problem, YamlError, load_yaml

DEFAULT_DIR = Path(__file__).parent / "data"
MANIFEST = "knowledge.yaml"

DOC_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SECTION_NO = re.compile(r"^\d+$")
CLAUSE_NO = re.compile(r"^\d+\.\d+$")
CLAUSE_REF = re.compile(r"^(?:(?P<doc>[a-z0-9][a-z0-9-]*):)?(?P<clause>\d+\.\d+)$")

DOCUMENT_REQUIRED = ("id", "title", "organisation", "owner", "effective", "review", "contact", "feedback_email")
CLAUSE_FIELDS = {"id", "text", "summary", "topics", "applies_to", "asks", "see_also", "next_step"}

# Each catalog entry and the placeholders the bot fills in for it.
TEXT_PLACEHOLDERS: dict[str, set[str]] = {
    "greeting": {"policy_title"},
    "thanks": set(),
    "help": {"policy_title", "flow_list"},
    "empty": {"policy_title"},
    "too_long": {"limit"},
    "fallback": {"policy_title", "contact_name", "contact_email"},
    "section_label": {"section_number", "section_title"},
    "also_relevant": set(),
    "next_step": {"text"},
    "flow_offer": {"offer", "example"},
    "flow_menu": set(),
    "chat_moved_to_dm": set(),
    "chat_choose": set(),
    "chat_chosen": {"label"},
    "chat_form_title": {"action", "reference"},
    "chat_form_submit": set(),
    "chat_form_cancel": set(),
    "chat_reason_label": set(),
    "chat_form_too_long": {"limit"},
    "chat_form_expired": set(),
    "chat_unavailable": set(),
    "home_intro": {"policy_title"},
    "home_mine": set(),
    "home_none_mine": set(),
    "home_waiting": set(),
    "home_none_waiting": set(),
    "home_case_line": {"reference", "title", "status", "sent_at"},
    "home_waiting_line": {"reference", "title", "status", "sent_at", "reporter"},
    "review_overdue": {"review"},
    "dialog_back_to": {"flow_noun"},
    "dialog_choice_hint": set(),
    "dialog_commands": {"flow_noun"},
    "dialog_cancelled": set(),
    "dialog_restarted": set(),
    "dialog_first_step": set(),
    "dialog_empty": set(),
    "dialog_too_long": {"length", "limit"},
    "dialog_too_short": set(),
    "dialog_not_a_choice": set(),
    "dialog_bad_link": set(),
    "dialog_need_link": set(),
    "dialog_bad_email": set(),
    "dialog_need_people": {"min"},
    "dialog_skipped": set(),
    "dialog_confirm": {"recipients"},
    "dialog_confirm_question": set(),
    "dialog_send": set(),
    "dialog_change": set(),
    "dialog_cancel": set(),
    "dialog_change_which": set(),
    "dialog_stale_button": set(),
    "dialog_closed": set(),
    "dialog_already_sent": {"reference"},
    "dialog_expired": {"flow_noun", "duration"},
    "dialog_upgraded": {"flow_noun"},
    "dialog_lost": set(),
    "dialog_welcome_back": {"flow_noun"},
    "dialog_busy": {"flow_noun"},
    "case_title": {"flow_title", "reference"},
    "case_lead": {"reporter", "at", "role"},
    "case_role_line_manager": set(),
    "case_role_team": {"team_name"},
    "case_your_line_manager": {"name"},
    "case_breach": {"aware", "deadline"},
    "case_reporter_unknown": {"user"},
    "case_reminder_title": {"reference"},
    "case_reminder_lead": {"minutes"},
    "case_raised_title": {"team_name", "reference"},
    "case_raised_lead": {"minutes", "recipients"},
    "case_outcome_title": {"reference"},
    "case_outcome": {"actor", "verb", "flow_noun", "reference"},
    "case_outcome_reason": {"reason"},
    "case_acted": {"verb", "reference", "reporter"},
    "case_already": {"reference", "verb", "actor", "at"},
    "case_not_allowed": {"reference"},
    "case_not_found": {"reference"},
    "case_reason_ask": {"reference", "reporter"},
    "case_reason_cancelled": {"reference"},
    "case_undeliverable_title": {"name", "reference"},
    "case_undeliverable": {"reference", "name", "error"},
    "case_done_by": {"actor", "verb", "at"},
    "case_status": {"reference", "flow_title", "status"},
    "case_history_line": {"at", "actor", "action", "detail"},
    "case_list_and": set(),
}
TEXT_TABLES = {"flow_examples"}
SMALLTALK_KINDS = ("help", "thanks", "greeting")  # in order of precedence
FRAMING_KINDS = ("request", "question", "openers")


class KnowledgeBaseError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("the knowledge base has errors:\n" + "\n".join(map(str, problems)))


def read(directory: Path | str = DEFAULT_DIR) -> tuple[KnowledgeBase | None, list[Problem]]:
    """The knowledge base (None if it has errors) and every problem found, errors and warnings."""
    kb, problems = _read(Path(directory))
    if any(p.severity == "error" for p in problems):
        kb = None
    return kb, problems


def load(directory: Path | str = DEFAULT_DIR) -> KnowledgeBase:
    kb, problems = read(directory)
    if kb is None:
        raise KnowledgeBaseError([p for p in problems if p.severity == "error"])
    return kb


def check(directory: Path | str = DEFAULT_DIR) -> list[Problem]:
    return read(directory)[1]


class _Checker:
    """Collects problems while reading; `need` and friends return a value or a safe default."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.file = ""

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def warn(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message, "warning"))

    def mapping(self, value: Any, line: int, what: str) -> LDict | None:
        if isinstance(value, LDict):
            return value
        self.error(line, f"{what} must be a mapping")
        return None

    def mappings(self, data: LDict, key: str, what: str):
        """The mappings listed under `key`; each item that is not a mapping is reported and left out."""
        for item in data.get(key) or []:
            entry = self.mapping(item, data.line_of(key), what)
            if entry is not None:
                yield entry

    def text(self, data: LDict, key: str, what: str, required: bool = True) -> str:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(data.line_of(key), f"{what}: missing {key!r}")
            return ""
        if not isinstance(value, (str, int, float)):
            self.error(data.line_of(key), f"{what}: {key!r} must be text")
            return ""
        return str(value)

    def strings(self, data: LDict, key: str, what: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.error(data.line_of(key), f"{what}: {key!r} must be a list of non-empty texts")
            return ()
        return tuple(value)


def _read(directory: Path) -> tuple[KnowledgeBase | None, list[Problem]]:
    chk = _Checker()
    manifest = _load_file(chk, directory / MANIFEST)
    if manifest is None:
        return None, chk.problems
    manifest = chk.mapping(manifest, 1, "the manifest")
    if manifest is None:
        return None, chk.problems
    files = manifest.get("documents")
    if not isinstance(files, list) or not files:
        chk.error(manifest.line_of("documents"), "'documents' must list at least one document file")
        return None, chk.problems

    documents: list[Document] = []
    # References are checked once everything is read: (file, line, document id, reference).
    pending_refs: list[tuple[str, int, str, str]] = []
    flow_refs: list[tuple[str, int, str]] = []  # (file, line, flow id) from clauses' next steps
    for i, name in enumerate(files):
        chk.file = str(directory / MANIFEST)
        path = directory / str(name)
        if not path.is_file():
            chk.error(files.line_of(i), f"document file {name!r} does not exist")
            continue
        doc = _read_document(chk, path, pending_refs, flow_refs)
        if doc is None:
            continue
        if any(d.id == doc.id for d in documents):
            chk.file = str(path)
            chk.error(1, f"duplicate document id {doc.id!r}")
            continue
        documents.append(doc)

    lexicon = _read_lexicon(chk, directory / str(manifest.get("lexicon", "lexicon.yaml")))
    primary_id = documents[0].id if documents else ""
    flows, actions, commands = _read_flows(
        chk, directory / str(manifest.get("flows", "flows.yaml")), primary_id, pending_refs
    )
    texts = _read_texts(chk, directory / str(manifest.get("texts", "texts.yaml")), flows)

    if not documents:
        return None, chk.problems
    clause_keys = {c.key for d in documents for c in d.clauses}
    for file, line, doc_id, ref in pending_refs:
        m = CLAUSE_REF.match(ref)
        chk.file = file
        if not m:
            chk.error(line, f"{ref!r} is not a clause reference (like 7.5 or social-media:7.5)")
        elif f"{m['doc'] or doc_id}:{m['clause']}" not in clause_keys:
            chk.error(line, f"reference to clause {ref!r}, which does not exist")
    for file, line, flow_id in flow_refs:
        if flow_id not in flows:
            chk.file = file
            chk.error(line, f"next_step flow {flow_id!r} does not exist")
    if lexicon is None or texts is None:
        return None, chk.problems
    return KnowledgeBase(documents, lexicon, flows, texts, actions, commands), chk.problems


def _load_file(chk: _Checker, path: Path) -> Any:
    chk.file = str(path)
    if not path.is_file():
        chk.error(0, "file does not exist")
        return None
    try:
        return load_yaml(path)
    except YamlError as exc:
        chk.problems.append(exc.problem)
        return None


def _read_document(chk: _Checker, path: Path, refs: list, flow_refs: list) -> Document | None:
    data = _load_file(chk, path)
    if data is None:
        return None
    data = chk.mapping(data, 1, "a document file")
    if data is None:
        return None
    meta = chk.mapping(data.get("document"), data.line_of("document"), "'document'")
    if meta is None:
        return None
    for key in DOCUMENT_REQUIRED:
        if key not in meta:
            chk.error(meta.line, f"document: missing {key!r}")
    doc_id = chk.text(meta, "id", "document")
    if doc_id and not DOC_ID.match(doc_id):
        chk.error(meta.line_of("id"), f"document id {doc_id!r}: use lower-case letters, digits and '-'")
    contact_data = chk.mapping(meta.get("contact", LDict()), meta.line_of("contact"), "document: 'contact'")
    contact = Contact("", "")
    if contact_data is not None:
        contact = Contact(
            chk.text(contact_data, "name", "contact"),
            chk.text(contact_data, "email", "contact"),
            chk.text(contact_data, "clause", "contact", required=False),
        )
        if contact.clause:
            refs.append((str(path), contact_data.line_of("clause"), doc_id, contact.clause))
    for i, ref in enumerate(meta.get("external_law_referenced_in", []) or []):
        refs.append((str(path), meta["external_law_referenced_in"].line_of(i), doc_id, str(ref)))

    sections: list[Section] = []
    clauses: list[Clause] = []
    raw_sections = data.get("sections")
    if not isinstance(raw_sections, LList) or not raw_sections:
        chk.error(data.line_of("sections"), "'sections' must be a non-empty list")
        raw_sections = LList()
    seen_sections: set[str] = set()
    seen_clauses: dict[str, int] = {}
    for raw in raw_sections:
        sec_data = chk.mapping(raw, raw_sections.line, "a section")
        if sec_data is None:
            continue
        number = chk.text(sec_data, "number", "section")
        if number and not SECTION_NO.match(number):
            chk.error(sec_data.line_of("number"), f"section number {number!r} must be a whole number")
        if number in seen_sections:
            chk.error(sec_data.line_of("number"), f"duplicate section {number!r}")
        seen_sections.add(number)
        section = Section(doc_id, number, chk.text(sec_data, "title", f"section {number}"))
        sections.append(section)
        raw_clauses = sec_data.get("clauses")
        if not isinstance(raw_clauses, LList):
            chk.error(sec_data.line_of("clauses"), f"section {number}: 'clauses' must be a list")
            continue
        for raw_clause in raw_clauses:
            clause = _read_clause(chk, raw_clause, raw_clauses.line, section, refs, flow_refs, str(path))
            if clause is None:
                continue
            if clause.id in seen_clauses:
                chk.error(raw_clause.line_of("id"), f"duplicate clause id {clause.id!r} (first at line {seen_clauses[clause.id]})")
                continue
            seen_clauses[clause.id] = raw_clause.line_of("id")
            clauses.append(clause)
    related = meta.get("related_documents", [])
    return Document(
        id=doc_id,
        title=chk.text(meta, "title", "document"),
        organisation=chk.text(meta, "organisation", "document"),
        owner=chk.text(meta, "owner", "document"),
        effective=chk.text(meta, "effective", "document"),
        review=chk.text(meta, "review", "document"),
        contact=contact,
        feedback_email=chk.text(meta, "feedback_email", "document"),
        related_documents=tuple(map(str, related if isinstance(related, list) else [])),
        facts=dict(meta),
        sections=tuple(sections),
        clauses=tuple(clauses),
    )


def _read_clause(
    chk: _Checker, raw: Any, line: int, section: Section, refs: list, flow_refs: list, file: str
) -> Clause | None:
    data = chk.mapping(raw, line, "a clause")
    if data is None:
        return None
    cid = chk.text(data, "id", f"a clause in section {section.number}")
    if not cid:
        return None
    what = f"clause {cid}"
    if not CLAUSE_NO.match(cid):
        chk.error(data.line_of("id"), f"clause id {cid!r} must look like 7.5")
    elif cid.split(".")[0] != section.number:
        chk.error(data.line_of("id"), f"{what} is filed under section {section.number}")
    for key in data:
        if key not in CLAUSE_FIELDS:
            chk.warn(data.line_of(key), f"{what}: unknown field {key!r} (ignored)")
    audiences = chk.strings(data, "applies_to", what)
    for audience in audiences:
        if audience not in AUDIENCES:
            chk.error(data.line_of("applies_to"), f"{what}: applies_to {audience!r} is not one of {', '.join(AUDIENCES)}")
    see_also = chk.strings(data, "see_also", what)
    for ref in see_also:
        refs.append((file, data.line_of("see_also"), section.document_id, ref))
    next_step = None
    if "next_step" in data:
        step = chk.mapping(data["next_step"], data.line_of("next_step"), f"{what}: next_step")
        if step is not None:
            next_step = NextStep(text=str(step.get("text", "") or ""), flow=str(step.get("flow", "") or ""))
            if bool(next_step.text) == bool(next_step.flow):
                chk.error(step.line, f"{what}: next_step needs exactly one of 'text' or 'flow'")
            elif next_step.flow:
                flow_refs.append((file, step.line_of("flow"), next_step.flow))
    return Clause(
        document_id=section.document_id,
        id=cid,
        section=section,
        text=chk.text(data, "text", what),
        summary=chk.text(data, "summary", what),
        topics=chk.strings(data, "topics", what),
        applies_to=audiences,
        asks=chk.strings(data, "asks", what),
        see_also=tuple(r if ":" in r else f"{section.document_id}:{r}" for r in see_also),
        next_step=next_step,
    )


def _read_lexicon(chk: _Checker, path: Path) -> Lexicon | None:
    data = _load_file(chk, path)
    if data is None or chk.mapping(data, 1, "the lexicon") is None:
        return None
    raw = data.get("concepts")
    if not isinstance(raw, LDict):
        chk.error(data.line_of("concepts"), "'concepts' must be a mapping")
        return None
    concepts: dict[str, Concept] = {}
    owner_of_form: dict[str, str] = {}
    for cid, body in raw.items():
        body = chk.mapping(body, raw.line_of(cid), f"concept {cid!r}")
        if body is None:
            continue
        forms = chk.strings(body, "forms", f"concept {cid!r}")
        if not forms:
            chk.error(raw.line_of(cid), f"concept {cid!r} has no forms")
        for form in forms:
            key = form.lower()
            if key in owner_of_form and owner_of_form[key] != cid:
                chk.warn(body.line_of("forms"), f"form {form!r} is in both {owner_of_form[key]!r} and {cid!r}; the first wins")
            owner_of_form.setdefault(key, cid)
        concepts[cid] = Concept(cid, forms, chk.strings(body, "broader", f"concept {cid!r}"), bool(body.get("anchor", False)))
    for cid, concept in concepts.items():
        for parent in concept.broader:
            if parent not in concepts:
                chk.error(raw[cid].line_of("broader"), f"concept {cid!r}: broader concept {parent!r} does not exist")
    stop = data.get("stopwords", "")
    noise = data.get("noise", [])
    if not isinstance(stop, str):
        chk.error(data.line_of("stopwords"), "'stopwords' must be one text of words separated by spaces")
        return None
    noise = chk.strings(data, "noise", "the lexicon")
    groups = {}
    for key, kinds in (("smalltalk", SMALLTALK_KINDS), ("framing", FRAMING_KINDS)):
        table = chk.mapping(data.get(key, LDict()), data.line_of(key), f"the lexicon: {key!r}") or LDict()
        for kind in kinds:
            if kind not in table:
                chk.error(table.line, f"the lexicon: {key!r} needs {kind!r}")
        groups[key] = {kind: tuple(p.lower() for p in chk.strings(table, kind, key)) for kind in kinds}
    fillers = data.get("smalltalk_fillers", "")
    if not isinstance(fillers, str):
        chk.error(data.line_of("smalltalk_fillers"), "'smalltalk_fillers' must be one text of words separated by spaces")
        fillers = ""
    return Lexicon(
        concepts,
        frozenset(stop.lower().split()),
        tuple(n.lower() for n in noise),
        groups["smalltalk"],
        frozenset(fillers.lower().split()),
        groups["framing"],
    )


def _read_flows(chk: _Checker, path: Path, primary_id: str, refs: list) -> tuple[dict[str, Flow], dict, dict]:
    """Flows (clause references qualified by document: "8.2" means the primary document's), actions, commands."""
    data = _load_file(chk, path)
    if data is None or chk.mapping(data, 1, "the flows file") is None:
        return {}, {}, {}
    raw = data.get("flows")
    if not isinstance(raw, LDict):
        chk.error(data.line_of("flows"), "'flows' must be a mapping")
        return {}, {}, {}
    actions = flowspec.read_actions(chk, data)
    commands = flowspec.read_commands(chk, data)
    prefixes: set[str] = set()
    flows: dict[str, Flow] = {}
    for fid, body in raw.items():
        body = chk.mapping(body, raw.line_of(fid), f"flow {fid!r}")
        if body is None:
            continue
        what = f"flow {fid!r}"
        clause = chk.text(body, "clause", what)
        if clause:
            refs.append((str(path), body.line_of("clause"), primary_id, clause))
            if ":" not in clause:
                clause = f"{primary_id}:{clause}"
        rec = chk.mapping(body.get("recognise", LDict()), body.line_of("recognise"), f"{what}: recognise") or LDict()
        about = rec.get("about", [])
        if not isinstance(about, list) or not all(isinstance(g, list) and g for g in about):
            chk.error(rec.line_of("about"), f"{what}: 'about' must be a list of non-empty lists")
            about = []
        trigger = FlowTrigger(chk.strings(rec, "actions", what), tuple(tuple(map(str, g)) for g in about))
        if not trigger.actions:
            chk.error(rec.line, f"{what}: recognise needs 'actions'")
        steps = flowspec.read_steps(chk, body, what)
        flows[fid] = Flow(
            fid, chk.text(body, "title", what), clause, chk.text(body, "offer", what), trigger,
            chk.text(body, "intro", what), steps, flowspec.read_case(chk, body, what, steps, actions, prefixes),
            chk.text(body, "noun", what),
        )
    return flows, actions, commands


def _read_texts(chk: _Checker, path: Path, flows: dict[str, Flow]) -> Texts | None:
    data = _load_file(chk, path)
    if data is None or chk.mapping(data, 1, "the text catalog") is None:
        return None
    ok = True
    for key, allowed in TEXT_PLACEHOLDERS.items():
        if key not in data:
            chk.error(1, f"missing text {key!r}")
            ok = False
            continue
        used = {name for _, name, _, _ in string.Formatter().parse(str(data[key])) if name}
        for name in sorted(used - allowed):
            chk.error(data.line_of(key), f"text {key!r} uses unknown placeholder {{{name}}}")
            ok = False
    for key in TEXT_TABLES:
        if not isinstance(data.get(key), dict):
            chk.error(data.line_of(key), f"{key!r} must be a mapping")
            ok = False
    examples = data.get("flow_examples") or {}
    for fid in flows:
        if fid not in examples:
            chk.error(data.line_of("flow_examples"), f"flow_examples has no example for flow {fid!r}")
            ok = False
    for key in data:
        if key not in TEXT_PLACEHOLDERS and key not in TEXT_TABLES:
            chk.warn(data.line_of(key), f"text {key!r} is not used by the bot")
    return Texts(data) if ok else None
