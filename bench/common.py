"""What the storage benchmarks share: a throw-away PostgreSQL schema, and percentiles in milliseconds."""
from __future__ import annotations

import statistics
from contextlib import contextmanager
from typing import Iterator

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
