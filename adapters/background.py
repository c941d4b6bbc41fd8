"""Work an adapter starts after answering the platform, that nobody waits for and that may be lost (a page
refresh, a view of one's cases): failures are logged, and `settle` waits for it (tests, shutdown)."""
from __future__ import annotations

import asyncio
import logging


class Background:
    def __init__(self, log: logging.Logger, what: str):
        self.log, self.what = log, what
        self._tasks: set[asyncio.Task] = set()

    def later(self, work) -> None:
        task = asyncio.ensure_future(self._quietly(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _quietly(self, work) -> None:
        try:
            await work
        except Exception as exc:
            self.log.warning("%s failed: %s: %s", self.what, type(exc).__name__, exc)

    async def settle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
