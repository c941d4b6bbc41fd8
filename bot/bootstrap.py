"""The one place that builds the bot from configuration. Nothing is built at import time.

Settings come from the environment; a `.env` file in the working directory may supply them
(the environment wins). Secrets are read here and never logged.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import knowledge
from bot.cases import CaseSettings
from bot.core import PolicyBot, Settings
from bot.delivery import Transport, Worker
from bot.directory import Directory, load_directory
from bot.storage import SqlStore

KNOWLEDGE_ENV = "POLICYBOT_KNOWLEDGE_DIR"
EXAMPLE_DIRECTORY = Path(__file__).resolve().parent.parent / "deploy" / "directory.example.yaml"


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Config:
    knowledge_dir: Path
    data_dir: Path
    database_url: str
    directory: Path
    dialog_expiry_minutes: float
    reminder_minutes: float
    timezone: str

    def describe_storage(self, name: str = "policybot") -> str:
        if self.database_url:
            return "PostgreSQL (POLICYBOT_DATABASE_URL)"
        return str(self.data_dir / f"{name}.sqlite3")


def environment(environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> dict[str, str]:
    """The process environment, with a .env file's values underneath it."""
    values: dict[str, str] = {}
    if environ is None:
        environ = os.environ
        if dotenv is not None and dotenv.is_file():
            from dotenv import dotenv_values

            values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    values.update(environ)
    return values


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    env = environment(environ)
    return Config(
        knowledge_dir=Path(env.get(KNOWLEDGE_ENV) or knowledge.DEFAULT_DIR),
        data_dir=Path(env.get("POLICYBOT_DATA_DIR") or _user_data_dir()),
        database_url=env.get("POLICYBOT_DATABASE_URL", ""),
        directory=Path(env.get("POLICYBOT_DIRECTORY") or EXAMPLE_DIRECTORY),
        dialog_expiry_minutes=_number(env, "POLICYBOT_DIALOG_EXPIRY_MINUTES", 24 * 60),
        reminder_minutes=_number(env, "POLICYBOT_REMINDER_MINUTES", 30),
        timezone=env.get("POLICYBOT_TIMEZONE") or "Europe/London",
    )


def knowledge_dir(environ: Mapping[str, str] | None = None) -> Path:
    return load_config(environ).knowledge_dir


def build_store(config: Config, name: str = "policybot") -> SqlStore:
    """PostgreSQL when a database URL is configured, otherwise SQLite in the data directory; migrated."""
    if config.database_url:
        store = SqlStore.postgres(config.database_url)
    else:
        store = SqlStore.sqlite(config.data_dir / f"{name}.sqlite3")
    store.migrate()
    return store


def build_directory(config: Config) -> Directory:
    return load_directory(config.directory)


def build_bot(
    environ: Mapping[str, str] | None = None,
    *,
    store: SqlStore | None = None,
    persistent: bool = True,
    name: str = "policybot",
    clock: Callable[[], float] | None = None,
) -> PolicyBot:
    """The bot with its storage and directory. persistent=False keeps dialogs in memory (one-off questions)."""
    config = load_config(environ)
    kb = knowledge.load(config.knowledge_dir)
    directory = build_directory(config)
    check_directory(kb, directory)
    if store is None and persistent:
        store = build_store(config, name)
    settings = Settings(
        dialog_expiry=config.dialog_expiry_minutes * 60,
        cases=CaseSettings(reminder_after=config.reminder_minutes * 60, timezone=config.timezone),
    )
    extra = {"clock": clock} if clock else {}
    return PolicyBot(kb, store, directory, settings=settings, **extra)


def build_worker(bot: PolicyBot, transport: Transport, **options) -> Worker:
    return Worker(bot.store, transport, bot.cases, clock=bot.clock, **options)


def check_directory(kb: knowledge.KnowledgeBase, directory: Directory) -> None:
    """Every team the flows notify or raise cases to must be in the staff directory."""
    missing = sorted({
        team for flow in kb.flows.values() if flow.case
        for team in [flow.case.raise_to, *(n.to.split(":", 1)[1] for n in flow.case.notify if n.to.startswith("team:"))]
        if directory.team(team) is None
    })
    if missing:
        raise ConfigError(f"the staff directory has no team {', '.join(map(repr, missing))}, which the flows notify")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of minutes, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0")
    return value


def _user_data_dir() -> str:
    from platformdirs import user_data_dir

    return user_data_dir("policybot", appauthor=False)
