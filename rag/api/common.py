"""What the routers share: error responses (JSON {"error"}, OpenAI's shape under /v1/), model work admitted
through the queue, the write permission, and the server-sent-events response."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import StreamingResponse

from rag.api.admission import Busy, Gone
from rag.api.schemas import ErrorOut, OpenAIErrorOut
from rag.errors import RagError

RETRY_AFTER_S = 1
# FastAPI's words for a body it cannot decode (invalid UTF-8 in JSON, say), and what to tell the client instead.
PARSE_ERRORS = {"There was an error parsing the body": "the request body cannot be parsed: send JSON encoded as UTF-8"}


def errors(*statuses: int, model: type = ErrorOut) -> dict:
    """Error responses as JSON {"error"}, stated explicitly so streaming routes do not claim them as events."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {status: {"model": model, "content": {"application/json": {"schema": schema}}} for status in statuses}


ERRORS = errors(400, 404, 413, 415, 422, 503)
OPENAI_ERRORS = errors(400, 404, 413, 415, 422, 503, model=OpenAIErrorOut)
WRITE_ERRORS = ERRORS | errors(401, 403, 409, 415, 507)


class EventStream(StreamingResponse):
    """Server-sent events from a plain iterator of encoded events. (FastAPI's EventSourceResponse expects the
    endpoint itself to be a generator, which would start the stream before the answer, and its errors, exist.)"""

    media_type = "text/event-stream"


class HTTPProblem(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, code: str | None = None):
        self.status, self.message, self.headers, self.code = status, message, headers, code


def error(request: Request, status: int, message: str, headers: dict[str, str] | None = None,
          code: str | None = None) -> JSONResponse:
    """{"error": message}; under /v1/ OpenAI's shape, {"error": {"message", "type", "code"}}, which its clients read
    (`code` is OpenAI's word for the error, such as "model_not_found", where it has one)."""
    body: dict = {"error": message}
    if request.url.path.startswith("/v1/"):
        kind = "invalid_request_error" if status < 500 else "server_error"
        body = {"error": {"message": message, "type": kind, "code": code or status}}
    return JSONResponse(status_code=status, content=body, headers=headers)


async def user_error(request: Request, exc: RagError) -> JSONResponse:
    """Each error class carries its status (rag/errors.py); the CLI prints the same message."""
    return error(request, exc.status, str(exc), {"Retry-After": str(RETRY_AFTER_S)} if exc.status == 503 else None)


def json_body(request: Request) -> None:
    """Routes that read a JSON body refuse another declared type with 415, as the docs say (a form-encoded body,
    curl's default for -d, was a puzzling 422 about the JSON)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and kind != "application/json" and not kind.endswith("+json"):
        raise HTTPProblem(415, f"send the body as JSON with Content-Type: application/json, not {kind} "
                               "(curl: -H 'Content-Type: application/json')")


def current(request: Request):
    """The pipeline serving this request (swapped as a whole when the index changes)."""
    return request.app.state.pipeline


async def admitted(app: FastAPI, function, *args, client: Request | None = None, cost: int = 1, **kwargs):
    """Model work on a worker thread, behind the queue; a full queue, or a wait over RAG_QUEUE_WAIT, is a 503.
    With `client`, work whose client disconnected while it waited is dropped; `cost` weighs it in the queue."""
    admission, metrics = app.state.admission, app.state.metrics
    try:
        return await admission.run(function, *args, cost=cost, gone=client.is_disconnected if client else None,
                                   **kwargs)
    except Busy as busy:
        metrics.rejected.inc()
        why = (f"waited over {admission.max_wait:g} s for a worker" if busy.waited
               else f"{admission.pending} requests' worth of work in progress or queued")
        raise HTTPProblem(503, f"server busy: {why}; retry shortly", {"Retry-After": str(RETRY_AFTER_S)}) from None
    except Gone:
        raise HTTPProblem(499, "the client closed the connection before its turn") from None


def question_cost(request: Request, k: int | None) -> int:
    """A question's weight in the queue: how many times the server's k passages it reads (at least 1)."""
    default = request.app.state.settings.k
    return max(1, -(-(k or default) // default))


def may_write(request: Request,
              bearer: HTTPAuthorizationCredentials | None = Depends(HTTPBearer(auto_error=False))) -> None:
    """Writes need the API key when one is set; without one, only a server started with --allow-writes takes them.
    Either way a browser on another site may not write: a form can post multipart without a preflight."""
    settings = request.app.state.settings
    if cross_site(request):
        raise HTTPProblem(403, "cross-site document writes are refused (Origin or Sec-Fetch-Site names another site)")
    if settings.api_key is not None:
        given = bearer.credentials if bearer else ""
        if not hmac.compare_digest(given.encode(), settings.api_key.get_secret_value().encode()):
            raise HTTPProblem(401, "document writes need 'Authorization: Bearer <RAG_API_KEY>'",
                              {"WWW-Authenticate": "Bearer"})
    elif not settings.allow_writes:
        raise HTTPProblem(403, "document writes are disabled: set RAG_API_KEY, or start with --allow-writes")


def cross_site(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False  # not a browser's cross-origin request: curl, scripts, same-origin GET-born forms
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def describe(errors) -> str:
    """Pydantic's error list as one readable line: 'field: problem; field: problem'."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg'].removeprefix('Value error, ')}"
        for e in errors
    )
