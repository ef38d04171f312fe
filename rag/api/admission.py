"""Bounded concurrency for model work: a few worker threads, a short queue, then 503 instead of piling up."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio

T = TypeVar("T")


class Busy(Exception):
    """Every worker is busy and the queue is full."""


class Admission:
    def __init__(self, workers: int, queue_limit: int):
        self.workers, self.queue_limit = workers, queue_limit
        self._limiter = anyio.CapacityLimiter(workers)
        self.pending = 0  # running plus waiting; only the event loop thread touches it

    @property
    def running(self) -> int:
        return self._limiter.borrowed_tokens

    @property
    def queued(self) -> int:
        return self.pending - self.running

    async def run(self, function: Callable[..., T], *args, **kwargs) -> T:
        """Run blocking model work in a worker thread, or raise Busy when the queue is full."""
        if self.pending >= self.workers + self.queue_limit:
            raise Busy()
        self.pending += 1
        try:
            return await anyio.to_thread.run_sync(partial(function, *args, **kwargs), limiter=self._limiter)
        finally:
            self.pending -= 1
