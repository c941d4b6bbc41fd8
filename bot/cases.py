"""Cases: what a completed flow produces, who is told, who may act on it, and the reminders when nobody does."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.dialogs import DialogState, answered, applies, sent_state
from bot.directory import Directory, Person, Team
from bot.storage import CaseRecord, NewNotification, SqlStore
from bot.types import Address, Choice, Incoming, Notification, Reply
from knowledge.model import Flow, KnowledgeBase

ACTION_PREFIX = "case:"
BREACH_FLAG = "personal_data_breach"
ICO_HOURS = 72
REASON_MAX = 500
CASE_REF = re.compile(r"^[A-Z]{2,5}-\d{4,}$")


@dataclass(frozen=True)
class CaseSettings:
    reminder_after: float = 30 * 60  # seconds before an unanswered case is sent again; twice this, it is raised
    timezone: str = "Europe/London"


@dataclass(frozen=True)
class CaseSummary:
    ref: str
    title: str
    status: str
    sent_at: str
    reporter: str = ""  # for cases waiting for someone else to act
    actions: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Overview:
    name: str
    mine: tuple[CaseSummary, ...] = ()
    waiting: tuple[CaseSummary, ...] = ()


@dataclass(frozen=True)
class Recipient:
    address: Address
    name: str
    role: str  # how the notification explains why they receive it


def parse_action(value: str) -> tuple[str, str] | None:
    """("MIS-0007", "acknowledge") from a button value "case:MIS-0007:acknowledge"."""
    ref, _, action = value[len(ACTION_PREFIX):].partition(":")
    return (ref, action) if CASE_REF.match(ref) and action else None


class Cases:
    def __init__(self, kb: KnowledgeBase, store: SqlStore, directory: Directory, settings: CaseSettings):
        self.kb, self.store, self.directory, self.settings = kb, store, directory, settings
        self.t = kb.texts
        self.tz = ZoneInfo(settings.timezone)
        # statuses from which some action can still be taken: a case in one of them is open
        self.open_statuses = tuple(sorted({s for a in kb.actions.values() for s in a.from_statuses}))

    # -- who is who ---------------------------------------------------------------------------------------
    def reporter(self, incoming: Incoming) -> dict:
        """What the case keeps about the person reporting: enough to name them and to tell them of outcomes."""
        person = self.directory.for_user(incoming.platform, incoming.user)
        return {
            "platform": incoming.platform, "user": incoming.user, "conversation": incoming.conversation,
            "name": person.name if person else "", "email": person.email if person else "",
        }

    def facts(self, incoming: Incoming) -> dict[str, str]:
        """What a dialog needs to know about the person: whether we know their line manager, and who they are."""
        person = self.directory.for_user(incoming.platform, incoming.user)
        return {
            "line_manager": "known" if self.directory.line_manager(person) else "unknown",
            "reporter": person.email if person else "",
        }

    def recipients_text(self, flow: Flow, state: DialogState) -> str:
        """Who the finished dialog will go to, as the person reporting reads it."""
        return self.describe(self.recipients(flow, state, {"email": state.facts.get("reporter", "")}), to_reporter=True)

    def recipients(self, flow: Flow, state: DialogState, reporter: dict) -> list[Recipient]:
        found: list[Recipient] = []
        for rule in flow.case.notify:
            if not applies(rule.when, state):
                continue
            if rule.to == "line_manager":
                manager = self._line_manager(reporter, state)
                if manager is not None:
                    found.append(self._manager(manager))
                    continue
                team_id = flow.case.raise_to  # no line manager known at all: the team it would be raised to
            else:
                team_id = rule.to.split(":", 1)[1]
            team = self.directory.team(team_id)
            if team is not None and all(r.address.key != f"team:{team_id}" for r in found):
                found.append(self._team(team))
        return found

    def _line_manager(self, reporter: dict, state: DialogState) -> Person | None:
        person = self.directory.person(reporter["email"]) if reporter.get("email") else None
        manager = self.directory.line_manager(person)
        if manager is None and "manager_email" in state.answers and state.answers["manager_email"]["v"]:
            email = state.answers["manager_email"]["v"]
            manager = self.directory.person(email) or Person(email, email)
        return manager

    def describe(self, recipients: list[Recipient], to_reporter: bool = False) -> str:
        """"Sam Patel (your line manager) and the Marketing Communications team"."""
        names = [
            (self.t("case_your_line_manager", name=r.name) if to_reporter else f"{r.name} ({r.role})")
            if r.address.kind == "person" else self.t("case_role_team", team_name=r.name)
            for r in recipients
        ]
        if len(names) < 2:
            return "".join(names)
        return ", ".join(names[:-1]) + self.t("case_list_and") + names[-1]

    # -- submitting -----------------------------------------------------------------------------------------
    def submit(self, flow: Flow, state: DialogState, incoming: Incoming, now: float, dialog_key: str) -> Reply:
        reporter = self.reporter(incoming)
        recipients = self.recipients(flow, state, reporter)
        flags = sorted({o.flag for s in flow.steps for o in s.choices
                        if o.flag and _chosen(state.answers.get(s.id, {}).get("v"), o.value)})
        fields = _fields(flow, state.answers)

        def notifications(ref: str) -> list[NewNotification]:
            alert = self._breach_alert(now) if BREACH_FLAG in flags else ""
            lead_for = lambda r: self.t("case_lead", reporter=self._reporter_name(reporter), at=self.when(now), role=r.role)
            return [
                self._new(ref, r, "case", self.t("case_title", flow_title=flow.title, reference=ref), lead_for(r), alert,
                          fields, self._buttons(flow, ref))
                for r in recipients
            ]

        ref = self.store.create_case(
            prefix=flow.case.prefix, flow=flow.id, reporter=reporter, answers=dict(state.answers), flags=flags,
            confidential=flow.case.confidential, recipients=[r.address.key for r in recipients],
            notifications=notifications, now=now, dialog=(dialog_key, lambda ref: sent_state(flow.id, ref)),
        )
        lines = [d.text for d in flow.case.done if applies(d.when, state)]
        text = "\n\n".join(lines).format(reference=ref, recipients=self.describe(recipients, to_reporter=True))
        return Reply(text)

    def _breach_alert(self, now: float) -> str:
        return self.t("case_breach", aware=self.when(now), deadline=self.when(now + ICO_HOURS * 3600))

    def _buttons(self, flow: Flow, ref: str, status: str | None = None) -> tuple[Choice, ...]:
        """The flow's actions as buttons; given a status, only those that can still be taken from it."""
        return tuple(Choice(self.kb.actions[a].label, f"{ACTION_PREFIX}{ref}:{a}") for a in flow.case.actions
                     if status is None or status in self.kb.actions[a].from_statuses)

    def _new(self, ref, recipient: Recipient, kind, title, lead, alert="", fields=(), actions=()) -> NewNotification:
        note = Notification(0, ref, recipient.address, recipient.name, kind, title, lead, alert, tuple(fields), tuple(actions))
        return NewNotification(recipient.address.to_dict(), note.payload())

    # -- acting ---------------------------------------------------------------------------------------------
    def check_action(self, incoming: Incoming, ref: str, action_id: str) -> tuple[CaseRecord | None, Reply | None]:
        """The case if this person may take this action now; otherwise the reply that says why not."""
        record = self.store.case(ref)
        actor = self.directory.for_user(incoming.platform, incoming.user)
        if record is None:
            return None, Reply(self.t("case_not_found", reference=ref))
        flow = self.kb.flows.get(record.flow)
        if flow is None or action_id not in flow.case.actions or actor is None or not self.may_act(record, actor):
            return None, Reply(self.t("case_not_allowed", reference=ref))
        if record.status not in self.kb.actions[action_id].from_statuses:
            return None, self._already(record, action_id)
        return record, None

    def may_act(self, record: CaseRecord, person: Person) -> bool:
        return not set(record.recipients).isdisjoint(self._addresses(person))

    def _addresses(self, person: Person) -> list[str]:
        """Every recipient address that reaches this person: their own, and their teams'."""
        return [f"person:{person.email.lower()}"] + [
            f"team:{t.id}" for t in self.directory.teams if self.directory.is_member(t.id, person.email)]

    def act(self, incoming: Incoming, ref: str, action_id: str, reason: str, now: float) -> Reply:
        record, refusal = self.check_action(incoming, ref, action_id)
        if refusal is not None:
            return refusal
        action = self.kb.actions[action_id]
        flow = self.kb.flows[record.flow]
        actor = self.directory.for_user(incoming.platform, incoming.user)

        def tell_reporter(case: CaseRecord) -> list[NewNotification]:
            lead = self.t("case_outcome", actor=actor.name, verb=action.verb, flow_noun=flow.noun, reference=ref)
            if reason:
                lead += "\n" + self.t("case_outcome_reason", reason=reason)
            told = self._new(ref, _reporter(case.reporter), "outcome", self.t("case_outcome_title", reference=ref), lead)
            return [told, *self._updates(ref)]

        done, record = self.store.act(
            ref, action=action_id, from_statuses=action.from_statuses, to_status=action.to,
            actor={"name": actor.name, "email": actor.email}, detail=reason, now=now, notifications=tell_reporter,
        )
        if not done:
            return self._already(record, action_id)
        return Reply(self.t("case_acted", verb=action.verb, reference=ref, reporter=self._reporter_name(record.reporter)))

    def _already(self, record: CaseRecord, action_id: str) -> Reply:
        by = next((e for e in reversed(record.events)
                   if e.action in self.kb.actions and self.kb.actions[e.action].to == record.status), None)
        verb = self.kb.actions[by.action].verb if by else record.status
        return Reply(self.t("case_already", reference=record.ref, verb=verb,
                            actor=by.actor.get("name", "someone") if by else "someone", at=self.when(by.at) if by else "-"))

    def reason_prompt(self, record: CaseRecord, action_id: str) -> Reply:
        return Reply(self.t("case_reason_ask", reference=record.ref, reporter=self._reporter_name(record.reporter)),
                     expects=f"{ACTION_PREFIX}{record.ref}:{action_id}")

    # -- keeping sent messages up to date ----------------------------------------------------------------------
    def _updates(self, ref: str) -> list[NewNotification]:
        """After an action: every message that offered buttons for this case is brought up to date."""
        return [
            NewNotification(d.recipient, {"kind": "update", "replaces_id": d.id})
            for d in self.store.deliveries(ref)
            if d.status in ("pending", "delivered") and d.payload.get("actions")
        ]

    def refreshed(self, original: Notification) -> Notification:
        """An earlier notification as it should read now: who did what, and only the buttons still of use."""
        record = self.store.case(original.case_ref)
        flow = self.kb.flows.get(record.flow) if record else None
        if record is None or flow is None:
            return original
        lines = []
        for e in record.events:
            if e.action in self.kb.actions:
                line = self.t("case_done_by", actor=e.actor.get("name", ""), verb=self.kb.actions[e.action].verb, at=self.when(e.at))
                lines.append(line + (" " + self.t("case_outcome_reason", reason=e.detail) if e.detail else ""))
        return replace(original, actions=self._buttons(flow, record.ref, record.status), status="\n".join(lines))

    # -- what a person has open -------------------------------------------------------------------------------
    def overview(self, platform: str, user: str) -> "Overview":
        """A person's own open cases, and the cases waiting for them to act (App Home, a status page)."""
        person = self.directory.for_user(platform, user)
        mine = self.store.cases_reported_by(user=f"user:{platform}:{user}", email=person.email if person else "",
                                            statuses=self.open_statuses)
        addresses = self._addresses(person) if person else []
        waiting = self.store.cases_sent_to(addresses, statuses=self.open_statuses)
        return Overview(
            person.name if person else "",
            tuple(self._summary(r, mine=True) for r in mine),
            tuple(self._summary(r, mine=False) for r in waiting),
        )

    def _summary(self, record: CaseRecord, mine: bool) -> "CaseSummary":
        flow = self.kb.flows.get(record.flow)
        title = flow.title if flow else record.flow
        actions = () if mine or flow is None else self._buttons(flow, record.ref, record.status)
        who = "" if mine else self._reporter_name(record.reporter)
        return CaseSummary(record.ref, title, record.status, self.when(record.created_at), who, actions)

    # -- reminders -------------------------------------------------------------------------------------------
    def send_reminders(self, now: float) -> int:
        """Send again what nobody has acted on; raise it to the team when that goes unanswered too."""
        sent = 0
        after = self.settings.reminder_after
        for stage in (0, 1):
            for record in self.store.waiting_cases(created_before=now - after * (stage + 1), stage=stage):
                flow = self.kb.flows.get(record.flow)
                if flow is None:
                    continue
                recipients, notes = self._reminder(flow, record, stage)
                sent += self.store.advance_reminder(record.ref, stage=stage, now=now, recipients=recipients,
                                                    notifications=notes, event="reminded" if stage == 0 else "raised")
        return sent

    def _reminder(self, flow: Flow, record: CaseRecord, stage: int) -> tuple[list[str], list[NewNotification]]:
        minutes = round(self.settings.reminder_after * (stage + 1) / 60)
        fields = _fields(flow, record.answers)
        alert = self._breach_alert(record.created_at) if BREACH_FLAG in record.flags else ""
        buttons = self._buttons(flow, record.ref)
        if stage == 0:
            title = self.t("case_reminder_title", reference=record.ref)
            lead = self.t("case_reminder_lead", minutes=minutes)
            targets = [self._recipient(a) for a in record.recipients]
            return [], [self._new(record.ref, r, "reminder", title, lead, alert, fields, buttons) for r in targets if r]
        team = self.directory.team(flow.case.raise_to)
        if team is None:
            return [], []
        target = self._team(team)
        others = self.describe([r for r in map(self._recipient, record.recipients) if r])
        title = self.t("case_raised_title", team_name=team.name, reference=record.ref)
        lead = self.t("case_raised_lead", minutes=minutes, recipients=others)
        return [target.address.key], [self._new(record.ref, target, "raised", title, lead, alert, fields, buttons)]

    def _team(self, team: Team) -> Recipient:
        return Recipient(Address("team", team.id), team.name, self.t("case_role_team", team_name=team.name))

    def _manager(self, person: Person) -> Recipient:
        return Recipient(Address("person", person.email), person.name, self.t("case_role_line_manager"))

    def _recipient(self, key: str) -> Recipient | None:
        kind, _, ident = key.partition(":")
        if kind == "team":
            team = self.directory.team(ident)
            return self._team(team) if team else None
        person = self.directory.person(ident)
        return self._manager(person or Person(ident, ident))

    # -- a notification that can never be delivered ----------------------------------------------------------
    def instead_of(self, case_ref: str, recipient: dict, payload: dict, error: str) -> tuple[list[str], list[NewNotification]]:
        """Where a notification goes when its recipient cannot be reached: the flow's team, and the reporter."""
        record = self.store.case(case_ref)
        if record is None or recipient.get("kind") != "person":
            return [], []
        flow = self.kb.flows.get(record.flow)
        team = self.directory.team(flow.case.raise_to) if flow else None
        if team is None:
            return [], []
        name = payload.get("recipient_name") or recipient["id"]
        target = self._team(team)
        note = self.t("case_undeliverable", reference=case_ref, name=name, error=error)
        fields = tuple(tuple(f) for f in payload.get("fields", []))
        title = self.t("case_undeliverable_title", name=name, reference=case_ref)
        return [target.address.key], [
            self._new(case_ref, target, "undeliverable", title, note, payload.get("alert", ""), fields, self._buttons(flow, case_ref)),
            self._new(case_ref, _reporter(record.reporter), "outcome", title, note),
        ]

    # -- looking at a case -------------------------------------------------------------------------------------
    def view(self, incoming: Incoming, ref: str) -> Reply:
        record = self.store.case(ref)
        person = self.directory.for_user(incoming.platform, incoming.user)
        reporter = record.reporter if record else {}
        own = bool(record) and (
            (reporter.get("platform"), reporter.get("user")) == (incoming.platform, incoming.user)
            or (person is not None and reporter.get("email", "").lower() == person.email.lower())
        )
        if record is None or not (own or (person is not None and self.may_act(record, person))):
            return Reply(self.t("case_not_found", reference=ref))
        flow = self.kb.flows.get(record.flow)
        lines = [self.t("case_status", reference=ref, flow_title=flow.title if flow else record.flow, status=record.status)]
        for e in record.events:
            detail = f": {e.detail}" if e.detail else ""
            lines.append(self.t("case_history_line", at=self.when(e.at), actor=e.actor.get("name") or e.actor.get("user", ""),
                                action=e.action, detail=detail))
        return Reply("\n".join(lines))

    # -- small helpers -----------------------------------------------------------------------------------------
    def when(self, timestamp: float) -> str:
        return datetime.fromtimestamp(timestamp, self.tz).strftime("%H:%M on %d %b %Y")

    def _reporter_name(self, reporter: dict) -> str:
        if reporter.get("name"):
            return f"{reporter['name']} ({reporter['email']})"
        return self.t("case_reporter_unknown", user=reporter.get("user", ""))


def _reporter(reporter: dict) -> Recipient:
    """The person who reported, where they talked to the bot."""
    address = Address("user", reporter["user"], reporter["platform"], reporter["conversation"])
    return Recipient(address, reporter.get("name") or reporter["user"], "")


def _fields(flow: Flow, answers: dict[str, dict]) -> tuple[tuple[str, str], ...]:
    return tuple((step.label, answer["t"]) for step, answer in answered(flow, answers))


def _chosen(answer, value: str) -> bool:
    return value in answer if isinstance(answer, list) else answer == value
