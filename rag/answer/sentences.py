"""Rank the sentences of the retrieved passages for a question: the one ranker behind open answers (pick a few
sentences) and the reader's window selection (read only the best sentences and their neighbours).

Cheap signals, all from what retrieval already has: the embedder's vectors of the question and each sentence,
the IDF-weighted share of the question's key terms in the sentence, the passage's retrieval rank, whether the
sentence opens its article (news leads with what matters), and how many numbers and names it holds (the facts
people ask about). Fragments of under MIN_WORDS words come last. Sentences that overlapping chunks repeat count
once. Weights were chosen on the news-dev dev split (docs/evaluation.md).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from rag.answer.terms import PassageCoverage
from rag.contracts import Chunk, Hit
from rag.embed import Embedder

# Weights of the signals, by use, chosen on the news-dev dev splits (docs/evaluation.md): an open answer wants the
# article's lead and sentences full of names and numbers; a reader's window wants the sentence that holds the answer,
# and cheaply: without the sentence vectors it keeps the answer for 94.6% of dev questions in four windows (97.3%
# with them), and the reader answers as well and 35 ms sooner than with them (RAG_READER_WINDOWS).
OPEN = {"similarity": 0.8, "terms": 0.5, "lead": 0.15, "rank": 0.1, "facts": 0.5}
READER = {"similarity": 0.0, "terms": 1.0, "lead": 0.0, "rank": 0.3, "facts": 0.0}
MIN_WORDS = 6  # shorter "sentences" are fragments of quotes and lists ("He's not")
LEAD_SENTENCES = 2  # an article's first sentences: its headline and lead
CACHE = 20_000  # sentence vectors kept: a follow-up or a popular question embeds nothing again


@dataclass
class Sentence:
    """A candidate sentence.

    Attributes:
        hit, index: where it is: hits[hit].chunk.sentences[index].
        doc_id, start: its article and offset there (the article's order).
        text: the sentence as the article has it.
        words: its length in words.
        lead: it is among its article's first sentences.
        relevance: the weighted score the ranker gives it.
        vector: its embedding, normalised (for diversity among chosen sentences).
    """

    hit: int
    index: int
    doc_id: str
    start: int
    text: str
    words: int
    lead: bool
    relevance: float = 0.0
    similarity: float = 0.0
    terms: float = 0.0
    vector: np.ndarray | None = None


class SentenceRanker:
    """Scores every sentence of the hits for a question; best first."""

    def __init__(self, embedder: Embedder, coverage: PassageCoverage, weights: dict[str, float] = OPEN):
        self.embedder, self.coverage, self.weights = embedder, coverage, weights
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def rank(self, question: str, terms: list[str], hits: list[Hit]) -> list[Sentence]:
        """Args:
            question: as asked. terms: its key lemmas (rag.answer.question.analyse). hits: best first.

        Returns:
            Each distinct sentence of the hits with its relevance, best first.
        """
        found = candidates(hits)
        if not found:
            return []
        # Embedding the sentences is most of the cost: a ranker that does not weigh similarity skips it.
        vectors = self.vectors([question] + [s.text for s in found]) if self.weights["similarity"] else None
        weights = self.coverage.weights.idfs(terms)
        total = sum(weights.values()) or 1.0
        for i, sentence in enumerate(found):
            lemmas = {t[2] for t in hits[sentence.hit].chunk.sentences[sentence.index].tokens}
            if vectors is not None:
                sentence.vector = vectors[i + 1]
                sentence.similarity = float(sentence.vector @ vectors[0])
            sentence.terms = sum(w for t, w in weights.items() if t in lemmas) / total
            w = self.weights
            sentence.relevance = (w["similarity"] * sentence.similarity + w["terms"] * sentence.terms
                                  + w["lead"] * sentence.lead + w["rank"] / (1 + sentence.hit)
                                  + w["facts"] * facts(sentence.text) - (sentence.words < MIN_WORDS))
        return sorted(found, key=lambda s: -s.relevance)

    def vectors(self, texts: list[str]) -> np.ndarray:
        """Embeddings of the texts, normalised; each distinct text embedded once per process."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, self.embedder.encode(missing)):
                self._vectors[text] = vector
        for text in texts:
            self._vectors.move_to_end(text)
        while len(self._vectors) > CACHE:
            self._vectors.popitem(last=False)
        return np.stack([self._vectors[t] for t in texts])


FACT = re.compile(r"\d|(?<=[\w,;] )[A-Z]\w+")


def facts(text: str) -> float:
    """How much a sentence names: numbers and capitalised words past its first, per word (capped at 1)."""
    words = len(text.split())
    return min(1.0, 3 * len(FACT.findall(text)) / words) if words else 0.0


def candidates(hits: list[Hit]) -> list[Sentence]:
    """Every sentence of the hits once (overlapping chunks repeat sentences), in retrieval order."""
    seen: set[tuple[str, int]] = set()
    found = []
    for h, hit in enumerate(hits):
        chunk = hit.chunk
        first = chunk.id.endswith("#0")
        for i, text in enumerate(chunk.sentence_texts()):
            key = (chunk.doc_id, chunk.sentences[i].start)
            if key in seen or not text.strip():
                continue
            seen.add(key)
            found.append(Sentence(h, i, chunk.doc_id, chunk.sentences[i].start, text, len(text.split()),
                                  first and i < LEAD_SENTENCES))
    return found


@dataclass
class Window:
    """A few neighbouring sentences of one passage, for a reader to read instead of the whole passage.

    Attributes:
        hit: the passage: hits[hit]. first, last: its sentences first..last (inclusive).
    """

    hit: int
    first: int
    last: int


def windows(ranked: list[Sentence], hits: list[Hit], count: int, neighbours: int = 1) -> list[Window]:
    """The best `count` sentences, each with `neighbours` sentences either side, in retrieval order; windows
    that touch in one passage are merged, so no sentence is read twice."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for sentence in ranked[:count]:
        size = len(hits[sentence.hit].chunk.sentences)
        spans.setdefault(sentence.hit, []).append((max(0, sentence.index - neighbours),
                                                   min(size - 1, sentence.index + neighbours)))
    found = []
    for hit in sorted(spans):
        merged: list[list[int]] = []
        for first, last in sorted(spans[hit]):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        found += [Window(hit, first, last) for first, last in merged]
    return found


def window_hits(hits: list[Hit], chosen: list[Window]) -> list[Hit]:
    """Each window as a hit of its own: the passage cut to the window's sentences (offsets unchanged)."""
    views = []
    for window in chosen:
        hit = hits[window.hit]
        chunk = hit.chunk
        texts = chunk.sentence_texts()[window.first : window.last + 1]
        sentences = chunk.sentences[window.first : window.last + 1]
        view = Chunk(chunk.id, chunk.doc_id, chunk.title, sentences[0].start, sentences[-1].end, " ".join(texts),
                     sentences, None if chunk.entities is None else [], [])
        views.append(Hit(hit.position, view, hit.score))
    return views
