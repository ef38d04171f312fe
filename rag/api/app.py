"""FastAPI app. Models and index load once, at start-up; model work runs in FastAPI's thread pool (sync handlers)."""

from __future__ import annotations

from contextlib import asynccontextmanager

import hmac

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from rag.api.schemas import (
    AskRequest,
    AskResponse,
    DocumentIn,
    DocumentOut,
    DocumentSummary,
    ErrorOut,
    Health,
    Passage,
)
from rag.errors import RagError
from rag.index import Store
from rag.pipeline import Pipeline
from rag.settings import Settings

ERRORS = {400: {"model": ErrorOut}, 404: {"model": ErrorOut}, 422: {"model": ErrorOut}}
WRITE_ERRORS = ERRORS | {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 413: {"model": ErrorOut}}


class HTTPProblem(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        self.status, self.message, self.headers = status, message, headers


def create_app(settings: Settings, pipeline: Pipeline | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pipeline = pipeline or Pipeline.open(settings)
        yield

    app = FastAPI(title="rag-news", version="0.1.0", lifespan=lifespan,
                  description="Questions about the indexed news articles, answered with checked citations.")

    @app.exception_handler(RagError)
    async def user_error(request: Request, exc: RagError):
        status = 404 if str(exc).startswith("no document with id") else 400
        return JSONResponse(status_code=status, content={"error": str(exc)})

    @app.exception_handler(HTTPProblem)
    async def problem(request: Request, exc: HTTPProblem):
        return JSONResponse(status_code=exc.status, content={"error": exc.message}, headers=exc.headers)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > settings.max_body_bytes):
            return JSONResponse(status_code=413, content={"error": f"request body over {settings.max_body_bytes} bytes"})
        return await call_next(request)

    def may_write(authorization: str | None = Header(None)) -> None:
        """Writes need the API key when one is set; without one, only a server started with --allow-writes takes them."""
        if settings.api_key is not None:
            expected = f"Bearer {settings.api_key.get_secret_value()}"
            if not hmac.compare_digest((authorization or "").encode(), expected.encode()):
                raise HTTPProblem(401, "document writes need 'Authorization: Bearer <RAG_API_KEY>'",
                                  {"WWW-Authenticate": "Bearer"})
        elif not settings.allow_writes:
            raise HTTPProblem(403, "document writes are disabled: set RAG_API_KEY, or start with --allow-writes")

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
        return [summary(store, doc_id) for doc_id in store.documents]

    @app.get("/documents/{doc_id}", response_model=DocumentOut, responses=ERRORS)
    def document(doc_id: str, request: Request):
        store = current(request).store
        found = store.documents.get(doc_id)  # a lookup by id, never a path: ids cannot reach the file system
        if found is None:
            return JSONResponse(status_code=404, content={"error": f"no document with id {doc_id!r}"})
        return DocumentOut(**summary(store, doc_id).model_dump(), text=found.text, blocks=[vars(b) for b in found.blocks])

    @app.post("/documents", response_model=DocumentSummary, status_code=201, responses=WRITE_ERRORS,
              dependencies=[Depends(may_write)])
    def add_document(body: DocumentIn, request: Request):
        pipeline = current(request)
        document = pipeline.add_document(body.doc_id, body.text)
        return summary(pipeline.store, document.doc_id)

    @app.delete("/documents/{doc_id}", status_code=204, responses=WRITE_ERRORS, dependencies=[Depends(may_write)])
    def delete_document(doc_id: str, request: Request):
        current(request).remove_document(doc_id)

    @app.get("/health", response_model=Health)
    def health(request: Request):
        p = current(request)
        return Health(status="ok", documents=len(p.store.documents), chunks=len(p.store.chunks),
                      embedder=p.settings.embedder, embed_model=p.settings.embed_model,
                      answerer=p.settings.answerer, retrieval=p.settings.retrieval)

    return app


def summary(store: Store, doc_id: str) -> DocumentSummary:
    document = store.documents[doc_id]
    chunks = sum(1 for c in store.chunks if c.doc_id == doc_id)
    return DocumentSummary(doc_id=doc_id, title=document.title, chunks=chunks, characters=len(document.text))
