"""Turn a draft answer into the user's answer (stage 7): inline [n] markers and checked citations.

A citation is shown only when its passage really supports the answer: the answer text, or all of its
content words, occur in the cited passage. Anything that fails the check is dropped, and an answer left
with no citation becomes an abstention.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from rag.answer.draft import Draft
from rag.index import Store
from rag.retrieve.hit import Hit

IDK = "I don't know based on the indexed documents."
STOPWORDS = {"the", "a", "an", "of", "and", "or", "in", "on", "to", "for", "by", "with", "at", "as", "is", "was"}


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


@dataclass
class Result:
    question: str
    answer: str  # what the user sees: the answer with [n] markers, or the "I don't know" sentence
    abstained: bool
    text: str = ""  # the bare answer, without markers; empty when abstaining
    citations: list[Citation] = field(default_factory=list)
    passages: list[Citation] = field(default_factory=list)  # the closest passages, shown with abstentions
    confidence: float = 0.0
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+(?:[.,]\d+)*", text.lower()) if w not in STOPWORDS]


def supports(answer: str, passage: str) -> bool:
    words = content_words(answer)
    if not words:
        return False
    if " ".join(words) in " ".join(content_words(passage)):
        return True
    passage_words = set(content_words(passage))
    return all(w in passage_words for w in words)


def _sentence_citation(n: int, hit: Hit, sentence_index: int, store: Store) -> Citation:
    sentence = hit.chunk.sentences[sentence_index]
    text = store.documents[hit.chunk.doc_id].text
    return Citation(
        n=n,
        doc_id=hit.chunk.doc_id,
        title=hit.chunk.title,
        chunk_id=hit.chunk.id,
        start=sentence.start,
        end=sentence.end,
        quote=text[sentence.start : sentence.end],
        score=round(hit.score, 4),
    )


def closest_passages(hits: list[Hit], store: Store, limit: int = 3) -> list[Citation]:
    """The first sentence of each top passage, so an abstention still shows where to look."""
    return [_sentence_citation(n, hit, 0, store) for n, hit in enumerate(hits[:limit], start=1)]


def cite(question: str, draft: Draft, hits: list[Hit], store: Store) -> Result:
    citations: list[Citation] = []
    if not draft.abstained:
        for evidence in draft.evidence:
            hit = hits[evidence.hit]
            citation = _sentence_citation(len(citations) + 1, hit, evidence.sentence, store)
            if not (supports(draft.text, citation.quote) or supports(draft.text, hit.chunk.text)):
                continue
            citation.answer_start, citation.answer_end = evidence.answer_start, evidence.answer_end
            citations.append(citation)
    if draft.abstained or not citations:
        reason = draft.abstain_reason or "no retrieved passage supports the answer"
        return Result(
            question=question, answer=IDK, abstained=True, passages=closest_passages(hits, store),
            confidence=draft.confidence, reason=reason, notes=draft.notes,
        )
    markers = "".join(f"[{c.n}]" for c in citations)
    return Result(
        question=question, answer=f"{draft.text} {markers}", abstained=False, text=draft.text, citations=citations,
        confidence=draft.confidence, notes=draft.notes,
    )
