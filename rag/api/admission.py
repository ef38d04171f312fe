"""Bounded concurrency for model work: a few worker threads, a short queue, then 503 instead of piling up.

The queue counts requests by their cost (a question reading 50 passages weighs ten of 5), a request waits in it
at most `max_wait` seconds, and one whose client has gone is dropped when its turn comes instead of run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

import anyio

T = TypeVar("T")


class Busy(Exception):
    """Every worker is busy and the queue is full, or the request waited longer than it may (`waited` is True)."""

    def __init__(self, waited: bool = False):
        super().__init__()
        self.waited = waited


class Gone(Exception):
    """The client closed its connection while its request waited: nothing to answer."""


class Admission:
    def __init__(self, workers: int, queue_limit: int, max_wait: float = 30.0):
        self.workers, self.queue_limit, self.max_wait = workers, queue_limit, max_wait
        self._limiter = anyio.CapacityLimiter(workers)
        self.pending = 0  # cost of the requests running plus waiting; only the event loop thread touches it

    @property
    def running(self) -> int:
        return self._limiter.borrowed_tokens

    @property
    def queued(self) -> int:
        return self.pending - self.running

    async def run(self, function: Callable[..., T], *args, cost: int = 1,
                  gone: Callable[[], Awaitable[bool]] | None = None, **kwargs) -> T:
        """Run blocking model work in a worker thread.

        Args:
            function, args, kwargs: the work. cost: its weight in the queue (1 for an ordinary question).
            gone: tells whether the client has disconnected; asked when the request's turn comes.

        Raises:
            Busy: the queue is full, or the request waited over `max_wait` seconds. Gone: the client left.
        """
        cost = max(1, cost)
        if self.pending + cost > self.workers + self.queue_limit and self.pending:
            raise Busy()
        self.pending += cost
        borrower = object()
        try:
            with anyio.move_on_after(self.max_wait) as waited:
                await self._limiter.acquire_on_behalf_of(borrower)
            if waited.cancelled_caught:
                raise Busy(waited=True)
            try:
                if gone is not None and await gone():
                    raise Gone()
                return await anyio.to_thread.run_sync(partial(function, *args, **kwargs))
            finally:
                self._limiter.release_on_behalf_of(borrower)
        finally:
            self.pending -= cost
