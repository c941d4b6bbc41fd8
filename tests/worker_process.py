"""A bot process for the crash tests: submits reports or delivers the outbox, and can be killed at a chosen moment.

python -m tests.worker_process submit-then-die DB          submit a report, commit, then die before any delivery
python -m tests.worker_process hang-after-send DB FILE     deliver one notification, then hang (to be killed)
python -m tests.worker_process drain DB FILE NAME          say READY, wait for a line, deliver until the outbox is empty
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys

import knowledge
from bot.core import PolicyBot
from bot.delivery import Worker
from bot.directory import load_directory
from tests.support import EXAMPLE_DIRECTORY, Chat, FileTransport, open_store

MISTAKE = [
    "I need to report a post I made by mistake", "council", "facebook", "https://facebook.com/ourcouncil/posts/1",
    "wrong date for bin collections", "yes", "today at 9", "no", "send",
]


def main(mode: str, db: str, *rest: str) -> None:
    store = open_store(db)
    bot = PolicyBot(knowledge.load(), store, load_directory(EXAMPLE_DIRECTORY))
    if mode == "submit-then-die":
        chat = Chat(bot)
        for line in MISTAKE:
            reply = chat.say(line)
        print(reply.split(";")[0], flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    path, name = rest[0], (rest[1] if len(rest) > 1 else mode)
    transport = FileTransport(path, worker=name, hang_after_send=mode == "hang-after-send")
    worker = Worker(store, transport, bot.cases, name=name, lease=2.0, batch=1)
    if mode == "drain":  # start together with the other workers
        print("READY", flush=True)
        sys.stdin.readline()
    asyncio.run(worker.run_once())
    print("DRAINED", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
