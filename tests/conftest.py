import itertools
import shutil
from pathlib import Path

import pytest

import knowledge
from bot.core import PolicyBot, Settings
from bot.delivery import Worker
from bot.directory import load_directory
from bot.types import FLOW_INTENTS, Incoming
from tests.support import (
    EXAMPLE_DIRECTORY,
    PG_URL,
    FakeClock,
    RecordingTransport,
    drop_pg_schema,
    new_pg_url,
    open_store,
)

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


@pytest.fixture
def pg_url():
    """A fresh schema in the PostgreSQL test database, which must be running: these tests never skip."""
    try:
        url = new_pg_url()
    except Exception as exc:  # noqa: BLE001 - any failure to reach PostgreSQL must fail the run, loudly
        pytest.fail(f"PostgreSQL is needed for these tests and is not reachable at {PG_URL}: {exc}", pytrace=False)
    yield url
    drop_pg_schema(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """Each storage test runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "policybot.sqlite3")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url):
    store = open_store(store_url)
    yield store
    store.close()


@pytest.fixture(scope="session")
def directory():
    return load_directory(EXAMPLE_DIRECTORY)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_bot(kb, directory, clock):
    """A bot on the given store; a second call with the same store is the same bot after a restart."""

    def build(store, **settings):
        return PolicyBot(kb, store, directory, clock=clock, settings=Settings(**settings))

    return build


@pytest.fixture
def app(make_bot, store):
    return make_bot(store)


@pytest.fixture
def transport():
    return RecordingTransport()


@pytest.fixture
def worker(app, transport, clock):
    return Worker(app.store, transport, app.cases, clock=clock, name="test-worker")
