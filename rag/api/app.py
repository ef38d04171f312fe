"""FastAPI app. Models and index load once, at start-up; model work runs in FastAPI's thread pool (sync handlers)."""

from __future__ import annotations

from collections import Counter
from contextlib import asynccontextmanager

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from rag.answer import ANSWERERS
from rag.api.schemas import AskRequest, AskResponse, DocumentOut, DocumentSummary, ErrorOut, Health, Passage
from rag.errors import RagError
from rag.pipeline import Pipeline
from rag.settings import Settings

ERRORS = {400: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}


def create_app(settings: Settings, pipeline: Pipeline | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pipeline = pipeline or Pipeline.open(settings)
        yield

    app = FastAPI(title="rag-news", version="0.1.0", lifespan=lifespan,
                  description="Questions about the indexed news articles, answered with checked citations.")

    @app.exception_handler(RagError)
    async def user_error(request: Request, exc: RagError):
        return JSONResponse(status_code=400, content={"error": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        return JSONResponse(status_code=422, content={"error": problems})

    def current(request: Request) -> Pipeline:
        return request.app.state.pipeline

    @app.post("/ask", response_model=AskResponse, responses=ERRORS)
    def ask(body: AskRequest, request: Request):
        if body.answerer is not None and body.answerer not in ANSWERERS:
            raise RagError(f"unknown answerer {body.answerer!r}; choose one of: {', '.join(ANSWERERS)}")
        return current(request).ask(body.question, k=body.k, answerer=body.answerer).to_dict()

    @app.get("/search", response_model=list[Passage], responses=ERRORS)
    def search(request: Request, q: str = Query(..., min_length=1, max_length=2000), k: int = Query(5, ge=1, le=50)):
        hits = current(request).search(q, k)
        return [
            Passage(rank=i, score=h.score, chunk_id=h.chunk.id, doc_id=h.chunk.doc_id, title=h.chunk.title,
                    start=h.chunk.start, end=h.chunk.end, text=h.chunk.text)
            for i, h in enumerate(hits, start=1)
        ]

    @app.get("/documents", response_model=list[DocumentSummary])
    def documents(request: Request):
        store = current(request).store
        counts = Counter(c.doc_id for c in store.chunks)
        return [DocumentSummary(doc_id=d.doc_id, title=d.title, chunks=counts[d.doc_id], characters=len(d.text))
                for d in store.documents.values()]

    @app.get("/documents/{doc_id}", response_model=DocumentOut, responses=ERRORS)
    def document(doc_id: str, request: Request):
        store = current(request).store
        found = store.documents.get(doc_id)  # a lookup by id, never a path: ids cannot reach the file system
        if found is None:
            return JSONResponse(status_code=404, content={"error": f"no document with id {doc_id!r}"})
        chunks = sum(1 for c in store.chunks if c.doc_id == doc_id)
        return DocumentOut(doc_id=found.doc_id, title=found.title, chunks=chunks, characters=len(found.text),
                           text=found.text, blocks=[vars(b) for b in found.blocks])

    @app.get("/health", response_model=Health)
    def health(request: Request):
        p = current(request)
        return Health(status="ok", documents=len(p.store.documents), chunks=len(p.store.chunks),
                      embedder=p.settings.embedder, embed_model=p.settings.embed_model,
                      answerer=p.settings.answerer, retrieval=p.settings.retrieval)

    return app
