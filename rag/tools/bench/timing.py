"""Repeat, warm up, summarise: every benchmark number is a median and a p95 over runs after warm-up."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "n": 0}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3), "n": len(values)}


def timed_ms(function: Callable[[], object], repeat: int, warmup: int = 1) -> dict[str, float]:
    """Milliseconds per call: `warmup` calls thrown away, then `repeat` measured."""
    for _ in range(warmup):
        function()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append((time.perf_counter() - started) * 1000)
    return percentiles(runs)


def each_ms(function: Callable[[object], object], inputs: list, warmup: int = 3) -> dict[str, float]:
    """Milliseconds per input, one call each (latency as a single user sees it)."""
    for item in inputs[:warmup]:
        function(item)
    runs = []
    for item in inputs:
        started = time.perf_counter()
        function(item)
        runs.append((time.perf_counter() - started) * 1000)
    return percentiles(runs)
