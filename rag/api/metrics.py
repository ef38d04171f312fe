"""Prometheus metrics for GET /metrics: requests by route and status, latencies, queue and corpus size."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}  # anything else is labelled "other"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """One registry per app, so several apps (tests) never share or double-register counters."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("rag_requests", "HTTP requests served.", ["method", "route", "status"],
                                registry=self.registry)
        self.errors = Counter("rag_request_errors", "Responses with status 4xx or 5xx.", ["route", "status"],
                              registry=self.registry)
        self.latency = Histogram("rag_request_duration_seconds", "Time to the response's first byte.",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.in_progress = Gauge("rag_requests_in_progress", "Requests being handled now.", registry=self.registry)
        self.model_running = Gauge("rag_model_calls_running", "Model calls on a worker thread.", registry=self.registry)
        self.model_queued = Gauge("rag_model_calls_queued", "Model calls waiting for a worker.", registry=self.registry)
        self.rejected = Counter("rag_rejected", "Requests refused with 503 because the queue was full.",
                                registry=self.registry)
        self.documents = Gauge("rag_documents", "Documents in the index.", registry=self.registry)
        self.chunks = Gauge("rag_chunks", "Chunks in the index.", registry=self.registry)

    def observe(self, method: str, route: str, status: int, started: float) -> None:
        """`route` is a route template or "unmatched" and `method` one of METHODS or "other": a client cannot
        mint new label values, so the metrics page stays the same size whatever is sent."""
        method = method if method in METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(time.perf_counter() - started)
        if status >= 400:
            self.errors.labels(route, str(status)).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
