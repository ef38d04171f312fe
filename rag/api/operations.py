"""Operations: GET /health and GET /metrics (Prometheus); neither waits in the model queue. Both read the store on a
thread, never on the event loop: an unreachable database is a 503 within about a second
(rag.errors.DatabaseUnavailable), and a database that hangs (stopped, not dead) is a 503 after HEALTH_TIMEOUT_S."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from rag.api.common import RETRY_AFTER_S, HTTPProblem, current, errors
from rag.api.schemas import Health

router = APIRouter()


HEALTH_TIMEOUT_S = 2.0


@router.get("/health", response_model=Health, responses=errors(503))
async def health(request: Request):
    p, settings = current(request), request.app.state.settings

    def counts() -> tuple[int, int]:
        return len(p.store.documents), sum(p.store.chunk_counts().values())

    # A thread blocked on a hung database cannot be stopped; the answer does not wait for it.
    with anyio.move_on_after(HEALTH_TIMEOUT_S):
        documents, chunks = await anyio.to_thread.run_sync(counts, abandon_on_cancel=True)
        return Health(status="ok", documents=documents, chunks=chunks,
                      embedder=p.settings.embedder, embed_model=p.settings.embed_model,
                      answerer=p.settings.answerer, retrieval=p.settings.retrieval,
                      writes="key" if settings.api_key else "open" if settings.allow_writes else "off")
    raise HTTPProblem(503, f"the store did not answer within {HEALTH_TIMEOUT_S:.0f} s; retry shortly",
                      {"Retry-After": str(RETRY_AFTER_S)})


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}} | errors(503))
def prometheus(request: Request):
    """Prometheus text format: requests by route and status, latency histograms, queue and corpus size."""
    store, metrics, admission = current(request).store, request.app.state.metrics, request.app.state.admission
    metrics.documents.set(len(store.documents))
    metrics.chunks.set(sum(store.chunk_counts().values()))
    metrics.model_running.set(admission.running)
    metrics.model_queued.set(admission.queued)
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
