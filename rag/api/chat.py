"""An OpenAI-compatible face: POST /v1/chat/completions and GET /v1/models, so chat clients and SDKs can ask.

The last user message is the question; earlier turns make a follow-up standalone (rag/language/conversation.py), and
the standalone question is returned beside the answer. The answer text carries the [n] markers; the
citations come in an extra `citations` field. `stream: true` sends OpenAI's server-sent chunks, ending with
`data: [DONE]` (with `stream_options.include_usage`, a last chunk carries the usage). `usage` counts tokens
with the reader's tokenizer: the prompt is the turns the service read, the completion is the reply.
Sampling parameters (temperature, max_tokens…) are accepted and ignored: the answer is
extracted, not sampled. What it cannot do (another model, n > 1, tools, JSON output) is an OpenAI-shaped error.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from rag.api.common import OPENAI_ERRORS, EventStream, HTTPProblem, admitted, current, json_body
from rag.api.schemas import SINCE, UNTIL
from rag.contracts import Result
from rag.errors import RagError
from rag.inputs import MAX_QUESTION_CHARS, validate_question
from rag.language.conversation import UNRESOLVED, ask_in_conversation

MODEL = "rag-news"
HISTORY = 9  # messages read for a follow-up: the question and the four exchanges before it


def bounded(text: str) -> str:
    """An earlier turn as follow-up resolution reads it: at most a question's length, lone surrogates replaced."""
    return text[:MAX_QUESTION_CHARS].encode("utf-8", "replace").decode("utf-8")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict] | None = None

    def text(self) -> str:
        """Plain text, or the text parts of a multi-part message."""
        if isinstance(self.content, list):
            return " ".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI clients send sampling parameters; they are ignored

    model: str = MODEL
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=100)
    stream: bool = False
    stream_options: StreamOptions | None = None
    doc_ids: list[str] | None = Field(None, min_length=1, max_length=100,
                                      description="Search only these documents (an extension to OpenAI's format).")
    since: date | None = Field(None, description=SINCE)
    until: date | None = Field(None, description=UNTIL)

    def turns(self) -> list[tuple[str, str]]:
        return [(m.role, m.text()) for m in self.messages]


router = APIRouter()


@router.post("/v1/chat/completions", responses=OPENAI_ERRORS, dependencies=[Depends(json_body)])
async def chat_completions(body: ChatRequest, request: Request):
    """OpenAI-compatible chat: the last user message is the question, made standalone from the earlier turns;
    `stream: true` answers in OpenAI's server-sent chunks."""
    refuse_unsupported(body)
    if body.messages[-1].role != "user" or not body.messages[-1].text().strip():
        raise HTTPProblem(422, "messages: the last message must be the user's question")
    try:  # before any language processing: the last message is held to a question's limits
        validate_question(body.messages[-1].text())
    except RagError as exc:
        raise HTTPProblem(422, f"messages: the last message: {exc}") from None
    turns = [(role, bounded(text)) for role, text in body.turns()[-HISTORY:]]
    pipeline = current(request)

    def answer() -> tuple[str, Result, dict]:
        question, result = ask_in_conversation(pipeline, turns, doc_ids=body.doc_ids, since=body.since,
                                               until=body.until)
        return question, result, usage(pipeline.settings.reader_model, [t for _, t in turns], spoken(result))

    question, result, counted = await admitted(request.app, answer, client=request)
    if body.stream:
        include = body.stream_options is not None and body.stream_options.include_usage
        return EventStream(chunks(result, question, body.model, counted if include else None))
    return completion(result, question, body.model, counted)


@router.get("/v1/models")
async def chat_models():
    return models()


@router.get("/v1/models/{model}", responses=OPENAI_ERRORS)
async def chat_model(model: str):
    served(model)
    return models()["data"][0]


def served(model: str) -> None:
    if model != MODEL:
        raise HTTPProblem(404, f"The model `{model}` does not exist; this server serves `{MODEL}` (GET /v1/models)",
                          code="model_not_found")


def refuse_unsupported(body: ChatRequest) -> None:
    """What OpenAI's API offers and this one cannot do is refused, never silently ignored."""
    served(body.model)
    if body.stream_options is not None and not body.stream:
        raise HTTPProblem(400, "stream_options: only allowed when stream is true", code="invalid_value")
    extra = body.model_extra or {}
    if extra.get("n") not in (None, 1):
        raise HTTPProblem(400, "n: one answer per question is supported (n=1); the answer is extracted, not sampled",
                          code="unsupported_parameter")
    for name in ("tools", "tool_choice", "functions", "function_call"):
        if extra.get(name):
            raise HTTPProblem(400, f"{name}: function calling is not supported", code="unsupported_parameter")
    response_format = extra.get("response_format")
    if response_format and (not isinstance(response_format, dict) or response_format.get("type") != "text"):
        raise HTTPProblem(400, "response_format: only text answers are supported", code="unsupported_parameter")


def completion(result: Result, standalone: str, model: str, counted: dict) -> dict:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": spoken(result)}, "finish_reason": "stop"}],
        "usage": counted,
    } | extras(result, standalone)


@functools.lru_cache(maxsize=4)
def token_counter(reader_model: Path | None):
    """The reader's own tokenizer, without its window truncation, loaded once."""
    from tokenizers import Tokenizer

    from rag.answer import PACKAGED_READER

    tokenizer = Tokenizer.from_file(str(Path(reader_model or PACKAGED_READER) / "tokenizer.json"))
    tokenizer.no_truncation()
    return tokenizer


def usage(reader_model: Path | None, prompt: list[str], reply: str) -> dict:
    counter = token_counter(reader_model)
    prompt_tokens = sum(len(counter.encode(text, add_special_tokens=False)) for text in prompt)
    completion_tokens = len(counter.encode(reply, add_special_tokens=False))
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def spoken(result: Result) -> str:
    """The answer as a chat reply: an unsure one says so, an abstention says why, and a follow-up whose pronoun
    pointed at nothing earlier says it was asked as written."""
    unresolved = next((n for n in result.notes if n.startswith(UNRESOLVED)), None)
    said = f" ({unresolved[0].upper()}{unresolved[1:]}.)" if unresolved else ""
    if result.confidence == "low":
        return f"{result.answer} (I'm not sure: check the cited source.){said}"
    if result.abstained and result.reason:
        return f"{result.answer} ({result.reason[0].upper()}{result.reason[1:]}.){said}"
    return result.answer + said


def extras(result: Result, standalone: str) -> dict:
    data = result.to_dict()
    return {"standalone_question": standalone, "abstained": result.abstained, "confidence": result.confidence,
            "score": result.score, "citations": data["citations"], "passages": data["passages"],
            "reason": result.reason}


def chunks(result: Result, standalone: str, model: str, counted: dict | None = None) -> Iterator[bytes]:
    """OpenAI's streaming format: the role, the answer a word at a time, then the finish with the citations;
    with `counted` (stream_options.include_usage), every chunk has `usage: null` and one more, with no
    choices, carries the usage."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model} | ({"usage": None} if counted is not None else {})

    def encoded(body: dict) -> bytes:
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()

    def event(delta: dict, finish: str | None = None, **more) -> bytes:
        return encoded(base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]} | more)

    yield event({"role": "assistant", "content": ""})
    words = spoken(result).split(" ")
    for i, word in enumerate(words):
        yield event({"content": word if i == 0 else " " + word})
    yield event({}, "stop", **extras(result, standalone))
    if counted is not None:
        yield encoded(base | {"choices": [], "usage": counted})
    yield b"data: [DONE]\n\n"


def models() -> dict:
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "rag-news"}]}
