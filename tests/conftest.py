import shutil
from pathlib import Path

import pytest

import knowledge
from bot.core import PolicyBot
from bot.types import Incoming

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def kb():
    return knowledge.load()


@pytest.fixture(scope="session")
def bot(kb):
    return PolicyBot(kb)


@pytest.fixture
def ask(bot):
    """Send one message as a member of staff; get (understanding, reply)."""

    def send(text: str, action: str | None = None):
        outcome = bot.handle(Incoming("test", "c1", "u1", text, action))
        assert len(outcome.replies) == 1
        return outcome.understanding, outcome.replies[0]

    return send


@pytest.fixture
def kb_copy(tmp_path):
    """A writable copy of the built-in knowledge base directory."""
    target = tmp_path / "kb"
    shutil.copytree(knowledge.DEFAULT_DIR, target)
    return target
