"""What the benchmarks share: both stores to measure on, percentiles in milliseconds, the questions staff send."""
from __future__ import annotations

import statistics
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from bot.storage import SqlStore


@contextmanager
def postgres_store(url: str, schema: str) -> Iterator[SqlStore]:
    """A store in a fresh schema of the PostgreSQL database at `url`, dropped afterwards."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield SqlStore.postgres(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def ms(values: list[float], q: int) -> float:
    """The q-th percentile of durations in seconds, in milliseconds (q=100: the maximum)."""
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if q < 100 else max(values) * 1000


DIRECTORY = Path(__file__).resolve().parent.parent / "deploy" / "directory.example.yaml"
QUESTIONS = [  # what the endpoint benchmarks send, in turn
    "can I accept a friend request from a service user?", "does this apply to WhatsApp?",
    "can I use my work email for twitter?", "what happens if I break the policy?", "can I post photos of colleagues?",
]


def on_both_stores(measure: Callable[[SqlStore], dict], pg_url: str, schema: str) -> list[tuple[str, dict]]:
    """measure(store) on a SQLite file, then on a fresh PostgreSQL schema (reported, not fatal, if unreachable)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("SQLite (file)", measure(SqlStore.sqlite(Path(tmp) / "bench.sqlite3"))))
    try:
        with postgres_store(pg_url, schema) as store:
            rows.append(("PostgreSQL (local)", measure(store)))
    except Exception as exc:  # noqa: BLE001 - the benchmark reports what it could not measure
        print(f"(PostgreSQL not measured: {exc})", file=sys.stderr)
    return rows
