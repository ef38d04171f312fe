"""Turn a draft answer into the user's answer (stage 7): inline [n] markers and checked citations.

A citation is shown only when its passage really supports the answer: the answer text, or all of its
content words, occur in the cited passage, and (given the documents' texts) the quote is what the article
holds at the quote's offsets, so a stale or edited index never puts words in an article's mouth. Anything
that fails the check is dropped, and an answer left with no citation becomes an abstention.

Scraped news often carries encoding damage ("Â£103m" for "£103m": 97 of the 323 news-dev articles). Answers and
quotes are shown repaired (ftfy's encoding fix, nothing else), after every check ran on the text as the file has
it; the offsets still index the file, whose text GET /documents returns unchanged.
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


def answer_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """An answer's sentences with the [n] markers that follow each ("A. [1] B. [2][3]"); text after the last
    marker is left out."""
    return [(text.strip(), [int(n) for n in re.findall(r"\d+", marks)])
            for text, marks in re.findall(r"(.+?)((?:\s*\[\d+\])+)", answer, flags=re.S)]


def supports(answer: str, passage: str) -> bool:
    words = content_words(answer)
    if not words:
        return False
    if " ".join(words) in " ".join(content_words(passage)):
        return True
    passage_words = set(content_words(passage))
    return all(w in passage_words for w in words)


def repaired(text: str) -> str:
    """Mojibake undone ("Â£" -> "£", "â€“" -> "–"); text without it comes back as it was."""
    if text.isascii():
        return text
    import ftfy

    return ftfy.fix_encoding(text)


def shown(result: Result, article: Callable[[str], str | None]) -> Result:
    """The result as users read it: answer, bare text and quotes with encoding damage repaired, and each quote that
    stops inside its sentence marked as going on."""
    result.answer, result.text = repaired(result.answer), repaired(result.text)
    for citation in result.citations + result.passages:
        text = article(citation.doc_id)
        citation.continues = text is not None and goes_on(text, citation.end, citation.quote)
        citation.quote, citation.title = repaired(citation.quote), repaired(citation.title)
    return result


def goes_on(article: str, end: int, quote: str) -> bool:
    """The quote ends without a sentence's end, and its paragraph goes on: a piece of an overlong sentence."""
    if re.search(r"[.!?…:;][\"'”’)\]]*$", quote.rstrip()):
        return False
    rest = article[end:end + 200]
    return bool(rest.strip()) and not rest.lstrip(" \t").startswith(("\n", "\r"))


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
    if draft.parts and not draft.abstained:
        return shown(_cite_sentences(question, draft, hits, notes), article)
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
        return shown(_abstention(question, draft, hits, notes, bool(outdated)), article)
    markers = "".join(f"[{c.n}]" for c in citations)
    return shown(Result(
        question=question, answer=f"{draft.text} {markers}", abstained=False, text=draft.text, citations=citations,
        confidence="low" if draft.unsure else "high", score=draft.confidence, notes=notes,
    ), article)


def _abstention(question: str, draft: Draft, hits: list[Hit | None], notes: list[str], outdated: bool) -> Result:
    reason = draft.abstain_reason or (
        "the index is out of date for the passages that answer it" if outdated
        else "no retrieved passage supports the answer")
    return Result(question=question, answer=IDK, abstained=True, passages=closest_passages([h for h in hits if h]),
                  score=draft.confidence, reason=reason, notes=notes)


def _cite_sentences(question: str, draft: Draft, hits: list[Hit | None], notes: list[str]) -> Result:
    """An answer of sentences: each sentence is cited on its own, and kept only when its quote holds it: word for
    word (a sentence cut at the length limit ends in "…" and must be the start of its quote), or, for a sentence
    a generator wrote, all of its content words. One citation per distinct
    quoted sentence; the same source cited twice keeps its number."""
    citations: list[Citation] = []
    shown: list[str] = []
    kept: list[str] = []
    numbers: dict[tuple[str, int], int] = {}
    for part, evidence in zip(draft.parts, draft.evidence):
        hit = hits[evidence.hit]
        if hit is None:
            continue
        citation = _sentence_citation(len(citations) + 1, hit, evidence.sentence)
        if not (holds(citation.quote, part) or supports(part, citation.quote)):
            continue
        key = (citation.doc_id, citation.start)
        if key not in numbers:
            numbers[key] = citation.n
            citations.append(citation)
        shown.append(f"{part} [{numbers[key]}]")
        kept.append(part)
    if not citations:
        return _abstention(question, draft, hits, notes, False)
    text = " ".join(kept)
    return Result(question=question, answer=" ".join(shown), abstained=False, form="sentences", text=text,
                  citations=citations, confidence="low" if draft.unsure else "high", score=draft.confidence,
                  notes=notes)


def holds(quote: str, sentence: str) -> bool:
    """The quoted sentence holds the answer's sentence word for word (or its start, when it was cut)."""
    if sentence.endswith("…"):
        return quote.startswith(sentence[:-1].rstrip())
    return sentence.strip() in quote
