"""The one entry point into the core: an Incoming goes in, an Outcome (replies for this conversation) comes out.

Notifications for other people are not returned: they are written to the outbox with the case, in one
transaction, and a delivery worker (bot.delivery) hands them to the adapter that reaches those people.
"""
from __future__ import annotations

import json
import re
import time
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Callable

from bot.answers import FLOW_CHOICE_PREFIX, Answers
from bot.cases import ACTION_PREFIX as CASE_PREFIX
from bot.cases import REASON_MAX, Cases, CaseSettings, Overview, parse_action
from bot.dialogs import ACTION_PREFIX as DIALOG_PREFIX
from bot.dialogs import DialogEngine, DialogState, StaleDialog, Turn, reason_state
from bot.directory import Directory
from bot.storage import NewNotification, SqlStore
from bot.types import FLOW_INTENTS, Address, Incoming, Intent, Notification, Outcome, Reply, Understanding
from bot.understanding import Understander
from knowledge.model import Flow, KnowledgeBase

CASE_QUERY = re.compile(r"^(?:show\s+|status\s+(?:of\s+)?)?(?:case\s+)?#?([a-z]{2,5})-(\d{1,6})\s*\??$", re.I)
QUESTION_KINDS = (Intent.ANSWER, Intent.FALLBACK)


def clean_text(text: str) -> str:
    """Drop control and format characters (keeping line breaks) and surrounding space."""
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    ).strip()


@dataclass(frozen=True)
class Settings:
    dialog_expiry: float = 24 * 3600  # seconds a half-finished dialog is kept
    welcome_back_after: float = 10 * 60  # a pause after which a returning person is reminded where they were
    cases: CaseSettings = field(default_factory=CaseSettings)


def dialog_key(incoming: Incoming) -> str:
    return f"{incoming.platform}:{incoming.conversation}:{incoming.user}"


class PolicyBot:
    def __init__(
        self,
        kb: KnowledgeBase,
        store: SqlStore | None = None,
        directory: Directory | None = None,
        *,
        clock: Callable[[], float] = time.time,
        settings: Settings = Settings(),
    ):
        self.kb = kb
        self.store = store or _memory_store()
        self.directory = directory or Directory([], [])
        self.clock = clock
        self.settings = settings
        self.understander = Understander(kb)
        self.answers = Answers(kb)
        self.cases = Cases(kb, self.store, self.directory, settings.cases)
        self.dialogs = DialogEngine(kb, self.cases.recipients_text)
        self.t = kb.texts

    def receive(self, incoming: Incoming, *, event_id: str = "", forms: bool = False) -> Outcome | None:
        """Handle one incoming message once, durably: for chat platforms that deliver events again.

        The event's id, every change it makes and its replies (queued for delivery where the person wrote)
        commit in one transaction, so a crash loses nothing and a redelivered event changes nothing.
        None if an event with this id was handled before. forms: the platform shows a form for a reply that
        expects text, so such replies are returned but not queued (queue_replies them if the form fails)."""
        now = self.clock()
        with self.store.transaction():
            if event_id and not self.store.first_time(event_id, now):
                return None
            outcome = self.handle(incoming)
            self.queue_replies(incoming, [r for r in outcome.replies if not (forms and r.expects)])
        return outcome

    def queue_replies(self, incoming: Incoming, replies: list[Reply]) -> None:
        """Queue replies for delivery in the conversation the person wrote in."""
        if replies:
            to = Address("user", incoming.user, incoming.platform, incoming.conversation)
            reply = Notification(0, "", to, "", "reply", replies=tuple(replies))
            self.store.enqueue("", [NewNotification(to.to_dict(), reply.payload())], self.clock())

    def overview(self, platform: str, user: str) -> Overview:
        return self.cases.overview(platform, user)

    def understand(self, text: str) -> Understanding:
        return self.understander.understand(clean_text(text))

    def handle(self, incoming: Incoming) -> Outcome:
        now = self.clock()
        text = clean_text(incoming.text)
        if incoming.action and incoming.action.startswith(CASE_PREFIX):
            return self._outcome(Intent.HELP, self._case_action(incoming, text, now))
        key = dialog_key(incoming)
        notes: list[str] = []
        stored = self.store.load_dialog(key)
        if stored is not None:
            data = _parse(stored[0])
            kind = data.get("kind")
            if stored[1] < now - self.settings.dialog_expiry:
                self.store.delete_dialog(key)
                flow = self.kb.flows.get(str(data.get("flow")))
                if kind == "flow" and flow is not None:
                    notes.append(self.t("dialog_expired", flow_noun=flow.noun,
                                        duration=_duration(self.settings.dialog_expiry)))
            elif kind == "flow":
                return self._in_flow(data, stored[1], incoming, text, key, now)
            elif kind == "reason" and not (incoming.action or "").startswith(DIALOG_PREFIX):
                return self._outcome(Intent.HELP, self._reason(incoming, text, data, key, now))
            elif kind == "sent" and (incoming.action or "").startswith(DIALOG_PREFIX):
                return self._outcome(Intent.HELP, [Reply(self.t("dialog_already_sent", reference=data.get("reference", "")))])
            else:
                self.store.delete_dialog(key)
                if kind not in ("sent", "reason"):
                    notes.append(self.t("dialog_lost"))
        if (incoming.action or "").startswith(DIALOG_PREFIX):
            return self._outcome(Intent.HELP, [Reply(self.t("dialog_closed"))], notes)
        return self._fresh(incoming, text, key, now, notes)

    # -- no dialog going on ----------------------------------------------------------------------------------
    def _fresh(self, incoming: Incoming, text: str, key: str, now: float, notes: list[str]) -> Outcome:
        query = CASE_QUERY.match(text) if not incoming.action else None
        if query:
            ref = f"{query.group(1).upper()}-{int(query.group(2)):04d}"
            return self._outcome(Intent.HELP, [self.cases.view(incoming, ref)], notes)
        understanding = self._understand_action(incoming.action) if incoming.action else self.understand(text)
        if understanding.intent in FLOW_INTENTS:
            flow = self.kb.flows[understanding.intent.value]
            turn = self.dialogs.start(flow, self.cases.facts(incoming), now)
            self._save(key, turn, now)
            clause = self.kb.clause(flow.clause)
            intro = replace(turn.replies[0], quotes=(self.answers.quote(clause),), also_label=self.t("also_relevant"))
            return Outcome(understanding, _with_notes([intro, *turn.replies[1:]], notes))
        if understanding.small_talk == "menu":  # several flows answer to the name chosen ("report")
            menu = self.answers.menu(self.kb.flows[f] for f in understanding.clauses)
            return Outcome(understanding, _with_notes([menu], notes))
        return Outcome(understanding, _with_notes([self.answers.reply(understanding)], notes))

    def _understand_action(self, action: str) -> Understanding:
        if action.startswith(FLOW_CHOICE_PREFIX):
            flows = self.answers.flows_named(action[len(FLOW_CHOICE_PREFIX):])
            if len(flows) == 1:
                return self.understander.chosen_flow(flows[0].id)
            if flows:
                return Understanding(Intent.HELP, tuple(f.id for f in flows), confidence=1.0, small_talk="menu")
        return Understanding(Intent.HELP, confidence=1.0, small_talk="help")

    # -- inside a guided flow ----------------------------------------------------------------------------------
    def _in_flow(self, data: dict, updated: float, incoming: Incoming, text: str, key: str, now: float) -> Outcome:
        try:
            state = DialogState.from_dict(data, self.kb)
        except StaleDialog as stale:
            self.store.delete_dialog(key)
            if stale.flow is None:
                return self._fresh(incoming, text, key, now, [self.t("dialog_lost")])
            turn = self.dialogs.start(stale.flow, self.cases.facts(incoming), now)
            self._save(key, turn, now)
            notes = [self.t("dialog_upgraded", flow_noun=stale.flow.noun)]
            return self._outcome(Intent(stale.flow.id), turn.replies, notes)
        flow = self.kb.flows[state.flow]
        notes = []
        if updated < now - self.settings.welcome_back_after:
            notes.append(self.t("dialog_welcome_back", flow_noun=flow.noun))
        turn = self._flow_turn(flow, state, incoming, text)
        if turn.submit:
            reply = self.cases.submit(flow, state, incoming, now, key)
            return self._outcome(Intent(flow.id), [reply], notes)
        self._save(key, turn, now)
        return self._outcome(Intent(flow.id), turn.replies, notes)

    def _flow_turn(self, flow: Flow, state: DialogState, incoming: Incoming, text: str) -> Turn:
        if incoming.action:
            if incoming.action.startswith(DIALOG_PREFIX):
                return self.dialogs.answer(state, action=incoming.action)
            return self._aside(state, [Reply(self.t("dialog_busy", flow_noun=flow.noun))])
        command = self.dialogs.command(text)
        if command:
            return self.dialogs.control(state, command)
        if not text or self.dialogs.matches_choice(state, text):
            return self.dialogs.answer(state, text)
        understanding = self.understand(text)
        if understanding.small_talk in ("greeting", "thanks", "help"):
            return self._aside(state, [Reply(self.t("dialog_commands", flow_noun=flow.noun))])
        if self._asks_a_question(state, flow, text):
            if understanding.intent in FLOW_INTENTS:
                return self._aside(state, [Reply(self.t("dialog_busy", flow_noun=flow.noun))])
            if understanding.intent in QUESTION_KINDS:
                return self._aside(state, [self.answers.reply(understanding)])
        return self.dialogs.answer(state, text)

    def _asks_a_question(self, state: DialogState, flow: Flow, text: str) -> bool:
        """A question about the policy rather than an answer: free-text answers must end with '?' to count."""
        if text.rstrip().endswith("?"):
            return True
        step = flow.step(state.step)
        free = step is not None and step.kind != "choice"
        return not free and len(text.split()) > 2 and self.understander.starts_with_question(text)

    def _aside(self, state: DialogState, replies: list[Reply]) -> Turn:
        """Say something, then ask the current question again: the dialog carries on where it was."""
        flow = self.kb.flows[state.flow]
        back = self.dialogs.prompt(state, (self.t("dialog_back_to", flow_noun=flow.noun),))
        return Turn(state, [*replies, back])

    def _save(self, key: str, turn: Turn, now: float) -> None:
        if turn.state is None:
            self.store.delete_dialog(key)
        else:
            self.store.save_dialog(key, turn.state.to_json(), now)

    # -- acting on a case ----------------------------------------------------------------------------------------
    def _case_action(self, incoming: Incoming, text: str, now: float) -> list[Reply]:
        parsed = parse_action(incoming.action or "")
        if parsed is None or parsed[1] not in self.kb.actions:
            return [Reply(self.t("dialog_closed"))]
        ref, action = parsed
        if self.kb.actions[action].reason and not text:
            record, refusal = self.cases.check_action(incoming, ref, action)
            if refusal is not None:
                return [refusal]
            self.store.save_dialog(dialog_key(incoming), reason_state(ref, action), now)
            return [self.cases.reason_prompt(record, action)]
        if len(text) > REASON_MAX:
            return [self._reason_too_long(text)]
        waiting = self.store.load_dialog(dialog_key(incoming))
        if waiting is not None and _parse(waiting[0]).get("kind") == "reason":  # answered in a form instead of typed
            self.store.delete_dialog(dialog_key(incoming))
        return [self.cases.act(incoming, ref, action, text, now)]

    def _reason(self, incoming: Incoming, text: str, data: dict, key: str, now: float) -> list[Reply]:
        ref, action = str(data.get("ref", "")), str(data.get("action", ""))
        if self.dialogs.command(text) == "cancel":
            self.store.delete_dialog(key)
            return [Reply(self.t("case_reason_cancelled", reference=ref))]
        if not text:
            return [Reply(self.t("dialog_empty"))]
        if len(text) > REASON_MAX:
            return [self._reason_too_long(text)]
        self.store.delete_dialog(key)
        if action not in self.kb.actions:
            return [Reply(self.t("dialog_lost"))]
        return [self.cases.act(incoming, ref, action, text, now)]

    def _reason_too_long(self, text: str) -> Reply:
        return Reply(self.t("dialog_too_long", length=f"{len(text):,}", limit=f"{REASON_MAX:,}"))

    def _outcome(self, intent: Intent, replies: list[Reply], notes: list[str] = ()) -> Outcome:
        return Outcome(Understanding(intent, confidence=1.0), _with_notes(replies, notes))


def _with_notes(replies: list[Reply], notes) -> tuple[Reply, ...]:
    return (*(Reply(n) for n in notes), *replies)


def _parse(raw: str) -> dict:
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _duration(seconds: float) -> str:
    hours = seconds / 3600
    if hours >= 1:
        return f"{hours:g} hour{'s' if hours != 1 else ''}"
    return f"{seconds / 60:g} minutes"


def _memory_store() -> SqlStore:
    store = SqlStore.sqlite(":memory:")
    store.migrate()
    return store
