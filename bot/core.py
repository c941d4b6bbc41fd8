"""The one entry point into the core: an Incoming goes in, an Outcome (replies, notifications) comes out."""
from __future__ import annotations

import unicodedata

from bot.answers import FLOW_CHOICE_PREFIX, Answers
from bot.types import Incoming, Intent, Outcome, Understanding
from bot.understanding import Understander
from knowledge.model import KnowledgeBase


def clean_text(text: str) -> str:
    """Drop control and format characters (keeping line breaks) and surrounding space."""
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    ).strip()


class PolicyBot:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.understander = Understander(kb)
        self.answers = Answers(kb)

    def understand(self, text: str) -> Understanding:
        return self.understander.understand(clean_text(text))

    def handle(self, incoming: Incoming) -> Outcome:
        if incoming.action:
            understanding = self._understand_action(incoming.action)
        else:
            understanding = self.understand(incoming.text)
        return Outcome(understanding, (self.answers.reply(understanding),))

    def _understand_action(self, action: str) -> Understanding:
        if action.startswith(FLOW_CHOICE_PREFIX):
            chosen = self.understander.chosen_flow(action[len(FLOW_CHOICE_PREFIX) :])
            if chosen is not None:
                return chosen
        return Understanding(Intent.HELP, confidence=1.0, small_talk="help")
