"""Where dialogs, cases and the outbox live: SQLite by default, PostgreSQL when a database URL is given.

One class, one set of SQL; the two dialects differ only in how they connect, name parameters, lock
rows and number ids. Every change to the schema is a migration, applied on start.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: dialogs, cases and their history, the outbox and its delivery attempts
        "CREATE TABLE dialogs (key TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at {real} NOT NULL)",
        "CREATE TABLE counters (prefix TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        """CREATE TABLE cases (
            ref TEXT PRIMARY KEY, flow TEXT NOT NULL, status TEXT NOT NULL, reporter TEXT NOT NULL,
            answers TEXT NOT NULL, flags TEXT NOT NULL, confidential INTEGER NOT NULL,
            created_at {real} NOT NULL, updated_at {real} NOT NULL, reminder_stage INTEGER NOT NULL DEFAULT 0)""",
        "CREATE INDEX cases_waiting ON cases (status, reminder_stage, created_at)",
        "CREATE TABLE case_recipients (ref TEXT NOT NULL, address TEXT NOT NULL, PRIMARY KEY (ref, address))",
        """CREATE TABLE case_events (
            id {id}, ref TEXT NOT NULL, at {real} NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX case_events_ref ON case_events (ref, id)",
        """CREATE TABLE outbox (
            id {id}, case_ref TEXT NOT NULL, recipient TEXT NOT NULL, payload TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at {real} NOT NULL, claimed_by TEXT, claimed_until {real},
            created_at {real} NOT NULL, delivered_at {real}, receipt TEXT, last_error TEXT)""",
        "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
        """CREATE TABLE delivery_attempts (
            id {id}, notification_id INTEGER NOT NULL, worker TEXT NOT NULL, started_at {real} NOT NULL,
            finished_at {real}, outcome TEXT, error TEXT)""",
        "CREATE INDEX delivery_attempts_notification ON delivery_attempts (notification_id)",
    ),
    (  # 2: chat events already handled (a platform's retries), and who reported a case, for lists of cases
        "CREATE TABLE processed_events (id TEXT PRIMARY KEY, at {real} NOT NULL)",
        "CREATE INDEX processed_events_at ON processed_events (at)",
        "ALTER TABLE cases ADD COLUMN reporter_user TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE cases ADD COLUMN reporter_email TEXT NOT NULL DEFAULT ''",
        "UPDATE cases SET reporter_user = {reporter_user}, reporter_email = LOWER({reporter_email})",
        "CREATE INDEX cases_reporter_user ON cases (reporter_user, status)",
        "CREATE INDEX cases_reporter_email ON cases (reporter_email, status)",
        "CREATE INDEX case_recipients_address ON case_recipients (address)",
        "CREATE INDEX outbox_case ON outbox (case_ref)",
    ),
    (  # 3: where a chat platform can reach people and conversations later (a Teams conversation reference)
        "CREATE TABLE chat_contacts (platform TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
        "updated_at {real} NOT NULL, PRIMARY KEY (platform, key))",
    ),
)


BOT_ACTOR = {"name": "policybot"}  # who did what the bot does by itself (reminders, rerouting)


@dataclass(frozen=True)
class CaseEvent:
    at: float
    actor: dict
    action: str
    detail: str = ""


@dataclass(frozen=True)
class CaseRecord:
    ref: str
    flow: str
    status: str
    reporter: dict
    answers: dict
    flags: tuple[str, ...]
    confidential: bool
    created_at: float
    updated_at: float
    reminder_stage: int
    recipients: tuple[str, ...] = ()
    events: tuple[CaseEvent, ...] = ()


@dataclass(frozen=True)
class NewNotification:
    recipient: dict
    payload: dict


@dataclass(frozen=True)
class Claim:
    id: int
    case_ref: str
    recipient: dict
    payload: dict
    attempts: int
    attempt_id: int
    uncertain: bool  # an earlier attempt started and never finished: it may have been delivered


@dataclass
class Delivery:
    id: int
    case_ref: str
    recipient: dict
    payload: dict
    status: str
    attempts: int
    receipt: str | None
    last_error: str | None
    tries: list[tuple[str | None, str | None]] = field(default_factory=list)  # (outcome, error) per attempt


class StorageError(Exception):
    pass


class _SQLite:
    name = "sqlite"
    types = {
        "id": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL",
        "reporter_user": "'user:' || json_extract(reporter, '$.platform') || ':' || json_extract(reporter, '$.user')",
        "reporter_email": "COALESCE(json_extract(reporter, '$.email'), '')",
    }
    skip_locked = ""

    def __init__(self, path: Path):
        self.path = path

    def connect(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def sql(self, text: str) -> str:
        return text

    def begin(self, conn) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def lock_migrations(self, cur) -> None:
        pass  # BEGIN IMMEDIATE already holds the write lock

    def healthy(self, conn) -> bool:
        return True


class _Postgres:
    name = "postgresql"
    types = {
        "id": "BIGSERIAL PRIMARY KEY", "real": "DOUBLE PRECISION",
        "reporter_user": "'user:' || (reporter::json ->> 'platform') || ':' || (reporter::json ->> 'user')",
        "reporter_email": "COALESCE(reporter::json ->> 'email', '')",
    }
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str):
        self.url = url

    def connect(self):
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise StorageError("PostgreSQL needs psycopg: pip install 'policybot[postgres]'") from exc
        return psycopg.connect(self.url, autocommit=True, connect_timeout=10)

    def sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def begin(self, conn) -> None:
        conn.execute("BEGIN")

    def lock_migrations(self, cur) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(7262001)")

    def healthy(self, conn) -> bool:
        return not conn.closed and not conn.broken


class SqlStore:
    """Dialog state, cases and the outbox, in one database. Safe to share between threads and processes."""

    def __init__(self, dialect):
        self.dialect = dialect
        self._lock = threading.RLock()
        self._conn = None
        self._open: _Cursor | None = None  # the transaction in progress (only its thread can hold the lock)

    @classmethod
    def sqlite(cls, path: Path | str) -> "SqlStore":
        return cls(_SQLite(Path(path)))

    @classmethod
    def postgres(cls, url: str) -> "SqlStore":
        return cls(_Postgres(url))

    @property
    def kind(self) -> str:
        return self.dialect.name

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- plumbing -------------------------------------------------------------------------------------
    def _connection(self):
        if self._conn is None or not self.dialect.healthy(self._conn):
            try:
                self._conn = self.dialect.connect()
            except StorageError:
                raise
            except Exception as exc:
                raise StorageError(f"cannot open the {self.dialect.name} database: {exc}") from exc
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything the store does inside this block commits together, or not at all."""
        with self._tx():
            yield

    @contextmanager
    def _tx(self) -> Iterator["_Cursor"]:
        with self._lock:
            if self._open is not None:  # inside transaction(): part of the caller's unit of work
                yield self._open
                return
            conn = self._connection()
            self.dialect.begin(conn)
            self._open = _Cursor(conn, self.dialect)
            try:
                yield self._open
            except BaseException:
                self._open = None
                try:
                    conn.execute("ROLLBACK")
                except Exception:  # the connection itself failed: it is replaced on the next call
                    pass
                raise
            self._open = None
            conn.execute("COMMIT")

    def migrate(self) -> int:
        """Apply the migrations this database has not had yet; returns the schema version."""
        with self._tx() as cur:
            self.dialect.lock_migrations(cur)
            cur.execute("CREATE TABLE IF NOT EXISTS policybot_schema (version INTEGER PRIMARY KEY, applied_at {real})")
            row = cur.one("SELECT MAX(version) FROM policybot_schema")
            current = row[0] or 0
            if current > len(MIGRATIONS):
                raise StorageError(f"the database schema ({current}) is newer than this policybot ({len(MIGRATIONS)})")
            for version in range(current + 1, len(MIGRATIONS) + 1):
                for statement in MIGRATIONS[version - 1]:
                    cur.execute(statement)
                cur.execute("INSERT INTO policybot_schema (version, applied_at) VALUES (?, 0)", (version,))
            return len(MIGRATIONS)

    # -- dialogs ----------------------------------------------------------------------------------------
    def load_dialog(self, key: str) -> tuple[str, float] | None:
        with self._tx() as cur:
            row = cur.one("SELECT state, updated_at FROM dialogs WHERE key = ?", (key,))
        return (row[0], row[1]) if row else None

    def save_dialog(self, key: str, state: str, now: float) -> None:
        with self._tx() as cur:
            self._put_dialog(cur, key, state, now)

    def delete_dialog(self, key: str) -> None:
        with self._tx() as cur:
            cur.execute("DELETE FROM dialogs WHERE key = ?", (key,))

    # -- cases --------------------------------------------------------------------------------------------
    def create_case(
        self,
        *,
        prefix: str,
        flow: str,
        reporter: dict,
        answers: dict,
        flags: list[str],
        confidential: bool,
        recipients: list[str],
        notifications: Callable[[str], list[NewNotification]],
        now: float,
        dialog: tuple[str, Callable[[str], str]] | None = None,
    ) -> str:
        """Number and record a case, its recipients, its first event and its notifications, in one transaction.

        `dialog` (key, state for the new reference) replaces the reporter's dialog state in the same transaction, so a case is
        never recorded twice for one dialog."""
        with self._tx() as cur:
            number = cur.one(
                "INSERT INTO counters (prefix, value) VALUES (?, 1) "
                "ON CONFLICT (prefix) DO UPDATE SET value = counters.value + 1 RETURNING value",
                (prefix,),
            )[0]
            ref = f"{prefix}-{number:04d}"
            cur.execute(
                "INSERT INTO cases (ref, flow, status, reporter, answers, flags, confidential, created_at, updated_at, "
                "reporter_user, reporter_email) VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?)",
                (ref, flow, _json(reporter), _json(answers), _json(flags), int(confidential), now, now,
                 f"user:{reporter.get('platform', '')}:{reporter.get('user', '')}", reporter.get("email", "").lower()),
            )
            self._add_recipients(cur, ref, recipients)
            self._event(cur, ref, now, reporter, "submitted")
            self._enqueue(cur, ref, notifications(ref), now)
            if dialog is not None:
                self._put_dialog(cur, dialog[0], dialog[1](ref), now)
        return ref

    def case(self, ref: str) -> CaseRecord | None:
        with self._tx() as cur:
            return self._case(cur, ref)

    def act(
        self,
        ref: str,
        *,
        action: str,
        from_statuses: tuple[str, ...],
        to_status: str,
        actor: dict,
        detail: str,
        now: float,
        notifications: Callable[[CaseRecord], list[NewNotification]],
    ) -> tuple[bool, CaseRecord | None]:
        """Move a case from one of from_statuses to to_status; the first to do so wins (False if too late)."""
        marks = ", ".join("?" for _ in from_statuses)
        with self._tx() as cur:
            changed = cur.execute(
                f"UPDATE cases SET status = ?, updated_at = ? WHERE ref = ? AND status IN ({marks})",
                (to_status, now, ref, *from_statuses),
            ).rowcount
            if changed:
                self._event(cur, ref, now, actor, action, detail)
            record = self._case(cur, ref)
            if changed and record is not None:
                self._enqueue(cur, ref, notifications(record), now)
        return bool(changed), record

    def waiting_cases(self, *, created_before: float, stage: int) -> list[CaseRecord]:
        """Open cases nobody has acted on, created before the given time, at the given reminder stage."""
        with self._tx() as cur:
            refs = cur.all(
                "SELECT ref FROM cases WHERE status = 'open' AND reminder_stage = ? AND created_at <= ? ORDER BY ref",
                (stage, created_before),
            )
            return [self._case(cur, r[0]) for r in refs]

    def advance_reminder(
        self, ref: str, *, stage: int, now: float, recipients: list[str], notifications: list[NewNotification], event: str
    ) -> bool:
        """Record that a reminder stage was sent, once, however many workers try at the same moment."""
        with self._tx() as cur:
            changed = cur.execute(
                "UPDATE cases SET reminder_stage = ? WHERE ref = ? AND reminder_stage = ? AND status = 'open'",
                (stage + 1, ref, stage),
            ).rowcount
            if changed:
                self._add_recipients(cur, ref, recipients)
                self._event(cur, ref, now, BOT_ACTOR, event)
                self._enqueue(cur, ref, notifications, now)
        return bool(changed)

    def _case(self, cur: "_Cursor", ref: str) -> CaseRecord | None:
        row = cur.one(
            "SELECT ref, flow, status, reporter, answers, flags, confidential, created_at, updated_at, reminder_stage "
            "FROM cases WHERE ref = ?",
            (ref,),
        )
        if row is None:
            return None
        recipients = tuple(r[0] for r in cur.all("SELECT address FROM case_recipients WHERE ref = ? ORDER BY address", (ref,)))
        events = tuple(
            CaseEvent(at, json.loads(actor), action, detail)
            for at, actor, action, detail in cur.all(
                "SELECT at, actor, action, detail FROM case_events WHERE ref = ? ORDER BY id", (ref,)
            )
        )
        return CaseRecord(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]), tuple(json.loads(row[5])),
                          bool(row[6]), row[7], row[8], row[9], recipients, events)

    def _event(self, cur: "_Cursor", ref: str, now: float, actor: dict, action: str, detail: str = "") -> None:
        cur.execute(
            "INSERT INTO case_events (ref, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
            (ref, now, _json(actor), action, detail),
        )

    def _add_recipients(self, cur: "_Cursor", ref: str, recipients: list[str]) -> None:
        for address in dict.fromkeys(recipients):
            cur.execute(
                "INSERT INTO case_recipients (ref, address) VALUES (?, ?) ON CONFLICT (ref, address) DO NOTHING",
                (ref, address),
            )

    def _enqueue(self, cur: "_Cursor", ref: str, notifications: list[NewNotification], now: float) -> None:
        for n in notifications:
            cur.execute(
                "INSERT INTO outbox (case_ref, recipient, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)",
                (ref, _json(n.recipient), _json(n.payload), now, now),
            )

    def _put_dialog(self, cur: "_Cursor", key: str, state: str, now: float) -> None:
        cur.execute(
            "INSERT INTO dialogs (key, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (key, state, now),
        )

    # -- outbox -------------------------------------------------------------------------------------------
    def claim(self, worker: str, *, now: float, lease: float, limit: int = 20) -> list[Claim]:
        """Take up to `limit` due notifications for `lease` seconds; another worker cannot take them meanwhile."""
        with self._tx() as cur:
            rows = cur.all(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 WHERE id IN ("
                " SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
                " AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT ?" + self.dialect.skip_locked + ")"
                # checked again on the row as it is now, in case another worker claimed it meanwhile
                " AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < ?)"
                " RETURNING id, case_ref, recipient, payload, attempts",
                (worker, now + lease, now, now, limit, now),
            )
            claims = []
            for nid, ref, recipient, payload, attempts in sorted(rows):
                unfinished = cur.execute(
                    "UPDATE delivery_attempts SET outcome = 'abandoned', finished_at = ? "
                    "WHERE notification_id = ? AND outcome IS NULL",
                    (now, nid),
                ).rowcount
                attempt_id = cur.one(
                    "INSERT INTO delivery_attempts (notification_id, worker, started_at) VALUES (?, ?, ?) RETURNING id",
                    (nid, worker, now),
                )[0]
                claims.append(Claim(nid, ref, json.loads(recipient), json.loads(payload), attempts, attempt_id, bool(unfinished)))
            return claims

    def delivered(self, claim: Claim, worker: str, *, now: float, receipt: str, outcome: str = "delivered") -> bool:
        """Mark a claimed notification delivered; False if the claim had expired and someone else took it."""
        with self._tx() as cur:
            cur.execute(
                "UPDATE delivery_attempts SET outcome = ?, finished_at = ? WHERE id = ?", (outcome, now, claim.attempt_id)
            )
            return bool(
                cur.execute(
                    "UPDATE outbox SET status = 'delivered', delivered_at = ?, receipt = ?, claimed_by = NULL, "
                    "claimed_until = NULL WHERE id = ? AND claimed_by = ? AND status = 'pending'",
                    (now, receipt, claim.id, worker),
                ).rowcount
            )

    def retry_later(self, claim: Claim, worker: str, *, now: float, at: float, error: str) -> None:
        with self._tx() as cur:
            cur.execute(
                "UPDATE delivery_attempts SET outcome = 'failed', finished_at = ?, error = ? WHERE id = ?",
                (now, error, claim.attempt_id),
            )
            cur.execute(
                "UPDATE outbox SET next_attempt_at = ?, last_error = ?, claimed_by = NULL, claimed_until = NULL "
                "WHERE id = ? AND claimed_by = ?",
                (at, error, claim.id, worker),
            )

    def give_up(
        self, claim: Claim, worker: str, *, now: float, error: str, recipients: list[str], instead: list[NewNotification]
    ) -> None:
        """A notification that can never be delivered: record it, and queue what should be sent instead."""
        with self._tx() as cur:
            cur.execute(
                "UPDATE delivery_attempts SET outcome = 'undeliverable', finished_at = ?, error = ? WHERE id = ?",
                (now, error, claim.attempt_id),
            )
            changed = cur.execute(
                "UPDATE outbox SET status = 'failed', last_error = ?, claimed_by = NULL, claimed_until = NULL "
                "WHERE id = ? AND claimed_by = ? AND status = 'pending'",
                (error, claim.id, worker),
            ).rowcount
            if changed and claim.case_ref:
                self._event(cur, claim.case_ref, now, BOT_ACTOR, "undeliverable", error[:300])
                self._add_recipients(cur, claim.case_ref, recipients)
                self._enqueue(cur, claim.case_ref, instead, now)

    def deliveries(self, case_ref: str | None = None) -> list[Delivery]:
        """Every notification (of one case, or all), with its attempts: for the terminal, reports and tests."""
        where, params = ("WHERE case_ref = ?", (case_ref,)) if case_ref is not None else ("", ())
        return self._deliveries(where, params)

    def delivery(self, nid: int) -> Delivery | None:
        found = self._deliveries("WHERE id = ?", (nid,))
        return found[0] if found else None

    def _deliveries(self, where: str, params: tuple) -> list[Delivery]:
        with self._tx() as cur:
            rows = cur.all(
                f"SELECT id, case_ref, recipient, payload, status, attempts, receipt, last_error FROM outbox {where} ORDER BY id",
                params,
            )
            tries: dict[int, list] = {}
            for nid, outcome, error in cur.all(  # every attempt of these notifications, in one query
                f"SELECT notification_id, outcome, error FROM delivery_attempts "
                f"WHERE notification_id IN (SELECT id FROM outbox {where}) ORDER BY id", params,
            ):
                tries.setdefault(nid, []).append((outcome, error))
            return [Delivery(nid, ref, json.loads(recipient), json.loads(payload), status, attempts, receipt, error,
                             tries.get(nid, []))
                    for nid, ref, recipient, payload, status, attempts, receipt, error in rows]

    def enqueue(self, case_ref: str, notifications: list[NewNotification], now: float) -> None:
        """Queue notifications outside a case change (replies to a person: case_ref ""), for the worker to deliver."""
        with self._tx() as cur:
            self._enqueue(cur, case_ref, notifications, now)

    def next_due(self) -> float | None:
        with self._tx() as cur:
            row = cur.one("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'")
        return row[0] if row else None


    # -- lists of cases ---------------------------------------------------------------------------------------
    def cases_reported_by(self, *, user: str, email: str, statuses: tuple[str, ...], limit: int = 20) -> list[CaseRecord]:
        """Cases in one of `statuses` reported by this chat user ("user:slack:U1") or this email, newest first."""
        marks = ", ".join("?" for _ in statuses)
        with self._tx() as cur:
            refs = cur.all(
                f"SELECT ref FROM cases WHERE (reporter_user = ? OR (reporter_email = ? AND reporter_email <> '')) "
                f"AND status IN ({marks}) ORDER BY created_at DESC LIMIT ?",
                (user, email.lower(), *statuses, limit),
            )
            return [self._case(cur, r[0]) for r in refs]

    def cases_sent_to(self, addresses: list[str], *, statuses: tuple[str, ...], limit: int = 20) -> list[CaseRecord]:
        """Cases in one of `statuses` that went to any of these addresses ("person:sam@...", "team:marcomms"), oldest first."""
        if not addresses:
            return []
        to, marks = ", ".join("?" for _ in addresses), ", ".join("?" for _ in statuses)
        with self._tx() as cur:
            refs = cur.all(
                f"SELECT ref FROM cases WHERE status IN ({marks}) AND ref IN "
                f"(SELECT ref FROM case_recipients WHERE address IN ({to})) ORDER BY created_at LIMIT ?",
                (*statuses, *addresses, limit),
            )
            return [self._case(cur, r[0]) for r in refs]

    # -- chat events ------------------------------------------------------------------------------------------
    def first_time(self, event_id: str, now: float) -> bool:
        """Record that an incoming event was handled; False if it was before (a platform delivering it again)."""
        with self._tx() as cur:
            return bool(cur.execute(
                "INSERT INTO processed_events (id, at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", (event_id, now)
            ).rowcount)

    def forget_events(self, before: float) -> int:
        with self._tx() as cur:
            return cur.execute("DELETE FROM processed_events WHERE at < ?", (before,)).rowcount

    # -- where platforms reach people ------------------------------------------------------------------------
    def remember_contact(self, platform: str, entries: dict[str, dict], now: float) -> None:
        """Keep what a platform needs to reach someone or somewhere later (opaque to the core), by key."""
        with self._tx() as cur:
            for key, value in entries.items():
                cur.execute(
                    "INSERT INTO chat_contacts (platform, key, value, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (platform, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    (platform, key, _json(value), now),
                )

    def contact(self, platform: str, key: str) -> dict | None:
        with self._tx() as cur:
            row = cur.one("SELECT value FROM chat_contacts WHERE platform = ? AND key = ?", (platform, key))
        return json.loads(row[0]) if row else None


class _Cursor:
    """Runs the store's SQL (written with ? and {id}/{real}) in the dialect of the connection."""

    def __init__(self, conn, dialect):
        self.conn = conn
        self.dialect = dialect

    def execute(self, sql: str, params: tuple = ()):
        sql = self.dialect.sql(sql.format(**self.dialect.types) if "{" in sql else sql)
        return self.conn.execute(sql, params)

    def one(self, sql: str, params: tuple = ()):
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple = ()):
        return self.execute(sql, params).fetchall()


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
