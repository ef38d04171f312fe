"""Operations: GET /health and GET /metrics (Prometheus); neither waits in the model queue. Plain `def`
handlers: FastAPI runs them on its thread pool, so a store that blocks (a database outage) never holds the
event loop; an unreachable database is a 503 within about a second (rag.errors.DatabaseUnavailable)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from rag.api.common import current, errors
from rag.api.schemas import Health

router = APIRouter()


@router.get("/health", response_model=Health, responses=errors(503))
def health(request: Request):
    p, settings = current(request), request.app.state.settings
    return Health(status="ok", documents=len(p.store.documents), chunks=sum(p.store.chunk_counts().values()),
                  embedder=p.settings.embedder, embed_model=p.settings.embed_model,
                  answerer=p.settings.answerer, retrieval=p.settings.retrieval,
                  writes="key" if settings.api_key else "open" if settings.allow_writes else "off")


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
