"""Turn a draft answer into the user's answer (stage 7): inline [n] markers and checked citations.

A citation is shown only when its passage really supports the answer: the answer text, or all of its
content words, occur in the cited passage, and (given the documents' texts) the quote is what the article
holds at the quote's offsets, so a stale or edited index never puts words in an article's mouth. Anything
that fails the check is dropped, and an answer left with no citation becomes an abstention.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.contracts import Citation, Draft, Hit, Result

IDK = "I don't know based on the indexed documents."
UNSURE = "not sure, check the source"  # shown beside an answer whose confidence is "low"
STOPWORDS = {"the", "a", "an", "of", "and", "or", "in", "on", "to", "for", "by", "with", "at", "as", "is", "was"}


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


def _sentence_citation(n: int, hit: Hit, sentence_index: int) -> Citation:
    """The quote comes from the hit's own chunk, so it always matches the index version that was searched."""
    sentence = hit.chunk.sentences[sentence_index]
    return Citation(
        n=n,
        doc_id=hit.chunk.doc_id,
        title=hit.chunk.title,
        chunk_id=hit.chunk.id,
        start=sentence.start,
        end=sentence.end,
        quote=hit.chunk.sentence_texts()[sentence_index],
        score=round(hit.score, 4),
    )


def closest_passages(hits: list[Hit], limit: int = 3) -> list[Citation]:
    """The first sentence of each top passage, so an abstention still shows where to look."""
    return [_sentence_citation(n, hit, 0) for n, hit in enumerate(hits[:limit], start=1)]


def cite(question: str, draft: Draft, hits: list[Hit], article: Callable[[str], str | None] | None = None) -> Result:
    """`article(doc_id)` gives a document's original text (None when unknown), to check each quote against."""
    article = article or (lambda doc_id: None)
    outdated = sorted({hit.chunk.doc_id for hit in hits
                       if (text := article(hit.chunk.doc_id)) is not None and not hit.chunk.matches(text)})
    notes = list(draft.notes) + [f"the index is out of date for {doc_id!r} (its passages no longer match the "
                                 "article): rebuild it with: rag index --rebuild" for doc_id in outdated]
    hits = [hit if hit.chunk.doc_id not in outdated else None for hit in hits]
    citations: list[Citation] = []
    if not draft.abstained:
        for evidence in draft.evidence:
            hit = hits[evidence.hit]
            if hit is None:
                continue
            citation = _sentence_citation(len(citations) + 1, hit, evidence.sentence)
            if not (supports(draft.text, citation.quote) or supports(draft.text, hit.chunk.text)):
                continue
            citation.answer_start, citation.answer_end = evidence.answer_start, evidence.answer_end
            citations.append(citation)
    if draft.abstained or not citations:
        reason = draft.abstain_reason or (
            "the index is out of date for the passages that answer it" if outdated
            else "no retrieved passage supports the answer")
        return Result(
            question=question, answer=IDK, abstained=True, passages=closest_passages([h for h in hits if h]),
            score=draft.confidence, reason=reason, notes=notes,
        )
    markers = "".join(f"[{c.n}]" for c in citations)
    return Result(
        question=question, answer=f"{draft.text} {markers}", abstained=False, text=draft.text, citations=citations,
        confidence="low" if draft.unsure else "high", score=draft.confidence, notes=notes,
    )
