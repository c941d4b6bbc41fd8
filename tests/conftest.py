import itertools
import shutil
from pathlib import Path

import pytest

import knowledge
from bot.core import PolicyBot
from bot.types import FLOW_INTENTS, Incoming

ROOT = Path(__file__).resolve().parent.parent
_conversations = itertools.count()


@pytest.fixture(scope="session")
def kb():
    return knowledge.load()


@pytest.fixture(scope="session")
def bot(kb):
    return PolicyBot(kb)


@pytest.fixture
def ask(bot):
    """Send one message as a member of staff, in a new conversation; get (understanding, first reply).

    A guided flow starts with two replies (the clause and the first question); anything else has one."""
    def send(text: str, action: str | None = None):
        outcome = bot.handle(Incoming("test", f"ask-{next(_conversations)}", "u1", text, action))
        assert len(outcome.replies) == (2 if outcome.understanding.intent in FLOW_INTENTS else 1)
        return outcome.understanding, outcome.replies[0]

    return send


@pytest.fixture
def kb_copy(tmp_path):
    """A writable copy of the built-in knowledge base directory."""
    target = tmp_path / "kb"
    shutil.copytree(knowledge.DEFAULT_DIR, target)
    return target
