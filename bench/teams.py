"""Reply latency of the Teams endpoint, with 100 activities arriving at once.

python bench/teams.py [--activities 100] [--pg postgresql://127.0.0.1:5432/test]
The bot's real aiohttp server runs with an app id, so every request goes through the production token
validation (RS256 signature, issuer, audience, expiry, serviceurl claim; keys from a local OpenID endpoint),
then the core and the commit of the reply to the outbox; the delivery worker posts replies as Adaptive Cards
to a fake Bot Framework connector on loopback. Each activity is in its own conversation. Reply latency is
from sending the activity to its reply reaching the connector. The load comes from the same process.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

import knowledge  # noqa: E402
from bench.common import DIRECTORY, QUESTIONS, ms, on_both_stores  # noqa: E402
from bot.core import PolicyBot  # noqa: E402
from bot.directory import load_directory  # noqa: E402
from bot.storage import SqlStore  # noqa: E402
from tests.fake_teams import FakeConnector, payload  # noqa: E402
from tests.teams_rig import TeamsRig, auth_settings, start_fake_connector  # noqa: E402

USERS = ["29:1alex-morgan", "29:1sam-patel", "29:1dana-whitfield", "29:1jo-bloggs", "29:1priya-shah"]


async def measure(store: SqlStore, count: int) -> dict:
    store.migrate()
    fake = FakeConnector()
    fake_server = await start_fake_connector(fake)
    bot = PolicyBot(knowledge.load(), store, load_directory(DIRECTORY))
    rig = await TeamsRig.start(bot, fake, settings=auth_settings(fake))
    stop = asyncio.Event()
    rig.adapter.wake = rig.worker.wake
    worker = asyncio.create_task(rig.worker.run(stop, 1.0))
    url = str(rig.client.make_url("/api/messages"))
    activities = []
    for n in range(count):
        activity = payload("message_personal", serviceUrl=fake.url, id=f"bench-{n}", text=QUESTIONS[n % len(QUESTIONS)])
        activity["from"]["id"] = USERS[n % len(USERS)]
        activity["conversation"]["id"] = f"a:bench-{n}"
        activities.append(activity)
    sent_at: dict[str, float] = {}
    acks: list[float] = []
    statuses: list[int] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async def one(activity: dict) -> None:
            headers = {"Authorization": f"Bearer {fake.key.token(activity['serviceUrl'])}"}
            start = sent_at[activity["conversation"]["id"]] = time.perf_counter()
            async with session.post(url, json=activity, headers=headers) as response:
                await response.read()
                statuses.append(response.status)
            acks.append(time.perf_counter() - start)

        warm = payload("message_personal", serviceUrl=fake.url, id="warm-up", text="hello")
        await one(warm)  # warm up: signing keys fetched, connections open
        while not fake.sent("a:1alex-personal"):
            await asyncio.sleep(0.01)
        acks.clear()
        statuses.clear()
        sent_at.clear()
        started = time.perf_counter()
        await asyncio.gather(*(one(a) for a in activities))
        while len(fake.sent()) < count + 1 and time.perf_counter() - started < 60:
            await asyncio.sleep(0.01)
        everything = time.perf_counter() - started
    replies = [c.at - sent_at[c.conversation] for c in fake.sent() if c.conversation in sent_at]
    stop.set()
    await worker
    await rig.close()
    await fake_server.close()
    store.close()
    return {"acks": acks, "replies": replies, "ok": statuses.count(200), "all": everything}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--activities", type=int, default=100)
    parser.add_argument("--pg", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    rows = on_both_stores(lambda store: asyncio.run(measure(store, args.activities)), args.pg, "bench_teams")
    print(f"{args.activities} authenticated message activities sent at once to /api/messages; fake connector on loopback")
    print("| storage | accepted (200) | reply median ms | reply p99 ms | ack median ms | ack p99 ms | all replied s |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        rep, ack = r["replies"], r["acks"]
        print(f"| {name} | {r['ok']}/{args.activities} | {statistics.median(rep) * 1000:.0f} | {ms(rep, 99):.0f} | "
              f"{statistics.median(ack) * 1000:.0f} | {ms(ack, 99):.0f} | {r['all']:.2f} ({len(rep)} replies) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
