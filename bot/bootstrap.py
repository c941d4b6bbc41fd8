"""The one place that builds the bot from configuration. Nothing is built at import time."""
from __future__ import annotations

import os
from pathlib import Path

import knowledge
from bot.core import PolicyBot

KNOWLEDGE_ENV = "POLICYBOT_KNOWLEDGE_DIR"


def knowledge_dir(environ=os.environ) -> Path:
    return Path(environ.get(KNOWLEDGE_ENV) or knowledge.DEFAULT_DIR)


def build_bot(environ=os.environ) -> PolicyBot:
    return PolicyBot(knowledge.load(knowledge_dir(environ)))
