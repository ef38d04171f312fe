"""Drive a live server with N concurrent clients over loopback; record every request's latency and status,
and the server's memory while it runs."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from rag.tools.bench.server import memory_kib
from rag.tools.bench.timing import percentiles

# A request: (kind, method, path, keyword arguments for httpx)
Request = tuple[str, str, str, dict]


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)  # by kind, successful requests only
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # anything but 2xx and deliberate 503 back-pressure
    memory_kib: list[tuple[float, int]] = field(default_factory=list)  # (seconds into the run, RSS)
    peak_kib: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def summary(self) -> dict:
        every = [ms for values in self.latencies_ms.values() for ms in values]
        summary = {
            "clients": self.clients,
            "seconds": round(self.seconds, 2),
            "requests": self.requests,
            "requests_per_s": round(self.requests / self.seconds, 2) if self.seconds else 0.0,
            "ok": sum(n for s, n in self.statuses.items() if 200 <= s < 300),
            "rejected_503": self.statuses.get(503, 0),
            "errors": len(self.errors),
            "latency_ms": percentiles(every),
            "latency_ms_by_kind": {kind: percentiles(values) for kind, values in sorted(self.latencies_ms.items())},
        }
        if self.memory_kib:
            summary["server_memory_mib"] = memory_growth(self.memory_kib) | {"peak": round(self.peak_kib / 1024, 1)}
        return summary


def memory_growth(samples: list[tuple[float, int]]) -> dict[str, float]:
    """Peak RSS in the second half of the run against the first half's: the allocator settles early (after
    a warm-up, see rag/tools/bench/stress.py), while a leak keeps growing through the second half. (RSS at one
    early instant against the last sample varied from 3 to 69 MiB between identical 8 s runs.)"""
    half = samples[-1][0] / 2
    first = max(rss for t, rss in samples if t <= half)
    second = max((rss for t, rss in samples if t > half), default=first)
    return {"first_half": round(first / 1024, 1), "second_half": round(second / 1024, 1),
            "growth": round((second - first) / 1024, 1)}


async def _client(client: httpx.AsyncClient, requests: Callable[[], Request], result: LoadResult,
                  budget: itertools.count, limit: int | None, deadline: float) -> None:
    while time.monotonic() < deadline and (limit is None or next(budget) < limit):
        kind, method, path, arguments = requests()
        started = time.perf_counter()
        try:
            response = await client.request(method, path, **arguments)
        except httpx.HTTPError as exc:
            result.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            continue
        elapsed = (time.perf_counter() - started) * 1000
        result.statuses[response.status_code] += 1
        if 200 <= response.status_code < 300:
            result.latencies_ms.setdefault(kind, []).append(elapsed)
        elif response.status_code == 503:
            await asyncio.sleep(float(response.headers.get("retry-after", 1)))  # back off as asked
        else:
            result.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")


async def _sample_memory(pid: int, result: LoadResult, started: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            memory = memory_kib(pid)
        except FileNotFoundError:  # the server died; the requests report it
            return
        result.memory_kib.append((time.monotonic() - started, memory["VmRSS"]))
        result.peak_kib = max(result.peak_kib, memory["VmHWM"])
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except TimeoutError:
            pass


async def _run(url: str, clients: int, requests: Callable[[], Request], seconds: float, limit: int | None,
               server_pid: int | None) -> LoadResult:
    result = LoadResult(clients=clients, seconds=0.0)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        started = time.monotonic()
        stop = asyncio.Event()
        sampler = asyncio.create_task(_sample_memory(server_pid, result, started, stop)) if server_pid else None
        budget = itertools.count()
        await asyncio.gather(*(_client(client, requests, result, budget, limit, started + seconds)
                               for _ in range(clients)))
        result.seconds = time.monotonic() - started
        stop.set()
        if sampler:
            await sampler
    return result


def run_traffic(url: str, clients: int, requests: Callable[[], Request], seconds: float = 60.0,
             limit: int | None = None, server_pid: int | None = None) -> LoadResult:
    """Run until `seconds` pass or `limit` requests have been sent, whichever comes first."""
    return asyncio.run(_run(url, clients, requests, seconds, limit, server_pid))


def ask_only(questions: list[str], seed: int = 0) -> Callable[[], Request]:
    pick = random.Random(seed).choice
    return lambda: ("ask", "POST", "/ask", {"json": {"question": pick(questions)}})


SLOTS = 4  # document ids the adds of a mixed load rotate through


def mixed(questions: list[str], add_share: float, api_key: str, seed: int = 0, slots: int = SLOTS) -> Callable[[], Request]:
    """Asks, searches and document adds. Adds replace a few rotating ids, so the corpus (and the memory it
    needs) stays the same size however long the run: growth would then mean a leak."""
    chooser = random.Random(seed)
    adds = itertools.count()
    headers = {"Authorization": f"Bearer {api_key}"}

    def next_request() -> Request:
        roll = chooser.random()
        if roll < add_share:
            n = next(adds)
            text = (f"Load Test Bulletin {n}\n\nThe load test bulletin number {n} says Gwangju counted "
                    f"{n % 97} visitors at the AI hub on day {n}.\n")
            return "add", "POST", "/documents", {"json": {"doc_id": f"load-{n % slots}", "text": text},
                                                 "headers": headers}
        if roll < add_share + 0.3:
            return "search", "GET", "/search", {"params": {"q": chooser.choice(questions), "k": 5}}
        return "ask", "POST", "/ask", {"json": {"question": chooser.choice(questions)}}

    return next_request
