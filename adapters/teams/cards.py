"""The core's replies and notifications as Adaptive Cards, in the Bot Framework activity shape Teams takes.

Nothing a user typed is ever interpreted. TextBlock renders Markdown and `{{DATE()}}` functions, so every
text here is a TextRun in a RichTextBlock, which renders neither; `{{` is also broken with a zero-width
space, and no mention entities are sent, so a typed `<at>Sam</at>` is just text. Buttons carry the core's
opaque choice values, never user text. A whole activity stays under Teams' 28 KB: the longest texts give
way first, the buttons never.
"""
from __future__ import annotations

import json
import re

from bot.cases import Overview, parse_action
from bot.types import Choice, Notification, Reply
from knowledge.model import Texts

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
MAX_BYTES = 27 * 1024  # Teams refuses messages over 28 KB; the envelope (ids, addresses) needs the rest
MAX_BUTTONS = 5  # more choices than this are shown as a menu
BUTTON_TEXT = 75
SUMMARY_TEXT = 200
FALLBACK_TEXT = 4000
VALUE_KEY = "policybot"  # the submitted data's key for the core's choice value
TEXT_INPUT = "text"  # the id of the input for typed answers (a reason for declining)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def inert(text: str) -> str:
    """Text that no card renderer will treat as anything but text."""
    return CONTROL.sub("", text).replace("{{", "{\u200b{").replace("}}", "}\u200b}")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run(text: str, **style) -> dict:
    return {"type": "TextRun", "text": inert(text), **style}


def para(*runs: dict, spacing: str = "", separator: bool = False) -> dict:
    block = {"type": "RichTextBlock", "inlines": [r for r in runs if r["text"]]}
    if spacing:
        block["spacing"] = spacing
    if separator:
        block["separator"] = True
    return block


def paragraphs(text: str, **style) -> list[dict]:
    """One RichTextBlock per paragraph of text (a blank line between paragraphs)."""
    return [para(run(p, **style)) for p in re.split(r"\n\s*\n", text) if p.strip()]


# -- replies -----------------------------------------------------------------------------------------------------
def reply_body(reply: Reply) -> list[dict]:
    body: list[dict] = [para(run(n, isSubtle=True, italic=True)) for n in reply.notes]
    body += paragraphs(reply.lead)
    for i, quote in enumerate(reply.quotes):
        header = [run(quote.citation, weight="Bolder"), run(f" · {quote.document}, {quote.section}", isSubtle=True)]
        if i == 1 and reply.also_label:
            header.insert(0, run(f"{reply.also_label} ", isSubtle=True))
        body.append(para(*header, spacing="Medium"))
        body.append({"type": "Container", "style": "emphasis", "items": paragraphs(quote.text, italic=True) or [para(run(" "))]})
    if reply.next_step:
        body.extend(paragraphs(reply.next_step))
        body[-1]["spacing"] = "Medium"
    return body


def choice_elements(choices: tuple[Choice, ...], texts: Texts) -> tuple[list[dict], list[dict]]:
    """(inputs for the body, actions): buttons for a few choices, a menu and a Send button for more."""
    if len(choices) <= MAX_BUTTONS:
        return [], [submit(c.label, c.value) for c in choices]
    menu = {"type": "Input.ChoiceSet", "id": VALUE_KEY, "style": "compact", "placeholder": texts("chat_choose"),
            "isRequired": True, "errorMessage": texts("chat_choose"),
            "choices": [{"title": cut(inert(c.label), BUTTON_TEXT), "value": c.value} for c in choices]}
    return [menu], [{"type": "Action.Submit", "title": texts("chat_form_submit"), "data": {}}]


def submit(label: str, value: str, **extra) -> dict:
    return {"type": "Action.Submit", "title": cut(inert(label), BUTTON_TEXT), "data": {VALUE_KEY: value}, **extra}


def text_input(texts: Texts, limit: int, label: str = "") -> dict:
    field = {"type": "Input.Text", "id": TEXT_INPUT, "isMultiline": True, "maxLength": limit, "isRequired": True,
             "errorMessage": texts("dialog_empty")}
    if label:
        field["label"] = inert(label)
    return field


def reply_card(replies: tuple[Reply, ...], texts: Texts, limit: int) -> dict:
    """One card for the replies to one thing a person said."""
    body: list[dict] = []
    actions: list[dict] = []
    for reply in replies:
        part = reply_body(reply)
        if body and part:
            part[0] = {**part[0], "separator": True, "spacing": "Large"}
        body += part
        if reply.expects:  # the text the person types next goes with this value (a reason for declining, say)
            body.append(text_input(texts, limit))
            actions = [submit(texts("chat_form_submit"), reply.expects)]
        elif reply.choices:
            inputs, actions = choice_elements(reply.choices, texts)
            body += inputs
    return card(body, actions, "\n\n".join(r.text for r in replies))


# -- notifications -----------------------------------------------------------------------------------------------
def notification_card(note: Notification, texts: Texts, needs_reason, limit: int) -> dict:
    """A case for a manager or team, a reminder, an outcome for the reporter, or a case brought up to date.

    needs_reason(action id) -> bool: such actions (declining) open an inline form for the reason."""
    if note.replies:
        return reply_card(note.replies, texts, limit)
    body: list[dict] = []
    if note.title:
        body.append(para(run(note.title, weight="Bolder", size="Medium")))
    if note.alert:
        body.append(para(run(f"⚠ {note.alert}", weight="Bolder", color="Attention")))
    body += paragraphs(note.lead)
    for label, value in note.fields:
        body.append(para(run(label, weight="Bolder"), spacing="Small"))
        body += paragraphs(value) or [para(run("-"))]
    if note.status:
        body.append(para(run(f"✔ {note.status}", color="Good"), spacing="Medium", separator=True))
    return card(body, case_actions(note.actions, texts, needs_reason, limit), note.text)


def case_actions(actions: tuple[Choice, ...], texts: Texts, needs_reason, limit: int) -> list[dict]:
    """Buttons for acting on a case; one that needs a reason opens a small form for it, in the card."""
    buttons = []
    for choice in actions:
        action = (parse_action(choice.value) or ("", ""))[1]
        style = {"style": "positive"} if action in ("approve", "acknowledge") else \
            {"style": "destructive"} if action == "decline" else {}
        if needs_reason(action):
            form = {"type": "AdaptiveCard", "body": [text_input(texts, limit, texts("chat_reason_label"))],
                    "actions": [submit(texts("chat_form_submit"), choice.value, **style)]}
            buttons.append({"type": "Action.ShowCard", "title": cut(inert(choice.label), BUTTON_TEXT), "card": form})
        else:
            buttons.append(submit(choice.label, choice.value, **style))
    return buttons


def overview_card(overview: Overview, texts: Texts, policy_title: str, needs_reason, limit: int) -> dict:
    """What a person has open, and what waits for them (the answer to "my cases")."""
    body = paragraphs(texts("home_intro", policy_title=policy_title), isSubtle=True)
    if overview.waiting:
        body.append(para(run(texts("home_waiting"), weight="Bolder", size="Medium"), spacing="Medium"))
        for case in overview.waiting[:10]:
            body.append(para(run(texts("home_waiting_line", reference=case.ref, title=case.title, status=case.status,
                                       sent_at=case.sent_at, reporter=case.reporter))))
            if case.actions:
                body.append({"type": "ActionSet", "actions": case_actions(case.actions, texts, needs_reason, limit)})
    elif overview.name:
        body.append(para(run(texts("home_none_waiting"), isSubtle=True)))
    body.append(para(run(texts("home_mine"), weight="Bolder", size="Medium"), spacing="Medium"))
    for case in overview.mine[:20]:
        body.append(para(run(texts("home_case_line", reference=case.ref, title=case.title, status=case.status,
                                   sent_at=case.sent_at))))
    if not overview.mine:
        body.append(para(run(texts("home_none_mine"), isSubtle=True)))
    return card(body, [], texts("home_mine"))


# -- the card and the activity -----------------------------------------------------------------------------------
def card(body: list[dict], actions: list[dict], plain: str) -> dict:
    content = {
        "type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION, "body": body or [para(run(" "))], "msteams": {"width": "Full"},
        "fallbackText": cut(inert(plain), FALLBACK_TEXT),
    }
    if actions:
        content["actions"] = actions
    return content


def activity(content: dict, plain: str) -> dict:
    """A message activity carrying one card, within Teams' size limit.

    The plain text travels as the card's fallbackText and the activity's summary (what clients that cannot
    draw the card show); it is not put in `text`, which Teams would show above the card a second time."""
    message = {
        "type": "message",
        "summary": cut(inert(plain.split("\n", 1)[0]), SUMMARY_TEXT),
        "attachments": [{"contentType": CARD_TYPE, "content": content}],
    }
    return fit(message)


def size(message: dict) -> int:
    return len(json.dumps(message, ensure_ascii=False).encode("utf-8"))


def fit(message: dict, limit: int = MAX_BYTES) -> dict:
    """Shorten the longest texts until the activity is under the limit; buttons and their values stay."""
    content = message["attachments"][0]["content"]
    while (excess := size(message) - limit) > 0:
        runs = list(_runs(content.get("body", [])))
        if content.get("fallbackText") and len(content["fallbackText"].encode("utf-8")) > 200:
            content["fallbackText"] = cut(content["fallbackText"], max(100, len(content["fallbackText"]) // 2))
            continue
        if not runs:
            break
        longest = max(runs, key=lambda r: len(r["text"]))
        if len(longest["text"]) <= 20:
            break
        keep = max(10, len(longest["text"]) - max(excess, len(longest["text"]) // 4))
        longest["text"] = cut(longest["text"], keep)
    return message


def _runs(elements: list[dict]):
    for element in elements:
        if element.get("type") == "RichTextBlock":
            yield from element["inlines"]
        elif element.get("type") == "Container":
            yield from _runs(element.get("items", []))
