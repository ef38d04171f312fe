"""The contracts between stages, at the bottom of the package: chunks and their sentences (index),
hits (retrieve), drafts and evidence (answer), citations and results (cite). Plain data; no imports
beyond the standard library, so every stage and every input check can use them cheaply."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

Token = tuple[int, int, str, bool]  # start, end, lowercase lemma, is a content word


@dataclass
class Sentence:
    """One sentence of a chunk.

    Attributes:
        start, end: its offsets in the original file.
        tokens: (start, end, lowercase lemma, is a content word) for each token, offsets in the file.
    """

    start: int
    end: int
    tokens: list[Token]


@dataclass
class Chunk:
    """A passage as the index keeps it (stage 2's output).

    Attributes:
        id: `<doc_id>#<n>`, the same for the same corpus and settings.
        doc_id, title: the article it comes from.
        start, end: its offsets in the original file.
        text: its sentences joined by single spaces.
        sentences: each with its offsets and tokens.
        entities: (label, start, end); None when the index was built without them (only `rules` reads them).
        phrases: noun chunks as (start, end).
    """

    id: str
    doc_id: str
    title: str
    start: int
    end: int
    text: str
    sentences: list[Sentence]
    entities: list[tuple[str, int, int]] | None = field(default_factory=list)
    phrases: list[tuple[int, int]] = field(default_factory=list)

    def sentence_texts(self) -> list[str]:
        """The chunk text is its sentences joined by single spaces; slice them back out."""
        texts, position = [], 0
        for sentence in self.sentences:
            length = sentence.end - sentence.start
            texts.append(self.text[position : position + length])
            position += length + 1
        return texts

    def matches(self, article: str) -> bool:
        """The article holds each sentence at its offsets; False when the chunk came from another version of
        the article (a stale or hand-edited index)."""
        return all(article[s.start : s.end] == text for s, text in zip(self.sentences, self.sentence_texts()))

    def embedding_text(self) -> str:
        return f"{self.title}\n{self.text}"

    def to_dict(self) -> dict:
        """What the stores save; spelled out because dataclasses.asdict deep-copies every token tuple, which
        took 4 of the 26 s of copying 100,000 chunks into PostgreSQL."""
        return {"id": self.id, "doc_id": self.doc_id, "title": self.title, "start": self.start, "end": self.end,
                "text": self.text, "sentences": [{"start": s.start, "end": s.end, "tokens": s.tokens}
                                                 for s in self.sentences],
                "entities": self.entities, "phrases": self.phrases}

    @classmethod
    def from_dict(cls, data: dict) -> "Chunk":
        data = dict(data)
        data["sentences"] = [
            Sentence(s["start"], s["end"], [tuple(t) for t in s["tokens"]]) for s in data["sentences"]
        ]
        if data["entities"] is not None:
            data["entities"] = [tuple(e) for e in data["entities"]]
        data["phrases"] = [tuple(p) for p in data["phrases"]]
        return cls(**data)


@dataclass
class Hit:
    """A retrieved passage (stage 5's output), carrying its chunk so no later stage reads the store.

    Attributes:
        position: the chunk's row in the store.
        chunk: the passage itself.
        score: what the retriever ranked by (cosine for dense, fused rank score for hybrid).
    """

    position: int
    chunk: Chunk
    score: float


class Retriever(Protocol):
    def search(self, query: str, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        """The best passages for a query.

        Args:
            query: the question (and any conversation context), as plain text.
            k: how many passages.
            doc_ids: search only these documents, filtered before ranking; None for all.

        Returns:
            At most k hits, best first.
        """
        ...


@dataclass
class Evidence:
    """Where a draft answer comes from.

    Attributes:
        hit: index into the retrieved hits.
        sentence: index into that hit's chunk sentences.
        answer_start, answer_end: the answer span in the original file, when it is verbatim there.
    """

    hit: int
    sentence: int
    answer_start: int | None = None
    answer_end: int | None = None


@dataclass
class Draft:
    """An answerer's answer before `cite` checks it (stage 6's output).

    Attributes:
        text: the answer without citation markers; "" when abstaining.
        evidence: the passages and sentences it comes from.
        confidence: the answerer's score for it, 0-1.
        abstain_reason: why there is no answer; None when there is one.
        unsure: answered, but the score says to check the source.
        notes: e.g. passages dropped to fit a model's input.
        parts: for an answer of sentences, each sentence; evidence[i] is where parts[i] comes from, and each
            is cited (and checked) on its own. Empty for a span answer.
    """

    text: str
    evidence: list[Evidence] = field(default_factory=list)
    confidence: float = 0.0
    abstain_reason: str | None = None
    unsure: bool = False
    notes: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def abstained(self) -> bool:
        return self.abstain_reason is not None

    @property
    def form(self) -> str:
        """ "sentences" for an answer of several cited sentences, "span" for a short answer."""
        return "sentences" if self.parts else "span"


def abstain(reason: str, confidence: float = 0.0) -> Draft:
    """A draft that says "I don't know".

    Args:
        reason: why, in words the user reads.
        confidence: the best score that was not enough.

    Returns:
        A draft with no text and `abstain_reason` set.
    """
    return Draft(text="", confidence=confidence, abstain_reason=reason)


@dataclass
class Citation:
    """A checked source of an answer (stage 7's output), or a passage shown beside an abstention.

    Attributes:
        n: the [n] marker in the answer.
        doc_id, title, chunk_id: the article and passage.
        start, end: the quoted sentence, as offsets into the original file.
        quote: that sentence, as the article has it.
        score: the passage's retrieval score.
        answer_start, answer_end: the answer span inside the file, when it is verbatim in the quote.
        published, url, byline: the article's date (YYYY-MM-DD), source and author, when it has them.
        continues: the quoted sentence goes on in the article past `end` (an overlong sentence split in pieces):
            shown with "…".
    """

    n: int
    doc_id: str
    title: str
    chunk_id: str
    start: int
    end: int
    quote: str
    score: float
    answer_start: int | None = None
    answer_end: int | None = None
    published: str | None = None
    url: str | None = None
    byline: str | None = None
    continues: bool = False


@dataclass
class Result:
    """What a question gets, from the CLI, the HTTP API and the Python API alike.

    Attributes:
        question: as asked.
        answer: what the user sees: the answer with [n] markers, or the "I don't know" sentence.
        form: "span" (a short answer taken from one sentence) or "sentences" (a few sentences, each cited).
        abstained: True when there is no answer.
        text: the bare answer, without markers; "" when abstaining.
        citations: the checked sources, one per [n] marker.
        passages: the closest passages, shown with abstentions.
        confidence: "high" or "low" (answered, but check the source); None when abstaining.
        score: the answerer's numeric score behind `confidence`.
        reason: why it abstained.
        notes: e.g. passages dropped to fit a model's input.
        timings_ms: retrieve, answer and total.
        retrieved: documents of the retrieved passages, best first.
    """

    question: str
    answer: str
    abstained: bool
    form: str = "span"
    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    passages: list[Citation] = field(default_factory=list)
    confidence: str | None = None
    score: float = 0.0
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    retrieved: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)
