"""Request and response bodies; FastAPI publishes them in the OpenAPI schema at /docs."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rag.answer import ANSWERERS, SERVER_ONLY
from rag.contracts import Citation
from rag.errors import RagError
from rag.ingest.load import META_LIMITS
from rag.inputs import MAX_QUESTION_CHARS, QUESTION_PATTERN, validate_period, validate_question

QUESTION_SCHEMA = {
    "description": f"1-{MAX_QUESTION_CHARS} characters after trimming; no control characters except whitespace, "
                   "no lone UTF-16 surrogates.",
    "json_schema_extra": {"pattern": QUESTION_PATTERN},  # stated, not enforced: validate_question explains failures
}


SINCE = ("Search only documents published on or after this date (YYYY-MM-DD); documents without a date are "
         "included unless the server sets RAG_UNDATED=exclude.")
UNTIL = "Search only documents published on or before this date (YYYY-MM-DD); undated ones as for `since`."


class Turn(BaseModel):
    """An earlier turn of the page's conversation: what was asked, or what was answered."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=MAX_QUESTION_CHARS * 4)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt or unsupported field is a 422, not silently ignored

    question: str = Field(..., **QUESTION_SCHEMA)
    k: int | None = Field(None, ge=1, le=50)
    answerer: str | None = Field(None, description="Which answerer reads the passages; the server's default when left out.",
                                 json_schema_extra={"enum": [*(n for n in ANSWERERS.names() if n not in SERVER_ONLY), None]})
    doc_ids: list[str] | None = Field(None, min_length=1, max_length=100,
                                      description="Search only these documents (ids from GET /documents).")
    since: date | None = Field(None, description=SINCE)
    until: date | None = Field(None, description=UNTIL)
    form: Literal["auto", "span", "sentences"] | None = Field(
        None, description="auto: the question's wording chooses a short span or a few cited sentences (summaries, "
        "why/how, lists); span or sentences: always that form. The server's RAG_ANSWER_FORM when left out.")
    conversation: list[Turn] | None = Field(
        None, max_length=8, description="Earlier turns, oldest first: a follow-up (\"Which university did he "
        "visit?\") is made standalone from them, as /v1/chat/completions does; `standalone_question` says how.")

    @field_validator("question")
    @classmethod
    def trimmed_and_bounded(cls, value: str) -> str:
        try:
            return validate_question(value)
        except RagError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def ordered_period(self) -> "AskRequest":
        try:
            validate_period(self.since, self.until)
        except RagError as exc:
            raise ValueError(str(exc)) from None
        return self


class AskResponse(BaseModel):
    answer: str
    standalone_question: str | None = Field(
        None, description="With a conversation: the follow-up as it was asked of the index, when it differs.")
    notes: list[str] = Field(default_factory=list, description="E.g. a pronoun the conversation could not resolve.")
    form: Literal["span", "sentences"] = Field(
        "span", description="span: a short answer from one sentence; sentences: a few sentences, each followed by "
        "its [n] citation.")
    text: str
    abstained: bool
    citations: list[Citation] = Field(description="The checked sources, one per [n] marker (rag.contracts.Citation).")
    passages: list[Citation] = Field(description="The closest passages, shown with an abstention.")
    confidence: Literal["high", "low"] | None = Field(
        None, description='"low": answered, but not sure: check the cited source. None when abstaining.')
    score: float = Field(0.0, description="The reader's score behind `confidence`, 0-1.")
    reason: str | None = None
    timings_ms: dict[str, float]


class Passage(BaseModel):
    rank: int
    score: float
    chunk_id: str
    doc_id: str
    title: str
    start: int
    end: int
    text: str


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    chunks: int
    characters: int
    replaced: bool = Field(False, description="True when a write replaced a document of the same id.")
    published: str | None = Field(None, description="Date (YYYY-MM-DD), from the file's metadata or front matter.")
    url: str | None = None
    byline: str | None = None


class DocumentBlock(BaseModel):
    kind: str
    start: int
    end: int


class DocumentOut(DocumentSummary):
    text: str  # the original file; citation offsets index into it
    blocks: list[DocumentBlock]


class Health(BaseModel):
    status: str
    documents: int
    chunks: int
    embedder: str
    embed_model: str
    answerer: str
    retrieval: str
    writes: Literal["key", "open", "off"] = Field(
        description="Document writes: with the API key, open (--allow-writes), or off.")


class DocumentMeta(BaseModel):
    """What a news reader wants beside a citation, given with the document; it wins over what the file says."""

    model_config = ConfigDict(extra="forbid")

    published: date | None = Field(None, description="The article's date (YYYY-MM-DD).")
    url: str | None = Field(None, max_length=META_LIMITS["url"], description="Where the article was published.")
    byline: str | None = Field(None, max_length=META_LIMITS["byline"], description="The article's author(s).")

    def given(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in DocumentMeta.model_fields if getattr(self, name)}


class DocumentIn(DocumentMeta):
    doc_id: str = Field(..., description="Letters, digits, '.', '_' and '-'; an existing id is replaced.")
    text: str = Field(..., min_length=1, description="The article, as plain text or Markdown.")


class ErrorOut(BaseModel):
    error: str


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    code: int | str


class OpenAIErrorOut(BaseModel):
    """Errors under /v1/, in the shape OpenAI's clients read."""

    error: OpenAIErrorDetail
