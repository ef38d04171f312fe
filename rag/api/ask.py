"""Questions: the web page, POST /ask, POST /ask/stream, GET /search."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.sse import format_sse_event

from rag.answer import SERVER_ONLY
from rag.api.common import ERRORS, EventStream, HTTPProblem, admitted, current, json_body, question_cost
from rag.api.schemas import QUESTION_SCHEMA, AskRequest, AskResponse, Passage
from rag.errors import RagError
from rag.ingest.formats import listed, suffixes
from rag.inputs import MAX_QUESTION_CHARS, validate_question
from rag.language.conversation import ask_in_conversation

PAGE = Path(__file__).with_name("page.html")
STREAM_EVENTS = {200: {"description": "Server-sent events; each `data` is one JSON object.", "content": {
    "text/event-stream": {"schema": {
        "type": "object", "required": ["event", "data"],
        "properties": {"event": {"type": "string", "enum": ["answer", "citation", "passage", "done"]},
                       "data": {"type": "string", "contentMediaType": "application/json"}}}}}}}

router = APIRouter()


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
async def page():
    # The upload form lists the formats of rag/ingest/formats.py's table.
    return HTMLResponse(page_template().replace("{{formats}}", listed()).replace("{{accept}}", ",".join(suffixes())))


@functools.cache
def page_template() -> str:
    """Read once: no file read on the event loop at each request."""
    return PAGE.read_text(encoding="utf-8")


@router.post("/ask", response_model=AskResponse, responses=ERRORS, dependencies=[Depends(json_body)])
async def ask(body: AskRequest, request: Request):
    return await answered(body, request)


@router.post("/ask/stream", response_class=EventStream, responses=STREAM_EVENTS | ERRORS, dependencies=[Depends(json_body)])
async def ask_stream(body: AskRequest, request: Request):
    """Events: `answer` (answer, form, text, abstained, confidence, score, reason, standalone_question, notes), one
    `citation` per citation (or `passage` when it abstains),
    then `done`. The answer is worked out before the first event, so every error is an ordinary 4xx/503."""
    return EventStream(answer_events(await answered(body, request)))


async def answered(body: AskRequest, request: Request) -> dict:
    """The answer as /ask returns it; with a conversation, to the follow-up made standalone from it."""
    pipeline = current(request)
    if body.answerer in SERVER_ONLY and body.answerer != pipeline.settings.open_answerer:
        raise HTTPProblem(400, f"answerer {body.answerer!r} is not enabled on this server (a client cannot make it "
                               f"load a model): its operator sets RAG_OPEN_ANSWERER={body.answerer}")
    turns = [(turn.role, turn.content[:MAX_QUESTION_CHARS]) for turn in body.conversation or []]
    question, result = await admitted(
        request.app, ask_in_conversation, pipeline, turns + [("user", body.question)], k=body.k,
        answerer=body.answerer, doc_ids=body.doc_ids, since=body.since, until=body.until, form=body.form,
        client=request, cost=question_cost(request, body.k))
    return result.to_dict() | {"standalone_question": question if question != body.question else None}


@router.get("/search", response_model=list[Passage], responses=ERRORS)
async def search(request: Request, q: str = Query(..., **QUESTION_SCHEMA),
                 k: int | None = Query(None, ge=1, le=50, description="Passages; the server's RAG_K when left out."),
                 doc_ids: list[str] | None = Query(None, max_length=100,
                                                   description="Search only these documents (repeat the parameter).")):
    try:
        q = validate_question(q)
    except RagError as exc:
        raise HTTPProblem(422, f"q: {exc}") from None
    hits = await admitted(request.app, current(request).search, q, k or request.app.state.settings.k, doc_ids=doc_ids,
                          client=request, cost=question_cost(request, k))
    return [
        Passage(rank=i, score=h.score, chunk_id=h.chunk.id, doc_id=h.chunk.doc_id, title=h.chunk.title,
                start=h.chunk.start, end=h.chunk.end, text=h.chunk.text)
        for i, h in enumerate(hits, start=1)
    ]


def answer_events(result: dict) -> Iterator[bytes]:
    def event(name: str, data: dict) -> bytes:
        return format_sse_event(event=name, data_str=json.dumps(data, ensure_ascii=False))

    yield event("answer", {key: result[key] for key in ("answer", "form", "text", "abstained", "confidence", "score",
                                                       "reason", "standalone_question", "notes")})
    for citation in result["citations"]:
        yield event("citation", citation)
    for passage in result["passages"]:
        yield event("passage", passage)
    yield event("done", {"timings_ms": result["timings_ms"]})

