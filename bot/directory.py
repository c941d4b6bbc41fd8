"""The staff directory: who people are, who their line manager is, and the teams that receive escalations."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
PLATFORM_IDS = {"slack": "slack_user_id", "teams": "teams_user_id"}
PLATFORM_CHANNELS = {"slack": "slack_channel", "teams": "teams_channel"}


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    line_manager: str = ""
    slack_user_id: str = ""
    teams_user_id: str = ""

    def platform_id(self, platform: str) -> str:
        field = PLATFORM_IDS.get(platform)
        return getattr(self, field) if field else ""


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    email: str
    members: tuple[str, ...] = ()
    slack_channel: str = ""
    teams_channel: str = ""

    def channel(self, platform: str) -> str:
        field = PLATFORM_CHANNELS.get(platform)
        return getattr(self, field) if field else ""


class DirectoryError(Exception):
    pass


def is_email(text: str) -> bool:
    return bool(EMAIL.match(text))


class Directory:
    def __init__(self, people: list[Person], teams: list[Team]):
        self._people = {p.email.lower(): p for p in people}
        self._teams = {t.id: t for t in teams}
        self._by_platform = {
            (platform, p.platform_id(platform)): p for p in people for platform in PLATFORM_IDS if p.platform_id(platform)
        }

    def link(self, platform: str, user_id: str, email: str) -> Person | None:
        """Remember that a platform user is this person (the platform vouched for their email address).

        A user id the directory lists for someone else is never re-linked."""
        person = self.person(email)
        if person is not None and platform in PLATFORM_IDS and user_id and (platform, user_id) not in self._by_platform:
            self._by_platform[(platform, user_id)] = person
        return self._by_platform.get((platform, user_id))

    def person(self, email: str) -> Person | None:
        return self._people.get(email.strip().lower())

    def for_user(self, platform: str, user_id: str) -> Person | None:
        """The person behind a platform user id (in the terminal, the user id is the email address)."""
        return self._by_platform.get((platform, user_id)) or (self.person(user_id) if "@" in user_id else None)

    def line_manager(self, person: Person | None) -> Person | None:
        if person is None or not person.line_manager:
            return None
        return self.person(person.line_manager) or Person(person.line_manager, person.line_manager)

    def team(self, team_id: str) -> Team | None:
        return self._teams.get(team_id)

    @property
    def people(self) -> tuple[Person, ...]:
        return tuple(self._people.values())

    @property
    def teams(self) -> tuple[Team, ...]:
        return tuple(self._teams.values())

    def is_member(self, team_id: str, email: str) -> bool:
        team = self._teams.get(team_id)
        return team is not None and email.lower() in {m.lower() for m in team.members}


def load_directory(path: Path | str) -> Directory:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryError(f"{path}: cannot read the staff directory: {exc}") from exc
    problems: list[str] = []
    people = [_person(raw, i, problems) for i, raw in enumerate(data.get("people") or [], 1)]
    teams = [_team(tid, raw, problems) for tid, raw in (data.get("teams") or {}).items()]
    emails = [p.email.lower() for p in people if p]
    problems += [f"person {e!r} is listed twice" for e in sorted({e for e in emails if emails.count(e) > 1})]
    if problems:
        raise DirectoryError(f"{path}: " + "; ".join(problems))
    return Directory([p for p in people if p], [t for t in teams if t])


def _person(raw, index: int, problems: list[str]) -> Person | None:
    if not isinstance(raw, dict) or not raw.get("name") or not is_email(str(raw.get("email", ""))):
        problems.append(f"person {index} needs a name and a valid email")
        return None
    manager = str(raw.get("line_manager") or "")
    if manager and not is_email(manager):
        problems.append(f"person {raw['email']!r}: line_manager must be an email address")
    return Person(str(raw["name"]), str(raw["email"]), manager, str(raw.get("slack_user_id") or ""),
                  str(raw.get("teams_user_id") or ""))


def _team(team_id, raw, problems: list[str]) -> Team | None:
    if not isinstance(raw, dict) or not raw.get("name"):
        problems.append(f"team {team_id!r} needs a name")
        return None
    members = tuple(str(m) for m in raw.get("members") or [])
    problems += [f"team {team_id!r}: member {m!r} is not an email address" for m in members if not is_email(m)]
    return Team(str(team_id), str(raw["name"]), str(raw.get("email") or ""), members,
                str(raw.get("slack_channel") or ""), str(raw.get("teams_channel") or ""))
