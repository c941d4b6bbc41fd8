"""The core's replies and notifications as Block Kit, within Block Kit's limits, with every text escaped.

Only `&`, `<` and `>` are special in mrkdwn. Escaped, a typed `<!channel>` or `<@U123>` is shown as it
was typed and notifies nobody, and `<http://evil|bank>` cannot pass for a link.
"""
from __future__ import annotations

import json

from bot.cases import Overview, parse_action
from bot.types import Choice, Notification, Reply
from knowledge.model import Texts

MAX_BLOCKS = 50
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_VALUE = 150
MAX_BUTTONS = 5  # more choices than this are shown as a menu
MAX_OPTIONS = 100
MODAL_TITLE = 24
INPUT_LABEL = 2000
FALLBACK_TEXT = 3000
METADATA_TYPE = "policybot_notification"
FORM_CALLBACK = "policybot_form"
FORM_BLOCK, FORM_INPUT = "answer", "text"
CHOICE_ACTION, CASE_ACTION = "choice", "case"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = SECTION_TEXT) -> dict:
    return {"type": "plain_text", "text": cut(text, limit) or " ", "emoji": True}


def sections(markdown: str) -> list[dict]:
    """Section blocks for already escaped mrkdwn: split at line breaks to stay under the section limit."""
    blocks, chunk = [], ""
    for line in markdown.split("\n"):
        while len(line) > SECTION_TEXT:  # a single enormous line: split it where it must be
            if chunk:
                blocks.append(chunk)
                chunk = ""
            blocks.append(line[:SECTION_TEXT])
            line = line[SECTION_TEXT:]
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > SECTION_TEXT:
            blocks.append(chunk)
            candidate = line
        chunk = candidate
    if chunk.strip():
        blocks.append(chunk)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": b}} for b in blocks if b.strip()]


def context(markdown: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(markdown, SECTION_TEXT)}]}


def quoted(text: str) -> str:
    return "\n".join(f">{escape(line)}" for line in text.splitlines())


def choice_elements(choices: tuple[Choice, ...], texts: Texts, action_id: str, block: int) -> list[dict]:
    """Buttons for a few choices, a menu for more. Values are the core's opaque choice values, never user text."""
    if len(choices) <= MAX_BUTTONS:
        return [
            {"type": "button", "text": plain(c.label, BUTTON_TEXT), "value": c.value, "action_id": f"{action_id}:{block}:{i}"}
            for i, c in enumerate(choices) if len(c.value) <= BUTTON_VALUE
        ]
    options = [{"text": plain(c.label, BUTTON_TEXT), "value": c.value}
               for c in choices if len(c.value) <= OPTION_VALUE][:MAX_OPTIONS]
    return [{"type": "static_select", "action_id": f"{action_id}:{block}:menu",
             "placeholder": plain(texts("chat_choose"), BUTTON_TEXT), "options": options}]


def reply_blocks(reply: Reply, texts: Texts, index: int = 0) -> list[dict]:
    blocks: list[dict] = []
    for note in reply.notes:
        blocks.append(context(escape(note)))
    blocks += sections(escape(reply.lead))
    for i, quote in enumerate(reply.quotes):
        header = f"*{escape(quote.citation)}* · {escape(quote.document)}, {escape(quote.section)}"
        if i == 1 and reply.also_label:
            header = f"{escape(reply.also_label)} {header}"
        blocks.append(context(header))
        blocks += sections(quoted(quote.text))
    if reply.next_step:
        blocks += sections(escape(reply.next_step))
    if reply.choices:
        blocks.append({"type": "actions", "block_id": f"choices:{index}",
                       "elements": choice_elements(reply.choices, texts, CHOICE_ACTION, index)})
    return blocks


def message(replies: tuple[Reply, ...], texts: Texts) -> dict:
    """One message for the replies to one thing a person said."""
    blocks: list[dict] = []
    for i, reply in enumerate(replies):
        if blocks:
            blocks.append({"type": "divider"})
        blocks += reply_blocks(reply, texts, i)
    return {"text": fallback("\n\n".join(r.text for r in replies)), "blocks": fit(blocks)}


def notification_message(note: Notification, texts: Texts) -> dict:
    """A case sent to a manager or team, a reminder, an outcome for the reporter, or a case brought up to date."""
    if note.replies:
        return message(note.replies, texts)
    blocks: list[dict] = []
    if note.title:
        blocks.append({"type": "header", "text": plain(note.title, HEADER_TEXT)})
    if note.alert:
        blocks += sections(f":rotating_light: *{escape(note.alert)}*")
    blocks += sections(escape(note.lead))
    for label, value in note.fields:
        blocks += sections(f"*{escape(label)}*\n{escape(value)}")
    if note.status:
        blocks += sections(f":white_check_mark: {escape(note.status)}")
    if note.actions:
        blocks.append(case_buttons(note.case_ref, note.actions))
    return {"text": fallback(note.text), "blocks": fit(blocks)}


def case_buttons(ref: str, actions: tuple[Choice, ...]) -> dict:
    """The buttons for acting on a case: approving or acknowledging stands out, declining is marked as such."""
    return {"type": "actions", "block_id": f"case:{ref}", "elements": [
        {"type": "button", "text": plain(c.label, BUTTON_TEXT), "value": c.value, "action_id": f"{CASE_ACTION}:{i}",
         **_style(c)} for i, c in enumerate(actions)]}


def _style(choice: Choice) -> dict:
    action = (parse_action(choice.value) or ("", ""))[1]
    return {"style": "primary"} if action in ("approve", "acknowledge") else {"style": "danger"} if action == "decline" else {}


def metadata(note: Notification) -> dict:
    """Carried by every message the bot posts, so a delivery whose fate is unknown can be found again."""
    return {"event_type": METADATA_TYPE, "event_payload": {"notification": note.id}}


def fallback(text: str) -> str:
    """The message's plain `text` (notifications, screen readers): escaped too, as Slack parses it."""
    return cut(escape(text), FALLBACK_TEXT) or " "


def fit(blocks: list[dict]) -> list[dict]:
    """At most 50 blocks: the buttons, if any, are kept; text in the middle gives way."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    tail = [b for b in blocks[-2:] if b["type"] == "actions"]
    head = blocks[: MAX_BLOCKS - 1 - len(tail)]
    return [*head, context("…"), *tail]


def chosen(blocks: list[dict], label: str, texts: Texts) -> list[dict]:
    """A message's blocks once one of its choices was pressed: the buttons go, what was chosen shows."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    return fit([*kept, context(escape(texts("chat_chosen", label=label)))])


# -- forms (modals) ---------------------------------------------------------------------------------------------
def form(reply: Reply, texts: Texts, conversation: str, limit: int) -> dict:
    """A modal asking for the text a reply expects (a reason for declining, say)."""
    ref, action = parse_action(reply.expects) or ("", "")
    title = texts("chat_form_title", action=action.capitalize(), reference=ref) if ref else texts("chat_form_submit")
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": json.dumps({"value": reply.expects, "conversation": conversation}),
        "title": plain(title, MODAL_TITLE),
        "submit": plain(texts("chat_form_submit"), MODAL_TITLE),
        "close": plain(texts("chat_form_cancel"), MODAL_TITLE),
        "blocks": [{
            "type": "input", "block_id": FORM_BLOCK, "label": plain(reply.lead, INPUT_LABEL),
            "element": {"type": "plain_text_input", "action_id": FORM_INPUT, "multiline": True, "max_length": limit},
        }],
    }


def form_answer(view: dict) -> tuple[str, str, str] | None:
    """(choice value, conversation, text) from a submitted form; None if it is not one of ours or is malformed."""
    try:
        meta = json.loads(view.get("private_metadata") or "")
        value, conversation = str(meta["value"]), str(meta["conversation"])
        text = view["state"]["values"][FORM_BLOCK][FORM_INPUT].get("value") or ""
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return value, conversation, str(text)


# -- App Home ---------------------------------------------------------------------------------------------------
def home(overview: Overview, texts: Texts, policy_title: str) -> dict:
    blocks: list[dict] = [context(escape(texts("home_intro", policy_title=policy_title)))]
    if overview.waiting:
        blocks.append({"type": "header", "text": plain(texts("home_waiting"), HEADER_TEXT)})
        for case in overview.waiting[:20]:
            line = texts("home_waiting_line", reference=case.ref, title=case.title, status=case.status,
                         sent_at=case.sent_at, reporter=case.reporter)
            blocks += sections(escape(line))
            if case.actions:
                blocks.append(case_buttons(case.ref, case.actions))
    elif overview.name:
        blocks.append(context(escape(texts("home_none_waiting"))))
    blocks.append({"type": "header", "text": plain(texts("home_mine"), HEADER_TEXT)})
    if overview.mine:
        for case in overview.mine[:20]:
            blocks += sections(escape(texts("home_case_line", reference=case.ref, title=case.title, status=case.status,
                                              sent_at=case.sent_at)))
    else:
        blocks.append(context(escape(texts("home_none_mine"))))
    return {"type": "home", "blocks": fit(blocks)}
