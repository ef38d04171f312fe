"""The contracts between stages, at the bottom of the package: chunks and their sentences (index),
hits (retrieve), drafts and evidence (answer), citations and results (cite). Plain data; no imports
beyond the standard library, so every stage and every input check can use them cheaply."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

Token = tuple[int, int, str, bool]  # start, end, lowercase lemma, is a content word


@dataclass
class Sentence:
    start: int
    end: int
    tokens: list[Token]


@dataclass
class Chunk:
    id: str
    doc_id: str
    title: str
    start: int
    end: int
    text: str
    sentences: list[Sentence]
    # label, start, end; None when the index was built without them (only the `rules` answerer reads them)
    entities: list[tuple[str, int, int]] | None = field(default_factory=list)
    phrases: list[tuple[int, int]] = field(default_factory=list)  # noun chunks

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
    position: int  # row of the chunk in the store
    chunk: Chunk
    score: float  # what the retriever ranked by (cosine for dense, fused rank score for hybrid)


class Retriever(Protocol):
    def search(self, query: str, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        """The k best passages, from the documents in `doc_ids` only when it is given."""
        ...


@dataclass
class Evidence:
    hit: int  # index into the retrieved hits
    sentence: int  # index into that hit's chunk sentences
    answer_start: int | None = None  # the answer span in the original file, when it is verbatim there
    answer_end: int | None = None


@dataclass
class Draft:
    text: str  # the answer without citation markers; "" when abstaining
    evidence: list[Evidence] = field(default_factory=list)
    confidence: float = 0.0  # the answerer's score for it, 0-1
    abstain_reason: str | None = None
    unsure: bool = False  # answered, but the score says to check the source
    notes: list[str] = field(default_factory=list)  # e.g. passages dropped to fit a model's input

    @property
    def abstained(self) -> bool:
        return self.abstain_reason is not None


def abstain(reason: str, confidence: float = 0.0) -> Draft:
    return Draft(text="", confidence=confidence, abstain_reason=reason)


@dataclass
class Citation:
    n: int
    doc_id: str
    title: str
    chunk_id: str
    start: int  # the quoted sentence, as offsets into the original file
    end: int
    quote: str
    score: float
    answer_start: int | None = None  # the answer span inside the quote, when it is verbatim
    answer_end: int | None = None
    published: str | None = None  # the article's date (YYYY-MM-DD), source URL and byline, when it has them
    url: str | None = None
    byline: str | None = None


@dataclass
class Result:
    question: str
    answer: str  # what the user sees: the answer with [n] markers, or the "I don't know" sentence
    abstained: bool
    text: str = ""  # the bare answer, without markers; empty when abstaining
    citations: list[Citation] = field(default_factory=list)
    passages: list[Citation] = field(default_factory=list)  # the closest passages, shown with abstentions
    confidence: str | None = None  # "high" or "low" (answered, but check the source); None when abstaining
    score: float = 0.0  # the answerer's numeric score behind `confidence`
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    retrieved: list[str] = field(default_factory=list)  # documents of the retrieved passages, best first

    def to_dict(self) -> dict:
        return asdict(self)
