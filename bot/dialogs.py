"""The guided-dialog engine: generic over the flows declared in knowledge/data/flows.yaml.

A dialog's state is plain JSON (stored between turns, so a dialog survives a restart). The engine
asks each applicable step in order, validates answers, and handles back, start again, change an
answer and the final confirmation; cancelling, expiry and questions asked mid-flow are handled by
the bot around it. State that no longer fits its flow (after an upgrade) raises StaleDialog.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from bot.directory import is_email
from bot.types import Choice, Reply
from knowledge.model import Condition, Flow, KnowledgeBase, Step

STATE_VERSION = 1
ACTION_PREFIX = "dlg:"
CONFIRM, CHANGE = "_confirm", "_change"
OTHER_MAX = 100
DESCRIPTION_MAX = 300
NAME_MAX = 80
URL_LIKE = re.compile(r"(://|^www\.|^[\w-]+(\.[\w-]+)+/\S*$)", re.I)
PEOPLE_SPLIT = re.compile(r"\s*(?:,|;|\n|\band\b|&|\+)\s*", re.I)
NUMBER_LIST = re.compile(r"^\d+(\s*(,|and|&|\s)\s*\d+)*$")


class StaleDialog(Exception):
    """Stored state that no longer matches its flow, or cannot be read at all."""

    def __init__(self, flow: Flow | None):
        self.flow = flow


@dataclass
class DialogState:
    flow: str
    fingerprint: str
    step: str
    answers: dict[str, dict] = field(default_factory=dict)  # step id -> {"v": value or [values], "t": shown text}
    asked: list[str] = field(default_factory=list)  # answered steps in order, for "back"
    facts: dict[str, str] = field(default_factory=dict)
    started: float = 0.0

    def to_json(self) -> str:
        return json.dumps({"v": STATE_VERSION, "kind": "flow", **self.__dict__}, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict, kb: KnowledgeBase) -> "DialogState":
        flow = kb.flows.get(str(data.get("flow")))
        try:
            if flow is None or data.get("v") != STATE_VERSION or data.get("fingerprint") != flow.fingerprint:
                raise ValueError("flow changed")
            state = cls(str(data["flow"]), str(data["fingerprint"]), str(data["step"]), dict(data["answers"]),
                        list(data["asked"]), dict(data["facts"]), float(data["started"]))
            if state.step not in (CONFIRM, CHANGE) and flow.step(state.step) is None:
                raise ValueError("unknown step")
            if any(flow.step(s) is None for s in state.answers) or any(flow.step(s) is None for s in state.asked):
                raise ValueError("unknown answer")
            return state
        except (KeyError, TypeError, ValueError) as exc:
            raise StaleDialog(flow) from exc


def sent_state(flow_id: str, ref: str) -> str:
    """What a dialog leaves behind once sent: a second press of "Send" is told the reference, not sent again."""
    return json.dumps({"v": STATE_VERSION, "kind": "sent", "flow": flow_id, "reference": ref})


def reason_state(ref: str, action: str) -> str:
    """A recipient asked for the reason for an action (declining): their next message is it."""
    return json.dumps({"v": STATE_VERSION, "kind": "reason", "ref": ref, "action": action})


@dataclass
class Turn:
    state: DialogState | None  # None: the dialog ended
    replies: list[Reply]
    submit: bool = False


class DialogEngine:
    def __init__(self, kb: KnowledgeBase, recipients: Callable[[Flow, DialogState], str] = lambda flow, state: ""):
        self.kb = kb
        self.recipients = recipients
        self.t = kb.texts
        self.commands = {name: {_norm(w) for w in words} for name, words in kb.commands.items()}

    # -- starting and asking --------------------------------------------------------------------------
    def start(self, flow: Flow, facts: dict[str, str], now: float) -> Turn:
        state = DialogState(flow.id, flow.fingerprint, "", facts=dict(facts), started=now)
        state.step = self._next_step(flow, state)
        return Turn(state, [Reply(flow.intro), self.prompt(state)])

    def prompt(self, state: DialogState, notes: tuple[str, ...] = ()) -> Reply:
        flow = self.kb.flows[state.flow]
        if state.step == CONFIRM:
            return self._confirm_prompt(flow, state, notes)
        if state.step == CHANGE:
            choices = tuple(
                Choice(step.label, f"{ACTION_PREFIX}{CHANGE}:{step.id}") for step, _ in answered(flow, state.answers)
            )
            return Reply(self.t("dialog_change_which"), choices=choices, notes=notes,
                         next_step=self.t("dialog_choice_hint"))
        step = flow.step(state.step)
        choices = tuple(Choice(o.label, f"{ACTION_PREFIX}{step.id}:{o.value}") for o in step.choices)
        return Reply(step.ask, choices=choices, notes=notes, next_step=self.t("dialog_choice_hint") if choices else "")

    def _confirm_prompt(self, flow: Flow, state: DialogState, notes: tuple[str, ...]) -> Reply:
        lines = [f"- {step.label}: {answer['t']}" for step, answer in answered(flow, state.answers)]
        lead = "\n".join([self.t("dialog_confirm", recipients=self.recipients(flow, state)), *lines, "", self.t("dialog_confirm_question")])
        choices = tuple(
            Choice(self.t(key), f"{ACTION_PREFIX}{CONFIRM}:{value}")
            for key, value in (("dialog_send", "send"), ("dialog_change", "change"), ("dialog_cancel", "cancel"))
        )
        return Reply(lead, choices=choices, notes=notes, next_step=self.t("dialog_choice_hint"))

    def _next_step(self, flow: Flow, state: DialogState) -> str:
        for step in flow.steps:
            if not applies(step.when, state):
                state.answers.pop(step.id, None)  # an answer that no longer applies after a change
                if step.id in state.asked:
                    state.asked.remove(step.id)
        for step in flow.steps:
            if step.id not in state.answers and applies(step.when, state):
                return step.id
        return CONFIRM

    # -- a turn ----------------------------------------------------------------------------------------
    def command(self, text: str) -> str | None:
        """"cancel", "back" or "restart" when the text is one of those commands."""
        norm = _norm(text)
        return next((name for name in ("cancel", "back", "restart") if norm in self.commands[name]), None)

    def control(self, state: DialogState, name: str) -> Turn:
        flow = self.kb.flows[state.flow]
        if name == "cancel":
            return Turn(None, [Reply(self.t("dialog_cancelled"))])
        if name == "restart":
            fresh = DialogState(flow.id, flow.fingerprint, "", facts=state.facts, started=state.started)
            fresh.step = self._next_step(flow, fresh)
            return Turn(fresh, [Reply(self.t("dialog_restarted")), self.prompt(fresh)])
        return self._back(flow, state)

    def _back(self, flow: Flow, state: DialogState) -> Turn:
        if state.step == CHANGE:
            state.step = CONFIRM
            return Turn(state, [self.prompt(state)])
        if not state.asked:
            return Turn(state, [self.prompt(state, (self.t("dialog_first_step"),))])
        previous = state.asked.pop()
        state.answers.pop(previous, None)
        state.step = previous
        return Turn(state, [self.prompt(state)])

    def matches_choice(self, state: DialogState, text: str) -> bool:
        step = self.kb.flows[state.flow].step(state.step)
        return step is not None and step.kind == "choice" and bool(_match_options(step, text, strict=True))

    def answer(self, state: DialogState, text: str = "", action: str | None = None) -> Turn:
        """Take a typed answer or a pressed button for the current step."""
        flow = self.kb.flows[state.flow]
        if action is not None:
            where, _, value = action[len(ACTION_PREFIX):].partition(":")
            if where != state.step:
                return Turn(state, [self.prompt(state, (self.t("dialog_stale_button"),))])
            return self._take(flow, state, value, pressed=True)
        return self._take(flow, state, text, pressed=False)

    def _take(self, flow: Flow, state: DialogState, text: str, pressed: bool) -> Turn:
        if state.step == CONFIRM:
            return self._confirm(flow, state, text, pressed)
        if state.step == CHANGE:
            return self._choose_change(flow, state, text, pressed)
        step = flow.step(state.step)
        result = self._validate(step, text, pressed)
        if isinstance(result, str):
            return Turn(state, [self.prompt(state, (result,))])
        if isinstance(result, Reply):
            return Turn(state, [result, self.prompt(state)])
        state.answers[step.id] = result
        if step.id not in state.asked:
            state.asked.append(step.id)
        state.step = self._next_step(flow, state)  # after a change from the summary, that is the summary again
        return Turn(state, [self.prompt(state)])

    def _confirm(self, flow: Flow, state: DialogState, text: str, pressed: bool) -> Turn:
        norm = _norm(text)
        if norm == "send" or (not pressed and norm in self.commands["send"]):
            return Turn(state, [], submit=True)
        if norm == "cancel":
            return self.control(state, "cancel")
        if norm == "change" or norm == "no" or (not pressed and norm in self.commands["change"]):
            state.step = CHANGE
            return Turn(state, [self.prompt(state)])
        return Turn(state, [self.prompt(state, (self.t("dialog_not_a_choice"),))])

    def _choose_change(self, flow: Flow, state: DialogState, text: str, pressed: bool) -> Turn:
        ids = [step.id for step, _ in answered(flow, state.answers)]
        chosen = text if pressed and text in ids else None
        if chosen is None and not pressed:
            norm = _norm(text)
            if norm.isdigit() and 1 <= int(norm) <= len(ids):
                chosen = ids[int(norm) - 1]
            else:
                chosen = next((s for s in ids if norm in (_norm(flow.step(s).label), s)), None)
        if chosen is None:
            return Turn(state, [self.prompt(state, (self.t("dialog_not_a_choice"),))])
        state.answers.pop(chosen)
        state.step = chosen
        return Turn(state, [self.prompt(state)])

    # -- validation: an answer {"v", "t"}, a re-prompt note (str), or a reply before asking again --------
    def _validate(self, step: Step, text: str, pressed: bool):
        text = text.strip()
        if not text:
            return self.t("dialog_empty")
        if len(text) > step.max and step.kind != "choice":
            return self.t("dialog_too_long", length=f"{len(text):,}", limit=f"{step.max:,}")
        if step.optional and _norm(text) in self.commands["skip"]:
            return {"v": "", "t": self.t("dialog_skipped")}
        return getattr(self, f"_check_{step.kind}")(step, text, pressed)

    def _check_choice(self, step: Step, text: str, pressed: bool):
        options = [step.option(text)] if pressed and step.option(text) else _match_options(step, text, strict=False)
        if pressed and not options:
            return self.t("dialog_stale_button")
        if len(options) == 1 or (step.multiple and options):
            chosen = options if step.multiple else options[:1]
            if len(chosen) == 1 and chosen[0].reply:
                return Reply(chosen[0].reply)
            values = [o.value for o in chosen]
            return {"v": values if step.multiple else values[0], "t": ", ".join(o.label for o in chosen)}
        if step.other and not options and len(text) <= OTHER_MAX and not text.endswith("?"):
            return {"v": ["other"] if step.multiple else "other", "t": text}
        if len(text) > OTHER_MAX:
            return self.t("dialog_too_long", length=f"{len(text):,}", limit=f"{OTHER_MAX:,}")
        return self.t("dialog_not_a_choice")

    def _check_text(self, step: Step, text: str, pressed: bool):
        if len(re.sub(r"\W", "", text)) < 2:
            return self.t("dialog_too_short")
        return {"v": text, "t": text}

    def _check_link(self, step: Step, text: str, pressed: bool):
        if URL_LIKE.search(text) and " " not in text:
            url = text if "://" in text else f"https://{text}"
            try:
                parts = urlsplit(url)
                host = parts.hostname or ""
            except ValueError:
                parts, host = None, ""
            if parts and parts.scheme in ("http", "https") and "." in host.strip("."):
                return {"v": url, "t": url}
            return self.t("dialog_bad_link")
        if step.or_text:
            if len(text) > DESCRIPTION_MAX:
                return self.t("dialog_too_long", length=f"{len(text):,}", limit=f"{DESCRIPTION_MAX:,}")
            return self._check_text(step, text, pressed)
        return self.t("dialog_bad_link") if "://" in text or "www" in text.lower() else self.t("dialog_need_link")

    def _check_email(self, step: Step, text: str, pressed: bool):
        text = text.strip("<>").strip()
        if text.lower().startswith("mailto:"):
            text = text[7:]
        return {"v": text.lower(), "t": text.lower()} if is_email(text) else self.t("dialog_bad_email")

    def _check_people(self, step: Step, text: str, pressed: bool):
        names = list(dict.fromkeys(n.strip(" .") for n in PEOPLE_SPLIT.split(text) if re.search(r"[^\W\d_]{2}", n)))
        if len(names) < step.min or any(len(n) > NAME_MAX for n in names):
            return self.t("dialog_need_people", min=step.min)
        return {"v": names, "t": ", ".join(names)}


def answered(flow: Flow, answers: dict[str, dict]) -> list[tuple[Step, dict]]:
    """The steps answered so far with their answers, in the flow's order."""
    return [(step, answers[step.id]) for step in flow.steps if step.id in answers]


def applies(condition: Condition, state: DialogState) -> bool:
    """Whether a step, recipient or closing line's `when` holds for these answers and facts."""
    for key, accepted in condition.items():
        if key in state.facts:
            value = [state.facts[key]]
        else:
            answer = state.answers.get(key, {}).get("v")
            value = answer if isinstance(answer, list) else [answer]
        if not set(map(str, value)) & set(accepted):
            return False
    return True


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s'/]", " ", text.lower().replace("’", "'")).split())


def _match_options(step: Step, text: str, strict: bool):
    """The options a typed answer names: by number, value, label or any of their words (the longest wins)."""
    norm = _norm(text)
    if NUMBER_LIST.match(norm):
        numbers = [int(n) for n in re.findall(r"\d+", norm)]
        if all(1 <= n <= len(step.choices) for n in numbers) and (step.multiple or len(numbers) == 1):
            return [step.choices[n - 1] for n in dict.fromkeys(numbers)]
        return []
    forms = [(o, _norm(f)) for o in step.choices for f in (o.value, o.label, *o.also)]
    exact = list(dict.fromkeys(o for o, f in forms if f == norm))
    if exact or strict:
        return exact
    padded = f" {norm} "
    found = [(o, len(f)) for o, f in forms if f and f" {f} " in padded]
    if step.multiple:
        return list(dict.fromkeys(o for o, _ in found))
    if not found:
        return []
    longest = max(n for _, n in found)
    best = list(dict.fromkeys(o for o, n in found if n == longest))
    return best if len(best) == 1 else []
