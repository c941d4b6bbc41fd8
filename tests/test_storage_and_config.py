"""Storage settings, migrations and the staff directory, as an operator would set them up."""
import pytest

from bot.bootstrap import ConfigError, build_bot, load_config
from bot.directory import DirectoryError, load_directory
from bot.storage import MIGRATIONS, SqlStore, StorageError
from tests.support import ALEX, EXAMPLE_DIRECTORY, Chat
from tests.test_flows import MISTAKE, run


def test_sqlite_in_the_data_directory_is_the_default(tmp_path):
    bot = build_bot({"POLICYBOT_DATA_DIR": str(tmp_path / "data")})
    assert bot.store.kind == "sqlite"
    run(Chat(bot), MISTAKE[:2])
    assert (tmp_path / "data" / "policybot.sqlite3").exists()


def test_settings_can_come_from_a_dotenv_file(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("POLICYBOT_REMINDER_MINUTES=5\nPOLICYBOT_DATA_DIR=/from/dotenv\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POLICYBOT_DATA_DIR", "/from/environment")
    config = load_config()
    assert config.reminder_minutes == 5
    assert str(config.data_dir) == "/from/environment"  # the environment wins


def test_a_database_url_selects_postgresql(pg_url, tmp_path):
    bot = build_bot({"POLICYBOT_DATABASE_URL": pg_url, "POLICYBOT_DATA_DIR": str(tmp_path)})
    assert bot.store.kind == "postgresql"
    run(Chat(bot), MISTAKE)
    assert "MIS-0001" in Chat(bot).say("send")
    assert not list(tmp_path.iterdir())
    bot.store.close()


def test_an_unreachable_database_is_a_clear_error():
    with pytest.raises(StorageError, match="cannot open the postgresql database"):
        build_bot({"POLICYBOT_DATABASE_URL": "postgresql://127.0.0.1:1/none?connect_timeout=2"})


def test_migrations_are_applied_once_and_a_newer_schema_is_refused(store):
    assert store.migrate() == len(MIGRATIONS)
    assert store.migrate() == len(MIGRATIONS)  # again on the next start: nothing to do
    with store._tx() as cur:
        cur.execute("INSERT INTO policybot_schema (version, applied_at) VALUES (?, 0)", (len(MIGRATIONS) + 1,))
    with pytest.raises(StorageError, match="newer than this policybot"):
        store.migrate()


@pytest.mark.parametrize("name, value", [("POLICYBOT_REMINDER_MINUTES", "soon"), ("POLICYBOT_DIALOG_EXPIRY_MINUTES", "0")])
def test_bad_numbers_in_settings_are_refused(name, value):
    with pytest.raises(ConfigError, match=name):
        load_config({name: value})


def test_the_shipped_directory_example_is_valid(directory):
    assert directory.line_manager(directory.person(ALEX)).name == "Sam Patel"
    assert directory.team("marketing").slack_channel and directory.team("hr").teams_channel
    assert directory.for_user("slack", "U0SAMPATEL").email == "sam.patel@council.example"
    assert directory.for_user("teams", "29:1jo-bloggs").name == "Jo Bloggs"


@pytest.mark.parametrize(
    "text, problem",
    [
        ("people:\n  - name: A\n    email: not-an-email\n", "needs a name and a valid email"),
        ("people:\n  - {name: A, email: a@x.org, line_manager: boss}\n", "line_manager must be an email"),
        ("people:\n  - {name: A, email: a@x.org}\n  - {name: B, email: A@x.org}\n", "listed twice"),
        ("teams:\n  hr: {email: hr@x.org}\n", "needs a name"),
        ("people: [\n", "cannot read"),
    ],
)
def test_a_broken_directory_is_reported(tmp_path, text, problem):
    path = tmp_path / "directory.yaml"
    path.write_text(text)
    with pytest.raises(DirectoryError, match=problem):
        load_directory(path)


def test_a_directory_without_the_teams_the_flows_need_is_refused(tmp_path):
    path = tmp_path / "directory.yaml"
    path.write_text(EXAMPLE_DIRECTORY.read_text().split("\nteams:")[0])
    with pytest.raises(ConfigError, match="no team 'hr', 'marketing'"):
        build_bot({"POLICYBOT_DIRECTORY": str(path), "POLICYBOT_DATA_DIR": str(tmp_path)})


def test_sqlite_store_is_one_file_that_two_connections_share(tmp_path):
    first, second = (SqlStore.sqlite(tmp_path / "shared.sqlite3") for _ in range(2))
    first.migrate()
    second.migrate()
    first.save_dialog("k", "{}", 1.0)
    assert second.load_dialog("k") == ("{}", 1.0)
