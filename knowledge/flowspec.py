"""Read the guided flows' questions, case settings, case actions and commands from flows.yaml."""
from __future__ import annotations

import re
import string
from typing import Any

from knowledge.model import CaseAction, CaseSpec, Condition, DoneLine, Notify, Option, Step
from knowledge.yamlsrc import LDict

STEP_KINDS = ("choice", "text", "link", "email", "people")
STEP_FIELDS = {"id", "label", "ask", "kind", "choices", "other", "multiple", "max", "min", "or_text", "optional", "when"}
FACTS = {"line_manager": ("known", "unknown")}  # what `when` may test besides earlier answers
RESERVED_IDS = {*FACTS, "reporter"}  # names the dialog state keeps beside the answers
COMMANDS = ("cancel", "back", "restart", "skip", "send", "change")
DONE_PLACEHOLDERS = {"reference", "recipients"}
STEP_ID = re.compile(r"^[a-z][a-z0-9_]*$")
PREFIX = re.compile(r"^[A-Z]{2,5}$")
MAX_LIMIT = 4000  # a step may not accept more than the bot reads of a message


def read_steps(chk, body: LDict, what: str) -> tuple[Step, ...]:
    if body.get("steps") is None:
        chk.error(body.line, f"{what}: missing 'steps'")
        return ()
    raw = _non_empty_list(chk, body, "steps", what)
    steps: list[Step] = []
    for index, item in enumerate(raw):
        step = _read_step(chk, item, raw.line_of(index) if hasattr(raw, "line_of") else body.line, what, steps)
        if step is not None:
            steps.append(step)
    return tuple(steps)


def _read_step(chk, raw: Any, line: int, what: str, earlier: list[Step]) -> Step | None:
    data = chk.mapping(raw, line, f"{what}: a step")
    if data is None:
        return None
    sid = chk.text(data, "id", f"{what}: a step")
    where = f"{what}: step {sid!r}"
    if sid and not STEP_ID.match(sid):
        chk.error(data.line_of("id"), f"{where}: ids are lower-case letters, digits and _")
    if sid in RESERVED_IDS or any(s.id == sid for s in earlier):
        chk.error(data.line_of("id"), f"{where}: the id is already used")
    for key in data:
        if key not in STEP_FIELDS:
            chk.error(data.line_of(key), f"{where}: unknown field {key!r}")
    choices = _read_options(chk, data, where)
    kind = str(data.get("kind") or ("choice" if choices else "text"))
    if kind not in STEP_KINDS:
        chk.error(data.line_of("kind"), f"{where}: kind must be one of {', '.join(STEP_KINDS)}")
    if kind == "choice" and not choices:
        chk.error(data.line, f"{where}: a choice step needs 'choices'")
    if kind != "choice" and choices:
        chk.error(data.line_of("choices"), f"{where}: only choice steps have 'choices'")
    limit = _number(chk, data, "max", where, 500)
    if limit > MAX_LIMIT:
        chk.error(data.line_of("max"), f"{where}: 'max' can be at most {MAX_LIMIT}")
    return Step(
        id=sid,
        label=chk.text(data, "label", where),
        ask=chk.text(data, "ask", where),
        kind=kind,
        choices=choices,
        other=bool(data.get("other", False)),
        multiple=bool(data.get("multiple", False)),
        max=limit,
        min=_number(chk, data, "min", where, 2 if kind == "people" else 0),
        or_text=bool(data.get("or_text", False)),
        optional=bool(data.get("optional", False)),
        when=read_condition(chk, data, where, earlier),
    )


def _read_options(chk, data: LDict, where: str) -> tuple[Option, ...]:
    if data.get("choices") is None:
        return ()
    options: list[Option] = []
    for item in _non_empty_list(chk, data, "choices", where):
        opt = chk.mapping(item, data.line_of("choices"), f"{where}: a choice")
        if opt is None:
            continue
        value, label = chk.text(opt, "value", f"{where}: a choice"), chk.text(opt, "label", f"{where}: a choice")
        if any(o.value == value for o in options):
            chk.error(opt.line_of("value"), f"{where}: choice value {value!r} is used twice")
        also = opt.get("also", [])
        if not isinstance(also, list) or not all(isinstance(a, str) for a in also):
            chk.error(opt.line_of("also"), f"{where}: 'also' must be a list of texts (quote yes, no, y and n)")
            also = []
        options.append(
            Option(value, label, tuple(str(a) for a in also), str(opt.get("flag", "") or ""), str(opt.get("reply", "") or ""))
        )
    return tuple(options)


def _non_empty_list(chk, data: LDict, key: str, where: str) -> list:
    raw = data.get(key)
    if not isinstance(raw, list) or not raw:
        chk.error(data.line_of(key), f"{where}: {key!r} must be a non-empty list")
        return []
    return raw


def _number(chk, data: LDict, key: str, where: str, default: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        chk.error(data.line_of(key), f"{where}: {key!r} must be a whole number")
        return default
    return value


def read_condition(chk, data: LDict, where: str, earlier: list[Step]) -> Condition:
    raw = data.get("when")
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        chk.error(data.line_of("when"), f"{where}: 'when' must map a step id to a list of values")
        return {}
    condition: dict[str, tuple[str, ...]] = {}
    for key, values in raw.items():
        line = raw.line_of(key) if isinstance(raw, LDict) else data.line_of("when")
        if not isinstance(values, list) or not values:
            chk.error(line, f"{where}: 'when' {key!r} must list the values it accepts")
            continue
        values = tuple(str(v) for v in values)
        allowed = FACTS.get(key)
        if allowed is None:
            step = next((s for s in earlier if s.id == key), None)
            if step is None:
                chk.error(line, f"{where}: 'when' refers to {key!r}, which is not an earlier step")
                continue
            allowed = tuple(o.value for o in step.choices) if step.kind == "choice" and not step.other else None
        for v in values:
            if allowed is not None and v not in allowed:
                chk.error(line, f"{where}: 'when' {key!r} can never be {v!r}")
        condition[key] = values
    return condition


def read_case(chk, body: LDict, what: str, steps: tuple[Step, ...], actions: dict, prefixes: set) -> CaseSpec | None:
    data = chk.mapping(body.get("case"), body.line_of("case"), f"{what}: case")
    if data is None:
        return None
    where = f"{what}: case"
    prefix = chk.text(data, "prefix", where)
    if prefix and not PREFIX.match(prefix):
        chk.error(data.line_of("prefix"), f"{where}: prefix must be 2 to 5 capital letters")
    if prefix in prefixes:
        chk.error(data.line_of("prefix"), f"{where}: prefix {prefix!r} is used by another flow")
    prefixes.add(prefix)
    notify: list[Notify] = []
    for entry in chk.mappings(data, "notify", f"{where}: notify"):
        to = chk.text(entry, "to", f"{where}: notify")
        if to and to != "line_manager" and not to.startswith("team:"):
            chk.error(entry.line_of("to"), f"{where}: notify 'to' is line_manager or team:<id>")
        notify.append(Notify(to, read_condition(chk, entry, where, list(steps))))
    if not notify:
        chk.error(data.line_of("notify"), f"{where}: 'notify' must list at least one recipient")
    flow_actions = chk.strings(data, "actions", where)
    for action in flow_actions:
        if action not in actions:
            chk.error(data.line_of("actions"), f"{where}: unknown action {action!r}")
    done: list[DoneLine] = []
    for entry in chk.mappings(data, "done", f"{where}: done"):
        text = chk.text(entry, "text", f"{where}: done")
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        for name in sorted(used - DONE_PLACEHOLDERS):
            chk.error(entry.line_of("text"), f"{where}: done text uses unknown placeholder {{{name}}}")
        done.append(DoneLine(text, read_condition(chk, entry, where, list(steps))))
    if not done:
        chk.error(data.line_of("done"), f"{where}: 'done' must say what the person is told when it is sent")
    return CaseSpec(prefix, tuple(notify), flow_actions, chk.text(data, "raise_to", where), tuple(done),
                    bool(data.get("confidential", False)))


def read_actions(chk, data: LDict) -> dict[str, CaseAction]:
    raw = chk.mapping(data.get("actions"), data.line_of("actions"), "'actions'")
    actions: dict[str, CaseAction] = {}
    for aid, body in (raw or {}).items():
        entry = chk.mapping(body, raw.line_of(aid), f"action {aid!r}")
        if entry is None:
            continue
        where = f"action {aid!r}"
        actions[aid] = CaseAction(
            aid, chk.text(entry, "label", where), chk.text(entry, "verb", where), chk.strings(entry, "from", where),
            chk.text(entry, "to", where), bool(entry.get("reason", False)),
        )
    return actions


def read_commands(chk, data: LDict) -> dict[str, tuple[str, ...]]:
    raw = chk.mapping(data.get("commands"), data.line_of("commands"), "'commands'")
    if raw is None:
        return {}
    commands = {name: chk.strings(raw, name, "commands") for name in COMMANDS}
    for name in COMMANDS:
        if not commands[name]:
            chk.error(raw.line, f"commands: missing {name!r}")
    return commands
