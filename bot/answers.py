"""Compose what the bot says from what it understood: plain answer first, then the clause, then a next step."""
from __future__ import annotations

from bot.types import Choice, Intent, Quote, Reply, Understanding
from bot.understanding import MAX_CHARS
from knowledge.model import Clause, KnowledgeBase

FLOW_CHOICE_PREFIX = "flow:"
# Words a person may type alone, or pick from a platform's command menu (Slack's /policy, Teams' manifest):
FLOW_COMMANDS = ("report", "request")  # offer the flows whose ids start with the word
OVERVIEW_COMMANDS = ("my cases", "cases", "my reports", "my requests")  # their open cases, and what waits for them


def _command_word(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .!?")


def flow_command(text: str) -> str | None:
    """The flow choice a typed command stands for ("report" -> "flow:report"), or None if it is not one."""
    word = _command_word(text)
    return f"{FLOW_CHOICE_PREFIX}{word}" if word in FLOW_COMMANDS else None


def asks_for_overview(text: str) -> bool:
    return _command_word(text) in OVERVIEW_COMMANDS


class Answers:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.t = kb.texts
        self.primary = kb.primary
        self._examples = self.t.table("flow_examples")

    def reply(self, understanding: Understanding) -> Reply:
        notes = (self.t("too_long", limit=MAX_CHARS),) if understanding.truncated else ()
        intent = understanding.intent
        if understanding.small_talk == "empty":
            return Reply(self.t("empty", policy_title=self.primary.title), notes=notes)
        if intent is Intent.HELP:
            return Reply(self.t("help", policy_title=self.primary.title, flow_list=self._flow_list()), notes=notes,
                         choices=self._offers(self.kb.flows.values()))
        if understanding.small_talk == "thanks":
            return Reply(self.t("thanks"), notes=notes)
        if intent is Intent.GREETING:
            return Reply(self.t("greeting", policy_title=self.primary.title), notes=notes)
        if intent is Intent.FALLBACK:
            contact = self.primary.contact
            return Reply(
                self.t("fallback", policy_title=self.primary.title, contact_name=contact.name, contact_email=contact.email),
                notes=notes,
            )
        clauses = [c for c in (self.kb.clause(ref) for ref in understanding.clauses) if c is not None]
        return self._answer(clauses, notes)

    def _answer(self, clauses: list[Clause], notes: tuple[str, ...]) -> Reply:
        first = clauses[0]
        next_step, choices = self._next_step(first)
        return Reply(
            first.summary,
            tuple(self.quote(c) for c in clauses),
            next_step,
            choices,
            notes,
            self.t("also_relevant"),
        )

    def _next_step(self, clause: Clause) -> tuple[str, tuple[Choice, ...]]:
        step = clause.next_step
        if step is None:
            return "", ()
        if step.text:
            return self.t("next_step", text=step.text), ()
        flow = self.kb.flows[step.flow]
        offer = self.t("flow_offer", offer=flow.offer, example=self._examples[flow.id])
        return self.t("next_step", text=offer), (Choice(flow.offer, FLOW_CHOICE_PREFIX + flow.id),)

    def flows_named(self, name: str) -> list:
        """The flows a short name picks: an id ("request_account") or its first word ("report", "request")."""
        if name in self.kb.flows:
            return [self.kb.flows[name]]
        return [flow for flow in self.kb.flows.values() if name and flow.id.startswith(f"{name}_")]

    def menu(self, flows) -> Reply:
        return Reply(self.t("flow_menu"), choices=self._offers(flows))

    def _offers(self, flows) -> tuple[Choice, ...]:
        return tuple(Choice(flow.title, FLOW_CHOICE_PREFIX + flow.id) for flow in flows)

    def quote(self, clause: Clause) -> Quote:
        document = self.kb.document(clause.document_id)
        section = self.t("section_label", section_number=clause.section.number, section_title=clause.section.title)
        return Quote(self.kb.citation_id(clause), document.title, section, clause.text)

    def _flow_list(self) -> str:
        return "\n".join(f'- {flow.title.lower()}: "{self._examples[flow.id]}"' for flow in self.kb.flows.values())
