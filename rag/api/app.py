"""FastAPI app. Models and index load once, at start-up; model work runs on a few worker threads behind a queue.

The routes live in routers: ask.py (the page, /ask, /ask/stream, /search), documents.py, operations.py
(/health, /metrics) and chat.py (OpenAI-compatible /v1); common.py holds what they share."""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from rag.api import ask, chat, documents, operations
from rag.api.admission import Admission
from rag.api.body_limit import BodyLimit
from rag.api.headers import HeadAsGet, SecurityHeaders
from rag.api.common import PARSE_ERRORS, HTTPProblem, admitted, describe, error, user_error
from rag.api.metrics import Metrics
from rag.errors import RagError
from rag.pipeline import Pipeline
from rag.settings import Settings


def create_app(settings: Settings, pipeline: Pipeline | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pipeline = pipeline or Pipeline.open(settings)
        # A database store is loaded by `rag index`; replicas on other machines may not share the folder.
        polls = settings.watch_seconds and not app.state.pipeline.index.shared
        watcher = asyncio.create_task(watch(app)) if polls else None
        yield
        if watcher:
            watcher.cancel()

    async def watch(app: FastAPI) -> None:
        """Poll the corpus folder (documented in the README): cheap while nothing changes (size and time first)."""
        last_error = None
        while True:
            await asyncio.sleep(settings.watch_seconds)
            pipeline = app.state.pipeline
            try:
                await admitted(app, pipeline.sync)
                last_error = None
            except HTTPProblem:
                pass  # busy: the next round will do it
            except Exception as exc:  # keep serving the index it has; say why once, not every round
                if str(exc) != last_error:
                    pipeline.log(f"corpus watch: {exc}")
                    last_error = str(exc)

    # FastAPI's /docs loads Swagger UI from a CDN, blank offline; fastapi-offline serves the same files locally.
    app = FastAPIOffline(title="rag-news", version="0.1.0", lifespan=lifespan,
                         description="Questions about the indexed news articles, answered with checked citations.")
    app.state.settings = settings
    app.state.admission = Admission(settings.workers, settings.queue_limit, settings.queue_wait)
    app.state.metrics = metrics = Metrics()

    # --- errors and middleware ---------------------------------------------------------------

    app.add_exception_handler(RagError, user_error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        """Starlette's own errors (404, 405, malformed forms) in the same {"error"} shape as ours."""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette lists only the first route's methods; list every route's for the path
            methods = {m for r in routes(app.routes) if r.matches(request.scope)[0] != Match.NONE
                       for m in getattr(r, "methods", None) or ()}
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
        return error(request, exc.status, exc.message, exc.headers, exc.code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        return error(request, 422, describe(exc.errors()))

    @app.exception_handler(ClientDisconnect)
    async def client_left(request: Request, exc: ClientDisconnect):
        """A body cut off (by the client, or by RAG_BODY_TIMEOUT): one log line, not a traceback per connection."""
        logging.getLogger("rag").warning("%s %s: the client left before sending the whole body", request.method,
                                         request.url.path)
        return error(request, 400, "the request body was cut off before its end")

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HeadAsGet)
    app.add_middleware(SecurityHeaders)

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

    for router in (ask.router, chat.router, documents.router, operations.router):
        app.include_router(router)
    return app


def routes(candidates) -> Iterator:
    """Every route, the included routers' own routes in place of the routers."""
    for route in candidates:
        inner = getattr(route, "original_router", None)
        yield from routes(inner.routes) if inner is not None else [route]


def host_name(host: str) -> str:
    """The name part of a Host header: 'localhost:8000' → 'localhost', '[::1]:8000' → '::1'."""
    return (urlsplit(f"//{host}").hostname or "").lower()
