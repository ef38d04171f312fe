"""Connection limits uvicorn does not set by itself, and a log that cannot be flooded.

- A request must finish sending its headers within `header_timeout` seconds of the connection opening
  (or of the previous response on a kept-alive connection), and its body within `body_timeout` seconds of
  the headers; a half-sent request is closed, not held (a client trickling one byte at a time would
  otherwise keep a connection, and with enough of them every connection, for ever).
- Past `max_connections` open connections, a new one is closed at once, before it holds a file handle
  for long.
- Repeated log lines (one bad client sending the same invalid request thousands of times) are cut to a
  few per second per message, with a count of what was dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time

from uvicorn.protocols.http.h11_impl import H11Protocol


def bounded_protocol(header_timeout: float, body_timeout: float, max_connections: int) -> type[H11Protocol]:
    class BoundedH11Protocol(H11Protocol):
        _body_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                transport.close()
                return
            self._arm()

        def _arm(self) -> None:
            self._header_deadline = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _headers_too_slow(self) -> None:
            if self.cycle is None or self.cycle.response_complete:  # no request under way: still in the headers
                self._close()

        def _body_too_slow(self, cycle) -> None:
            if self.cycle is cycle and cycle.more_body and not cycle.response_complete:
                self._close()  # the app's receive() then sees a disconnect

        def _close(self) -> None:
            if not self.transport.is_closing():
                self.transport.close()

        def _disarm(self) -> None:
            self._header_deadline.cancel()
            if self._body_deadline is not None:
                self._body_deadline.cancel()
                self._body_deadline = None

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete:
                self._header_deadline.cancel()  # the headers are in: the body has its own deadline
                if cycle.more_body and self._body_deadline is None:
                    self._body_deadline = self.loop.call_later(body_timeout, self._body_too_slow, cycle)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._disarm()
                self._arm()

        def connection_lost(self, exc) -> None:
            if hasattr(self, "_header_deadline"):
                self._disarm()
            super().connection_lost(exc)

    return BoundedH11Protocol


class RepeatFilter(logging.Filter):
    """Let through at most `burst` records per message template per second; note how many were dropped."""

    def __init__(self, burst: int = 5):
        super().__init__()
        self.burst = burst
        self.window: dict[str, tuple[int, int]] = {}  # template -> (second, records seen in it)

    def filter(self, record: logging.LogRecord) -> bool:
        second = int(time.monotonic())
        key = str(record.msg)
        start, seen = self.window.get(key, (second, 0))
        if start != second:
            if seen > self.burst:
                record.msg = f"{record.msg} (and {seen - self.burst} more like it in the previous second)"
            start, seen = second, 0
        self.window[key] = (start, seen + 1)
        if len(self.window) > 10_000:
            self.window.clear()
        return seen < self.burst
