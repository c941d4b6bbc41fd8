"""How fast the Slack endpoint acknowledges events, with 200 signed events arriving at once.

python bench/slack.py [--events 200] [--pg postgresql://127.0.0.1:5432/test]
The bot's real aiohttp server (signature check, Bolt, the core, the commit of the reply to the outbox) runs
with its delivery worker, as `policybot serve` runs it, against a fake Slack Web API on loopback. The load
comes from the same process (one event loop), so the figures include the client's share of the CPU.
Prints acknowledgement latency (median, p99, max: Slack allows 3 s) and how long until every reply was posted.
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
from bot.core import PolicyBot  # noqa: E402
from bot.directory import load_directory  # noqa: E402
from bench.common import DIRECTORY, QUESTIONS, ms, on_both_stores  # noqa: E402
from bot.storage import SqlStore  # noqa: E402
from tests.fake_slack import FakeSlack, event_body, payload, sign  # noqa: E402
from tests.slack_rig import SlackRig, start_fake_slack  # noqa: E402

USERS = ["U0ALEXMORG", "U0SAMPATEL", "U0DANAWHIT", "U0JOBLOGGS", "U0PRIYASH"]


async def measure(store: SqlStore, events: int) -> dict:
    store.migrate()
    fake = FakeSlack()
    fake_server = await start_fake_slack(fake)
    bot = PolicyBot(knowledge.load(), store, load_directory(DIRECTORY))
    rig = await SlackRig.start(bot, fake)
    stop = asyncio.Event()
    rig.adapter.wake = rig.worker.wake
    worker = asyncio.create_task(rig.worker.run(stop, 1.0))
    url = str(rig.client.make_url("/slack/events"))
    bodies = []
    for n in range(events):
        user = USERS[n % len(USERS)]
        data = payload("message_im", **{"event.user": user, "event.channel": "D" + user[1:], "event_id": f"EvBench{n:06d}",
                                        "event.text": QUESTIONS[n % len(QUESTIONS)]})
        bodies.append(event_body(data)[0])
    latencies: list[float] = []
    statuses: list[int] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(body: bytes) -> None:
            headers = {"Content-Type": "application/json", **sign(body)}
            start = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                statuses.append(response.status)
            latencies.append(time.perf_counter() - start)

        await one(event_body(payload("url_verification"))[0])  # warm up: connections, Bolt's first auth.test
        latencies.clear()
        statuses.clear()
        started = time.perf_counter()
        await asyncio.gather(*(one(body) for body in bodies))
        acked = time.perf_counter() - started
        while len(fake.posted()) < events and time.perf_counter() - started < 60:
            await asyncio.sleep(0.01)
        posted = time.perf_counter() - started
    stop.set()
    await worker
    await rig.close()
    await fake_server.close()
    store.close()
    return {"latencies": latencies, "acked": acked, "posted": posted, "replies": len(fake.posted()),
            "ok": statuses.count(200)}



def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--pg", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    rows = on_both_stores(lambda store: asyncio.run(measure(store, args.events)), args.pg, "bench_slack")
    print(f"{args.events} signed message.im events sent at once to /slack/events; fake Slack Web API on loopback")
    print("| storage | acked (200) | ack median ms | ack p99 ms | ack max ms | all acked s | all replies posted s |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        lat = r["latencies"]
        print(f"| {name} | {r['ok']}/{args.events} | {statistics.median(lat) * 1000:.0f} | {ms(lat, 99):.0f} | "
              f"{max(lat) * 1000:.0f} | {r['acked']:.2f} | {r['posted']:.2f} ({r['replies']} replies) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
