"""How long a guided-flow turn, a submission and a delivery take, on SQLite and on PostgreSQL.

python bench/flows.py [--reports 50] [--pg postgresql://127.0.0.1:5432/test]
Prints a table: median and p99 milliseconds per dialog turn, per submission (case + outbox in one
transaction), and notifications delivered per second by one worker with a transport that returns at once.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import knowledge  # noqa: E402
from bot.core import PolicyBot  # noqa: E402
from bot.delivery import Worker  # noqa: E402
from bot.directory import load_directory  # noqa: E402
from bench.common import DIRECTORY, ms, on_both_stores  # noqa: E402
from bot.storage import SqlStore  # noqa: E402
from bot.types import Incoming  # noqa: E402

SCRIPT = [
    "I need to report a post I made by mistake", "council", "facebook", "https://facebook.com/ourcouncil/posts/1",
    "wrong date for bin collections", "yes", "today at 9", "no",
]


class Instant:
    async def send(self, notification):
        return "ok"

    async def find(self, notification):
        return None


def measure(store: SqlStore, reports: int) -> dict:
    store.migrate()
    bot = PolicyBot(knowledge.load(), store, load_directory(DIRECTORY))
    turns, submits = [], []
    for n in range(reports):
        for text in SCRIPT:
            start = time.perf_counter()
            bot.handle(Incoming("bench", f"c{n}", "alex.morgan@council.example", text))
            turns.append(time.perf_counter() - start)
        start = time.perf_counter()
        bot.handle(Incoming("bench", f"c{n}", "alex.morgan@council.example", "send"))
        submits.append(time.perf_counter() - start)
    worker = Worker(store, Instant(), bot.cases, batch=50)
    start = time.perf_counter()
    delivered = asyncio.run(worker.run_once())
    rate = delivered / (time.perf_counter() - start)
    return {"turn": turns, "submit": submits, "rate": rate, "delivered": delivered}



def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--pg", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    rows = on_both_stores(lambda store: measure(store, args.reports), args.pg, "bench_flows")
    print(f"{args.reports} reports of a mistaken post, {len(SCRIPT) + 1} turns each")
    print("| storage | turn median ms | turn p99 ms | submit median ms | submit p99 ms | deliveries/s |")
    print("|---|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {statistics.median(r['turn']) * 1000:.2f} | {ms(r['turn'], 99):.2f} | "
              f"{statistics.median(r['submit']) * 1000:.2f} | {ms(r['submit'], 99):.2f} | {r['rate']:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
