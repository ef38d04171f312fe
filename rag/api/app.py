"""FastAPI app. Models and index load once, at start-up; model work runs on a few worker threads behind a queue."""

from __future__ import annotations

import asyncio
import errno
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException
from starlette.routing import Match
from fastapi.sse import format_sse_event
from starlette.responses import StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import ValidationError

from rag.api import chat
from rag.api.admission import Admission, Busy
from rag.api.body_limit import BodyLimit
from rag.api.chat import ChatRequest
from rag.api.metrics import Metrics
from rag.api.schemas import (
    QUESTION_SCHEMA,
    AskRequest,
    AskResponse,
    DocumentIn,
    DocumentOut,
    DocumentSummary,
    ErrorOut,
    OpenAIErrorOut,
    Health,
    Passage,
)
from rag.errors import RagError
from rag.load import Document, TooLong, decode_text, file_text
from rag.inputs import validate_question
from rag.contracts import Result
from rag.conversation import standalone
from rag.pipeline import LastDocument, NoSuchDocument, Pipeline
from rag.settings import Settings

PAGE = Path(__file__).with_name("page.html")
RETRY_AFTER_S = 1

def errors(*statuses: int, model: type = ErrorOut) -> dict:
    """Error responses as JSON {"error"}, stated explicitly so streaming routes do not claim them as events."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {status: {"model": model, "content": {"application/json": {"schema": schema}}} for status in statuses}


ERRORS = errors(400, 404, 413, 422, 503)
OPENAI_ERRORS = errors(400, 404, 413, 422, 503, model=OpenAIErrorOut)
WRITE_ERRORS = ERRORS | errors(401, 403, 409, 415, 507)
STREAM_EVENTS = {200: {"description": "Server-sent events; each `data` is one JSON object.", "content": {
    "text/event-stream": {"schema": {
        "type": "object", "required": ["event", "data"],
        "properties": {"event": {"type": "string", "enum": ["answer", "citation", "passage", "done"]},
                       "data": {"type": "string", "contentMediaType": "application/json"}}}}}}}
# POST /documents takes JSON or a multipart file upload; FastAPI cannot declare both from one signature.
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DocumentIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "description": "A .txt or .md file (text; its encoding is detected), or an .html, .pdf or .docx file (its text is extracted)."},
                        "doc_id": {"type": "string", "description": "Defaults to the file name without suffix."},
                    },
                },
                "encoding": {"file": {"contentType": "text/plain, text/markdown"}},
            },
        },
    }
}


# FastAPI's words for a body it cannot decode (invalid UTF-8 in JSON, say), and what to tell the client instead.
PARSE_ERRORS = {"There was an error parsing the body": "the request body cannot be parsed: send JSON encoded as UTF-8"}


class EventStream(StreamingResponse):
    """Server-sent events from a plain iterator of encoded events. (FastAPI's EventSourceResponse expects the
    endpoint itself to be a generator, which would start the stream before the answer, and its errors, exist.)"""

    media_type = "text/event-stream"


def error(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """{"error": message}; under /v1/ OpenAI's shape, {"error": {"message", "type"}}, which its clients read."""
    body: dict = {"error": message}
    if request.url.path.startswith("/v1/"):
        kind = "invalid_request_error" if status < 500 else "server_error"
        body = {"error": {"message": message, "type": kind, "code": status}}
    return JSONResponse(status_code=status, content=body, headers=headers)


class HTTPProblem(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        self.status, self.message, self.headers = status, message, headers


def create_app(settings: Settings, pipeline: Pipeline | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pipeline = pipeline or Pipeline.open(settings)
        # A database store is loaded by `rag index`; replicas on other machines may not share the folder.
        polls = settings.watch_seconds and not app.state.pipeline.store.shared
        watcher = asyncio.create_task(watch(app.state.pipeline)) if polls else None
        yield
        if watcher:
            watcher.cancel()

    async def watch(pipeline: Pipeline) -> None:
        """Poll the corpus folder (documented in the README): cheap while nothing changes (size and time first)."""
        last_error = None
        while True:
            await asyncio.sleep(settings.watch_seconds)
            try:
                await admitted(pipeline.sync)
                last_error = None
            except HTTPProblem:
                pass  # busy: the next round will do it
            except Exception as exc:  # keep serving the index it has; say why once, not every round
                if str(exc) != last_error:
                    pipeline.log(f"corpus watch: {exc}")
                    last_error = str(exc)

    app = FastAPI(title="rag-news", version="0.1.0", lifespan=lifespan,
                  description="Questions about the indexed news articles, answered with checked citations.")
    admission = Admission(settings.workers, settings.queue_limit)
    metrics = Metrics()

    async def admitted(function, *args, **kwargs):
        try:
            return await admission.run(function, *args, **kwargs)
        except Busy:
            metrics.rejected.inc()
            raise HTTPProblem(503, f"server busy: {admission.pending} requests in progress or queued; retry shortly",
                              {"Retry-After": str(RETRY_AFTER_S)}) from None

    # --- errors and middleware ---------------------------------------------------------------

    @app.exception_handler(RagError)
    async def user_error(request: Request, exc: RagError):
        status = {NoSuchDocument: 404, LastDocument: 409, TooLong: 413}.get(type(exc), 400)
        return error(request, status, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        """Starlette's own errors (404, 405, malformed forms) in the same {"error"} shape as ours."""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette lists only the first route's methods; list every route's for the path
            methods = {m for r in app.routes if r.matches(request.scope)[0] != Match.NONE for m in r.methods or ()}
            headers["Allow"] = ", ".join(sorted(methods))
        message = PARSE_ERRORS.get(str(exc.detail), str(exc.detail))
        if exc.status_code == 404:  # no route matched (an encoded '/' in an id splits it into more path segments)
            message = f"not found: {request.method} {request.url.path}; the endpoints are listed at /docs"
        return error(request, exc.status_code, message, headers)

    @app.exception_handler(OSError)
    async def storage_error(request: Request, exc: OSError):
        """A write that failed on the disk changed nothing (see Pipeline.add_document); say why, as JSON."""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return error(request, 507, "the disk is full; the document was not added and the previous index is still served")
        return error(request, 503, f"storage error ({exc.strerror or exc}); nothing changed")

    @app.exception_handler(HTTPProblem)
    async def problem(request: Request, exc: HTTPProblem):
        return error(request, exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        return error(request, 422, describe(exc.errors()))

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    hosts = {h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip()}

    @app.middleware("http")
    async def measure(request: Request, call_next):
        started = time.perf_counter()
        if hosts and host_name(request.headers.get("host", "")) not in hosts:
            response = JSONResponse(status_code=400, content={"error": "unknown Host header; see RAG_ALLOWED_HOSTS"})
            metrics.observe(request.method, "unmatched", 400, started)
            return response
        metrics.in_progress.inc()
        try:
            response = await call_next(request)
        finally:
            metrics.in_progress.dec()
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.observe(request.method, route, response.status_code, started)
        return response

    def may_write(request: Request,
                  bearer: HTTPAuthorizationCredentials | None = Depends(HTTPBearer(auto_error=False))) -> None:
        """Writes need the API key when one is set; without one, only a server started with --allow-writes takes them.
        Either way a browser on another site may not write: a form can post multipart without a preflight."""
        if cross_site(request):
            raise HTTPProblem(403, "cross-site document writes are refused (Origin or Sec-Fetch-Site names another site)")
        if settings.api_key is not None:
            given = bearer.credentials if bearer else ""
            if not hmac.compare_digest(given.encode(), settings.api_key.get_secret_value().encode()):
                raise HTTPProblem(401, "document writes need 'Authorization: Bearer <RAG_API_KEY>'",
                                  {"WWW-Authenticate": "Bearer"})
        elif not settings.allow_writes:
            raise HTTPProblem(403, "document writes are disabled: set RAG_API_KEY, or start with --allow-writes")

    def current(request: Request) -> Pipeline:
        return request.app.state.pipeline

    # --- questions ---------------------------------------------------------------------------

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    async def page():
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @app.post("/ask", response_model=AskResponse, responses=ERRORS)
    async def ask(body: AskRequest, request: Request):
        result = await admitted(current(request).ask, body.question, k=body.k, answerer=body.answerer,
                                doc_ids=body.doc_ids)
        return result.to_dict()

    @app.post("/ask/stream", response_class=EventStream, responses=STREAM_EVENTS | ERRORS)
    async def ask_stream(body: AskRequest, request: Request):
        """Events: `answer` (answer, text, abstained), one `citation` per citation (or `passage` when it abstains),
        then `done`. The answer is worked out before the first event, so every error is an ordinary 4xx/503."""
        result = await admitted(current(request).ask, body.question, k=body.k, answerer=body.answerer,
                                doc_ids=body.doc_ids)
        return EventStream(answer_events(result.to_dict()))

    @app.post("/v1/chat/completions", responses=OPENAI_ERRORS)
    async def chat_completions(body: ChatRequest, request: Request):
        """OpenAI-compatible chat (see rag/api/chat.py): the last user message is the question, made standalone
        from the earlier turns; `stream: true` answers in OpenAI's server-sent chunks."""
        if body.messages[-1].role != "user" or not body.messages[-1].text().strip():
            raise HTTPProblem(422, "messages: the last message must be the user's question")
        pipeline = current(request)

        def answer() -> tuple[str, Result]:
            question = standalone(body.turns(), pipeline.nlp)
            return question, pipeline.ask(question, doc_ids=body.doc_ids)

        question, result = await admitted(answer)
        if body.stream:
            return EventStream(chat.chunks(result, question, body.model))
        return chat.completion(result, question, body.model)

    @app.get("/v1/models")
    async def chat_models():
        return chat.models()

    @app.get("/search", response_model=list[Passage], responses=ERRORS)
    async def search(request: Request, q: str = Query(..., **QUESTION_SCHEMA),
                     k: int | None = Query(None, ge=1, le=50, description="Passages; the server's RAG_K when left out."),
                     doc_ids: list[str] | None = Query(None, max_length=100,
                                                       description="Search only these documents (repeat the parameter).")):
        try:
            q = validate_question(q)
        except RagError as exc:
            raise HTTPProblem(422, f"q: {exc}") from None
        hits = await admitted(current(request).search, q, k or settings.k, doc_ids=doc_ids)
        return [
            Passage(rank=i, score=h.score, chunk_id=h.chunk.id, doc_id=h.chunk.doc_id, title=h.chunk.title,
                    start=h.chunk.start, end=h.chunk.end, text=h.chunk.text)
            for i, h in enumerate(hits, start=1)
        ]

    # --- documents ---------------------------------------------------------------------------

    @app.get("/documents", response_model=list[DocumentSummary])
    async def documents(request: Request):
        store = current(request).store
        counts = store.chunk_counts()  # one pass, not one per document
        return [summary(document, counts.get(doc_id, 0)) for doc_id, document in store.documents.items()]

    @app.get("/documents/{doc_id}", response_model=DocumentOut, responses=ERRORS)
    async def document(doc_id: str, request: Request):
        store = current(request).store
        found = store.documents.get(doc_id)  # a lookup by id, never a path: ids cannot reach the file system
        if found is None:
            raise HTTPProblem(404, f"no document with id {doc_id!r}")
        chunks = store.chunk_counts().get(doc_id, 0)
        return DocumentOut(**summary(found, chunks).model_dump(), text=found.text, blocks=[vars(b) for b in found.blocks])

    @app.post("/documents", response_model=DocumentSummary, status_code=201, responses=WRITE_ERRORS,
              dependencies=[Depends(may_write)], openapi_extra=UPLOAD_BODY)
    async def add_document(request: Request):
        """Add or replace a document: JSON `{doc_id, text}`, or a multipart upload with `file` (and `doc_id`)."""
        doc_id, text = await document_from_request(request)
        pipeline = current(request)
        document = await admitted(pipeline.add_document, doc_id, text)
        return summary(document, pipeline.store.chunk_counts().get(document.doc_id, 0))

    @app.delete("/documents/{doc_id}", status_code=204, responses=WRITE_ERRORS, dependencies=[Depends(may_write)])
    async def delete_document(doc_id: str, request: Request):
        await admitted(current(request).remove_document, doc_id)

    # --- operations --------------------------------------------------------------------------

    @app.get("/health", response_model=Health)
    async def health(request: Request):
        p = current(request)
        return Health(status="ok", documents=len(p.store.documents), chunks=sum(p.store.chunk_counts().values()),
                      embedder=p.settings.embedder, embed_model=p.settings.embed_model,
                      answerer=p.settings.answerer, retrieval=p.settings.retrieval,
                      writes="key" if settings.api_key else "open" if settings.allow_writes else "off")

    @app.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
    async def prometheus(request: Request):
        """Prometheus text format: requests by route and status, latency histograms, queue and corpus size."""
        store = current(request).store
        metrics.documents.set(len(store.documents))
        metrics.chunks.set(sum(store.chunk_counts().values()))
        metrics.model_running.set(admission.running)
        metrics.model_queued.set(admission.queued)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app


def host_name(host: str) -> str:
    """The name part of a Host header: 'localhost:8000' → 'localhost', '[::1]:8000' → '::1'."""
    return (urlsplit(f"//{host}").hostname or "").lower()


def cross_site(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False  # not a browser's cross-origin request: curl, scripts, same-origin GET-born forms
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def answer_events(result: dict) -> Iterator[bytes]:
    def event(name: str, data: dict) -> bytes:
        return format_sse_event(event=name, data_str=json.dumps(data, ensure_ascii=False))

    yield event("answer", {key: result[key] for key in ("answer", "text", "abstained", "reason")})
    for citation in result["citations"]:
        yield event("citation", citation)
    for passage in result["passages"]:
        yield event("passage", passage)
    yield event("done", {"timings_ms": result["timings_ms"]})


async def document_from_request(request: Request) -> tuple[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=4)
        upload = form.get("file")
        if upload is None:
            raise HTTPProblem(422, "file: a multipart upload needs a 'file' part")
        if isinstance(upload, str):  # a part without a file name arrives as a plain field
            name, data = "", upload.encode("utf-8")
        else:
            name, data = upload.filename or "", await upload.read()
        if not data:
            raise HTTPProblem(400, f"file: {name or 'the upload'} is empty (0 bytes)")
        doc_id = form.get("doc_id") or Path(name).stem
        if not isinstance(doc_id, str) or not doc_id:
            raise HTTPProblem(422, "doc_id: give one, or upload a file with a name")
        return doc_id, file_text(name, data) if name else decode_text(data, "the upload")
    if content_type == "application/json":
        try:
            body = DocumentIn.model_validate_json(await request.body())
        except ValidationError as exc:
            raise HTTPProblem(422, describe(exc.errors())) from None
        return body.doc_id, body.text
    raise HTTPProblem(415, "send the document as application/json {doc_id, text} or multipart/form-data with 'file'")


def describe(errors) -> str:
    """Pydantic's error list as one readable line: 'field: problem; field: problem'."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg'].removeprefix('Value error, ')}"
        for e in errors
    )


def summary(document: Document, chunks: int) -> DocumentSummary:
    return DocumentSummary(doc_id=document.doc_id, title=document.title, chunks=chunks, characters=len(document.text))
